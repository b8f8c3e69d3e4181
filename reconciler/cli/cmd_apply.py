"""Carry out a plan: from a manifest (planned now) or from a saved plan file.

FILE (a manifest): reads the live state, makes the plan, shows it, and asks for
confirmation on a terminal (--auto-approve for pipelines; without a terminal and
without --auto-approve it fails instead of prompting). Afterwards it re-plans and
continues while more becomes possible (servers registering with a new vault).

PLAN (a file written by `asr plan --out`): re-reads the live state, refuses the
plan if the manifest or the live state changed since it was made, and applies
exactly its actions.

Deletes and replacements need --allow-destroy; otherwise nothing is changed.
One apply per vault at a time (a lease in the vault's `asr-lock` tag).
Exit status 0 when everything converged, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from reconciler.cli.common import load_manifest, use_color


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE|PLAN", help="a manifest, or a plan saved with `asr plan --out`")
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation (pipelines)")
    p.add_argument("--parallelism", type=int, default=10, help="requests in flight at once (default 10); ASR jobs are followed without holding a slot")
    p.add_argument("--allow-destroy", action="store_true", help="allow deletes and replacements shown in the plan")
    p.add_argument("--wait-protected", action="store_true",
                   help="after applying, wait until every VM is Protected (initial replication done)")
    p.add_argument("--log-format", choices=["auto", "text", "json"], default="auto",
                   help="progress output: auto (live display on a terminal, text otherwise), text, json")


def _render_plan(plan: Any, out: Any) -> None:
    from reconciler.plan import render

    text = render(plan, "text", color=use_color(out))
    out.write(text if text.endswith("\n") else text + "\n")
    out.flush()


def _is_saved_plan(text: str) -> dict | None:
    stripped = text.lstrip()
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict) and "changes" in data and "format_version" in data:
        return data
    if isinstance(data, dict) and isinstance(data.get("plan"), dict) and "changes" in data["plan"]:
        return data
    return None


def _confirm(args: argparse.Namespace) -> None:
    from reconciler.errors import UsageError

    if args.auto_approve:
        return
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("no terminal to ask for confirmation; nothing was changed",
                         hint="review the plan with `asr plan`, then run `asr apply --auto-approve` in pipelines")
    answer = input("\nDo you want to perform these actions? Only 'yes' will be accepted: ")
    if answer.strip() != "yes":
        raise UsageError("apply cancelled; nothing was changed")


def run(args: argparse.Namespace) -> int:
    from reconciler.apply.lock import VaultLock
    from reconciler.apply.progress import make_progress
    from reconciler.azure.clients import Clients
    from reconciler.azure.errors import azure_errors
    from reconciler.errors import UsageError
    from reconciler.plan import load_plan

    if args.parallelism < 1:
        raise UsageError("--parallelism must be at least 1")
    path = args.file
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}")
    fmt = args.log_format
    json_out = fmt == "json"
    out = sys.stdout
    info = sys.stderr if json_out else sys.stdout  # keep stdout pure JSON lines with --log-format json

    saved = _is_saved_plan(text)
    if saved is not None:
        plan = load_plan(path)
        manifest_path = plan.manifest_path
        if manifest_path and not os.path.isabs(manifest_path) and not os.path.exists(manifest_path):
            alt = os.path.join(os.path.dirname(path), manifest_path)
            manifest_path = alt if os.path.exists(alt) else manifest_path
        manifest = load_manifest(manifest_path)
    else:
        plan = None
        manifest = load_manifest(path)
    clients = Clients(manifest.subscription, settings=getattr(args, "settings", None))
    early = make_progress("json" if json_out else "text", out if json_out else info)
    # One apply per vault: take the lease before reading, so the plan is made and
    # checked under it (a vault that does not exist yet is created first, then locked).
    lock = VaultLock(clients, manifest.vault.resource_group, manifest.vault.name, emit=early,
                     ttl=clients.config.lock_ttl)
    from reconciler.azure.heartbeat import heartbeat

    with azure_errors(f"lock vault {manifest.vault.name}"), heartbeat(
            lambda: f"reading vault {manifest.vault.name} to lock it ({clients.settings.endpoint})",
            every=clients.config.progress_interval, counter=clients.counter,
            say=lambda line: print(line, file=sys.stderr, flush=True)):
        lock.acquire_if_vault_exists()
    try:
        return _run_locked(args, path, saved, plan, manifest, clients, lock, out, info, json_out)
    finally:
        lock.release()


def _run_locked(args: argparse.Namespace, path: str, saved: Any, plan: Any, manifest: Any, clients: Any,
                lock: Any, out: Any, info: Any, json_out: bool) -> int:
    from reconciler.apply.lock import strip_lock_tag
    from reconciler.apply.progress import make_progress
    from reconciler.apply.runner import Applier, actionable, refuse_destroy, wait_protected
    from reconciler.apply.summary import exit_status, render, render_errors
    from reconciler.azure.errors import azure_errors
    from reconciler.plan import Kind, check_plan_current, make_plan

    from reconciler.azure.heartbeat import heartbeat

    def read_live_state(clients: Any, manifest: Any) -> Any:  # says what it waits for on a slow endpoint
        from reconciler.live import read_live_state as read

        with heartbeat(lambda: f"reading the live state of vault {manifest.vault.name}",
                       every=clients.config.progress_interval, counter=clients.counter,
                       say=lambda line: print(line, file=sys.stderr, flush=True)):
            return read(clients, manifest)

    replan = None
    if saved is not None:
        with azure_errors("read live state"):
            live = strip_lock_tag(read_live_state(clients, manifest))
        check_plan_current(saved, manifest, live)
        print(f"Applying the saved plan {path} (made {plan.created_at or 'at an unknown time'}); "
              "the manifest and the live state are unchanged since.", file=info)
    else:
        with azure_errors("read live state"):
            live = strip_lock_tag(read_live_state(clients, manifest))
        plan = make_plan(manifest, live, path)

        def replan() -> Any:
            with azure_errors("re-read live state"):
                return make_plan(manifest, strip_lock_tag(read_live_state(clients, manifest)), path)

    _render_plan(plan, info)
    if not args.allow_destroy:
        refuse_destroy(plan)
    if not actionable(plan) and not args.wait_protected:
        pending = [c for c in plan.changes if c.action.value == "manual" or c.blocked]
        if not pending:
            print("No changes. The live state matches the manifest.", file=info)
            return 0
    if actionable(plan) and saved is None:  # a saved plan was reviewed when it was made
        _confirm(args)

    progress = make_progress(args.log_format, out)
    applier = Applier(clients, parallelism=args.parallelism, emit=progress, allow_destroy=args.allow_destroy,
                      replan=replan, lock=lock if lock.held else None, settings=clients.config)
    try:
        with azure_errors("apply"):
            try:
                result = applier.apply(plan)
            except KeyboardInterrupt:
                applier.stop()
                raise
    finally:
        progress.close()
    render(result, out, "json" if json_out else "text")
    out.flush()
    render_errors(result, sys.stderr)
    status = exit_status(result)
    if args.wait_protected and status == 0:
        names = [c.address.split(".", 1)[1] for c in plan.changes if c.kind == Kind.PROTECTED_VM]
        progress = make_progress(args.log_format, out)
        try:
            with azure_errors("wait for protection"):
                waiting = wait_protected(clients, plan.resource_group, plan.vault, names, emit=progress)
        except KeyboardInterrupt:
            print("stopped waiting; initial replication goes on in Azure", file=sys.stderr)
            return 130
        finally:
            progress.close()
        if waiting:
            print(f"error: not protected yet: {', '.join(waiting)}", file=sys.stderr)
            return 1
        print(f"All {len(names)} VM(s) are Protected.", file=info)
    return status

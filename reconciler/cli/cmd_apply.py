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
import importlib
import json
import os
import sys
from typing import Any


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE|PLAN", help="a manifest, or a plan saved with `asr plan --out`")
    p.add_argument("--auto-approve", action="store_true", help="do not ask for confirmation (pipelines)")
    p.add_argument("--parallelism", type=int, default=10, help="actions carried out at once (default 10)")
    p.add_argument("--allow-destroy", action="store_true", help="allow deletes and replacements shown in the plan")
    p.add_argument("--wait-protected", action="store_true",
                   help="after applying, wait until every VM is Protected (initial replication done)")
    p.add_argument("--log-format", choices=["auto", "text", "json"], default="auto",
                   help="progress output: auto (live display on a terminal, text otherwise), text, json")


def _first(*candidates: tuple[str, str]) -> Any:
    for mod, name in candidates:
        try:
            m = importlib.import_module(mod)
        except ImportError:
            continue
        fn = getattr(m, name, None)
        if fn is not None:
            return fn
    return None


def _read_live_state() -> Any:
    fn = _first(("reconciler.live", "read_live_state"), ("reconciler.live.reader", "read_live_state"))
    if fn is None:  # pragma: no cover - the planner ships it
        from reconciler.errors import UsageError

        raise UsageError("this asr has no live-state reader")
    return fn


def _make_plan() -> Any:
    fn = _first(("reconciler.plan", "make_plan"), ("reconciler.plan.planner", "make_plan"))
    if fn is None:  # pragma: no cover
        from reconciler.errors import UsageError

        raise UsageError("this asr has no planner")
    return fn


def _render_plan(plan: Any, out: Any) -> None:
    fn = _first(("reconciler.plan.render", "render_text"), ("reconciler.plan.render.text", "render_text"),
                ("reconciler.plan.render", "render"))
    if fn is not None:
        try:
            text = fn(plan)
        except TypeError:
            text = fn(plan, "text")
        if text:
            out.write(text if text.endswith("\n") else text + "\n")
        return
    for c in plan.changes:  # minimal fallback
        if c.is_change:
            print(f"  {c.action.value:8} {c.address}" + (f"  ({c.note})" if c.note else ""), file=out)
    s = plan.summary()
    print(f"Plan: {s['add']} to add, {s['change']} to change, {s['replace']} to replace, "
          f"{s['destroy']} to destroy, {s['manual']} manual.", file=out)


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


def _load_manifest(path: str) -> Any:
    from reconciler.errors import ManifestError
    from reconciler.manifest import load_manifest

    try:
        return load_manifest(path)
    except ManifestError as err:
        if err.diagnostics:
            from reconciler.manifest import print_diagnostics

            print_diagnostics(err.diagnostics, "text", sys.stderr)
        raise


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
    from reconciler.apply.progress import make_progress
    from reconciler.apply.runner import Applier, refuse_destroy, wait_protected
    from reconciler.apply.summary import exit_status, render
    from reconciler.azure.clients import Clients
    from reconciler.azure.errors import azure_errors
    from reconciler.errors import UsageError
    from reconciler.plan.model import Kind, Plan

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
    read_live = _read_live_state()
    replan = None
    if saved is not None:
        plan_data = saved.get("plan") if isinstance(saved.get("plan"), dict) else saved
        try:
            plan = Plan.from_dict(plan_data)
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{path}: not a plan asr can read ({type(exc).__name__}: {exc})")
        manifest_path = plan.manifest_path
        if manifest_path and not os.path.isabs(manifest_path) and not os.path.exists(manifest_path):
            alt = os.path.join(os.path.dirname(path), manifest_path)
            manifest_path = alt if os.path.exists(alt) else manifest_path
        manifest = _load_manifest(manifest_path)
        clients = Clients(manifest.subscription)
        check = _first(("reconciler.plan", "check_plan_current"), ("reconciler.plan.saved", "check_plan_current"))
        with azure_errors("read live state"):
            live = read_live(clients, manifest)
        if check is None:  # pragma: no cover - the planner ships it
            raise UsageError("this asr cannot check saved plans")
        check(saved, manifest, live)
        print(f"Applying saved plan {path} (made {plan.created_at or 'at an unknown time'}); "
              "manifest and live state are unchanged since.", file=info)
    else:
        manifest = _load_manifest(path)
        clients = Clients(manifest.subscription)
        make_plan = _make_plan()
        with azure_errors("read live state"):
            live = read_live(clients, manifest)
        plan = make_plan(manifest, live, path)

        def replan() -> Any:
            with azure_errors("re-read live state"):
                return make_plan(manifest, read_live(clients, manifest), path)

    _render_plan(plan, info)
    if not args.allow_destroy:
        refuse_destroy(plan)
    from reconciler.apply.runner import actionable

    if not actionable(plan) and not args.wait_protected:
        pending = [c for c in plan.changes if c.action.value == "manual" or c.blocked]
        if not pending:
            print("No changes. The live state matches the manifest.", file=info)
            return 0
    if actionable(plan):
        _confirm(args)

    progress = make_progress(fmt, out if json_out else sys.stdout)
    applier = Applier(clients, parallelism=args.parallelism, emit=progress, allow_destroy=args.allow_destroy,
                      replan=replan)
    try:
        with azure_errors("apply"):
            try:
                result = applier.apply(plan)
            except KeyboardInterrupt:
                applier.stop()
                raise
    finally:
        progress.close()
    render(result, out if json_out else sys.stdout, "json" if json_out else "text")
    status = exit_status(result)
    if args.wait_protected and status == 0:
        names = [c.address.split(".", 1)[1] for c in plan.changes if c.kind == Kind.PROTECTED_VM]
        progress = make_progress(fmt, out)
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

"""Carry out a plan: from a manifest (planned now) or from a saved plan file.

FILE (a manifest): reads the live state, makes the plan, shows it, and asks for
confirmation on a terminal (--auto-approve for pipelines; without a terminal and
without --auto-approve it fails instead of prompting). Afterwards it re-plans; what
became possible during the run (servers registering with a new vault, a recovery
plan to update after a replace) is shown as a new plan and needs the same approval:
--auto-approve approves it too, a terminal asks again, otherwise it is not run and
apply exits 1 naming it.

PLAN (a file written by `asr plan --out`): checked, not trusted (docs/security.md).
Its digest must match its content; the manifest it names and the live state are
read again, the plan is refused if either changed since it was made, and it is made
again from them: every change's action and requests must be exactly the saved ones.
All of this before anything is sent. It then applies exactly those actions, once,
and names what became possible meanwhile (re-plan to continue).

Deletes and replacements need --allow-destroy (any request whose operation deletes,
removes, purges or disables something, whatever the change's action says);
otherwise nothing is changed.
One apply per vault at a time (a lease in the vault's `asr-lock` tag): another apply
fails at once naming the holder and the lock ID, or waits with --lock-timeout;
`asr force-unlock FILE LOCK_ID` removes a lease left behind.
Exit status 0 when everything converged, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from reconciler.cli.common import add_approve_argument, add_target_arguments, load_manifest, targets_of, use_color

EPILOG = """examples:
  asr apply examples/quickstart.yaml                      # plan, show, ask, apply
  asr apply examples/quickstart.yaml --auto-approve --wait-protected   # pipelines (--yes is the same)
  asr plan examples/quickstart.yaml --out tfplan.json && asr apply tfplan.json
  asr apply examples/quickstart.yaml --log-format json --yes > apply.log
  asr apply examples/quickstart.yaml --vm sql01           # only sql01 and what it needs

How-to: README "Use it" and docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE|PLAN", help="a manifest, or a plan saved with `asr plan --out`")
    add_approve_argument(p, dest="auto_approve")
    p.add_argument("--parallelism", type=int, default=10, help="requests in flight at once (default 10); ASR jobs are followed without holding a slot")
    p.add_argument("--allow-destroy", action="store_true", help="allow deletes and replacements shown in the plan")
    p.add_argument("--manifest", metavar="FILE",
                   help="with PLAN: apply it only if it was made from this manifest (pipelines: the plan file "
                        "names its manifest, so pin the one the pipeline reviewed)")
    p.add_argument("--wait-protected", action="store_true",
                   help="after applying, wait until every VM is Protected (initial replication done)")
    p.add_argument("--log-format", choices=["auto", "text", "json"], default="auto",
                   help="progress output: auto (live display on a terminal, text otherwise), text, json")
    add_target_arguments(p)
    p.add_argument("--lock-timeout", metavar="DURATION", default="0s",
                   help="wait up to DURATION (30s, 5m) for another apply's lock of the vault instead of failing "
                        "(default 0s: fail at once, naming the holder)")


def _render_plan(plan: Any, out: Any) -> None:
    from reconciler.plan import render

    text = render(plan, "text", color=use_color(out))
    out.write(text if text.endswith("\n") else text + "\n")
    out.flush()


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.realpath(a) == os.path.realpath(b)


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


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm(args: argparse.Namespace) -> None:
    from reconciler.errors import UsageError

    if args.auto_approve:
        return
    if not _interactive():
        raise UsageError("no terminal to ask for confirmation; nothing was changed",
                         hint="review the plan with `asr plan`, then run `asr apply --auto-approve` in pipelines")
    answer = input("\nDo you want to perform these actions? Only 'yes' will be accepted: ")
    if answer.strip() != "yes":
        raise UsageError("apply cancelled; nothing was changed")


def run(args: argparse.Namespace) -> int:
    from reconciler.apply import VaultLock, make_progress
    from reconciler.azure import Clients, azure_errors
    from reconciler.errors import PlanMismatchError, UsageError
    from reconciler.plan import load_plan

    if args.parallelism < 1:
        raise UsageError("--parallelism must be at least 1")
    from reconciler.ops import parse_duration

    try:
        lock_wait = parse_duration(args.lock_timeout)
    except ValueError as exc:
        raise UsageError(f"--lock-timeout: {exc}") from None
    path = args.file
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    fmt = args.log_format
    json_out = fmt == "json"
    out = sys.stdout
    info = sys.stderr if json_out else sys.stdout  # keep stdout pure JSON lines with --log-format json

    saved = _is_saved_plan(text)
    if saved is not None:
        if targets_of(args):
            raise UsageError("--target and --vm apply to a manifest; a saved plan applies exactly what it holds",
                             hint="make a partial plan with `asr plan FILE --target ADDRESS --out PLAN`")
        plan = load_plan(path)
        manifest_path = plan.manifest_path
        if manifest_path and not os.path.isabs(manifest_path) and not os.path.exists(manifest_path):
            alt = os.path.join(os.path.dirname(path), manifest_path)
            manifest_path = alt if os.path.exists(alt) else manifest_path
        if getattr(args, "manifest", None) and not _same_file(args.manifest, manifest_path):
            raise PlanMismatchError(
                f"{path}: the plan was made from the manifest {plan.manifest_path}, not {args.manifest}; "
                "nothing was changed", hint="make the plan from the manifest the pipeline reviews, then apply it")
        manifest = load_manifest(manifest_path)
    else:
        if getattr(args, "manifest", None):
            raise UsageError("--manifest goes with a saved PLAN; with a manifest FILE, FILE is the manifest")
        plan = None
        manifest = load_manifest(path)
    clients = Clients(manifest.subscription, settings=getattr(args, "settings", None))
    if plan is not None and saved is not None:
        # Checked before the lease is taken, so a refused plan writes nothing at all;
        # checked again under the lease (_run_locked) before anything is sent.
        _check_saved(args, saved, plan, manifest, clients)
    early = make_progress("json" if json_out else "text", out if json_out else info)
    # One apply per vault: take the lease before reading, so the plan is made and
    # checked under it (a vault that does not exist yet is created first, then locked).
    lock = VaultLock(clients, manifest.vault.resource_group, manifest.vault.name, emit=early,
                     ttl=clients.config.lock_ttl)
    from reconciler.azure import heartbeat

    with azure_errors(f"lock vault {manifest.vault.name}"), heartbeat(
            lambda: f"reading vault {manifest.vault.name} to lock it ({clients.settings.endpoint})",
            every=clients.config.progress_interval, counter=clients.counter,
            say=lambda line: print(line, file=sys.stderr, flush=True)):
        lock.acquire_if_vault_exists(wait=lock_wait)
    try:
        return _run_locked(args, path, saved, plan, manifest, clients, lock, out, info, json_out)
    finally:
        lock.release()


def _check_saved(args: argparse.Namespace, saved: dict, plan: Any, manifest: Any, clients: Any) -> Any:
    """Refuse a saved plan that is stale, or whose actions are not what the manifest
    and the live state give now; return the plan made again from them."""
    from reconciler.apply import refuse_destroy, strip_lock_tag
    from reconciler.azure import azure_errors
    from reconciler.live import read_live_state
    from reconciler.plan import check_plan_current, check_plan_matches, make_plan

    with azure_errors("read live state"):
        live = strip_lock_tag(read_live_state(clients, manifest))
    check_plan_current(saved, manifest, live)
    fresh = make_plan(manifest, live, plan.manifest_path)
    if plan.partial:  # a partial plan is made again with the same targets
        from reconciler.plan import restrict

        restrict(fresh, list(plan.targets))
    check_plan_matches(plan, fresh)
    if not args.allow_destroy:
        refuse_destroy(fresh)
    return fresh


SAVED_REMAINS = ("became possible during apply; a saved plan runs only what was reviewed: "
                 "re-plan to continue")


def _followup_approval(args: argparse.Namespace, info: Any, progress: dict[str, Any], saved_path: str | None) -> Any:
    """The Applier's `approve`: show what became possible during apply as a new plan,
    then say whether it runs (None) or why not. A saved plan never runs more."""
    def approve(new: Any, work: list) -> str | None:
        p = progress.get("progress")
        if p is not None:
            p.pause()
        try:
            return _approve(new, work)
        finally:
            if p is not None:
                p.resume()

    def _approve(new: Any, work: list) -> str | None:
        names = ", ".join(f"{c.address} ({c.action.value})" for c in work)
        print(f"\n{len(work)} more action(s) became possible during apply:", file=info)
        _render_plan(new, info)
        if saved_path is not None:
            print(f"error: {len(work)} more action(s) became possible during apply and were not run: {names}",
                  file=sys.stderr)
            print("hint: a saved plan runs only what was reviewed; re-plan to continue: `asr plan MANIFEST --out "
                  "PLAN`, review it, then `asr apply PLAN`", file=sys.stderr)
            sys.stderr.flush()
            return SAVED_REMAINS
        if args.auto_approve:
            print("Approved by --auto-approve.", file=info)
            info.flush()
            return None
        if not _interactive():
            print(f"error: {len(work)} more action(s) became possible during apply and were not run: {names}; "
                  "no terminal to ask for approval", file=sys.stderr)
            print("hint: review them with `asr plan`, then run `asr apply` again (`--auto-approve` in pipelines)",
                  file=sys.stderr)
            sys.stderr.flush()
            return "became possible during apply; not approved (no terminal to ask, no --auto-approve)"
        try:
            answer = input("\nDo you want to perform these actions too? Only 'yes' will be accepted: ")
        except EOFError:
            answer = ""
        if answer.strip() == "yes":
            return None
        print(f"error: {len(work)} more action(s) were not approved and not run: {names}", file=sys.stderr)
        print("hint: review them with `asr plan`, then run `asr apply` again", file=sys.stderr)
        return "became possible during apply; not approved"

    return approve


def _run_locked(args: argparse.Namespace, path: str, saved: Any, plan: Any, manifest: Any, clients: Any,
                lock: Any, out: Any, info: Any, json_out: bool) -> int:
    from reconciler.apply import (
        Applier,
        actionable,
        exit_status,
        make_progress,
        refuse_destroy,
        render_errors,
        strip_lock_tag,
        wait_protected,
    )
    from reconciler.apply import render_summary as render
    from reconciler.azure import azure_errors, heartbeat
    from reconciler.plan import Kind, make_plan

    def read_live_state(clients: Any, manifest: Any) -> Any:  # says what it waits for on a slow endpoint
        from reconciler.live import read_live_state as read

        with heartbeat(lambda: f"reading the live state of vault {manifest.vault.name}",
                       every=clients.config.progress_interval, counter=clients.counter,
                       say=lambda line: print(line, file=sys.stderr, flush=True)):
            return read(clients, manifest)

    manifest_path = path
    # --target / --vm, or the targets a saved partial plan was made with: a re-plan keeps
    # to them (and to what the first plan showed, so a manual step that got done is seen as done)
    targets = list(plan.targets) if saved is not None and plan.partial else targets_of(args)
    first: set[str] = set()

    def targeted(p: Any) -> Any:
        if targets:
            from reconciler.plan import restrict

            restrict(p, targets, also=first)
        return p

    if saved is not None:
        made_at = plan.created_at or "at an unknown time"
        manifest_path = plan.manifest_path
        # What runs is the plan made again now, under the lease; it was just found
        # equal to the saved one in every action and request.
        plan = _check_saved(args, saved, plan, manifest, clients)
        print(f"Applying the saved plan {path} (made {made_at}); the manifest and the live state are unchanged "
              "since, and planning again from them gives exactly its actions.", file=info)
    else:
        with azure_errors("read live state"):
            live = strip_lock_tag(read_live_state(clients, manifest))
        plan = targeted(make_plan(manifest, live, path))
    first.update(c.address for c in plan.changes)

    def replan() -> Any:
        with azure_errors("re-read live state"):
            return targeted(make_plan(manifest, strip_lock_tag(read_live_state(clients, manifest)), manifest_path))

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
    shown: dict[str, Any] = {"progress": progress}
    applier = Applier(clients, parallelism=args.parallelism, emit=progress, allow_destroy=args.allow_destroy,
                      replan=replan, lock=lock if lock.held else None,
                      approve=_followup_approval(args, info, shown, path if saved is not None else None),
                      registration_wait=0 if saved is not None else None, settings=clients.config)
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

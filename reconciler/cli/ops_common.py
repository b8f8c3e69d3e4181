"""Argument handling shared by `asr failover`, `asr reprotect` and `asr failback`
(moved from `reconciler/ops/cli_common.py`: CLI code lives in cli/, which imports ops,
never the other way round)."""

from __future__ import annotations

import argparse

from reconciler.cli.common import add_approve_argument
from reconciler.ops import Operation


def add_selector_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="the manifest")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--vm", action="append", default=[], metavar="NAME",
                     help="a VM declared in the manifest (repeatable)")
    sel.add_argument("--recovery-plan", metavar="NAME", help="a recovery plan declared in the manifest")
    add_approve_argument(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="result format (default text)")


def run_selected(args: argparse.Namespace, op: Operation) -> int:
    import sys

    from reconciler.ops import (
        OpsContext,
        ensure_can_confirm,
        operation_json,
        operation_text,
        raise_for,
        run_operation,
        select_targets,
    )

    ctx = OpsContext.load(args.file, settings=getattr(args, "settings", None))
    if args.format == "json":
        ctx.out = sys.stderr  # progress on stderr, the JSON result alone on stdout
    targets = select_targets(ctx.manifest, vms=args.vm, recovery_plan=args.recovery_plan, file=ctx.file)
    ensure_can_confirm(args.yes)
    try:
        res = run_operation(ctx, op, targets, yes=args.yes, test_network=getattr(args, "test_network", None),
                            shutdown_source=getattr(args, "shutdown_source", False),
                            recovery_point=getattr(args, "recovery_point", None),
                            failback=failback_options(ctx, args))
    except KeyboardInterrupt:
        # the jobs already started keep running in Azure; say how to follow them
        print(f"interrupted: jobs already started keep running in Azure; follow them with `asr status {ctx.file}`",
              file=ctx.err, flush=True)
        raise
    if args.format == "json":
        print(operation_json(res), flush=True)
    else:
        ctx.say(operation_text(res))
    raise_for(res)
    if args.format == "text":
        sel = f"--recovery-plan {targets.recovery_plan}" if targets.recovery_plan else " ".join(f"--vm {v}" for v in targets.vms)
        hint = NEXT.get(op)
        if hint:
            ctx.say("Next: " + hint.format(file=ctx.file, sel=sel))
    return 0


def failback_options(ctx: object, args: argparse.Namespace) -> dict[str, str] | None:
    """`asr failback` --data-sync / --create-vm / --alternate-host as failback input fields."""
    if not hasattr(args, "data_sync"):
        return None
    out: dict[str, str] = {"dataSyncOption": args.data_sync,
                           "recoveryVmCreationOption": "CreateVmIfNotFound" if args.create_vm else "NoAction"}
    if args.alternate_host:
        from reconciler.errors import UsageError
        from reconciler.ops import read_inventory

        inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("providers",))  # type: ignore[attr-defined]
        want = args.alternate_host.lower()
        hit = next((p for p in inv.providers if want in {str(p.get("name") or "").lower(),
                                                          str((p.get("properties") or {}).get("friendlyName") or "").lower()}), None)
        if hit is None:
            known = ", ".join(sorted(str((p.get("properties") or {}).get("friendlyName") or p.get("name")) for p in inv.providers))
            raise UsageError(f"--alternate-host {args.alternate_host}: no registered Hyper-V host or VMM server of that "
                             f"name in vault {ctx.vault} (registered: {known or 'none'})")  # type: ignore[attr-defined]
        out["providerIdForAlternateRecovery"] = str(hit.get("name"))
    return out


# What a user usually runs after each operation (printed after a success).
NEXT = {
    Operation.TEST: "check the test VMs in the test network, then `asr failover cleanup {file} {sel}`",
    Operation.PLANNED: "`asr failover commit {file} {sel}` once the VMs run well in Azure",
    Operation.UNPLANNED: "`asr failover commit {file} {sel}` (or `asr failover cancel {file} {sel}` to go back)",
    Operation.COMMIT: "when the primary site is back: `asr failback {file} {sel}`",
    Operation.FAILBACK: "`asr status {file}` until the VMs are Protected again",
    Operation.REPROTECT: "`asr status {file}` until the VMs are Protected again",
}

"""Repair the replication of VMs: resynchronise it (Azure's repairReplication, offered when
a VM's replication is unhealthy), or with --health-errors resolve the VM's current health
errors once their cause is fixed. Asks for confirmation on a terminal (--yes skips it).
Exit status: 0 done, 1 refused or failed.
"""

from __future__ import annotations

import argparse

EPILOG = """examples:
  asr repair examples/quickstart.yaml --vm sql01 --yes
  asr repair examples/quickstart.yaml --vm sql01 --health-errors --yes

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="the manifest")
    p.add_argument("--vm", action="append", required=True, metavar="NAME",
                   help="a VM declared in the manifest (repeatable)")
    p.add_argument("--health-errors", action="store_true",
                   help="resolve the VM's current health errors instead of resynchronising (resolveHealthErrors)")
    from reconciler.cli.common import add_approve_argument

    add_approve_argument(p)
    p.add_argument("--format", choices=["text", "json"], default="text", help="result format (default text)")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from reconciler.ops import OpsContext, ensure_can_confirm, run_repair, select_targets

    ctx = OpsContext.load(args.file, settings=getattr(args, "settings", None))
    if args.format == "json":
        ctx.out = sys.stderr
    vms = select_targets(ctx.manifest, vms=args.vm, recovery_plan=None, file=ctx.file).vms
    ensure_can_confirm(args.yes)
    rows = run_repair(ctx, vms, yes=args.yes, health_errors=args.health_errors)
    if args.format == "json":
        print(json.dumps({"results": rows}, indent=2), flush=True)
    else:
        for r in rows:
            ctx.say(f"  {r['vm']}: {r['operation']} {'ok' if r['ok'] else 'FAILED'}"
                    + (f" (job {r['job']} {r['job_state']})" if r.get("job") else ""))
        if not args.health_errors:
            ctx.say(f"Next: `asr status {ctx.file}` until the VMs are Protected again")
    return 0

"""Failover family on VMs (--vm, repeatable) or a recovery plan (--recovery-plan):

  test       test failover into the isolated network target.testNetwork (production
             keeps running; never the production network by default)
  cleanup    delete the test failover's VMs
  planned    planned failover to Azure: source VMs are shut down first and their last
             changes replicated, so nothing is lost
  unplanned  unplanned failover to Azure from the latest recovery point: data written
             since then can be lost
  commit     commit a completed failover
  cancel     cancel a failover that was not committed
  change-point
             after a failover, before its commit: recover the VM from another
             recovery point (--recovery-point, required); the point applied is reported

Each operation is checked against the VM's current state before Azure is called, asks
for confirmation on a terminal (--yes skips it; without a terminal --yes is required),
follows the job with progress and reports per VM. Exit status: 0 done, 1 failed.
"""

from __future__ import annotations

import argparse

KINDS = ["test", "planned", "unplanned", "commit", "cleanup", "cancel", "change-point"]


EPILOG = """examples:
  asr failover test examples/quickstart.yaml --vm sql01
  asr failover cleanup examples/quickstart.yaml --vm sql01
  asr failover planned examples/quickstart.yaml --recovery-plan tier1 --yes
  asr failover commit examples/quickstart.yaml --recovery-plan tier1 --yes
  asr failover unplanned examples/quickstart.yaml --vm sql01 --recovery-point latest-app-consistent --yes
  asr failover change-point examples/quickstart.yaml --vm sql01 --recovery-point latest --yes

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    from reconciler.cli.ops_common import add_selector_arguments

    p.add_argument("kind", choices=KINDS, help="which operation")
    add_selector_arguments(p)
    p.add_argument("--test-network", metavar="NAME",
                   help="test: a network of target.networks to use instead of target.testNetwork")
    p.add_argument("--recovery-point", metavar="POINT",
                   help="planned / unplanned / test / change-point: latest (default), latest-app-consistent, latest-processed, or a "
                        "recovery point NAME or ID of one --vm (see `asr recovery-points`); the point used is reported")
    p.add_argument("--shutdown-source", action="store_true",
                   help="unplanned: try to shut the source VMs down first (sourceSiteOperations Required)")


def run(args: argparse.Namespace) -> int:
    if args.kind == "change-point":
        return run_change_point(args)
    from reconciler.cli.ops_common import run_selected
    from reconciler.ops import Operation

    return run_selected(args, Operation(args.kind))


def run_change_point(args: argparse.Namespace) -> int:
    """`asr failover change-point`: applyRecoveryPoint on failed-over VMs awaiting their commit."""
    import json
    import sys

    from reconciler.errors import UsageError
    from reconciler.ops import OpsContext, ensure_can_confirm, select_targets
    from reconciler.ops import run_change_point as change

    ctx = OpsContext.load(args.file, settings=getattr(args, "settings", None))
    if args.format == "json":
        ctx.out = sys.stderr
    if args.recovery_plan:
        raise UsageError("failover change-point works on VMs (--vm); a recovery plan has no point to change",
                         hint="give the plan's VMs with --vm")
    vms = select_targets(ctx.manifest, vms=args.vm, recovery_plan=None, file=ctx.file).vms
    ensure_can_confirm(args.yes)
    rows = change(ctx, vms, args.recovery_point, yes=args.yes)
    if args.format == "json":
        print(json.dumps({"results": rows}, indent=2), flush=True)
        return 0
    for r in rows:
        p = r["asked"]
        applied = (r["recovery_point_id"] or "?").rstrip("/").rsplit("/", 1)[-1]
        ctx.say(f"  {r['vm']}: recovery point changed to {applied} ({p['type']}, {p['time']}) (job {r['job']} {r['job_state']})")
    ctx.say(f"Next: check the VMs, then `asr failover commit {ctx.file} " + " ".join(f"--vm {r['vm']}" for r in rows) + " --yes`")
    return 0

"""Recovery points of a declared VM, newest first (time, type: CrashConsistent or
AppConsistent, name). A failover takes one with --recovery-point NAME-or-ID, or
latest-app-consistent for the newest app-consistent one. Exit status: 0, 1 on error.
"""

from __future__ import annotations

import argparse

EPILOG = """examples:
  asr recovery-points examples/quickstart.yaml --vm sql01
  asr recovery-points examples/quickstart.yaml --vm sql01 --format json
  asr failover unplanned examples/quickstart.yaml --vm sql01 --recovery-point latest-app-consistent

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE", help="the manifest")
    p.add_argument("--vm", required=True, metavar="NAME", help="a VM declared in the manifest")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")


def run(args: argparse.Namespace) -> int:
    import json

    from reconciler.errors import NotFoundError
    from reconciler.ops import OpsContext, read_inventory, select_targets
    from reconciler.ops import list_recovery_points as list_points
    from reconciler.ops import render_recovery_points_text as render_text

    ctx = OpsContext.load(args.file, settings=getattr(args, "settings", None))
    vm = select_targets(ctx.manifest, vms=[args.vm], recovery_plan=None, file=ctx.file).vms[0]
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))
    item = inv.item_for(vm)
    if item is None:
        raise NotFoundError(f"{vm} is not protected in vault {ctx.vault}: it has no recovery points",
                            hint=f"protect it with `asr apply {ctx.file}`")
    rows = list_points(ctx, item)
    if args.format == "json":
        ctx.say(json.dumps({"vm": vm, "recoveryPoints": rows}, indent=2))
    else:
        ctx.say(render_text(vm, rows))
    return 0

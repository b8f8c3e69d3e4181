"""Failback: planned failover from Azure back to the primary site (the Azure VMs are
shut down and their changes synchronised back), commit, then reprotect so the VMs
replicate to Azure again. For --vm NAME (repeatable) or --recovery-plan NAME.
Asks for confirmation on a terminal (--yes skips it). Exit status: 0 done, 1 failed.
"""

from __future__ import annotations

import argparse

EPILOG = """examples:
  asr failback examples/quickstart.yaml --recovery-plan tier1 --yes
  asr failback examples/quickstart.yaml --vm sql01 --data-sync ForDownTime --create-vm --yes

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    from reconciler.cli.ops_common import add_selector_arguments

    add_selector_arguments(p)
    p.add_argument("--data-sync", choices=["ForSynchronization", "ForDownTime"], default="ForSynchronization",
                   help="ForSynchronization (default): shut the Azure VMs down at once and synchronise during the "
                        "failover only (least data to move); ForDownTime: synchronise first while they keep running, "
                        "then pause until resumed (--yes resumes at once) for the final synchronisation (least downtime)")
    p.add_argument("--create-vm", action="store_true",
                   help="create the on-premises VM if it does not exist (recoveryVmCreationOption CreateVmIfNotFound)")
    p.add_argument("--alternate-host", metavar="NAME",
                   help="fail back to another registered Hyper-V host or VMM server (alternate location) instead of "
                        "the original one")


def run(args: argparse.Namespace) -> int:
    from reconciler.cli.ops_common import run_selected
    from reconciler.ops import Operation

    return run_selected(args, Operation.FAILBACK)

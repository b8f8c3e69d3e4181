"""Reverse replication after a failover (--vm NAME, repeatable, or --recovery-plan NAME):
replication restarts from where the VMs run now. Checked against each VM's state
first; asks for confirmation on a terminal (--yes skips it). Exit status: 0 done, 1 failed.
"""

from __future__ import annotations

import argparse

EPILOG = """examples:
  asr reprotect examples/quickstart.yaml --vm sql01

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    from reconciler.cli.ops_common import add_selector_arguments

    add_selector_arguments(p)


def run(args: argparse.Namespace) -> int:
    from reconciler.cli.ops_common import run_selected
    from reconciler.ops import Operation

    return run_selected(args, Operation.REPROTECT)

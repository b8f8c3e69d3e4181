"""Planned failover from Azure back to the primary site, then reprotect."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--vm", action="append", default=[])
    p.add_argument("--recovery-plan")
    p.add_argument("--yes", action="store_true")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr failback` is not implemented yet")

"""DR drill: test failover of a recovery plan, verify, clean up, report."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--recovery-plan", required=True)
    p.add_argument("--yes", action="store_true")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("--out", metavar="REPORT")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr drill` is not implemented yet")

"""Read the live Azure state, diff it against the manifest and print the ordered actions."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE|DIR")
    p.add_argument("--out", metavar="PLAN")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text")
    p.add_argument("--detailed-exitcode", action="store_true")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr plan` is not implemented yet")

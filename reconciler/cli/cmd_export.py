"""Write a manifest for an existing vault."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--subscription", required=True)
    p.add_argument("--resource-group", required=True)
    p.add_argument("--vault", required=True)
    p.add_argument("--out", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr export` is not implemented yet")

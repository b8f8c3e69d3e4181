"""Carry out a plan: from a manifest (planned now) or from a saved plan file."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE|PLAN")
    p.add_argument("--auto-approve", action="store_true")
    p.add_argument("--parallelism", type=int, default=10)
    p.add_argument("--allow-destroy", action="store_true")
    p.add_argument("--wait-protected", action="store_true")
    p.add_argument("--log-format", choices=["auto", "text", "json"], default="auto")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr apply` is not implemented yet")

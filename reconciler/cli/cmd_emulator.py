"""The local HTTPS Azure Resource Manager emulator with a simulated on-premises estate."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="emulator_command", required=True)
    s = sub.add_parser("serve", help="serve until stopped")
    s.add_argument("--estate", metavar="FILE")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--faults", metavar="SPEC")
    s.add_argument("--arm-limits", action="store_true")
    s.add_argument("--time-scale", type=float, default=1.0)


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr emulator` is not implemented yet")

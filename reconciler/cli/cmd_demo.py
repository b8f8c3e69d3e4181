"""Start an embedded emulator, then validate, plan, apply and plan again an example manifest."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="examples/quickstart.yaml")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr demo` is not implemented yet")

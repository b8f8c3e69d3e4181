"""Protection state, health, RPO and registration of everything the manifest declares."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--check", action="store_true")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr status` is not implemented yet")

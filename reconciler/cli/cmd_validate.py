"""Check manifests offline: YAML, schema, references, Azure naming rules."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE|DIR")
    p.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    raise UsageError("`asr validate` is not implemented yet")

"""Glue shared by command modules: loading a manifest with its FILE:LINE:COL
diagnostics on stderr, whether to colour output, and the flags every command
spells the same way (`--yes` / `--auto-approve`, `--no-color`)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any


def load_manifest(path: str) -> Any:
    """The validated manifest. On a ManifestError with diagnostics, they are printed on
    stderr (FILE:LINE:COL lines) before the error goes up; cli/main.py then prints
    nothing more for it."""
    from reconciler.errors import ManifestError
    from reconciler.manifest import load_manifest as _load_manifest
    from reconciler.manifest import print_diagnostics

    try:
        return _load_manifest(path)
    except ManifestError as err:
        if err.diagnostics:
            print_diagnostics(err.diagnostics, "text", sys.stderr)
        raise


def color_disabled() -> bool:
    """NO_COLOR (any non-empty value, also set by `--no-color`) or TERM=dumb turn colour off."""
    return bool(os.environ.get("NO_COLOR")) or os.environ.get("TERM", "") == "dumb"


def use_color(stream: Any) -> bool:
    """Colour only on a terminal; never with NO_COLOR, `--no-color` or TERM=dumb."""
    if color_disabled():
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def add_approve_argument(p: argparse.ArgumentParser, dest: str = "yes") -> None:
    """`--yes` and `--auto-approve` (Terraform's spelling): the same flag everywhere."""
    p.add_argument("--yes", "-y", "--auto-approve", dest=dest, action="store_true",
                   help="do not ask for confirmation (required without a terminal); --auto-approve is the same")


def add_no_color_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--no-color", action="store_true",
                   help="no colour in the output (also NO_COLOR=1 or TERM=dumb)")


def add_target_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", action="append", default=[], metavar="ADDRESS",
                   help="plan/apply only this object and what it depends on (repeatable), e.g. protected_vm.sql01")
    p.add_argument("--vm", action="append", default=[], metavar="NAME", dest="target_vms",
                   help="shorthand for --target protected_vm.NAME (repeatable)")


def targets_of(args: argparse.Namespace) -> list[str]:
    return list(getattr(args, "target", None) or []) + [f"protected_vm.{v}" for v in getattr(args, "target_vms", None) or []]


def require_emulator_extra() -> None:
    """The emulator's server (starlette, uvicorn) is the `emulator` extra, not the runtime."""
    import importlib.util

    from reconciler.errors import UsageError

    missing = [m for m in ("starlette", "uvicorn", "requests") if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(f"the emulator needs {', '.join(missing)}, which this installation does not have",
                         hint="pip install 'asr-iac[emulator]' (make install does)")

"""Glue shared by command modules (`cmd_plan`, `cmd_apply`): loading a manifest with its
FILE:LINE:COL diagnostics on stderr, and whether to colour output."""

from __future__ import annotations

import os
import sys
from typing import Any


def load_manifest(path: str) -> Any:
    """The validated manifest. On a ManifestError with diagnostics, they are printed on
    stderr (FILE:LINE:COL lines) before the error goes up; cli/main.py then prints
    nothing more for it."""
    from reconciler.errors import ManifestError
    from reconciler.manifest import load_manifest as _load_manifest, print_diagnostics

    try:
        return _load_manifest(path)
    except ManifestError as err:
        if err.diagnostics:
            print_diagnostics(err.diagnostics, "text", sys.stderr)
        raise


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never with NO_COLOR set."""
    if os.environ.get("NO_COLOR"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())

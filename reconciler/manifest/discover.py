"""Which files `asr validate` looks at: files as given, directories walked."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from reconciler.errors import UsageError
from reconciler.manifest.validate import is_manifest_text

_SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache"}


def _manifests_under(root: Path) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        for name in sorted(filenames):
            if not name.endswith((".yaml", ".yml")):
                continue
            p = Path(dirpath) / name
            try:
                text = p.read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                continue
            if is_manifest_text(text):
                found.append(str(p))
    return found


def find_manifests(paths: Iterable[str], *, only_manifests: bool = False) -> list[str]:
    """Files named on the command line are validated as given (unless `only_manifests`
    and they do not declare apiVersion asr/v1); a directory contributes every
    *.yaml / *.yml under it that declares `apiVersion: asr/v1`."""
    out: list[str] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            under = _manifests_under(p)
            if not under and not only_manifests:
                raise UsageError(f"{raw}: no asr/v1 manifests (*.yaml, *.yml with apiVersion: asr/v1) in this directory")
            out.extend(under)
        elif only_manifests:
            try:
                text = p.read_text(encoding="utf-8-sig", errors="replace")
            except OSError:
                out.append(raw)  # reported as unreadable
                continue
            if is_manifest_text(text):
                out.append(raw)
        else:
            out.append(raw)
    return list(dict.fromkeys(out))  # first occurrence of each, in order

"""Carrying a plan out: the applier, the vault lock, progress and the apply summary.

The public names below are what other packages (the CLI) use; the modules are internal
(docs/design.md, "Public surface"). Names load their module on first use, so importing
the package costs nothing (`asr --help` stays fast).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reconciler import lazy

if TYPE_CHECKING:
    from reconciler.apply.lock import TAG as LOCK_TAG
    from reconciler.apply.lock import LeaseInfo, VaultLock, force_unlock, strip_lock_tag
    from reconciler.apply.progress import make_progress
    from reconciler.apply.runner import Applier, actionable, refuse_destroy, wait_protected
    from reconciler.apply.summary import exit_status, render_errors
    from reconciler.apply.summary import render as render_summary

# public name -> (module, name in the module)
_EXPORTS = {
    "Applier": ("reconciler.apply.runner", "Applier"),
    "LOCK_TAG": ("reconciler.apply.lock", "TAG"),
    "LeaseInfo": ("reconciler.apply.lock", "LeaseInfo"),
    "VaultLock": ("reconciler.apply.lock", "VaultLock"),
    "actionable": ("reconciler.apply.runner", "actionable"),
    "exit_status": ("reconciler.apply.summary", "exit_status"),
    "force_unlock": ("reconciler.apply.lock", "force_unlock"),
    "make_progress": ("reconciler.apply.progress", "make_progress"),
    "refuse_destroy": ("reconciler.apply.runner", "refuse_destroy"),
    "render_errors": ("reconciler.apply.summary", "render_errors"),
    "render_summary": ("reconciler.apply.summary", "render"),
    "strip_lock_tag": ("reconciler.apply.lock", "strip_lock_tag"),
    "wait_protected": ("reconciler.apply.runner", "wait_protected"),
}

__all__ = [
    "Applier",
    "LOCK_TAG",
    "LeaseInfo",
    "VaultLock",
    "actionable",
    "exit_status",
    "force_unlock",
    "make_progress",
    "refuse_destroy",
    "render_errors",
    "render_summary",
    "strip_lock_tag",
    "wait_protected",
]


__getattr__ = lazy.exports(__name__, _EXPORTS)

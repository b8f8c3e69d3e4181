"""Tag maps as asr writes them (shared by the kind tables and the planner; no planner import)."""

from __future__ import annotations

from typing import Any

__all__ = ["LOCK_TAG", "merged_tags"]

LOCK_TAG = "asr-lock"  # the applier's vault lease (reconciler/apply/lock.py); never a declared tag


def merged_tags(live_tags: dict[str, Any] | None, declared: dict[str, Any], *, prune: bool = False) -> dict[str, str]:
    """What a tag write sends: the live tags (without asr's lease tag) with the declared keys set
    (tag names are case-insensitive in Azure: a declared key replaces the live key of any case);
    under `prune: {tags: true}` only the declared tags. Sorted by key: deterministic."""
    out = {} if prune else {k: v for k, v in (live_tags or {}).items() if str(k).lower() != LOCK_TAG}
    for k, v in declared.items():
        for old in [x for x in out if str(x).lower() == str(k).lower()]:
            del out[old]
        out[k] = v
    return dict(sorted(out.items(), key=lambda kv: str(kv[0]).lower()))

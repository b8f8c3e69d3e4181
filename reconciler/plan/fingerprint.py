"""Fingerprints of what a plan was made from: the manifest and the live state.

A saved plan carries them (plan.saved) so `asr apply PLAN` refuses a plan whose manifest
or live state moved. The live fingerprints are sha256 per address of the normalized
live objects (plan.normalize); they live here, not on LiveState, so that `live` does not
import `plan`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from reconciler.live.state import LiveState
from reconciler.manifest import manifest_fingerprint
from reconciler.plan.normalize import normalize_live

__all__ = ["live_fingerprint", "live_fingerprints", "manifest_fingerprint"]


def live_fingerprints(live: LiveState, normalized: dict[str, Any] | None = None) -> dict[str, str]:
    """sha256 per address of the normalized live objects (`normalized`: normalize_live(live), if already made)."""
    if normalized is None:
        normalized = normalize_live(live)
    return {addr: _sha(obj) for addr, obj in normalized.items()}


def live_fingerprint(live: LiveState, fingerprints: dict[str, str] | None = None) -> str:
    """sha256 over every address's fingerprint (order-independent)."""
    fps = fingerprints if fingerprints is not None else live_fingerprints(live)
    return _sha(sorted(fps.items()))


def _sha(obj: Any) -> str:
    """sha256 of a normalized object. Normalized objects are built with a fixed key
    order (dicts from Azure, such as tags, are sorted by the normalizer), so repr()
    is canonical and several times cheaper than json.dumps(sort_keys=True)."""
    return hashlib.sha256(repr(obj).encode()).hexdigest()

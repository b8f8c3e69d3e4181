"""Saved plans (`asr plan --out PLAN`) and the staleness check `apply PLAN` runs.

A saved plan is the JSON of `Plan.to_dict()`: it carries `manifest_fingerprint`
(sha256 of the validated manifest, environment references resolved),
`live_fingerprint` and `live_fingerprints` (sha256 per address of the
normalized live objects read). `check_plan_current` recomputes both from a
fresh manifest and live read and raises `PlanStaleError` naming what moved.
Volatile read-side values (RPO, heartbeats, health, replication progress) are
not part of the normalized shape, so they never make a plan stale.
"""

from __future__ import annotations

import json
import os
from typing import Any

from reconciler.errors import PlanStaleError, UsageError
from reconciler.live.state import LiveState
from reconciler.plan.model import PLAN_FORMAT_VERSION, Plan

__all__ = ["save_plan", "load_plan", "check_plan_current"]

_MAX_NAMED = 10


def save_plan(plan: Plan, path: str) -> None:
    data = plan.to_dict()
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)


def _plan_dict(plan: Plan | dict[str, Any]) -> dict[str, Any]:
    if isinstance(plan, Plan):
        return plan.to_dict()
    if isinstance(plan, dict) and isinstance(plan.get("plan"), dict):
        return plan["plan"]
    return plan


def load_plan(path: str) -> Plan:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}")
    except ValueError as exc:
        raise UsageError(f"{path}: not a saved plan (invalid JSON: {exc})")
    data = _plan_dict(data)
    if not isinstance(data, dict) or "changes" not in data:
        raise UsageError(f"{path}: not a saved plan")
    if int(data.get("format_version", 0)) > PLAN_FORMAT_VERSION:
        raise UsageError(f"{path}: plan format {data.get('format_version')} is newer than this asr understands "
                         f"({PLAN_FORMAT_VERSION})", hint="upgrade asr")
    try:
        return Plan.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: not a plan asr can read ({type(exc).__name__}: {exc})")


def check_plan_current(plan: Plan | dict[str, Any], manifest: Any, live: LiveState) -> None:
    """Raise PlanStaleError if the manifest or the live state moved since `plan` was made."""
    from reconciler.plan.planner import manifest_fingerprint

    d = _plan_dict(plan)
    hint = "run `asr plan --out PLAN` again, review it, then apply the new plan"
    if d.get("manifest_fingerprint") and d["manifest_fingerprint"] != manifest_fingerprint(manifest):
        raise PlanStaleError(f"the manifest {d.get('manifest_path') or ''} changed since the plan was made".replace("  ", " "),
                             hint=hint)
    now = live.fingerprints()
    then: dict[str, str] = d.get("live_fingerprints") or {}
    if then:
        moved = sorted(a for a in set(now) | set(then) if now.get(a) != then.get(a))
        if moved:
            parts = []
            for a in moved[:_MAX_NAMED]:
                state = "appeared" if a not in then else ("disappeared" if a not in now else "changed")
                parts.append(f"{a} ({state})")
            more = f" and {len(moved) - _MAX_NAMED} more" if len(moved) > _MAX_NAMED else ""
            raise PlanStaleError(f"live state moved since the plan was made: {', '.join(parts)}{more}", hint=hint)
        return
    if d.get("live_fingerprint") and d["live_fingerprint"] != live.fingerprint():
        raise PlanStaleError("live state moved since the plan was made", hint=hint)

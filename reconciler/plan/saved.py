"""Saved plans (`asr plan --out PLAN`) and the checks `apply PLAN` runs on them.

A saved plan is the JSON of `Plan.to_dict()` plus `digest`, the sha256 of the rest
of the file as canonical JSON (`plan_digest`). It carries `manifest_fingerprint`
(sha256 of the validated manifest, environment references resolved),
`live_fingerprint` and `live_fingerprints` (sha256 per address of the
normalized live objects read). `check_plan_current` recomputes both from a
fresh manifest and live read and raises `PlanStaleError` naming what moved.
Volatile read-side values (RPO, heartbeats, health, replication progress) are
not part of the normalized shape, so they never make a plan stale.

A saved plan is checked, not trusted (docs/security.md): `load_plan` refuses a
file whose digest does not match its content (an edit; anyone who can write the
file can also recompute the digest, so this only catches accidents and careless
edits), and `check_plan_matches` compares it with the plan `make_plan` derives
again from the manifest and the live state: every change's action, reason,
dependencies and requests (operation and arguments, as canonical JSON). Any
difference refuses the whole plan, naming the address and what differs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from typing import Any

from reconciler.errors import PlanMismatchError, PlanStaleError, UsageError
from reconciler.live.state import LiveState
from reconciler.plan.fingerprint import live_fingerprint, live_fingerprints, manifest_fingerprint
from reconciler.plan.model import PLAN_FORMAT_VERSION, Change, Plan

__all__ = ["save_plan", "load_plan", "check_plan_current", "check_plan_matches", "plan_differences", "plan_digest"]

_MAX_NAMED = 10
DIGEST_FIELD = "digest"
_REPLAN_HINT = "make the plan again with `asr plan MANIFEST --out PLAN`, review it, then apply that file"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def plan_digest(data: dict[str, Any]) -> str:
    """"sha256:<hex>" over the canonical JSON (sorted keys, no spaces, UTF-8) of a
    saved plan's content: every top-level field but `digest` itself."""
    body = {k: v for k, v in data.items() if k != DIGEST_FIELD}
    return "sha256:" + hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def save_plan(plan: Plan, path: str) -> None:
    data = json.loads(json.dumps(plan.to_dict()))  # exactly what a reader will load back
    data[DIGEST_FIELD] = plan_digest(data)
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


def verify_digest(data: dict[str, Any], path: str) -> None:
    """Refuse a saved plan whose content does not match its digest, or that has none."""
    got = data.get(DIGEST_FIELD)
    if not got:
        raise PlanMismatchError(
            f"{path}: the plan file has no digest (written by an asr older than the digest check, or by hand); "
            "nothing was changed", hint=_REPLAN_HINT)
    if not isinstance(got, str) or not hmac.compare_digest(got, plan_digest(data)):
        raise PlanMismatchError(
            f"{path}: the plan file was modified after it was written (its digest does not match its content); "
            "nothing was changed", hint=_REPLAN_HINT)


def load_plan(path: str, *, verify: bool = True) -> Plan:
    """Read a saved plan. With `verify` (the default) its digest must match its content."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise UsageError(f"{path}: not a saved plan (invalid JSON: {exc})") from exc
    data = _plan_dict(data)
    if not isinstance(data, dict) or "changes" not in data:
        raise UsageError(f"{path}: not a saved plan")
    if int(data.get("format_version", 0)) > PLAN_FORMAT_VERSION:
        raise UsageError(f"{path}: plan format {data.get('format_version')} is newer than this asr understands "
                         f"({PLAN_FORMAT_VERSION})", hint="upgrade asr")
    if verify:
        verify_digest(data, path)
    try:
        return Plan.from_dict({k: v for k, v in data.items() if k != DIGEST_FIELD})
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{path}: not a plan asr can read ({type(exc).__name__}: {exc})") from exc


def check_plan_current(plan: Plan | dict[str, Any], manifest: Any, live: LiveState) -> None:
    """Raise PlanStaleError if the manifest or the live state moved since `plan` was made."""
    d = _plan_dict(plan)
    hint = "run `asr plan --out PLAN` again, review it, then apply the new plan"
    if d.get("manifest_fingerprint") and d["manifest_fingerprint"] != manifest_fingerprint(manifest):
        raise PlanStaleError(f"the manifest {d.get('manifest_path') or ''} changed since the plan was made".replace("  ", " "),
                             hint=hint)
    now = live_fingerprints(live)
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
    if d.get("live_fingerprint") and d["live_fingerprint"] != live_fingerprint(live):
        raise PlanStaleError("live state moved since the plan was made", hint=hint)


def _first_difference(a: Any, b: Any, path: str = "") -> str:
    """The dotted path of the first place two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            sub = f"{path}.{k}" if path else str(k)
            if k not in a or k not in b:
                return sub
            if _canonical(a[k]) != _canonical(b[k]):
                return _first_difference(a[k], b[k], sub)
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            if _canonical(x) != _canonical(y):
                return _first_difference(x, y, f"{path}[{i}]")
    return path or "(the whole value)"


def _requests_differences(saved: Change, fresh: Change) -> list[str]:
    out = []
    a = saved.address
    for i in range(max(len(saved.requests), len(fresh.requests))):
        n = i + 1
        if i >= len(fresh.requests):
            out.append(f"{a}: request {n} ({saved.requests[i].operation}) is not what the manifest and live state give "
                       f"(they give {len(fresh.requests)} request(s))")
            continue
        if i >= len(saved.requests):
            out.append(f"{a}: request {n} ({fresh.requests[i].operation}) that the manifest and live state give "
                       "is missing from the saved plan")
            continue
        s, f = saved.requests[i], fresh.requests[i]
        if s.operation != f.operation:
            out.append(f"{a}: request {n} ({s.operation}) is not what the manifest and live state give ({f.operation})")
        elif _canonical(s.args) != _canonical(f.args):
            out.append(f"{a}: request {n} ({s.operation}) is not what the manifest and live state give "
                       f"(argument {_first_difference(s.args, f.args)} differs)")
    return out


def plan_differences(saved: Plan, fresh: Plan) -> list[str]:
    """What differs between a saved plan and the plan derived again from the
    manifest and the live state: one sentence per difference, by address."""
    out: list[str] = []
    for attr, what in (("subscription", "subscription"), ("resource_group", "resource group"), ("vault", "vault")):
        sv, fv = str(getattr(saved, attr)), str(getattr(fresh, attr))
        if sv.lower() != fv.lower():
            out.append(f"the saved plan is for {what} {sv}, the manifest names {fv}")
    seen: set[str] = set()
    fresh_idx = fresh.by_address()
    for c in saved.changes:
        a = c.address
        if a in seen:
            out.append(f"{a}: appears more than once in the saved plan")
            continue
        seen.add(a)
        f = fresh_idx.get(a)
        if f is None:
            out.append(f"{a}: is not in the plan the manifest and live state give "
                       f"(the saved plan has it as {c.action.value})")
            continue
        if c.action != f.action:
            out.append(f"{a}: action {c.action.value} is not what the manifest and live state give ({f.action.value})")
        if c.reason != f.reason:
            out.append(f"{a}: reason {c.reason.value} is not what the manifest and live state give ({f.reason.value})")
        out.extend(_requests_differences(c, f))
        if sorted(c.depends_on) != sorted(f.depends_on):
            out.append(f"{a}: its dependencies are not what the manifest and live state give")
        if sorted(c.blocked_by) != sorted(f.blocked_by):
            out.append(f"{a}: what it waits for (blocked_by) is not what the manifest and live state give")
    for f in fresh.changes:
        if f.address not in seen:
            out.append(f"{f.address}: is missing from the saved plan (the manifest and live state give "
                       f"{f.action.value})")
    return out


def check_plan_matches(saved: Plan, fresh: Plan) -> None:
    """Raise PlanMismatchError if `saved` is not exactly what `fresh` (the plan made
    again from the same manifest and live state) would do."""
    diffs = plan_differences(saved, fresh)
    if not diffs:
        return
    more = f"; and {len(diffs) - _MAX_NAMED} more" if len(diffs) > _MAX_NAMED else ""
    raise PlanMismatchError(
        "the saved plan is not what the manifest and live state give; nothing was changed: "
        + "; ".join(diffs[:_MAX_NAMED]) + more,
        hint="the plan file was changed after `asr plan` wrote it, or was made by another asr version; "
             + _REPLAN_HINT)

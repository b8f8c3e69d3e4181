"""Recovery plan group actions declared in the manifest (`groups[].before` / `after`) as
ASR `RecoveryPlanAction` bodies, and back (export).

    body = action_body(group_action)           # {"actionName", "failoverTypes", ...}
    summary(body)                              # what the plan compares and shows
    from_body(body)                            # the manifest form (export); None if not expressible

A manual action is `ManualActionDetails {description}`; a script `ScriptActionDetails
{path, timeout, fabricLocation: Primary}` (it runs on the VMM server); a runbook
`AutomationRunbookActionDetails {runbookId: <account>/runbooks/<name>, timeout,
fabricLocation: Recovery}` (it runs in Azure). Timeouts are sent as strings of seconds
(the spec types them `string`).
"""

from __future__ import annotations

from typing import Any

ALL_TYPES = ["TestFailover", "PlannedFailover", "UnplannedFailover"]


def action_body(a: Any) -> dict[str, Any]:
    """manifest GroupAction -> RecoveryPlanAction."""
    if a.manual is not None:
        cd: dict[str, Any] = {"instanceType": "ManualActionDetails", "description": a.manual}
    elif a.script is not None:
        cd = {"instanceType": "ScriptActionDetails", "path": a.script.path, "fabricLocation": "Primary"}
        if a.script.timeout is not None:
            cd["timeout"] = str(a.script.timeout)
    else:
        rb = a.runbook
        cd = {"instanceType": "AutomationRunbookActionDetails",
              "runbookId": f"{rb.automation_account.rstrip('/')}/runbooks/{rb.runbook}", "fabricLocation": "Recovery"}
        if rb.timeout is not None:
            cd["timeout"] = str(rb.timeout)
    return {"actionName": a.name, "failoverTypes": [t.value for t in a.failover_types],
            "failoverDirections": a.directions(), "customDetails": cd}


def declared(plan: Any) -> dict[int, dict[str, list[dict[str, Any]]]]:
    """Boot group index (0-based) -> {startGroupActions: [...], endGroupActions: [...]}."""
    out: dict[int, dict[str, list[dict[str, Any]]]] = {}
    for i, g in enumerate(plan.groups):
        out[i] = {"startGroupActions": [action_body(a) for a in g.before],
                  "endGroupActions": [action_body(a) for a in g.after]}
    return out


def declared_names(plan: Any) -> set[str]:
    return {a.name.lower() for g in plan.groups for a in (*g.before, *g.after)}


def summary(body: dict[str, Any]) -> str:
    """The part of an action the plan compares, in words."""
    cd = body.get("customDetails") or {}
    kind = str(cd.get("instanceType") or "")
    if kind == "ManualActionDetails":
        what = f"manual {cd.get('description') or ''!r}"
    elif kind == "ScriptActionDetails":
        what = f"script {cd.get('path') or ''}" + (f" timeout {cd.get('timeout')}" if cd.get("timeout") else "")
    elif kind == "AutomationRunbookActionDetails":
        what = f"runbook {cd.get('runbookId') or ''}" + (f" timeout {cd.get('timeout')}" if cd.get("timeout") else "")
    else:
        what = kind or "?"
    types = ",".join(sorted(str(t) for t in body.get("failoverTypes") or []))
    dirs = ",".join(sorted(str(d) for d in body.get("failoverDirections") or []))
    return f"{what} [{types}] [{dirs}]"


def from_body(body: dict[str, Any]) -> dict[str, Any] | None:
    """RecoveryPlanAction -> the manifest's action mapping (for export)."""
    cd = body.get("customDetails") or {}
    kind = str(cd.get("instanceType") or "")
    out: dict[str, Any] = {"name": body.get("actionName") or ""}
    timeout = cd.get("timeout")
    t = int(timeout) if isinstance(timeout, (int, str)) and str(timeout).isdigit() else None
    if kind == "ManualActionDetails":
        out["manual"] = cd.get("description") or ""
    elif kind == "ScriptActionDetails":
        out["script"] = {"path": cd.get("path") or "", **({"timeout": t} if t else {})}
    elif kind == "AutomationRunbookActionDetails":
        rid = str(cd.get("runbookId") or "")
        if "/runbooks/" not in rid:
            return None
        account, _, name = rid.rpartition("/runbooks/")
        out["runbook"] = {"automationAccount": account, "runbook": name, **({"timeout": t} if t else {})}
    else:
        return None
    types = [str(x) for x in body.get("failoverTypes") or []]
    known = [x for x in types if x in ALL_TYPES]
    if not known:
        return None
    if sorted(known) != sorted(ALL_TYPES):
        out["failoverTypes"] = known
    dirs = [str(x) for x in body.get("failoverDirections") or []]
    default = (["PrimaryToRecovery"] if "runbook" in out else ["RecoveryToPrimary"] if "script" in out
               else ["PrimaryToRecovery", "RecoveryToPrimary"])
    if dirs and sorted(dirs) != sorted(default):
        out["failoverDirections"] = dirs
    return out

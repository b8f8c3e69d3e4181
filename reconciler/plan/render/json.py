"""Machine plan output: a versioned JSON document (docs/plan-json.md).

The document is `Plan.to_dict()` plus `format`, `summary`, `has_changes` and, per
change, `destructive` and `blocked`. `format_version` changes only when a field
is removed or its meaning changes; new fields may appear at any time.
Unknown enum values are never produced: actions, reasons and kinds are the
closed sets of reconciler.plan.model.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.plan.model import PLAN_FORMAT_VERSION, Action, Kind, Plan, Reason

FORMAT = "asr-plan"

_CHANGE = {
    "type": "object",
    "required": ["address", "kind", "action", "reason", "before", "after", "replace_fields", "depends_on",
                 "blocked_by", "requests", "arm_id", "note", "wave", "destructive", "blocked"],
    "properties": {
        "address": {"type": "string", "pattern": r"^[a-z_]+\..+"},
        "kind": {"enum": [k.value for k in Kind]},
        "action": {"enum": [a.value for a in Action]},
        "reason": {"enum": [r.value for r in Reason]},
        "before": {"type": ["object", "null"]},
        "after": {"type": ["object", "null"]},
        "replace_fields": {"type": "array", "items": {"type": "string"}},
        "depends_on": {"type": "array", "items": {"type": "string"}},
        "blocked_by": {"type": "array", "items": {"type": "string"}},
        "requests": {"type": "array", "items": {
            "type": "object", "required": ["operation", "args"],
            "properties": {"operation": {"type": "string", "pattern": r"^[a-z_]+\.[a-z_]+\.[a-z_]+$"},
                           "args": {"type": "object"}}}},
        "arm_id": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"]},
        "wave": {"type": "integer", "minimum": 0},
        "removes": {"type": "array", "items": {"type": "string"}},
        "destructive": {"type": "boolean"},
        "blocked": {"type": "boolean"},
    },
}

PLAN_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "asr plan (JSON output and saved plan)",
    "type": "object",
    "required": ["format", "format_version", "manifest_path", "subscription", "vault", "resource_group",
                 "changes", "unmanaged", "summary", "has_changes", "manifest_fingerprint", "live_fingerprint",
                 "created_at", "requests_made", "warnings"],
    "properties": {
        "format": {"const": FORMAT},
        "format_version": {"const": PLAN_FORMAT_VERSION},
        "manifest_path": {"type": "string"},
        "subscription": {"type": "string"},
        "vault": {"type": "string"},
        "resource_group": {"type": "string"},
        "created_at": {"type": "string"},
        "requests_made": {"type": "integer", "minimum": 0},
        "manifest_fingerprint": {"type": "string"},
        "live_fingerprint": {"type": "string"},
        "live_fingerprints": {"type": "object", "additionalProperties": {"type": "string"}},
        "partial": {"type": "boolean"},
        "targets": {"type": "array", "items": {"type": "string"}},
        "digest": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},  # saved plans only
        "has_changes": {"type": "boolean"},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "summary": {"type": "object",
                    "required": ["add", "change", "replace", "destroy", "manual", "blocked", "await"],
                    "additionalProperties": {"type": "integer", "minimum": 0}},
        "changes": {"type": "array", "items": _CHANGE},
        "unmanaged": {"type": "array", "items": {
            "type": "object", "required": ["kind", "name"],
            "properties": {"kind": {"enum": [k.value for k in Kind]}, "name": {"type": "string"},
                           "arm_id": {"type": ["string", "null"]},
                           "part": {"type": ["string", "null"]}, "note": {"type": ["string", "null"]}}}},
    },
}


def plan_document(plan: Plan) -> dict[str, Any]:
    d = plan.to_dict()
    for c, ch in zip(d["changes"], plan.changes, strict=True):
        c["destructive"] = ch.destructive
        c["blocked"] = ch.blocked
    return {"format": FORMAT, **d, "summary": plan.summary(), "has_changes": plan.has_changes}


def render_json(plan: Plan) -> str:
    return json.dumps(plan_document(plan), indent=2, sort_keys=False, default=str) + "\n"

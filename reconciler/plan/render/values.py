"""Attribute values as people read them: the one formatter the text and Markdown renderers share.

Strings and other values print as JSON (`"westeurope"`, `24`, `{"env": "prod"}`), except
ARM ids in the plan's own subscription, which print compactly and unquoted:

    /subscriptions/<plan sub>/resourceGroups/R/providers/Microsoft.Network/virtualNetworks/V   -> V (R)
    /subscriptions/<plan sub>/resourceGroups/R/providers/.../virtualNetworks/V/subnets/S        -> V/S (R)
    /subscriptions/<plan sub>/resourceGroups/R                                                  -> R

An id in another subscription, or one this module does not recognise (subscription-level
resources, extension resources, malformed ids), stays in full: a reference that leaves the
plan's subscription is worth a reviewer's attention. Comparison is case-insensitive; names
are shown as the id spells them. Display only: the Plan value and the JSON renderer keep
full ids.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.live.ids import looks_like_id

__all__ = ["compact_id", "format_value"]


def compact_id(value: Any, subscription: str | None) -> str | None:
    """`name (resource group)` / `resource group` for an id in `subscription`, else None."""
    if not subscription or not looks_like_id(value):
        return None
    parts = value.rstrip("/").split("/")[1:]
    if len(parts) < 4 or "" in parts or parts[1].lower() != subscription.lower():
        return None
    if parts[2].lower() != "resourcegroups":
        return None
    rg = parts[3]
    if len(parts) == 4:
        return rg
    rest = parts[4:]  # providers, namespace, type, name[, type, name]...
    if (len(rest) < 4 or len(rest) % 2 or rest[0].lower() != "providers"
            or any(p.lower() == "providers" for p in rest[2::2])):
        return None
    return f"{'/'.join(rest[3::2])} ({rg})"


def format_value(value: Any, subscription: str | None) -> str:
    """One attribute value for the text/Markdown plan (see the module docstring)."""
    short = compact_id(value, subscription)
    if short is not None:
        return short
    if isinstance(value, str):
        return json.dumps(value)
    return json.dumps(value, sort_keys=True, default=str)

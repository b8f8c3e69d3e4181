"""Resource groups, declared once.

Sources: azure-mgmt-resource 26.0.0 model ResourceGroup (`location`, `tags`, `properties.provisioningState`),
`resource_groups.create_or_update` (a PUT with `{location}`); ARM cannot move a resource group to another
region.

A manifest has no resource-group entry of its own: the groups asr creates are `vault.resourceGroup`,
`target.resourceGroup` and any `protectedVMs[].target.resourceGroup`, each in the vault's region. So the
one row, `location`, is read from the **vault** entry (`vault.location`, the model passed to `desired_attrs`)
and a manifest changes it only by moving the vault: a change is a replace (delete + create, under
`--allow-destroy`). Export writes no resource group: `vault.location` (reconciler/kinds/vault.py) says it.

- `location`: the region, compared without spaces and case (`West Europe` = `westeurope`); created as the
  manifest spells it.

`norm_location` is the one location normalisation of every kind (the planner re-exports it from
reconciler/plan/normalize.py).
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field

__all__ = ["FIELDS", "REPLACE_FIELDS", "norm_location", "desired_attrs", "live_attrs", "create_body"]


def norm_location(loc: Any) -> str | None:
    """An Azure region compared the way ARM does: no spaces, lower case ("West Europe" -> "westeurope")."""
    if loc is None:
        return None
    return str(loc).replace(" ", "").lower()


FIELDS: tuple[Field, ...] = (
    Field("location", "location", "location", "location", None, mode="replace", norm=norm_location),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(vault: Any) -> dict[str, Any]:
    """A resource group's attributes from the manifest's `vault` entry (its region is the vault's)."""
    return base.desired_attrs(FIELDS, vault)


def live_attrs(group: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, group)


def create_body(location: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """The PUT body: the region as the manifest spells it (Azure takes either form); `tags` when given."""
    body = base.body(FIELDS, {"location": location})
    if tags:
        body["tags"] = tags
    return body

"""Resource groups asr creates (`vault.resourceGroup`, `target.resourceGroup`, `protectedVMs[].target.resourceGroup`),
each in the vault's region, declared once.

Sources: azure-mgmt-resource 26.0.0 model ResourceGroup (`location`, `tags`, `properties.provisioningState`),
`resource_groups.create_or_update` (a PUT with `{location}`); ARM cannot move a resource group to another
region.

A manifest has no resource-group entry of its own, only the names above (the group is found by name in the
subscription). Fields:

- `location`: the group's region. A manifest does not write it: it is the vault's region (`vault.location`),
  compared as ARM names regions (`West Europe` = `westeurope`) and created as the manifest spells it. ARM
  cannot move a group, so a change (a manifest that moves the vault) is a replace (delete + create, under
  `--allow-destroy`). Export writes no resource group: `vault.location` (reconciler/kinds/vault.py) says it.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field, norm_location

__all__ = ["FIELDS", "REPLACE_FIELDS", "desired_attrs", "live_attrs", "create_body"]


FIELDS: tuple[Field, ...] = (
    Field("location", None, "location", "location", None, mode="replace", norm=norm_location),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(location: str) -> dict[str, Any]:
    """A resource group's attributes: `location` is the vault's region (`vault.location`)."""
    values = {"location": location}
    return {f.attr: f.norm(values[f.attr]) for f in FIELDS}


def live_attrs(group: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, group)


def create_body(location: str, tags: dict[str, str] | None = None) -> dict[str, Any]:
    """The PUT body: the region as the manifest spells it (Azure takes either form); `tags` when given."""
    body = base.body(FIELDS, {"location": location})
    if tags:
        body["tags"] = tags
    return body

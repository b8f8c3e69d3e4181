"""Pre-existing Azure resources from the estate's optional `azure:` section, so tests
and demos can start from a subscription that already holds things (e.g. a storage
account a manifest marks `existing: true`):

    azure:
      resourceGroups: [{name: contoso-dr-rg, location: westeurope, tags: {...}}]
"""

from __future__ import annotations

from reconciler.emulator.framework import rg_id
from reconciler.emulator.providers.common import check_location, check_tags
from reconciler.emulator.state import EmulatorState


def install(state: EmulatorState, azure: dict, subscription_id: str) -> None:
    if not isinstance(azure, dict):
        raise ValueError("azure: must be a mapping")
    from reconciler.emulator.providers import resources

    for i, g in enumerate(azure.get("resourceGroups") or []):
        if not isinstance(g, dict) or not g.get("name"):
            raise ValueError(f"azure.resourceGroups[{i}]: name is required")
        loc = check_location(g.get("location", "westeurope"))
        state.put(rg_id(subscription_id, g["name"]), resources.make_group(subscription_id, g["name"], loc, check_tags(g.get("tags"))))

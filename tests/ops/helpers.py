"""Test setup through the SDK (the product's own `Clients`), for day-2 tests that need
a vault or protected VMs before `asr apply` is part of the picture."""

from __future__ import annotations

from typing import Any

from reconciler.azure.clients import Clients


def make_vault(manifest: Any) -> Clients:
    """Resource groups and the vault of `manifest`, created directly through the SDK."""
    c = Clients(manifest.subscription)
    v = manifest.vault
    c.resources.resource_groups.create_or_update(v.resource_group, {"location": v.location})
    c.resources.resource_groups.create_or_update(manifest.target.resource_group, {"location": v.location})
    c.vaults.vaults.begin_create_or_update(v.resource_group, v.name, {
        "location": v.location, "sku": {"name": "Standard"},
        "properties": {"publicNetworkAccess": "Enabled",
                       "redundancySettings": {"standardTierStorageRedundancy": v.storage_redundancy.value}}}).result()
    return c

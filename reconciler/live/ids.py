"""ARM resource ids: one canonical comparison form and a case-insensitive parser.

ASR answers ids as `/Subscriptions/...` (capital S) while other providers and the
manifest say `/subscriptions/...`; resource names in ARM are case-insensitive.
`norm_id()` is the ONE function the planner uses to compare ids.
"""

from __future__ import annotations

from typing import Any

AZURE_FABRIC = "Microsoft Azure"  # recoveryFabricId / targetProtectionContainerId of Hyper-V to Azure


def norm_id(value: Any) -> Any:
    """Lower-case an ARM id (strip a trailing slash); anything else is returned unchanged."""
    if isinstance(value, str) and value.startswith("/"):
        return value.rstrip("/").lower()
    return value


def looks_like_id(value: Any) -> bool:
    return isinstance(value, str) and value[:15].lower() == "/subscriptions/"


def parse_id(arm_id: str | None) -> dict[str, str]:
    """Segment pairs of an ARM id, keys lower-cased, values as given.

    parse_id("/Subscriptions/S/resourceGroups/R/providers/Microsoft.RecoveryServices/vaults/V/replicationFabrics/F")
    -> {"subscriptions": "S", "resourcegroups": "R", "vaults": "V", "replicationfabrics": "F"}
    """
    out: dict[str, str] = {}
    if not arm_id:
        return out
    parts = [p for p in arm_id.split("/") if p]
    i = 0
    while i + 1 < len(parts):
        key = parts[i].lower()
        if key == "providers":
            i += 2  # namespace
            continue
        out[key] = parts[i + 1]
        i += 2
    return out


def vault_id(subscription: str, resource_group: str, vault: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
            f"/providers/Microsoft.RecoveryServices/vaults/{vault}")


def rg_id(subscription: str, resource_group: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}"


def vnet_id(subscription: str, resource_group: str, name: str) -> str:
    return f"{rg_id(subscription, resource_group)}/providers/Microsoft.Network/virtualNetworks/{name}"


def subnet_id(subscription: str, resource_group: str, vnet: str, subnet: str) -> str:
    return f"{vnet_id(subscription, resource_group, vnet)}/subnets/{subnet}"


def storage_id(subscription: str, resource_group: str, name: str) -> str:
    return f"{rg_id(subscription, resource_group)}/providers/Microsoft.Storage/storageAccounts/{name}"

"""Network mappings (`source.vmmServers[].networkMappings[]`): a VMM VM network -> the Azure virtual network
its VMs fail over into, declared once.

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models CreateNetworkMappingInputProperties (create:
`recoveryFabricName`, `recoveryNetworkId`, `fabricSpecificDetails` = VmmToAzureCreateNetworkMappingInput),
UpdateNetworkMappingInputProperties (update, same three, VmmToAzureUpdateNetworkMappingInput) and
NetworkMappingProperties (read: `recoveryNetworkId`, `primaryNetworkFriendlyName`...); spec examples
ReplicationNetworkMappings_Create.json / _Update.json (2025-08-01); docs/fidelity.md F-026, F-027.

Fields:

- `targetNetwork`: `networkMappings[].targetNetwork`, the name of an entry in `target.networks`, looked up in
  `target.resourceGroup` (reconciler.live.ids.vnet_id); held as that vnet's ARM id, read from
  `properties.recoveryNetworkId`; changed in place by the update. Export writes the vnet's name back.

The mapping's identity is `vmNetwork` (the VMM VM network, an ASR replication network of the VMM server's
fabric, looked up by its friendly name) under its VMM server; the mapping's own name in Azure is derived
from both networks (plan.desired.network_mapping_name) and never compared.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field
from reconciler.live.ids import AZURE_FABRIC, vnet_id

__all__ = ["FIELDS", "REPLACE_FIELDS", "desired_attrs", "live_attrs", "input_body", "export_entry"]

_NETWORK = "properties.recoveryNetworkId"


def _name(arm_id: Any) -> Any:
    """The last segment of an ARM id (a vnet's name)."""
    return str(arm_id).rstrip("/").split("/")[-1] if arm_id else arm_id


FIELDS: tuple[Field, ...] = (
    Field("targetNetwork", "targetNetwork", _NETWORK, _NETWORK, _NETWORK, to_manifest=_name),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(mapping: Any, *, subscription: str, target_rg: str) -> dict[str, Any]:
    """A `networkMappings[]` entry, its target network's name made the vnet's id in `target_rg`."""
    attrs = base.desired_attrs(FIELDS, mapping)
    attrs["targetNetwork"] = vnet_id(subscription, target_rg, attrs["targetNetwork"])
    return attrs


def live_attrs(mapping: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, mapping)


def input_body(attrs: dict[str, Any], *, update: bool = False) -> dict[str, Any]:
    """CreateNetworkMappingInput (`update`: UpdateNetworkMappingInput; the same shape, every field sent)."""
    props = base.body(FIELDS, attrs, update=update).get("properties") or {}
    return {"properties": {"recoveryFabricName": AZURE_FABRIC, **props,
                           "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}


def export_entry(vm_network: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """networkMappings[] entry."""
    return {"vmNetwork": vm_network, **base.export_entry(FIELDS, attrs)}

"""System Center VMM servers (a fabric of type VMM), declared once.

A manifest names a server by the friendly name it was registered under (`source.vmmServers[].name`);
that name is looked up among the vault's fabrics (the `replicationFabrics` list, Fabric
`properties.friendlyName`; the fabric's ARM name is a GUID Azure picks). The server's clouds
(`clouds[]`) are the kind `policy_association` (reconciler/kinds/policy_association.py), its
`networkMappings[]` the kind `network_mapping`.

What asr does and does not do: asr never creates a VMM server's fabric and never registers it; there is
no API for that. Registration is done by people on-premises: install the Azure Site Recovery provider on
the VMM server with the vault credentials (`asr vault-credentials`); the server then appears in the vault
as a fabric with a registered provider. Until it does, the plan shows a MANUAL step with those
instructions, and what depends on the server (its clouds' associations, network mappings, VMs) waits.
The emulator simulates the registration (estate `vmmServers[].registerWithVault`,
reconciler/emulator/siterecovery/registration.py), so `registered` round-trips there.

Fields:
- `registered`: the fabric has a registered provider (the `replicationRecoveryServicesProviders` list of
  the fabric, RecoveryServicesProvider). Not a manifest key: a declared server is wanted registered
  (True, the default); never sent (no request registers a server). The provider's `connectionStatus`
  is status (shown, never corrected).

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models Fabric / FabricProperties (friendlyName,
customDetails: VmmDetails, instanceType "VMM"), RecoveryServicesProvider / RecoveryServicesProviderProperties
(friendlyName, connectionStatus); ReplicationFabrics_List.json,
ReplicationRecoveryServicesProviders_ListByReplicationFabrics.json; Learn "Set up disaster recovery of
on-premises Hyper-V VMs in VMM clouds to Azure" (prepare VMM: install the provider, register).
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field
from reconciler.live.state import props

__all__ = ["FIELDS", "REPLACE_FIELDS", "desired_attrs", "live_attrs", "live_status", "export_entry"]

FIELDS: tuple[Field, ...] = (
    # derived from the fabric's providers (live_attrs), never written: registration happens on the server
    Field("registered", None, None, None, None, default=True),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(server: Any) -> dict[str, Any]:
    """A declared server: registered (the table's default; nothing else is declared on the server itself)."""
    return {**base.desired_attrs(FIELDS, server), **{f.attr: f.default for f in FIELDS if f.manifest is None}}


def live_attrs(fabric: dict[str, Any], providers: list[dict[str, Any]]) -> dict[str, Any]:
    """`providers`: the providers registered in `fabric` (the vault's provider list, by fabric)."""
    return {**base.live_attrs(FIELDS, fabric), "registered": bool(providers)}


def live_status(providers: list[dict[str, Any]]) -> dict[str, Any]:
    return {"connectionStatus": props(providers[0]).get("connectionStatus")} if providers else {}


def export_entry(name: str, attrs: dict[str, Any], clouds: list[dict[str, Any]],
                 network_mappings: list[dict[str, Any]]) -> dict[str, Any]:
    """source.vmmServers[] entry: the name, then the clouds and network mappings (their own kinds)."""
    entry: dict[str, Any] = {"name": name, **base.export_entry(FIELDS, attrs), "clouds": clouds}
    if network_mappings:
        entry["networkMappings"] = network_mappings
    return entry

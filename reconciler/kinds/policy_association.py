"""Policy associations (a protection container mapping: a VMM cloud's or a Hyper-V site's protection
container paired with a replication policy, to Azure), declared once.

A manifest declares one per VMM cloud (`source.vmmServers[].clouds[]`: `name`, the cloud as VMM names it,
and `policy`) and one per Hyper-V site (`source.hypervSites[].policy`). The cloud is looked up among the
server's protection containers (the `replicationProtectionContainers` list, `properties.friendlyName`);
a site has one container, created with the site. The association is the container's mapping (the
`replicationProtectionContainerMappings` list), addressed `policy_association.<server>/<cloud>` or
`policy_association.<site>/<container friendly name>`; `policy` names an entry of `policies`.

Fields:
- `policy`: the policy's name. Read as `properties.policyFriendlyName`, or the last segment of
  `properties.policyId` when the friendly name is absent. Sent as `properties.policyId`, the policy's ARM
  id (a reference: `create_input` takes the id the planner resolves, the live policy's id or the one it
  will have). A mapping's policy cannot change in place (there is no update of the policy of a mapping):
  a change is a replace. The planner then disables protection of the container's VMs, deletes and
  re-creates the mapping, and re-enables the declared VMs (reconciler/plan/planner.py `plan_association`,
  `plan_vm`; an apply with --allow-destroy).
The mapping's `state` is status (shown, never corrected).

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models ProtectionContainerMapping /
ProtectionContainerMappingProperties (policyId, policyFriendlyName, state),
CreateProtectionContainerMappingInput / CreateProtectionContainerMappingInputProperties (policyId,
targetProtectionContainerId, providerSpecificInput: ReplicationProviderSpecificContainerMappingInput),
RemoveProtectionContainerMappingInput; ReplicationProtectionContainerMappings_Create.json / _Delete.json.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field
from reconciler.live.ids import AZURE_FABRIC, parse_id

__all__ = ["FIELDS", "REPLACE_FIELDS", "desired_attrs", "live_attrs", "live_status", "create_input", "export_entry"]


def _policy_name(properties: Any) -> Any:
    """ProtectionContainerMappingProperties -> the policy's name (friendly name, else the id's last segment)."""
    if not isinstance(properties, dict):
        return None
    return properties.get("policyFriendlyName") or parse_id(properties.get("policyId")).get("replicationpolicies")


FIELDS: tuple[Field, ...] = (
    Field("policy", "policy", "properties", "properties.policyId", None, mode="replace", from_api=_policy_name),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(entry: Any) -> dict[str, Any]:
    """`entry`: a manifest cloud (clouds[]) or Hyper-V site (hypervSites[]); both declare `policy`."""
    return base.desired_attrs(FIELDS, entry)


def live_attrs(mapping: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, mapping)


def live_status(mapping: dict[str, Any]) -> dict[str, Any]:
    return {"state": (mapping.get("properties") or {}).get("state")}


def create_input(policy_id: str) -> dict[str, Any]:
    """CreateProtectionContainerMappingInput to Azure, for the policy whose ARM id is `policy_id`."""
    refs = base.body(FIELDS, {"policy": policy_id})["properties"]
    return {"properties": {
        "targetProtectionContainerId": AZURE_FABRIC,
        **refs,
        "providerSpecificInput": {"instanceType": "ReplicationProviderSpecificContainerMappingInput"},
    }}


def export_entry(name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """clouds[] entry (`name`: the cloud); for a site the policy goes on the site's entry (hyperv_site)."""
    return {"name": name, **base.export_entry(FIELDS, attrs)}

"""The exact SDK calls the applier makes for each change.

Operation keys are `<Clients attribute>.<operations group>.<method>`; args are the
method's keyword arguments (names as in the SDK signatures), bodies REST-shaped
camelCase dicts. Request shapes follow the 2025-08-01 example files
(ReplicationPolicies_Create, ReplicationProtectionContainerMappings_Create/_Delete,
ReplicationNetworkMappings_Create/_Update, ReplicationProtectedItems_Create/_Update/_Delete,
ReplicationRecoveryPlans_Create).
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import alert_settings as alert_kind
from reconciler.kinds import network_mapping as nm_kind
from reconciler.kinds import private_endpoint as pe_kind
from reconciler.kinds import recovery_plan as rp_kind
from reconciler.kinds import resource_group as rg_kind
from reconciler.kinds import storage_account as storage_kind
from reconciler.kinds import vault as vault_kind
from reconciler.kinds import virtual_network as vnet_kind
from reconciler.kinds.recovery_plan import groups_body as rp_groups_body  # noqa: F401 (re-exported)
from reconciler.kinds.recovery_plan import merged_groups as rp_merged_groups  # noqa: F401 (re-exported)
from reconciler.live.ids import parse_id
from reconciler.live.state import props
from reconciler.plan.model import Request

SR = "site_recovery"


def _vault_args(manifest: Any) -> dict[str, str]:
    return {"resource_group_name": manifest.vault.resource_group, "resource_name": manifest.vault.name}


def resource_group_create(name: str, location: str, tags: dict | None = None) -> Request:
    """The resource group's PUT (reconciler/kinds/resource_group.py)."""
    return Request("resources.resource_groups.create_or_update",
                   {"resource_group_name": name, "parameters": rg_kind.create_body(location, tags)})


def resource_group_delete(name: str) -> Request:
    return Request("resources.resource_groups.begin_delete", {"resource_group_name": name})


def _vault_attrs(manifest: Any, tags: dict[str, str] | None) -> dict[str, Any]:
    """The vault's declared attributes (reconciler/kinds/vault.py) with `tags` (the merged map) when given and
    the region as the manifest spells it."""
    v = manifest.vault
    return {**vault_kind.declared(manifest), "location": v.location,
            "tags": dict(tags) if tags is not None else dict(v.tags)}


def vault_create(manifest: Any, tags: dict[str, str] | None = None) -> Request:
    """`tags`: the merged map when the vault is re-created (replace), so undeclared tags survive."""
    v = manifest.vault
    return Request("vaults.vaults.begin_create_or_update", {
        "resource_group_name": v.resource_group, "vault_name": v.name,
        "vault": vault_kind.create_body(_vault_attrs(manifest, tags))})


def vault_update(manifest: Any, changed: set[str], tags: dict[str, str] | None = None) -> Request:
    """PATCH with only the changed fields. `tags` replaces the vault's whole tag map (ARM PATCH
    semantics), so it is the merged map (normalize.merged_tags): live tags kept, declared keys set."""
    v = manifest.vault
    return Request("vaults.vaults.begin_update", {"resource_group_name": v.resource_group, "vault_name": v.name,
                                                  "vault": vault_kind.update_body(_vault_attrs(manifest, tags), changed)})


def vault_delete(manifest: Any) -> Request:
    v = manifest.vault
    return Request("vaults.vaults.begin_delete", {"resource_group_name": v.resource_group, "vault_name": v.name})


def storage_create(manifest: Any, name: str, attrs: dict[str, Any]) -> Request:
    """`attrs`: the account's desired attrs (reconciler/kinds/storage_account.py)."""
    return Request("storage.storage_accounts.begin_create", {
        "resource_group_name": manifest.target.resource_group, "account_name": name,
        "parameters": storage_kind.create_body(attrs)})


def storage_update(manifest: Any, name: str, attrs: dict[str, Any], changed: Any = None) -> Request:
    """PATCH with the in-place fields (`changed`: only those)."""
    return Request("storage.storage_accounts.update", {
        "resource_group_name": manifest.target.resource_group, "account_name": name,
        "parameters": storage_kind.update_body(attrs, changed)})


def storage_delete(manifest: Any, name: str) -> Request:
    return Request("storage.storage_accounts.delete", {"resource_group_name": manifest.target.resource_group,
                                                      "account_name": name})


def vnet_put(manifest: Any, name: str, attrs: dict[str, Any]) -> Request:
    """A create: `attrs`, the vnet's desired attrs (reconciler/kinds/virtual_network.py)."""
    return Request("network.virtual_networks.begin_create_or_update", {
        "resource_group_name": manifest.target.resource_group, "virtual_network_name": name,
        "parameters": vnet_kind.create_body(attrs)})


def vnet_update(manifest: Any, name: str, attrs: dict[str, Any], live_vnet: dict) -> Request:
    """Read-modify-write of a virtual network (virtual_network.update_body): the vnet as read, with
    only what the manifest declares changed; subnets the manifest does not list stay untouched."""
    return Request("network.virtual_networks.begin_create_or_update", {
        "resource_group_name": manifest.target.resource_group, "virtual_network_name": name,
        "parameters": vnet_kind.update_body(attrs, live_vnet)})


def subnet_delete(manifest: Any, vnet: str, subnet: str) -> Request:
    return Request("network.subnets.begin_delete", {"resource_group_name": manifest.target.resource_group,
                                                    "virtual_network_name": vnet, "subnet_name": subnet})


def vnet_delete(manifest: Any, name: str) -> Request:
    return Request("network.virtual_networks.begin_delete", {"resource_group_name": manifest.target.resource_group,
                                                            "virtual_network_name": name})


def site_create(manifest: Any, site: str) -> Request:
    """FabricCreationInput from the site's field table (reconciler/kinds/hyperv_site.py): what Azure's own
    clients send (ReplicationFabrics_Create.json, PowerShell CreateFabricTests.json); the site reads back
    as HyperVSite (docs/fidelity.md F-002)."""
    from reconciler.kinds import hyperv_site as site_kind

    return Request(f"{SR}.replication_fabrics.begin_create", {
        **_vault_args(manifest), "fabric_name": site, "input": site_kind.create_input(site_kind.desired_attrs(None))})


def policy_provider_input(policy: Any) -> dict[str, Any]:
    """HyperVReplicaAzurePolicyInput from a manifest policy (reconciler/kinds/policy.py)."""
    from reconciler.kinds import policy as policy_kind

    return policy_kind.provider_input(policy_kind.desired_attrs(policy))


def policy_create(manifest: Any, policy: Any) -> Request:
    return Request(f"{SR}.replication_policies.begin_create", {
        **_vault_args(manifest), "policy_name": policy.name,
        "input": {"properties": {"providerSpecificInput": policy_provider_input(policy)}}})


def policy_update(manifest: Any, policy: Any) -> Request:
    return Request(f"{SR}.replication_policies.begin_update", {
        **_vault_args(manifest), "policy_name": policy.name,
        "input": {"properties": {"replicationProviderSettings": policy_provider_input(policy)}}})


def policy_delete(manifest: Any, name: str) -> Request:
    return Request(f"{SR}.replication_policies.begin_delete", {**_vault_args(manifest), "policy_name": name})


def _fc(container_id: str) -> dict[str, str]:
    p = parse_id(container_id)
    return {"fabric_name": p.get("replicationfabrics", ""), "protection_container_name": p.get("replicationprotectioncontainers", "")}


def association_create(manifest: Any, container_id: str, mapping: str, policy_id: str) -> Request:
    """CreateProtectionContainerMappingInput from the field table (reconciler/kinds/policy_association.py)."""
    from reconciler.kinds import policy_association as association_kind

    return Request(f"{SR}.replication_protection_container_mappings.begin_create", {
        **_vault_args(manifest), **_fc(container_id), "mapping_name": mapping,
        "creation_input": association_kind.create_input(policy_id)})


def association_delete(manifest: Any, mapping_id: str) -> Request:
    p = parse_id(mapping_id)
    return Request(f"{SR}.replication_protection_container_mappings.begin_delete", {
        **_vault_args(manifest), "fabric_name": p.get("replicationfabrics", ""),
        "protection_container_name": p.get("replicationprotectioncontainers", ""),
        "mapping_name": p.get("replicationprotectioncontainermappings", ""),
        "removal_input": {"properties": {"providerSpecificInput": {}}}})


def network_mapping_create(manifest: Any, network_id: str, name: str, attrs: dict[str, Any]) -> Request:
    """`attrs`: the mapping's desired attrs (reconciler/kinds/network_mapping.py)."""
    p = parse_id(network_id)
    return Request(f"{SR}.replication_network_mappings.begin_create", {
        **_vault_args(manifest), "fabric_name": p.get("replicationfabrics", ""),
        "network_name": p.get("replicationnetworks", ""), "network_mapping_name": name,
        "input": nm_kind.input_body(attrs)})


def network_mapping_update(manifest: Any, mapping_id: str, attrs: dict[str, Any]) -> Request:
    p = parse_id(mapping_id)
    return Request(f"{SR}.replication_network_mappings.begin_update", {
        **_vault_args(manifest), "fabric_name": p.get("replicationfabrics", ""),
        "network_name": p.get("replicationnetworks", ""),
        "network_mapping_name": p.get("replicationnetworkmappings", ""),
        "input": nm_kind.input_body(attrs, update=True)})


def network_mapping_delete(manifest: Any, mapping_id: str) -> Request:
    p = parse_id(mapping_id)
    return Request(f"{SR}.replication_network_mappings.begin_delete", {
        **_vault_args(manifest), "fabric_name": p.get("replicationfabrics", ""),
        "network_name": p.get("replicationnetworks", ""),
        "network_mapping_name": p.get("replicationnetworkmappings", "")})


def protectable_from_item(item: dict[str, Any]) -> dict[str, Any]:
    """A protectable-item-shaped dict from a protected item (re-enable in the same container,
    when the discovered-VM list of that container was not read)."""
    p = props(item)
    psd = p.get("providerSpecificDetails") or {}
    disks = [{"vhdId": d.get("vhdId"), "maxSizeMB": d.get("maxSizeMB"), "vhdType": d.get("vhdType"),
              "vhdName": d.get("vhdName")}
             for d in psd.get("azureVmDiskDetails") or []]
    return {"id": p.get("protectableItemId"), "name": parse_id(p.get("protectableItemId")).get("replicationprotectableitems")
            or item.get("name"),
            "properties": {"friendlyName": p.get("friendlyName"), "customDetails": {
                "instanceType": "HyperVVirtualMachine", "sourceItemId": psd.get("vmId") or item.get("name"),
                "osDetails": {"osType": (psd.get("oSDetails") or {}).get("osType")}, "diskDetails": disks}}}


def os_disk_id(protectable: dict[str, Any]) -> str | None:
    """The vhdId of the protectable item's OS disk, as Azure marks it: the disk whose
    `vhdType` is "OperatingSystem" (PowerShell's ASRProtectableItem.UpdateDiskDetails picks
    it that way and New-AzRecoveryServicesAsrReplicationProtectedItem sends it as vhdId).
    A VM whose only disk is not marked (TestEnableDR.json: "Data", osDetails null) sends
    that disk, as PowerShell did there. None when several disks and none (or several) is
    marked: the position in the list says nothing (docs/fidelity.md F-012, F-013)."""
    disks = [d for d in ((props(protectable).get("customDetails") or {}).get("diskDetails") or []) if d.get("vhdId")]
    marked = [d for d in disks if str(d.get("vhdType") or "").lower() == "operatingsystem"]
    if len(marked) == 1:
        return marked[0]["vhdId"]
    if len(disks) == 1 and not marked:
        return disks[0]["vhdId"]
    return None


def vm_enable(manifest: Any, ctx: dict[str, Any]) -> Request:
    """Enable protection (HyperVReplicaAzureEnableProtectionInput): the VM's identity from the protectable
    item, its target settings from the field table (reconciler/kinds/protected_vm.py)."""
    from reconciler.kinds import protected_vm as pvm

    vm = ctx["vm"]
    pitem = ctx["protectable"]
    cont = ctx["container"]
    pp = props(pitem)
    cd = pp.get("customDetails") or {}
    disks = [d for d in cd.get("diskDetails") or [] if d.get("vhdId")]
    os_type = (cd.get("osDetails") or {}).get("osType")
    psd: dict[str, Any] = {
        "instanceType": "HyperVReplicaAzure",
        "hvHostVmId": cd.get("sourceItemId") or pitem.get("name"),
        "vmName": vm.name,
        "osType": os_type,
        "vhdId": os_disk_id(pitem),
        **pvm.enable_settings(ctx["attrs"], vm.target, disks, ctx["subnet_id"]),
    }
    psd = {k: v for k, v in psd.items() if v is not None}
    return Request(f"{SR}.replication_protected_items.begin_create", {
        **_vault_args(manifest), **_fc(cont["id"]), "replicated_protected_item_name": pitem["name"],
        "input": {"properties": {"policyId": ctx["policy_id"], "protectableItemId": pitem["id"],
                                 "providerSpecificDetails": psd}}})


def vm_update(manifest: Any, item: dict[str, Any], ctx: dict[str, Any]) -> Request:
    """Update the VM's in-place settings (UpdateReplicationProtectedItemInput), from the field table."""
    from reconciler.kinds import protected_vm as pvm

    body = pvm.update_body(ctx["attrs"], props(item).get("providerSpecificDetails") or {})
    return Request(f"{SR}.replication_protected_items.begin_update", {
        **_vault_args(manifest), **_fc_item(item["id"]), "replicated_protected_item_name": item["name"],
        "update_protection_input": {"properties": body}})


def vm_enable_steps(manifest: Any, ctx: dict[str, Any]) -> list[Request]:
    """Enable protection, then, when the VM declares NICs, the update that sets them: the enable input has no
    NICs, so the update's NIC ids are resolved by the applier from the item once the enable's job ended
    (reconciler/kinds/protected_vm.py, "the NIC update after an enable")."""
    from reconciler.kinds import protected_vm as pvm

    out = [vm_enable(manifest, ctx)]
    body = pvm.nic_followup(ctx["attrs"])
    if body is not None:
        pitem, cont = ctx["protectable"], ctx["container"]
        out.append(Request(f"{SR}.replication_protected_items.begin_update", {
            **_vault_args(manifest), **_fc(cont["id"]), "replicated_protected_item_name": pitem["name"],
            "update_protection_input": {"properties": body}}))
    return out


def _fc_item(item_id: str) -> dict[str, str]:
    p = parse_id(item_id)
    return {"fabric_name": p.get("replicationfabrics", ""), "protection_container_name": p.get("replicationprotectioncontainers", "")}


def job_await(manifest: Any, job: str) -> Request:
    """Read an ASR job already running (name or ARM id): the request of an AWAIT change."""
    name = str(job).rstrip("/").rsplit("/", 1)[-1]
    return Request("site_recovery.replication_jobs.get", {**_vault_args(manifest), "job_name": name})


def vm_disable(manifest: Any, item_id: str) -> Request:
    p = parse_id(item_id)
    return Request(f"{SR}.replication_protected_items.begin_delete", {
        **_vault_args(manifest), **_fc_item(item_id),
        "replicated_protected_item_name": p.get("replicationprotecteditems", ""),
        "disable_protection_input": {"properties": {
            "replicationProviderInput": {"instanceType": "DisableProtectionProviderSpecificInput"}}}})


def rp_create(manifest: Any, name: str, primary_fabric_id: str, groups: list[list[tuple[str, str]]],
              declared: dict[int, dict[str, list[dict[str, Any]]]] | None = None) -> Request:
    """CreateRecoveryPlanInput from the field table (reconciler/kinds/recovery_plan.py)."""
    return Request(f"{SR}.replication_recovery_plans.begin_create", {
        **_vault_args(manifest), "recovery_plan_name": name,
        "input": rp_kind.create_input(primary_fabric_id, groups, declared)})


def rp_update(manifest: Any, name: str, groups: list[list[tuple[str, str]]], live_plan: dict | None = None,
              prune_actions: bool = False, declared: dict[int, dict[str, list[dict[str, Any]]]] | None = None) -> Request:
    """An update of the plan's groups (rp_merged_groups: read-modify-write of the actions)."""
    return Request(f"{SR}.replication_recovery_plans.begin_update", {
        **_vault_args(manifest), "recovery_plan_name": name,
        "input": rp_kind.update_input(groups, live_plan, prune_actions, declared)})


def rp_delete(manifest: Any, name: str) -> Request:
    return Request(f"{SR}.replication_recovery_plans.begin_delete", {**_vault_args(manifest), "recovery_plan_name": name})


# ---------------------------------------------------------------- vault security
# declared once in reconciler/kinds/vault.py, private_endpoint.py and alert_settings.py

SECURITY_ATTRS = vault_kind.SECURITY_ATTRS
SITE_RECOVERY_GROUP = pe_kind.SITE_RECOVERY_GROUP


def declared_security(manifest: Any) -> dict[str, Any]:
    """The vault security attributes the manifest declares (None: left to Azure), in the normalized shape."""
    attrs = vault_kind.declared(manifest)
    return {a: attrs[a] for a in SECURITY_ATTRS}


def vault_security_update(manifest: Any, live_vault: dict | None, changed: set[str]) -> Request:
    """PATCH of the vault's security settings, read-modify-write: the changed fields only, and
    monitoringSettings as the vault holds it with just the declared alert states changed."""
    v = manifest.vault
    return Request("vaults.vaults.begin_update", {
        "resource_group_name": v.resource_group, "vault_name": v.name,
        "vault": vault_kind.security_update_body(vault_kind.declared(manifest), changed, live_vault)})


def private_endpoint_put(manifest: Any, name: str, subnet_id: str, vault_arm_id: str) -> Request:
    v = manifest.vault
    attrs = {"location": v.location, "subnet": subnet_id, "vault": vault_arm_id, "groupIds": [SITE_RECOVERY_GROUP]}
    return Request("network.private_endpoints.begin_create_or_update", {
        "resource_group_name": v.resource_group, "private_endpoint_name": name,
        "parameters": pe_kind.create_body(name, attrs)})


def private_endpoint_delete(manifest: Any, name: str) -> Request:
    return Request("network.private_endpoints.begin_delete", {"resource_group_name": manifest.vault.resource_group,
                                                             "private_endpoint_name": name})


def alert_settings_put(manifest: Any, held: dict | None) -> Request:
    """replicationAlertSettings/defaultAlertSetting (ConfigureAlertRequest), locale kept as held."""
    attrs = alert_kind.desired_attrs(manifest.vault.alerts.email)
    return Request(f"{SR}.replication_alert_settings.create", {
        **_vault_args(manifest), "alert_setting_name": alert_kind.NAME, "request": alert_kind.put_body(attrs, held)})

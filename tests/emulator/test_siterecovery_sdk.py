"""Conformance of the emulator's Site Recovery tree, driven through the real
SiteRecoveryManagementClient (2.0.0, api-version 2025-08-01) over HTTPS.

Shapes are checked on the SDK's deserialized models (the discriminated subclasses
must come back), against Microsoft's example files for 2025-08-01.
"""

from __future__ import annotations

import os

import pytest

from reconciler.emulator.estate import quickstart_estate

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
FRG = "contoso-failover-rg"
VNET = f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Network/virtualNetworks/corp-vnet"
TEST_VNET = f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Network/virtualNetworks/corp-test-vnet"
LOGS = f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Storage/storageAccounts/contosoasrlogs01"


@pytest.fixture
def asr(emulator):
    from reconciler.azure.clients import Clients

    emulator.reset(estate=quickstart_estate(azure=True), time_scale=600)
    clients = Clients(SUB)
    yield clients.site_recovery()
    clients.close()


@pytest.fixture
def applied(emulator):
    """Quickstart as if `asr apply` had run: 4 Protected VMs, plan tier1."""
    from reconciler.azure.clients import Clients

    emulator.reset(estate=quickstart_estate(applied=True), time_scale=600)
    clients = Clients(SUB)
    yield clients.site_recovery()
    clients.close()


def vmm(asr):
    (fabric,) = list(asr.replication_fabrics.list(RG, V))
    (container,) = list(asr.replication_protection_containers.list_by_replication_fabrics(RG, V, fabric.name))
    return fabric, container


def policy_body(interval=300):
    return {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 24,
        "applicationConsistentSnapshotFrequencyInHours": 4, "replicationInterval": interval}}}


def enable_body(vault_id, policy_id, pi, *, name=None, size=None, disk_type="Standard_LRS"):
    psd = {
        "instanceType": "HyperVReplicaAzure",
        "hvHostVmId": pi.name,
        "vmName": pi.properties.friendly_name,
        "osType": pi.properties.custom_details.os_details.os_type,
        "vhdId": pi.properties.custom_details.disk_details[0].vhd_id,
        "targetAzureVmName": name or pi.properties.friendly_name,
        "targetAzureNetworkId": VNET,
        "targetAzureSubnetId": VNET + "/subnets/servers",
        "logStorageAccountId": LOGS,
        "targetAzureV2ResourceGroupId": f"/subscriptions/{SUB}/resourceGroups/{FRG}",
        "useManagedDisks": "true",
        "diskType": disk_type,
        "disksToInclude": [d.vhd_id for d in pi.properties.custom_details.disk_details],
    }
    if size:
        psd["targetVmSize"] = size
    return {"properties": {"policyId": policy_id, "protectableItemId": pi.id, "providerSpecificDetails": psd}}


def test_discovered_vmm_tree_has_azure_shapes(asr):
    from azure.mgmt.recoveryservicessiterecovery import models as m

    fabric, container = vmm(asr)
    assert isinstance(fabric.properties.custom_details, m.VmmDetails)
    assert fabric.properties.friendly_name == "vmm01"
    assert len(fabric.name) == 64 and all(ch in "0123456789abcdef" for ch in fabric.name)
    assert fabric.id.startswith(f"/Subscriptions/{SUB}/resourceGroups/{RG}/")
    assert fabric.type == "Microsoft.RecoveryServices/vaults/replicationFabrics"
    (prov,) = list(asr.replication_recovery_services_providers.list_by_replication_fabrics(RG, V, fabric.name))
    assert prov.properties.friendly_name == "vmm01"
    assert prov.properties.connection_status == "Connected"
    assert prov.properties.fabric_type == "VMM" and prov.properties.provider_version
    assert prov.properties.last_heart_beat is not None
    assert [p.name for p in asr.replication_recovery_services_providers.list(RG, V)] == [prov.name]
    assert container.name.startswith("cloud_") and container.properties.friendly_name == "Gold"
    assert container.properties.fabric_friendly_name == "vmm01" and container.properties.pairing_status == "NotPaired"
    (net,) = list(asr.replication_networks.list_by_replication_fabrics(RG, V, fabric.name))
    assert net.properties.friendly_name == "Corp-VMNet" and net.properties.fabric_type == "VMM"
    items = {p.properties.friendly_name: p for p in
             asr.replication_protectable_items.list_by_replication_protection_containers(RG, V, fabric.name, container.name)}
    assert set(items) == {"sql01", "app01", "app02", "web01"}
    sql = items["sql01"]
    assert sql.properties.protection_status == "Unprotected"
    assert isinstance(sql.properties.custom_details, m.HyperVVirtualMachineDetails)
    assert [d.max_size_mb for d in sql.properties.custom_details.disk_details] == [127 * 1024, 512 * 1024]
    assert sql.properties.custom_details.os_details.os_type == "Windows"
    assert items["web01"].properties.custom_details.os_details.os_type == "Linux"
    assert sql.properties.recovery_services_provider_id == prov.id
    got = asr.replication_protectable_items.get(RG, V, fabric.name, container.name, sql.name)
    assert got.id == sql.id
    # ids are compared case-insensitively: a lower-cased fabric name still finds it
    assert asr.replication_fabrics.get(RG, V, fabric.name.upper()).name == fabric.name


def test_policy_mapping_network_mapping_lifecycle(asr):
    from azure.mgmt.recoveryservicessiterecovery import models as m

    fabric, container = vmm(asr)
    pol = asr.replication_policies.begin_create(RG, V, "every-5-min", policy_body()).result()
    d = pol.properties.provider_specific_details
    assert isinstance(d, m.HyperVReplicaAzurePolicyDetails)
    assert (d.replication_interval, d.recovery_point_history_duration_in_hours,
            d.application_consistent_snapshot_frequency_in_hours) == (300, 24, 4)
    assert d.encryption == "Disabled" and d.online_replication_start_time is None
    upd = asr.replication_policies.begin_update(RG, V, "every-5-min", {"properties": {"replicationProviderSettings": {
        "instanceType": "HyperVReplicaAzure", "replicationInterval": 900}}}).result()
    assert upd.properties.provider_specific_details.replication_interval == 900
    assert upd.properties.provider_specific_details.recovery_point_history_duration_in_hours == 24
    assert [p.name for p in asr.replication_policies.list(RG, V)] == ["every-5-min"]

    mapping = asr.replication_protection_container_mappings.begin_create(
        RG, V, fabric.name, container.name, "gold-every-5-min",
        {"properties": {"targetProtectionContainerId": "Microsoft Azure", "policyId": pol.id,
                        "providerSpecificInput": {"instanceType": "ReplicationProviderSpecificContainerMappingInput"}}}).result()
    assert mapping.properties.state == "Paired"
    assert mapping.properties.target_protection_container_id == "Microsoft Azure"
    assert mapping.properties.policy_id.lower() == pol.id.lower() and mapping.properties.policy_friendly_name == "every-5-min"
    assert asr.replication_protection_containers.get(RG, V, fabric.name, container.name).properties.pairing_status == "Paired"
    assert [x.name for x in asr.replication_protection_container_mappings.list(RG, V)] == ["gold-every-5-min"]

    (net,) = list(asr.replication_networks.list(RG, V))
    nm = asr.replication_network_mappings.begin_create(
        RG, V, fabric.name, net.name, "corp-map",
        {"properties": {"recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": VNET,
                        "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}).result()
    assert nm.properties.state == "Paired" and nm.properties.recovery_network_friendly_name == "corp-vnet"
    assert nm.properties.primary_network_friendly_name == "Corp-VMNet"
    assert isinstance(nm.properties.fabric_specific_settings, m.VmmToAzureNetworkMappingSettings)
    nm2 = asr.replication_network_mappings.begin_update(
        RG, V, fabric.name, net.name, "corp-map",
        {"properties": {"recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": TEST_VNET,
                        "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}).result()
    assert nm2.properties.recovery_network_friendly_name == "corp-test-vnet"
    assert [x.name for x in asr.replication_network_mappings.list(RG, V)] == ["corp-map"]
    asr.replication_network_mappings.begin_delete(RG, V, fabric.name, net.name, "corp-map").result()
    assert list(asr.replication_network_mappings.list(RG, V)) == []

    asr.replication_protection_container_mappings.begin_delete(
        RG, V, fabric.name, container.name, "gold-every-5-min", {"properties": {}}).result()
    assert list(asr.replication_protection_container_mappings.list(RG, V)) == []
    asr.replication_policies.begin_delete(RG, V, "every-5-min").result()
    assert list(asr.replication_policies.list(RG, V)) == []


def test_enable_update_disable_and_purge_protection(asr, emulator):
    from azure.core.exceptions import ResourceNotFoundError
    from azure.mgmt.recoveryservicessiterecovery import models as m

    fabric, container = vmm(asr)
    pol = asr.replication_policies.begin_create(RG, V, "every-5-min", policy_body()).result()
    asr.replication_protection_container_mappings.begin_create(
        RG, V, fabric.name, container.name, "gold", {"properties": {
            "targetProtectionContainerId": "Microsoft Azure", "policyId": pol.id,
            "providerSpecificInput": {"instanceType": "ReplicationProviderSpecificContainerMappingInput"}}}).result()
    pis = {p.properties.friendly_name: p for p in
           asr.replication_protectable_items.list_by_replication_protection_containers(RG, V, fabric.name, container.name)}
    sql = pis["sql01"]
    item = asr.replication_protected_items.begin_create(
        RG, V, fabric.name, container.name, sql.name,
        enable_body(None, pol.id, sql, name="sql01-dr", size="Standard_D4s_v5", disk_type="Premium_LRS")).result()
    assert item.name == sql.name
    p = item.properties
    assert p.protected_item_type == "HyperVVirtualMachine" and p.friendly_name == "sql01"
    assert p.recovery_fabric_id == "Microsoft Azure" and p.recovery_protection_container_friendly_name == "Microsoft Azure"
    assert p.protectable_item_id.lower() == sql.id.lower() and p.policy_friendly_name == "every-5-min"
    d = p.provider_specific_details
    assert isinstance(d, m.HyperVReplicaAzureReplicationDetails)
    assert d.recovery_azure_vm_name == "sql01-dr" and d.recovery_azure_vm_size == "Standard_D4s_v5"
    assert d.selected_recovery_azure_network_id.lower() == VNET.lower()
    assert d.vm_nics[0].recovery_vm_network_id.lower() == VNET.lower()
    assert d.vm_nics[0].ip_configs[0].recovery_subnet_name == "servers"
    assert d.recovery_azure_log_storage_account_id.lower() == LOGS.lower()
    assert d.recovery_azure_resource_group_id.lower().endswith("/resourcegroups/contoso-failover-rg")
    assert d.use_managed_disks == "true"
    assert [x.target_disk_account_type for x in d.protected_managed_disks] == ["Premium_LRS", "Premium_LRS"]
    # the enable job is done (the LRO followed it); initial replication of 639 GB is running
    assert p.protection_state == "InitialReplicationInProgress" and p.allowed_operations == ["DisableProtection"]
    assert d.initial_replication_details.initial_replication_type == "InitialReplication"
    assert int(d.initial_replication_details.initial_replication_progress_percentage) < 100
    assert p.current_scenario.scenario_name == "None"
    assert asr.replication_protectable_items.get(RG, V, fabric.name, container.name, sql.name).properties.protection_status == "Protected"

    emulator.advance(639 / (100 / 600) + 60)
    item = asr.replication_protected_items.get(RG, V, fabric.name, container.name, sql.name)
    p = item.properties
    assert p.protection_state == "Protected" and p.replication_health == "Normal"
    assert p.allowed_operations == ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"]
    assert p.active_location == "Primary" and p.test_failover_state == "None"
    assert 300 <= p.provider_specific_details.rpo_in_seconds < 400
    assert p.provider_specific_details.last_replicated_time is not None

    upd = asr.replication_protected_items.begin_update(
        RG, V, fabric.name, container.name, sql.name,
        {"properties": {"recoveryAzureVMSize": "Standard_D8s_v5", "selectedRecoveryAzureNetworkId": TEST_VNET,
                        "vmNics": [{"nicId": p.provider_specific_details.vm_nics[0].nic_id, "selectionType": "SelectedByUser",
                                    "ipConfigs": [{"ipConfigName": "ipconfig1", "isPrimary": True, "recoverySubnetName": "servers"}]}],
                        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}).result()
    ud = upd.properties.provider_specific_details
    assert ud.recovery_azure_vm_size == "Standard_D8s_v5"
    assert ud.selected_recovery_azure_network_id.lower() == TEST_VNET.lower()
    assert ud.vm_nics[0].recovery_vm_network_id.lower() == TEST_VNET.lower()

    all_items = list(asr.replication_protected_items.list(RG, V))
    assert [i.name for i in all_items] == [sql.name]
    assert [i.name for i in asr.replication_protected_items.list_by_replication_protection_containers(
        RG, V, fabric.name, container.name)] == [sql.name]

    asr.replication_protected_items.begin_delete(
        RG, V, fabric.name, container.name, sql.name,
        {"properties": {"disableProtectionReason": "NotSpecified"}}).result()
    with pytest.raises(ResourceNotFoundError):
        asr.replication_protected_items.get(RG, V, fabric.name, container.name, sql.name)
    assert asr.replication_protectable_items.get(RG, V, fabric.name, container.name, sql.name).properties.protection_status == "Unprotected"

    web = pis["web01"]
    asr.replication_protected_items.begin_create(RG, V, fabric.name, container.name, web.name,
                                                 enable_body(None, pol.id, web)).result()
    asr.replication_protected_items.begin_purge(RG, V, fabric.name, container.name, web.name).result()
    assert list(asr.replication_protected_items.list(RG, V)) == []


def test_hyperv_site_create_and_host_registration(emulator):
    from azure.mgmt.recoveryservicessiterecovery import models as m

    from reconciler.azure.clients import Clients
    from reconciler.emulator.estate import load_file

    est = load_file(os.path.join(ROOT, "examples", "estates", "hyperv-site.yaml"))
    est["seed"] = {"resourceGroups": [{"name": "smallbiz-dr-rg", "location": "uksouth"}],
                   "vaults": [{"name": "smallbiz-asr-vault", "resourceGroup": "smallbiz-dr-rg", "location": "uksouth"}]}
    emulator.reset(estate=est, time_scale=600)
    asr = Clients(SUB).site_recovery()
    rg, v = "smallbiz-dr-rg", "smallbiz-asr-vault"
    assert list(asr.replication_fabrics.list(rg, v)) == []  # hosts wait for the site
    site = asr.replication_fabrics.begin_create(
        rg, v, "branch-site", m.FabricCreationInput(properties=m.FabricCreationInputProperties(
            custom_details=m.FabricSpecificCreationInput(instance_type="HyperVSite")))).result()
    assert site.name == "branch-site" and site.properties.friendly_name == "branch-site"
    assert isinstance(site.properties.custom_details, m.HyperVSiteDetails)
    hosts = {h.properties.friendly_name for h in
             asr.replication_recovery_services_providers.list_by_replication_fabrics(rg, v, "branch-site")}
    assert hosts == {"HV-HOST-01", "HV-HOST-02"}
    fabric = asr.replication_fabrics.get(rg, v, "branch-site")
    assert {h.name for h in fabric.properties.custom_details.hyper_v_hosts} == {"HV-HOST-01", "HV-HOST-02"}
    (container,) = list(asr.replication_protection_containers.list_by_replication_fabrics(rg, v, "branch-site"))
    assert container.name == "cloud_" + fabric.properties.internal_identifier
    assert container.properties.friendly_name == "branch-site" and container.properties.fabric_type == "HyperVSite"
    pis = list(asr.replication_protectable_items.list_by_replication_protection_containers(rg, v, "branch-site", container.name))
    assert {p.properties.friendly_name for p in pis} == {"file01", "dc02", "print01"}
    assert all(type(p.properties.custom_details) is m.HyperVVirtualMachineDetails for p in pis)
    # PUT again: idempotent, 200 with the same site
    again = asr.replication_fabrics.begin_create(rg, v, "branch-site", {"properties": {"customDetails": {"instanceType": "HyperVSite"}}}).result()
    assert again.id == site.id


def test_every_list_pages_with_nextlink(emulator):
    from reconciler.azure.clients import Clients

    emulator.reset(estate=quickstart_estate(applied=True), page_size=1)
    asr = Clients(SUB).site_recovery()
    emulator.reset_stats()
    items = list(asr.replication_protected_items.list(RG, V))
    assert sorted(i.properties.friendly_name for i in items) == ["app01", "app02", "sql01", "web01"]
    assert emulator.stats()["reads"] == 4  # one page per item: the SDK followed three nextLinks
    fabric, container = vmm(asr)
    assert len(list(asr.replication_protectable_items.list_by_replication_protection_containers(RG, V, fabric.name, container.name))) == 4
    assert len(list(asr.replication_jobs.list(RG, V))) > 4
    for pager in (asr.replication_fabrics.list(RG, V), asr.replication_policies.list(RG, V),
                  asr.replication_recovery_plans.list(RG, V), asr.replication_network_mappings.list(RG, V),
                  asr.replication_protection_container_mappings.list(RG, V), asr.replication_networks.list(RG, V),
                  asr.replication_protection_containers.list(RG, V)):
        assert len(list(pager)) == 1


def test_recovery_plan_crud_reads_back_azure_groups(applied):
    asr = applied
    fabric, container = vmm(asr)
    plan = asr.replication_recovery_plans.get(RG, V, "tier1")
    p = plan.properties
    assert [g.group_type for g in p.groups] == ["Shutdown", "Failover", "Boot", "Boot"]
    assert p.replication_providers == ["HyperVReplicaAzure"]
    assert p.recovery_fabric_id == "Microsoft Azure" and p.primary_fabric_friendly_name == "vmm01"
    assert p.failover_deployment_model == "ResourceManager"
    names = {i.name: i.properties.friendly_name for i in asr.replication_protected_items.list(RG, V)}
    boot = [[names[x.virtual_machine_id] for x in g.replication_protected_items] for g in p.groups[2:]]
    assert boot == [["sql01"], ["app01", "app02", "web01"]]
    assert all(x.id.startswith("/Subscriptions/") for g in p.groups for x in g.replication_protected_items)
    assert p.allowed_operations == ["PlannedFailover", "UnplannedFailover", "TestFailover"]

    by_name = {v: k for k, v in names.items()}
    item_id = lambda n: f"{container.id}/replicationProtectedItems/{by_name[n]}"  # noqa: E731
    created = asr.replication_recovery_plans.begin_create(RG, V, "web-only", {"properties": {
        "primaryFabricId": fabric.id.replace("/Subscriptions/", "/subscriptions/"), "recoveryFabricId": "Microsoft Azure",
        "failoverDeploymentModel": "ResourceManager",
        "groups": [{"groupType": "Boot", "replicationProtectedItems": [{"id": item_id("web01"), "virtualMachineId": by_name["web01"]}]}]}},
    ).result()
    assert [g.group_type for g in created.properties.groups] == ["Shutdown", "Failover", "Boot"]
    updated = asr.replication_recovery_plans.begin_update(RG, V, "web-only", {"properties": {"groups": [
        {"groupType": "Boot", "replicationProtectedItems": [{"id": item_id("web01")}]},
        {"groupType": "Boot", "replicationProtectedItems": [{"id": item_id("app01")}]}]}}).result()
    assert [len(g.replication_protected_items) for g in updated.properties.groups] == [0, 0, 1, 1]
    assert sorted(x.name for x in asr.replication_recovery_plans.list(RG, V)) == ["tier1", "web-only"]
    asr.replication_recovery_plans.begin_delete(RG, V, "web-only").result()
    assert [x.name for x in asr.replication_recovery_plans.list(RG, V)] == ["tier1"]

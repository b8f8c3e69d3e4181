"""Site Recovery error answers as Azure gives them: 400 for invalid bodies, 404 for
missing objects, 409 for conflicts; every one an ARM error body the SDK parses."""

from __future__ import annotations

import copy

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError

from reconciler.emulator.estate import quickstart_estate

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
FRG = f"/subscriptions/{SUB}/resourceGroups/contoso-failover-rg"
VNET = FRG + "/providers/Microsoft.Network/virtualNetworks/corp-vnet"
LOGS = FRG + "/providers/Microsoft.Storage/storageAccounts/contosoasrlogs01"


def estate():
    est = quickstart_estate(applied=True)
    seed = est["seed"]
    # web01 stays unprotected; a vnet in another region and a premium account for the checks
    seed["protectedVMs"] = [p for p in seed["protectedVMs"] if p["name"] != "web01"]
    seed["recoveryPlans"][0]["groups"][1]["vms"] = ["app01", "app02"]
    seed["virtualNetworks"].append({"name": "far-vnet", "resourceGroup": "contoso-failover-rg", "location": "eastus",
                                    "addressSpace": ["10.99.0.0/16"], "subnets": [{"name": "servers", "addressPrefix": "10.99.1.0/24"}]})
    seed["storageAccounts"].append({"name": "contosopremium01", "resourceGroup": "contoso-failover-rg", "location": "westeurope",
                                    "sku": "Premium_LRS"})
    return est


@pytest.fixture
def ctx(emulator):
    from reconciler.azure.clients import Clients

    emulator.reset(estate=estate(), time_scale=600)
    c = Clients(SUB)
    asr = c.site_recovery()
    (fabric,) = list(asr.replication_fabrics.list(RG, V))
    (container,) = list(asr.replication_protection_containers.list(RG, V))
    pis = {p.properties.friendly_name: p for p in
           asr.replication_protectable_items.list_by_replication_protection_containers(RG, V, fabric.name, container.name)}
    policy = asr.replication_policies.get(RG, V, "every-5-min")
    yield asr, fabric, container, pis, policy
    c.close()


def good_body(pi, policy_id):
    return {"properties": {"policyId": policy_id, "protectableItemId": pi.id, "providerSpecificDetails": {
        "instanceType": "HyperVReplicaAzure", "targetAzureVmName": "web01-dr", "targetAzureNetworkId": VNET,
        "targetAzureSubnetId": VNET + "/subnets/servers", "logStorageAccountId": LOGS,
        "targetAzureV2ResourceGroupId": FRG, "useManagedDisks": "true", "diskType": "Standard_LRS"}}}


def expect(status, fn, code=None, text=None):
    with pytest.raises(HttpResponseError) as ei:
        fn()
    err = ei.value
    assert err.status_code == status, f"{err.status_code}: {err}"
    assert err.error is not None and err.error.code and err.error.message  # an ARM error body
    if code:
        assert err.error.code == code, err.error.code
    if text:
        assert text in err.error.message, err.error.message
    return err


def mutate(body, path, value):
    b = copy.deepcopy(body)
    cur = b
    keys = path.split(".")
    for k in keys[:-1]:
        cur = cur[k]
    if value is ...:
        del cur[keys[-1]]
    else:
        cur[keys[-1]] = value
    return b


@pytest.mark.parametrize("path,value,code", [
    ("properties.policyId", ..., "InvalidRequestContent"),
    ("properties.protectableItemId", ..., "InvalidRequestContent"),
    ("properties.providerSpecificDetails.instanceType", "A2A", "InvalidReplicationProvider"),
    ("properties.providerSpecificDetails.targetAzureNetworkId", FRG + "/providers/Microsoft.Network/virtualNetworks/nope", "NetworkNotFound"),
    ("properties.providerSpecificDetails.targetAzureNetworkId", FRG + "/providers/Microsoft.Network/virtualNetworks/far-vnet",
     "RecoveryNetworkInDifferentRegion"),
    ("properties.providerSpecificDetails.targetAzureSubnetId", VNET + "/subnets/nope", "SubnetNotFound"),
    ("properties.providerSpecificDetails.logStorageAccountId", FRG + "/providers/Microsoft.Storage/storageAccounts/nope", "ResourceNotFound"),
    ("properties.providerSpecificDetails.logStorageAccountId", FRG + "/providers/Microsoft.Storage/storageAccounts/contosopremium01",
     "InvalidLogStorageAccount"),
    ("properties.providerSpecificDetails.targetAzureV2ResourceGroupId", f"/subscriptions/{SUB}/resourceGroups/nope", "ResourceGroupNotFound"),
    ("properties.providerSpecificDetails.diskType", "Ultra_LRS", "InvalidDiskType"),
    # an invalid targetAzureVmName fails the enable job's prerequisites check instead
    # (tests/fidelity/test_enable_prerequisites.py)
])
def test_enable_protection_bad_input_is_400(ctx, path, value, code):
    asr, fabric, container, pis, policy = ctx
    web = pis["web01"]
    body = mutate(good_body(web, policy.id), path, value)
    expect(400, lambda: asr.replication_protected_items.begin_create(RG, V, fabric.name, container.name, web.name, body), code)
    # nothing was created and no job started for it
    assert web.name not in {i.name for i in asr.replication_protected_items.list(RG, V)}


def test_enable_protection_reference_errors(ctx):
    asr, fabric, container, pis, policy = ctx
    web = pis["web01"]
    items = asr.replication_protected_items
    other_policy = policy.id.replace("every-5-min", "nope")
    expect(400, lambda: items.begin_create(RG, V, fabric.name, container.name, web.name, good_body(web, other_policy)), "PolicyNotFound")
    asr.replication_policies.begin_create(RG, V, "lonely", {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "replicationInterval": 30}}}).result()
    expect(400, lambda: items.begin_create(RG, V, fabric.name, container.name, web.name,
                                           good_body(web, policy.id.replace("every-5-min", "lonely"))), "PolicyNotAssociated")
    ghost = mutate(good_body(web, policy.id), "properties.protectableItemId", web.id.rsplit("/", 1)[0] + "/0000")
    expect(400, lambda: items.begin_create(RG, V, fabric.name, container.name, web.name, ghost), "ProtectableItemNotFound")
    # already protected: 409 (under any item name)
    sql = pis["sql01"]
    with pytest.raises(ResourceExistsError):
        items.begin_create(RG, V, fabric.name, container.name, sql.name, good_body(sql, policy.id))
    with pytest.raises(ResourceExistsError):
        items.begin_create(RG, V, fabric.name, container.name, "another-name", good_body(sql, policy.id))
    # ids in any letter case are accepted
    body = good_body(web, policy.id.replace("/Subscriptions/", "/subscriptions/").upper().replace("/SUBSCRIPTIONS/", "/subscriptions/"))
    body["properties"]["protectableItemId"] = web.id.lower()
    item = items.begin_create(RG, V, fabric.name, container.name, web.name, body).result()
    assert item.properties.protectable_item_id == web.id


def test_not_found_is_404(ctx):
    asr, fabric, container, pis, policy = ctx
    with pytest.raises(ResourceNotFoundError) as ei:
        asr.replication_protected_items.get(RG, V, fabric.name, container.name, "no-such-item")
    assert ei.value.error.code == "NotFound"
    with pytest.raises(ResourceNotFoundError):
        asr.replication_fabrics.get(RG, V, "no-such-fabric")
    with pytest.raises(ResourceNotFoundError):
        asr.replication_policies.get(RG, V, "no-such-policy")
    with pytest.raises(ResourceNotFoundError):
        asr.replication_recovery_plans.get(RG, V, "no-such-plan")
    with pytest.raises(ResourceNotFoundError):
        asr.replication_jobs.get(RG, V, "00000000-0000-0000-0000-000000000000")
    with pytest.raises(ResourceNotFoundError) as ei:
        list(asr.replication_fabrics.list(RG, "no-such-vault"))
    assert ei.value.error.code == "ResourceNotFound"


def test_conflicts_are_409(ctx):
    asr, fabric, container, pis, policy = ctx
    key = (fabric.name, container.name, pis["sql01"].name)
    expect(409, lambda: asr.replication_protected_items.begin_failover_commit(RG, V, *key).result(), "OperationNotAllowed",
           "Allowed operations: PlannedFailover, UnplannedFailover, DisableProtection, TestFailover")
    expect(409, lambda: asr.replication_policies.begin_delete(RG, V, "every-5-min").result(), "PolicyInUse")
    (mapping,) = list(asr.replication_protection_container_mappings.list(RG, V))
    expect(409, lambda: asr.replication_protection_container_mappings.begin_delete(
        RG, V, fabric.name, container.name, mapping.name, {"properties": {}}).result(), "ProtectionContainerMappingInUse")
    (net,) = list(asr.replication_networks.list(RG, V))
    expect(409, lambda: asr.replication_network_mappings.begin_create(RG, V, fabric.name, net.name, "second-map", {"properties": {
        "recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": VNET.replace("corp-vnet", "corp-test-vnet"),
        "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}), "NetworkAlreadyMapped")
    asr.replication_policies.begin_create(RG, V, "p2", {"properties": {"providerSpecificInput": {"instanceType": "HyperVReplicaAzure"}}},
                                          polling=False)
    expect(409, lambda: asr.replication_policies.begin_create(RG, V, "p2", {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "replicationInterval": 30}}}), "OperationInProgress")


def test_retries_and_repeated_puts_are_idempotent(ctx):
    """azure-core resends a write with the same x-ms-client-request-id after a 5xx;
    the same PUT again while its job runs gets that job, not a 409."""
    asr, fabric, container, pis, policy = ctx
    items = asr.replication_protected_items
    sql = next(i for i in items.list(RG, V) if i.properties.friendly_name == "sql01")
    hdr = {"x-ms-client-request-id": "retry-me-1"}
    tfo = {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "NoNetworkAttachAsInput",
                          "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}
    p1 = items.begin_test_failover(RG, V, fabric.name, container.name, sql.name, tfo, polling=False, headers=hdr)
    p2 = items.begin_test_failover(RG, V, fabric.name, container.name, sql.name, tfo, polling=False, headers=hdr)
    loc = [p.polling_method()._initial_response.http_response.headers["Location"] for p in (p1, p2)]
    assert loc[0] == loc[1]
    jobs = [j for j in asr.replication_jobs.list(RG, V) if j.properties.scenario_name == "TestFailover"]
    assert len(jobs) == 1 and jobs[0].properties.activity_id.startswith("retry-me-1 ")
    body = {"properties": {"providerSpecificInput": {"instanceType": "HyperVReplicaAzure", "replicationInterval": 900}}}
    a = asr.replication_policies.begin_create(RG, V, "p3", body, polling=False)
    b = asr.replication_policies.begin_create(RG, V, "p3", body, polling=False)
    assert (a.polling_method()._initial_response.http_response.headers["Location"]
            == b.polling_method()._initial_response.http_response.headers["Location"])
    # enabling protection twice is a conflict, unless it is the retry of the same request
    web = pis["web01"]
    hdr = {"x-ms-client-request-id": "enable-web01"}
    first = items.begin_create(RG, V, fabric.name, container.name, web.name, good_body(web, policy.id), polling=False, headers=hdr)
    again = items.begin_create(RG, V, fabric.name, container.name, web.name, good_body(web, policy.id), polling=False, headers=hdr)
    assert (first.polling_method()._initial_response.http_response.headers["Location"]
            == again.polling_method()._initial_response.http_response.headers["Location"])
    with pytest.raises(ResourceExistsError):
        items.begin_create(RG, V, fabric.name, container.name, web.name, good_body(web, policy.id))


@pytest.mark.parametrize("psi,code", [
    ({"instanceType": "HyperVReplicaAzure", "replicationInterval": 60}, "InvalidReplicationInterval"),
    ({"instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 48}, "InvalidRecoveryPointRetention"),
    ({"instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 2, "applicationConsistentSnapshotFrequencyInHours": 4},
     "InvalidApplicationConsistentSnapshotFrequency"),
    ({"instanceType": "HyperVReplicaAzure", "onlineReplicationStartTime": "25:00"}, "InvalidOnlineReplicationStartTime"),
    ({"instanceType": "InMage"}, "InvalidReplicationProvider"),
    (None, "InvalidRequestContent"),
])
def test_policy_bad_input_is_400(ctx, psi, code):
    asr = ctx[0]
    body = {"properties": {"providerSpecificInput": psi}} if psi is not None else {"properties": {}}
    expect(400, lambda: asr.replication_policies.begin_create(RG, V, "bad", body), code)


def test_mapping_and_site_and_plan_bad_input(ctx):
    asr, fabric, container, pis, policy = ctx
    maps = asr.replication_protection_container_mappings
    expect(400, lambda: maps.begin_create(RG, V, fabric.name, container.name, "m2", {"properties": {
        "targetProtectionContainerId": "cloud_other", "policyId": policy.id}}), "InvalidTargetProtectionContainer")
    expect(400, lambda: maps.begin_create(RG, V, fabric.name, container.name, "m2", {"properties": {
        "targetProtectionContainerId": "Microsoft Azure", "policyId": policy.id,
        "providerSpecificInput": {"instanceType": "A2A"}}}), "InvalidReplicationProvider")
    expect(400, lambda: asr.replication_fabrics.begin_create(RG, V, "site2", {"properties": {"customDetails": {"instanceType": "VMM"}}}),
           "InvalidFabricType")
    (net,) = list(asr.replication_networks.list(RG, V))
    expect(400, lambda: asr.replication_network_mappings.begin_create(RG, V, fabric.name, net.name, "x", {"properties": {
        "recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": VNET, "fabricSpecificDetails": {"instanceType": "VmmToVmm"}}}),
        "InvalidNetworkMappingType")
    item_id = lambda n: f"{container.id}/replicationProtectedItems/{pis[n].name}"  # noqa: E731
    base = {"primaryFabricId": fabric.id, "recoveryFabricId": "Microsoft Azure"}
    plans = asr.replication_recovery_plans
    expect(400, lambda: plans.begin_create(RG, V, "p", {"properties": dict(base, groups=[
        {"groupType": "Boot", "replicationProtectedItems": [{"id": item_id("web01")}]}])}), "ReplicationProtectedItemNotFound")
    expect(400, lambda: plans.begin_create(RG, V, "p", {"properties": dict(base, groups=[
        {"groupType": "Boot", "replicationProtectedItems": [{"id": item_id("sql01")}]},
        {"groupType": "Boot", "replicationProtectedItems": [{"id": item_id("sql01")}]}])}), "DuplicateReplicationProtectedItem")
    expect(400, lambda: plans.begin_create(RG, V, "p", {"properties": dict(base, groups=[{"groupType": "Later"}])}), "InvalidGroupType")
    expect(400, lambda: plans.begin_create(RG, V, "p", {"properties": dict(base, recoveryFabricId="elsewhere", groups=[
        {"groupType": "Boot"}])}), "InvalidRecoveryFabric")


def test_wrong_api_version_is_400(ctx, emulator):
    from reconciler.emulator.testing import call

    path = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{V}/replicationFabrics"
    r = call(emulator.app, "GET", f"{path}?api-version=2023-08-01")  # a token of the default principal
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidApiVersionParameter"
    r = call(emulator.app, "GET", f"{path}?api-version=2025-08-01", token=None)
    assert r.status_code == 401


def test_per_disk_managed_disk_input(ctx):
    asr, fabric, container, pis, policy = ctx
    web = pis["web01"]
    os_disk = web.properties.custom_details.disk_details[0].vhd_id
    body = good_body(web, policy.id)
    body["properties"]["providerSpecificDetails"]["disksToIncludeForManagedDisks"] = [{"diskId": "nope", "diskType": "Standard_LRS"}]
    expect(400, lambda: asr.replication_protected_items.begin_create(RG, V, fabric.name, container.name, web.name, body), "DiskNotFound")
    body["properties"]["providerSpecificDetails"]["disksToIncludeForManagedDisks"] = [
        {"diskId": os_disk, "diskType": "StandardSSD_LRS", "logStorageAccountId": LOGS}]
    item = asr.replication_protected_items.begin_create(RG, V, fabric.name, container.name, web.name, body).result()
    disks = item.properties.provider_specific_details.protected_managed_disks
    assert [(d.disk_id, d.target_disk_account_type) for d in disks] == [(os_disk, "StandardSSD_LRS")]

"""Malformed bodies never crash a Site Recovery handler: every leaf of a valid
request replaced by a value of the wrong JSON type answers a 4xx ArmError (or is
accepted), never an exception (which the app would turn into a 500)."""

from __future__ import annotations

import copy

import pytest

from reconciler.emulator import estate as E

SUB = "00000000-0000-0000-0000-000000000001"
V = f"/subscriptions/{SUB}/resourceGroups/contoso-dr-rg/providers/Microsoft.RecoveryServices/vaults/contoso-asr-vault"
FRG = f"/subscriptions/{SUB}/resourceGroups/contoso-failover-rg"
VNET = FRG + "/providers/Microsoft.Network/virtualNetworks/corp-vnet"
JUNK = [None, 1, "x", [], {}, [{}]]


class World:
    _routes = None  # the route table and the estate are the same for every case: built once
    _estate = None

    def __init__(self) -> None:
        from reconciler.emulator.app import build_routes, new_state
        from reconciler.emulator.siterecovery import get_sr
        from reconciler.emulator.state import EmulatorConfig

        if World._routes is None:
            World._routes = build_routes()
            est = E.quickstart_estate(applied=True)
            seed = est["seed"]
            # web01 unprotected, Corp-VMNet unmapped and a spare policy: every request below is valid as sent
            seed["protectedVMs"] = [p for p in seed["protectedVMs"] if p["name"] != "web01"]
            seed["recoveryPlans"][0]["groups"][1]["vms"] = ["app01", "app02"]
            seed["networkMappings"] = []
            seed["policies"].append({"name": "spare", "replicationFrequencySeconds": 30})
            World._estate = est
        self.routes = World._routes
        self.state = new_state(EmulatorConfig(time_scale=1e-9), copy.deepcopy(World._estate), self.routes)
        v = get_sr(self.state).vault(SUB, "contoso-dr-rg", "contoso-asr-vault")
        (self.fabric,) = v.fabrics.values()
        (self.container,) = self.fabric.containers.values()
        (self.network,) = self.fabric.networks.values()
        self.items = {i.vm.friendly: i for i in self.container.items.values()}
        self.web = next(vm for vm in self.container.vms.values() if vm.friendly == "web01")

    def call(self, method: str, path: str, body):
        from reconciler.emulator.framework import ArmError, Ctx

        route, params = self.routes.match(method, path)
        ctx = Ctx(state=self.state, method=method, path=path, params=params, query={"api-version": "2025-08-01"},
                  headers={}, body=body, raw_body=b"", principal=None, base_url="https://x", route=route)
        try:
            with self.state.lock:
                route.handler(ctx)
        except ArmError as e:
            assert 400 <= e.status < 500, e
            return e.status
        return 200


def requests(w: World):
    c = f"{V}/replicationFabrics/{w.fabric.name}/replicationProtectionContainers/{w.container.name}"
    sql, app = w.items["sql01"], w.items["app01"]
    return [
        ("PUT", V + "/replicationPolicies/p", {"properties": {"providerSpecificInput": {
            "instanceType": "HyperVReplicaAzure", "replicationInterval": 300, "recoveryPointHistoryDuration": 24,
            "applicationConsistentSnapshotFrequencyInHours": 4, "onlineReplicationStartTime": "10:00", "storageAccounts": []}}}),
        ("PUT", V + "/replicationFabrics/site", {"properties": {"customDetails": {"instanceType": "HyperVSite"}}}),
        ("PUT", f"{c}/replicationProtectedItems/{w.web.name}", {"properties": {
            "policyId": V + "/replicationPolicies/every-5-min", "protectableItemId": w.web.id, "providerSpecificDetails": {
                "instanceType": "HyperVReplicaAzure", "targetAzureVmName": "web", "targetAzureNetworkId": VNET,
                "targetAzureSubnetId": VNET + "/subnets/servers",
                "logStorageAccountId": FRG + "/providers/Microsoft.Storage/storageAccounts/contosoasrlogs01",
                "targetAzureV2ResourceGroupId": FRG, "useManagedDisks": "true", "diskType": "Standard_LRS",
                "disksToInclude": list(w.web.disk_ids), "vhdId": w.web.disk_ids[0], "targetVmSize": "Standard_D2s_v5",
                "disksToIncludeForManagedDisks": [{"diskId": w.web.disk_ids[0], "diskType": "Standard_LRS"}]}}}),
        ("PATCH", f"{c}/replicationProtectedItems/{sql.name}", {"properties": {
            "recoveryAzureVMName": "x", "recoveryAzureVMSize": "Standard_D2s_v5", "selectedRecoveryAzureNetworkId": VNET,
            "selectedSourceNicId": sql.vm.nics[0][0], "licenseType": "NoLicenseType",
            "vmNics": [{"nicId": sql.vm.nics[0][0], "selectionType": "SelectedByUser",
                        "ipConfigs": [{"ipConfigName": "ipconfig1", "recoverySubnetName": "servers"}]}],
            "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure", "recoveryAzureV2ResourceGroupId": FRG,
                                        "vmDisks": [{"diskId": sql.vm.disk_ids[0]}]}}}),
        ("POST", f"{c}/replicationProtectedItems/{app.name}/testFailover", {"properties": {
            "failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput", "networkId": VNET,
            "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}),
        ("POST", f"{c}/replicationProtectedItems/{app.name}/unplannedFailover", {"properties": {
            "failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
            "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}),
        ("POST", f"{c}/replicationProtectedItems/{app.name}/remove", {"properties": {"disableProtectionReason": "NotSpecified"}}),
        ("PUT", f"{c}/replicationProtectionContainerMappings/m", {"properties": {
            "targetProtectionContainerId": "Microsoft Azure", "policyId": V + "/replicationPolicies/spare",
            "providerSpecificInput": {"instanceType": "ReplicationProviderSpecificContainerMappingInput"}}}),
        ("PUT", f"{V}/replicationFabrics/{w.fabric.name}/replicationNetworks/{w.network.name}/replicationNetworkMappings/n", {
            "properties": {"recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": VNET,
                           "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}),
        ("PUT", V + "/replicationRecoveryPlans/r", {"properties": {
            "primaryFabricId": w.fabric.id, "recoveryFabricId": "Microsoft Azure", "failoverDeploymentModel": "ResourceManager",
            "groups": [{"groupType": "Boot", "replicationProtectedItems": [{"id": sql.id, "virtualMachineId": sql.name}],
                        "startGroupActions": [], "endGroupActions": []}]}}),
        ("POST", V + "/replicationRecoveryPlans/tier1/plannedFailover", {"properties": {
            "failoverDirection": "PrimaryToRecovery", "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}),
    ]


def leaves(d, prefix=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield prefix + (k,)
            yield from leaves(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield prefix + (i,)
            yield from leaves(v, prefix + (i,))


@pytest.mark.parametrize("index", range(11))
def test_wrong_json_types_are_4xx(index):
    w = World()
    method, path, body = requests(w)[index]
    assert w.call(method, path, copy.deepcopy(body)) == 200  # the valid request is accepted
    tried = 0
    for leaf in list(leaves(body)):
        for junk in JUNK:
            w = World()  # a fresh world: each case meets every check, not an earlier 409
            method, path, body = requests(w)[index]
            b = copy.deepcopy(body)
            cur = b
            for k in leaf[:-1]:
                cur = cur[k]
            cur[leaf[-1]] = junk
            w.call(method, path, b)
            tried += 1
    assert tried >= len(JUNK)

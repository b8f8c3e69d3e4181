"""Hand-built LiveState in the REST shapes Azure answers (2025-08-01 example files):
ids with `/Subscriptions/` (capital S), fabrics named by GUID with the server as
friendly name, containers `cloud_<guid>`, protected items named by VM GUID,
recovery plans read back with Shutdown and Failover groups in front.

`applied(manifest)` is the state right after a successful apply of `manifest`;
`registered_only(manifest)` is a fresh vault whose servers have registered.
"""

from __future__ import annotations

import copy
import os
import uuid

from reconciler.live.state import LiveState

SUB = "00000000-0000-0000-0000-000000000001"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = ["quickstart", "hyperv-site", "multi-cloud"]


def example_path(name: str) -> str:
    return os.path.join(ROOT, "examples", f"{name}.yaml")


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "/".join(parts)))


class Builder:
    def __init__(self, manifest) -> None:
        self.m = manifest
        v = manifest.vault
        self.vault_id = (f"/Subscriptions/{manifest.subscription}/resourceGroups/{v.resource_group}"
                         f"/providers/Microsoft.RecoveryServices/vaults/{v.name}")
        self.live = LiveState(subscription=manifest.subscription, resource_group=v.resource_group,
                              vault_name=v.name, target_resource_group=manifest.target.resource_group)
        self.containers: dict[str, dict] = {}  # "vmm/cloud" or "site" -> container
        self.vm_disks: dict[str, list[int]] = {}
        self._protected: set[str] = set()

    # --- Azure side ---------------------------------------------------------
    def azure_resources(self) -> Builder:
        m, L = self.m, self.live
        sub = m.subscription
        for rg in {m.vault.resource_group, m.target.resource_group}:
            L.resource_groups[rg.lower()] = {"id": f"/subscriptions/{sub}/resourceGroups/{rg}", "name": rg,
                                             "location": m.vault.location, "properties": {"provisioningState": "Succeeded"}}
        L.vault = {"id": self.vault_id.replace("/Subscriptions/", "/subscriptions/"), "name": m.vault.name,
                   "type": "Microsoft.RecoveryServices/vaults", "location": m.vault.location, "tags": dict(m.vault.tags),
                   "sku": {"name": "Standard"},
                   "properties": {"provisioningState": "Succeeded",
                                  "redundancySettings": {"standardTierStorageRedundancy": m.vault.storage_redundancy.value,
                                                         "crossRegionRestore": "Disabled"}}}
        trg = m.target.resource_group
        for sa in m.target.storage_accounts:
            L.storage_accounts[sa.name.lower()] = {
                "id": f"/subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Storage/storageAccounts/{sa.name}",
                "name": sa.name, "location": m.vault.location, "kind": "StorageV2", "sku": {"name": sa.sku.value, "tier": "Standard"},
                "properties": {"provisioningState": "Succeeded"}}
        for net in m.target.networks:
            nid = f"/subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Network/virtualNetworks/{net.name}"
            L.virtual_networks[net.name.lower()] = {
                "id": nid, "name": net.name, "location": m.vault.location,
                "properties": {"provisioningState": "Succeeded", "addressSpace": {"addressPrefixes": list(reversed(net.address_space))},
                               "subnets": [{"id": f"{nid}/subnets/{s.name}", "name": s.name,
                                            "properties": {"addressPrefix": s.address_prefix}} for s in reversed(net.subnets)]}}
        return self

    # --- on-premises registration --------------------------------------------
    def register(self, vms_per_cloud: dict[str, list[tuple[str, str, list[int]]]] | None = None) -> Builder:
        """Fabrics, providers, containers, VM networks and discovered VMs for every declared source.
        VMs come from the manifest (Windows, [127]) unless `vms_per_cloud` says otherwise."""
        m, L = self.m, self.live
        by_source: dict[str, list] = {}
        for vm in m.protected_vms:
            key = f"{vm.source.vmm_server}/{vm.source.cloud}" if hasattr(vm.source, "vmm_server") else vm.source.hyperv_site
            by_source.setdefault(key, []).append((vm.name, "Windows", [127]))
        if vms_per_cloud:
            by_source.update(vms_per_cloud)
        for s in m.source.vmm_servers:
            fname = _guid("fabric", s.name)
            fid = f"{self.vault_id}/replicationFabrics/{fname}"
            L.fabrics.append({"id": fid, "name": fname, "type": "Microsoft.RecoveryServices/vaults/replicationFabrics",
                              "properties": {"friendlyName": s.name, "customDetails": {"instanceType": "VMM"}}})
            L.providers.append({"id": f"{fid}/replicationRecoveryServicesProviders/{_guid('prov', s.name)}",
                                "name": _guid("prov", s.name),
                                "properties": {"friendlyName": s.name, "fabricFriendlyName": s.name, "fabricType": "VMM",
                                               "connectionStatus": "Connected"}})
            for c in s.clouds:
                self._container(fid, fname, s.name, c.name, f"{s.name}/{c.name}", by_source)
            for nm in s.network_mappings:
                nname = _guid("net", s.name, nm.vm_network)
                L.replication_networks.append({"id": f"{fid}/replicationNetworks/{nname}", "name": nname,
                                               "properties": {"friendlyName": nm.vm_network, "fabricType": "VMM",
                                                              "networkType": "VmNetwork"}})
        for site in m.source.hyperv_sites:
            fid = f"{self.vault_id}/replicationFabrics/{site.name}"
            L.fabrics.append({"id": fid, "name": site.name,
                              "properties": {"friendlyName": site.name, "customDetails": {"instanceType": "HyperVSite"}}})
            for h in site.hosts:
                L.providers.append({"id": f"{fid}/replicationRecoveryServicesProviders/{_guid('prov', h)}",
                                    "name": _guid("prov", h),
                                    "properties": {"friendlyName": h, "fabricFriendlyName": site.name,
                                                   "fabricType": "HyperVSite", "connectionStatus": "Connected"}})
            self._container(fid, site.name, site.name, site.name, site.name, by_source)
        return self

    def _container(self, fid: str, fname: str, fabric_friendly: str, friendly: str, key: str, by_source: dict) -> None:
        cname = f"cloud_{_guid('cont', key)}"
        cid = f"{fid}/replicationProtectionContainers/{cname}"
        cont = {"id": cid, "name": cname, "properties": {"friendlyName": friendly, "fabricFriendlyName": fabric_friendly,
                                                         "pairingStatus": "NotPaired"}}
        self.live.containers.append(cont)
        self.containers[key.lower()] = cont
        items = []
        for name, os_type, disks in by_source.get(key, []):
            vmid = _guid("vm", name)
            self.vm_disks[name] = disks
            items.append({"id": f"{cid}/replicationProtectableItems/{vmid}", "name": vmid,
                          "properties": {"friendlyName": name, "protectionStatus": "Unprotected",
                                         "customDetails": {"instanceType": "HyperVVirtualMachine", "sourceItemId": vmid,
                                                           "osDetails": {"osType": os_type},
                                                           "diskDetails": [{"vhdId": _guid("vhd", name, str(i)),
                                                                            "maxSizeMB": gb * 1024,
                                                                            # Azure marks the OS disk (docs/fidelity.md F-012)
                                                                            "vhdType": "OperatingSystem" if i == 0 else "Data",
                                                                            "vhdName": f"{name}-disk{i}"}
                                                                           for i, gb in enumerate(disks)]}}})
        self.live.protectable_items[cid.lower()] = items

    # --- what apply writes ------------------------------------------------------
    def applied_vault_objects(self) -> Builder:
        m, L = self.m, self.live
        sub, trg = m.subscription, m.target.resource_group
        pol_ids = {}
        for p in m.policies:
            pid = f"{self.vault_id}/replicationPolicies/{p.name}"
            pol_ids[p.name] = pid
            L.policies.append({"id": pid, "name": p.name, "properties": {"friendlyName": p.name, "providerSpecificDetails": {
                "instanceType": "HyperVReplicaAzure",
                "recoveryPointHistoryDurationInHours": p.recovery_point_retention_hours,
                "applicationConsistentSnapshotFrequencyInHours": p.app_consistent_snapshot_frequency_hours,
                "replicationInterval": p.replication_frequency_seconds,
                "onlineReplicationStartTime": None if p.initial_replication_start == "immediately" else p.initial_replication_start + ":00",
                "encryption": "Disabled"}}})
        policy_of = {}
        for s in m.source.vmm_servers:
            for c in s.clouds:
                policy_of[f"{s.name}/{c.name}".lower()] = c.policy
        for site in m.source.hyperv_sites:
            policy_of[site.name.lower()] = site.policy
        for key, pol in policy_of.items():
            cont = self.containers[key]
            mid = f"{cont['id']}/replicationProtectionContainerMappings/{key.replace('/', '-')}-{pol}"
            L.container_mappings.append({"id": mid, "name": mid.rsplit("/", 1)[1], "properties": {
                "targetProtectionContainerId": "Microsoft Azure", "policyId": pol_ids[pol], "policyFriendlyName": pol,
                "state": "Paired", "sourceProtectionContainerFriendlyName": cont["properties"]["friendlyName"]}})
        for s in m.source.vmm_servers:
            for nm in s.network_mappings:
                net = next(n for n in L.replication_networks if n["properties"]["friendlyName"] == nm.vm_network
                           and s.name in [f["properties"]["friendlyName"] for f in L.fabrics if n["id"].startswith(f["id"])])
                L.network_mappings.append({"id": f"{net['id']}/replicationNetworkMappings/{nm.vm_network}-{nm.target_network}",
                                           "name": f"{nm.vm_network}-{nm.target_network}", "properties": {
                    "state": "Paired", "primaryNetworkFriendlyName": nm.vm_network, "primaryFabricFriendlyName": s.name,
                    "recoveryNetworkId": f"/subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Network/virtualNetworks/{nm.target_network}",
                    "recoveryFabricFriendlyName": "Microsoft Azure", "fabricSpecificSettings": {"instanceType": "VmmToAzure"}}})
        for vm in m.protected_vms:
            self.protect(vm.name)
        for rp in m.recovery_plans:
            self.recovery_plan(rp.name, [g.vms for g in rp.groups])
        return self

    def protect(self, name: str, **over) -> dict:
        m, L = self.m, self.live
        sub, trg = m.subscription, m.target.resource_group
        vm = next(v for v in m.protected_vms if v.name == name)
        key = f"{vm.source.vmm_server}/{vm.source.cloud}" if hasattr(vm.source, "vmm_server") else vm.source.hyperv_site
        cont = self.containers[key.lower()]
        pitem = L.protectable_item(cont["id"], name)
        policy = next(c["properties"]["policyFriendlyName"] for c in L.container_mappings
                      if c["id"].lower().startswith(cont["id"].lower() + "/"))
        t = vm.target
        disks = self.vm_disks.get(name, [127])
        item = {
            "id": f"{cont['id']}/replicationProtectedItems/{pitem['name']}", "name": pitem["name"],
            "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems",
            "properties": {
                "friendlyName": name, "protectedItemType": "HyperVVirtualMachine", "protectableItemId": pitem["id"],
                "primaryProtectionContainerFriendlyName": cont["properties"]["friendlyName"],
                "recoveryFabricId": "Microsoft Azure", "recoveryProtectionContainerFriendlyName": "Microsoft Azure",
                "protectionState": "Protected", "protectionStateDescription": "Protected", "activeLocation": "Primary",
                "testFailoverState": "None", "replicationHealth": "Normal",
                "allowedOperations": ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"],
                "policyId": f"{self.vault_id}/replicationPolicies/{policy}", "policyFriendlyName": policy,
                "currentScenario": {"scenarioName": "None", "jobId": f"{self.vault_id}/replicationJobs/None",
                                    "startTime": "1753-01-01T01:01:01Z"},
                "providerSpecificDetails": {
                    "instanceType": "HyperVReplicaAzure",
                    "recoveryAzureVmName": t.vm_name or name,
                    "recoveryAzureVMSize": t.size or "Standard_A2_v2",
                    "selectedRecoveryAzureNetworkId": f"/Subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Network/virtualNetworks/{t.network}",
                    "recoveryAzureLogStorageAccountId": (f"/Subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Storage/storageAccounts/{t.log_storage_account}"
                                                         if t.log_storage_account else None),
                    "recoveryAzureResourceGroupId": f"/Subscriptions/{sub}/resourceGroups/{trg}",
                    "useManagedDisks": "true",
                    "vmNics": [{"nicId": _guid("nic", name), "vMNetworkName": "Corp-VMNet",
                                "recoveryVMNetworkId": f"/Subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Network/virtualNetworks/{t.network}",
                                "selectionType": "SelectedByUser",
                                "ipConfigs": [{"name": "ipconfig1", "isPrimary": True, "recoverySubnetName": t.subnet,
                                               "recoveryStaticIPAddress": t.nics[0].static_ip if t.nics else None,
                                               "tfoStaticIPAddress": t.nics[0].test_static_ip if t.nics else None}]}],
                    "protectedManagedDisks": [{"diskId": _guid("vhd", name, str(i)), "replicaDiskType": "Standard_LRS",
                                               "targetDiskAccountType": t.disk_type.value, "diskSizeInGB": gb}
                                              for i, gb in enumerate(disks)],
                    "azureVmDiskDetails": [{"vhdId": _guid("vhd", name, str(i)), "maxSizeMB": gb * 1024} for i, gb in enumerate(disks)],
                    "rpoInSeconds": 120, "lastReplicatedTime": "2026-11-22T02:00:00Z",
                    # the target settings the manifest declares, as Azure reads them back
                    "targetAvailabilityZone": t.availability_zone,
                    "licenseType": t.license_type.value if t.license_type else "NoLicenseType",
                    "sqlServerLicenseType": t.sql_server_license_type.value if t.sql_server_license_type else "NotSpecified",
                    "targetVmTags": dict(t.tags) or None,
                    "targetManagedDiskTags": dict(t.disk_tags) or None,
                    "targetNicTags": dict(t.nic_tags) or None,
                },
            },
        }
        for k, v in over.items():
            item["properties"][k] = v
        if any(i["properties"]["friendlyName"] == name for i in L.protected_items[-1:]) or name in self._protected:
            L.protected_items = [i for i in L.protected_items if i["properties"]["friendlyName"] != name]
        L.protected_items.append(item)
        self._protected.add(name)
        pitem["properties"]["protectionStatus"] = "Protected"
        pitem["properties"]["replicationProtectedItemId"] = item["id"]
        L.__dict__.pop("protected_items_by_name", None)
        L.__dict__.pop("protected_items_by_id", None)
        return item

    def recovery_plan(self, name: str, groups: list[list[str]]) -> dict:
        L = self.live
        items = {i["properties"]["friendlyName"]: i for i in L.protected_items}
        first = items[groups[0][0]]
        fabric_id = first["id"].split("/replicationProtectionContainers/")[0]
        rp = {"id": f"{self.vault_id}/replicationRecoveryPlans/{name}", "name": name, "properties": {
            "friendlyName": name, "primaryFabricId": fabric_id, "recoveryFabricId": "Microsoft Azure",
            "failoverDeploymentModel": "ResourceManager", "replicationProviders": ["HyperVReplicaAzure"],
            "groups": [{"groupType": "Shutdown", "replicationProtectedItems": [], "startGroupActions": [], "endGroupActions": []},
                       {"groupType": "Failover", "replicationProtectedItems": [], "startGroupActions": [], "endGroupActions": []}]
            + [{"groupType": "Boot", "replicationProtectedItems": [{"id": items[n]["id"], "virtualMachineId": items[n]["name"]}
                                                                  for n in reversed(g)],
                "startGroupActions": [], "endGroupActions": []} for g in groups]}}
        L.recovery_plans = [p for p in L.recovery_plans if p["name"] != name] + [rp]
        L.__dict__.pop("recovery_plans_by_name", None)
        return rp

    def build(self) -> LiveState:
        return self.live


def applied(manifest) -> LiveState:
    return Builder(manifest).azure_resources().register().applied_vault_objects().build()


def registered_only(manifest) -> LiveState:
    return Builder(manifest).azure_resources().register().build()


def clone(live: LiveState) -> LiveState:
    return LiveState.from_dict(copy.deepcopy(live.to_dict()))

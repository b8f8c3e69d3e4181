"""Protected VM target settings in Azure's JSON shapes (docs/fidelity.md T-001..T-011): the enable
input keys of HyperVReplicaAzureEnableProtectionInput, read back in HyperVReplicaAzureReplicationDetails."""

from __future__ import annotations

from tests.fidelity.helpers import FRG, LOGS, SLACK, SUB, associate, get, powershell_enable_body, protectables, raw, vmm_tree

DES = f"/subscriptions/{SUB}/resourceGroups/keys-rg/providers/Microsoft.Compute/diskEncryptionSets/des1"


def _enable(emulator, sr, vm: str, **extra):
    fabric, container = vmm_tree(sr)
    pol_id = associate(emulator, sr, container)
    pi = protectables(sr, fabric, container)[vm]
    body = powershell_enable_body(pol_id, pi, **extra)
    r = raw(sr, "PUT", f"{container['id']}/replicationProtectedItems/{pi['name']}", body)
    return container, pi, r


def test_managed_disks_take_the_storage_account_powershell_sends_as_the_log_account(sr, emulator):
    """T-010: PowerShell sends -RecoveryAzureStorageAccountId as targetStorageAccountId, with managed disks too"""
    container, pi, r = _enable(emulator, sr, "app01", useManagedDisks="true", diskType="StandardSSD_LRS")
    assert r.status_code == 202, r.text()
    emulator.advance(SLACK)
    psd = get(sr, f"{container['id']}/replicationProtectedItems/{pi['name']}")["properties"]["providerSpecificDetails"]
    assert psd["recoveryAzureLogStorageAccountId"].lower() == LOGS.lower()
    assert {d["targetDiskAccountType"] for d in psd["protectedManagedDisks"]} == {"StandardSSD_LRS"}


def test_managed_disks_without_any_storage_account_are_refused(sr, emulator):
    """T-010: no storage account at all is refused synchronously"""
    fabric, container = vmm_tree(sr)
    pol_id = associate(emulator, sr, container)
    pi = protectables(sr, fabric, container)["app01"]
    body = powershell_enable_body(pol_id, pi, useManagedDisks="true")
    del body["properties"]["providerSpecificDetails"]["targetStorageAccountId"]
    r = raw(sr, "PUT", f"{container['id']}/replicationProtectedItems/{pi['name']}", body)
    assert r.status_code == 400 and "logStorageAccountId" in r.text()


def test_enable_time_settings_read_back_where_the_read_model_has_them(sr, emulator):
    """T-001 T-005"""
    container, pi, r = _enable(
        emulator, sr, "sql01", useManagedDisks="true", logStorageAccountId=LOGS, diskType="Premium_LRS",
        targetAvailabilityZone="2", licenseType="WindowsServer", sqlServerLicenseType="AHUB",
        targetVmTags={"app": "erp"}, targetManagedDiskTags={"d": "1"}, targetNicTags={"n": "1"},
        diskEncryptionSetId=DES, userSelectedOSName="Windows Server 2022 Datacenter",
        targetVmSecurityProfile={"targetVmSecurityType": "TrustedLaunch", "targetVmSecureBoot": "Enabled",
                                 "targetVmTpm": "Enabled", "targetVmMonitoring": "Disabled"})
    assert r.status_code == 202, r.text()
    emulator.advance(SLACK)
    psd = get(sr, f"{container['id']}/replicationProtectedItems/{pi['name']}")["properties"]["providerSpecificDetails"]
    assert (psd["targetAvailabilityZone"], psd["licenseType"], psd["sqlServerLicenseType"]) == ("2", "WindowsServer", "AHUB")
    assert (psd["targetVmTags"], psd["targetManagedDiskTags"], psd["targetNicTags"]) == ({"app": "erp"}, {"d": "1"}, {"n": "1"})
    assert {d["diskEncryptionSetId"] for d in psd["protectedManagedDisks"]} == {DES}
    assert psd["oSDetails"]["userSelectedOSName"] == "Windows Server 2022 Datacenter"
    assert psd["targetVmSecurityProfile"]["targetVmSecurityType"] == "TrustedLaunch"


def test_trusted_launch_of_a_generation_1_vm_and_a_des_that_is_no_des_are_refused(sr, emulator):
    """T-005 (unconfirmed codes): web01 is a generation 1 (Linux) VM"""
    fabric, container = vmm_tree(sr)
    pol_id = associate(emulator, sr, container)
    pis = protectables(sr, fabric, container)
    body = powershell_enable_body(pol_id, pis["web01"], useManagedDisks="true", logStorageAccountId=LOGS,
                                  targetVmSecurityProfile={"targetVmSecurityType": "TrustedLaunch"})
    r = raw(sr, "PUT", f"{container['id']}/replicationProtectedItems/{pis['web01']['name']}", body)
    assert r.status_code == 400 and "generation 2" in r.text()
    body = powershell_enable_body(pol_id, pis["app01"], useManagedDisks="true", logStorageAccountId=LOGS,
                                  diskEncryptionSetId=f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.KeyVault/vaults/kv")
    r = raw(sr, "PUT", f"{container['id']}/replicationProtectedItems/{pis['app01']['name']}", body)
    assert r.status_code == 400 and "disk encryption set" in r.text()


def test_nic_settings_are_set_by_an_update_and_read_back_per_nic(sr, emulator):
    """T-002 T-003"""
    container, pi, r = _enable(emulator, sr, "app01", useManagedDisks="true", logStorageAccountId=LOGS,
                               targetAzureNetworkId=f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Network/virtualNetworks/corp-vnet")
    assert r.status_code == 202, r.text()
    emulator.advance(SLACK)
    item_path = f"{container['id']}/replicationProtectedItems/{pi['name']}"
    nic_id = get(sr, item_path)["properties"]["providerSpecificDetails"]["vmNics"][0]["nicId"]
    nsg = f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Network/networkSecurityGroups/app-nsg"
    r = raw(sr, "PATCH", item_path, {"properties": {"vmNics": [{
        "nicId": nic_id, "selectionType": "SelectedByUser", "recoveryNetworkSecurityGroupId": nsg,
        "ipConfigs": [{"ipConfigName": "ipconfig1", "isPrimary": True, "recoverySubnetName": "servers",
                       "recoveryStaticIPAddress": "10.10.1.20"}]}]}})
    assert r.status_code == 202, r.text()
    emulator.advance(SLACK)
    nic = get(sr, item_path)["properties"]["providerSpecificDetails"]["vmNics"][0]
    assert nic["recoveryNetworkSecurityGroupId"] == nsg
    assert (nic["ipConfigs"][0]["recoveryStaticIPAddress"], nic["ipConfigs"][0]["recoveryIPAddressType"]) == ("10.10.1.20", "Static")
    r = raw(sr, "PATCH", item_path, {"properties": {"vmNics": [{"nicId": nic_id, "recoveryNetworkSecurityGroupId": "nsg1"}]}})
    assert r.status_code == 400



def test_the_test_failover_network_is_set_by_an_update_and_read_back_on_each_nic(sr, emulator):
    """T-008: selectedTfoAzureNetworkId (update input) reads back as vmNics[].tfoVMNetworkId (VMNicDetails); the
    replication details have no field of their own for it."""
    vnet = f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Network/virtualNetworks"
    container, pi, r = _enable(emulator, sr, "app01", useManagedDisks="true", logStorageAccountId=LOGS,
                               targetAzureNetworkId=f"{vnet}/corp-vnet")
    assert r.status_code == 202, r.text()
    emulator.advance(SLACK)
    item_path = f"{container['id']}/replicationProtectedItems/{pi['name']}"
    psd = get(sr, item_path)["properties"]["providerSpecificDetails"]
    assert [n.get("tfoVMNetworkId") for n in psd["vmNics"]] == [None] * len(psd["vmNics"])
    nic_id = psd["vmNics"][0]["nicId"]
    r = raw(sr, "PATCH", item_path, {"properties": {"selectedTfoAzureNetworkId": f"{vnet}/corp-test-vnet", "vmNics": [{
        "nicId": nic_id, "ipConfigs": [{"ipConfigName": "ipconfig1", "isPrimary": True, "tfoSubnetName": "servers",
                                        "tfoStaticIPAddress": "10.20.1.20"}]}]}})
    assert r.status_code == 202, r.text()
    emulator.advance(SLACK)
    psd = get(sr, item_path)["properties"]["providerSpecificDetails"]
    assert {n["tfoVMNetworkId"] for n in psd["vmNics"]} == {f"{vnet}/corp-test-vnet"}
    assert psd["vmNics"][0]["ipConfigs"][0]["tfoSubnetName"] == "servers"
    assert "selectedTfoAzureNetworkId" not in psd
    r = raw(sr, "PATCH", item_path, {"properties": {"selectedTfoAzureNetworkId": f"{vnet}/no-such-vnet"}})
    assert r.status_code in (400, 404), r.text()


def test_vm_sizes_as_azure_lists_them_constrained_vcpu_ones_too(sr, emulator):
    """T-012: Standard_M8-2ms (a constrained vCPU size) is a size; a lower-case tier is refused (the emulator's
    rule; asr validate refuses it first)."""
    container, pi, r = _enable(emulator, sr, "app01", useManagedDisks="true", logStorageAccountId=LOGS,
                               targetVmSize="Standard_M8-2ms")
    assert r.status_code == 202, r.text()
    _, _, r = _enable(emulator, sr, "app02", useManagedDisks="true", logStorageAccountId=LOGS,
                      targetVmSize="standard_d4s_v5")
    assert r.status_code == 400 and "InvalidVmSize" in r.text()

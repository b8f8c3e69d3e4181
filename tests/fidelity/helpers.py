"""Shared setup of the fidelity suite (docs/fidelity.md): the real SDK clients of
`reconciler.azure.clients.Clients` over HTTPS against the emulator. Raw JSON comes
through the SDK's own pipeline (`send_request`), so key names and string values are
checked as Azure's recordings show them, not as the SDK models reshape them."""

from __future__ import annotations

import copy
from typing import Any

from azure.core.rest import HttpRequest

from reconciler.emulator.estate import quickstart_estate

SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
FRG = "contoso-failover-rg"
VAULT_PATH = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{V}"
VNET = f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Network/virtualNetworks/corp-vnet"
LOGS = f"/subscriptions/{SUB}/resourceGroups/{FRG}/providers/Microsoft.Storage/storageAccounts/contosoasrlogs01"
API = "2025-08-01"
SLACK = 900  # simulated seconds that let any setup job finish


def raw(sr: Any, method: str, path_or_url: str, body: Any = None) -> Any:
    """One request through the SDK client's pipeline; returns the azure-core response."""
    url = path_or_url if path_or_url.startswith("http") else "{endpoint}" + path_or_url
    if "api-version=" not in url:
        url += ("&" if "?" in url else "?") + f"api-version={API}"
    return sr.send_request(HttpRequest(method, url, json=body))


def get(sr: Any, path: str) -> dict:
    r = raw(sr, "GET", path)
    assert r.status_code == 200, (r.status_code, r.text())
    return r.json()


def estate(**vm_overrides: dict) -> dict:
    """The quickstart estate with its Azure side seeded; `vm_overrides` changes estate VMs
    by name (e.g. sql01={"disksGB": [512, 127], "osDisk": 1})."""
    est = copy.deepcopy(quickstart_estate(azure=True))
    for server in est["vmmServers"]:
        for cloud in server["clouds"]:
            for vm in cloud["vms"]:
                vm.update(vm_overrides.get(vm["name"], {}))
    return est


def vmm_tree(sr: Any) -> tuple[dict, dict]:
    (fabric,) = get(sr, f"{VAULT_PATH}/replicationFabrics")["value"]
    (container,) = get(sr, f"{VAULT_PATH}/replicationFabrics/{fabric['name']}/replicationProtectionContainers")["value"]
    return fabric, container


def protectables(sr: Any, fabric: dict, container: dict) -> dict[str, dict]:
    items = get(sr, f"{container['id']}/replicationProtectableItems")["value"]
    return {i["properties"]["friendlyName"]: i for i in items}


def associate(emulator: Any, sr: Any, container: dict, policy: str = "every-5-min") -> str:
    """A policy and its association with `container` (as asr sends them), jobs done."""
    sr.replication_policies.begin_create(RG, V, policy, {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 24,
        "applicationConsistentSnapshotFrequencyInHours": 4, "replicationInterval": 300}}}, polling=False)
    emulator.advance(SLACK)
    pol_id = f"{VAULT_PATH}/replicationPolicies/{policy}"
    fabric = container["id"].split("/replicationFabrics/")[1].split("/")[0]
    sr.replication_protection_container_mappings.begin_create(RG, V, fabric, container["name"], f"{policy}-map", {
        "properties": {"targetProtectionContainerId": "Microsoft Azure", "policyId": pol_id,
                       "providerSpecificInput": {"instanceType": "ReplicationProviderSpecificContainerMappingInput"}}},
        polling=False)
    emulator.advance(SLACK)
    return pol_id


def powershell_enable_body(pol_id: str, pi: dict, *, vhd_id: str | None = None, vm_name: str | None = None,
                           **extra: Any) -> dict:
    """The enable body New-AzRecoveryServicesAsrReplicationProtectedItem sent in
    TestEnableDR.json (unmanaged: targetStorageAccountId), with the OS disk as Azure marks it."""
    cd = pi["properties"]["customDetails"]
    os_disk = next(d for d in cd["diskDetails"] if d["vhdType"] == "OperatingSystem")
    psd = {
        "instanceType": "HyperVReplicaAzure",
        "hvHostVmId": pi["name"],
        "vmName": pi["properties"]["friendlyName"],
        "osType": (cd.get("osDetails") or {}).get("osType") or "Windows",
        "vhdId": vhd_id or os_disk["vhdId"],
        "targetStorageAccountId": LOGS,
        "targetAzureVmName": vm_name or pi["properties"]["friendlyName"],
        "targetAzureV2ResourceGroupId": f"/subscriptions/{SUB}/resourceGroups/{FRG}",
        **extra,
    }
    return {"properties": {"policyId": pol_id, "protectableItemId": pi["id"], "providerSpecificDetails": psd}}


def job_of(sr: Any, headers: Any) -> dict:
    """The job a write's 202 names (x-ms-request-id is the job's ARM id)."""
    return get(sr, headers["x-ms-request-id"])

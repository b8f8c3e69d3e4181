"""Policies (create input vs read-back names), container mappings and network mappings
as recorded (docs/fidelity.md F-020..F-028)."""

from __future__ import annotations

from tests.fidelity.helpers import RG, SLACK, VAULT_PATH, VNET, V, associate, get, raw, vmm_tree


def test_policy_input_names_differ_from_read_back_names(sr, emulator):
    """F-020 F-021"""
    r = raw(sr, "PUT", f"{VAULT_PATH}/replicationPolicies/every-5-min", {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 24,
        "applicationConsistentSnapshotFrequencyInHours": 4, "replicationInterval": 300}}})
    assert r.status_code == 202
    emulator.advance(SLACK)
    pol = get(sr, f"{VAULT_PATH}/replicationPolicies/every-5-min")
    assert pol["type"] == "Microsoft.RecoveryServices/vaults/replicationPolicies"
    assert pol["properties"]["friendlyName"] == "every-5-min"
    d = pol["properties"]["providerSpecificDetails"]
    # F-020: input providerSpecificInput.recoveryPointHistoryDuration -> providerSpecificDetails ...InHours
    assert "providerSpecificInput" not in pol["properties"] and "recoveryPointHistoryDuration" not in d
    assert (d["instanceType"], d["recoveryPointHistoryDurationInHours"], d["applicationConsistentSnapshotFrequencyInHours"],
            d["replicationInterval"]) == ("HyperVReplicaAzure", 24, 4, 300)
    # F-021: encryption reads "Disabled"
    assert d["encryption"] == "Disabled"


def test_container_mapping_read_back(sr, emulator):
    """F-025"""
    fabric, container = vmm_tree(sr)
    pol_id = associate(emulator, sr, container)
    (m,) = get(sr, f"{container['id']}/replicationProtectionContainerMappings")["value"]
    p = m["properties"]
    assert p["targetProtectionContainerId"] == "Microsoft Azure" and p["targetProtectionContainerFriendlyName"] == "Microsoft Azure"
    assert p["state"] == "Paired" and p["health"] == "Normal" and p["healthErrorDetails"] == []
    assert p["policyId"].lower() == pol_id.lower() and p["policyFriendlyName"] == "every-5-min"
    assert (p["sourceProtectionContainerFriendlyName"], p["sourceFabricFriendlyName"], p["targetFabricFriendlyName"]) == \
        ("Gold", "vmm01", "Microsoft Azure")
    assert p.get("providerSpecificDetails") is None
    # F-015: an associated container reads pairingStatus Paired
    assert get(sr, container["id"])["properties"]["pairingStatus"] == "Paired"


def test_network_mapping_input_and_read_back(sr, emulator):
    """F-026 F-027"""
    fabric, _ = vmm_tree(sr)
    (net,) = get(sr, f"{fabric['id']}/replicationNetworks")["value"]
    body = {"properties": {"recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": VNET,
                           "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}
    r = raw(sr, "PUT", f"{net['id']}/replicationNetworkMappings/corp-map", body)
    assert r.status_code == 202, r.text()
    emulator.advance(SLACK)
    m = get(sr, f"{net['id']}/replicationNetworkMappings/corp-map")
    assert m["type"] == "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationNetworks/replicationNetworkMappings"
    p = m["properties"]
    # F-026: the input's fabricSpecificDetails reads back as fabricSpecificSettings
    assert p["fabricSpecificSettings"] == {"instanceType": "VmmToAzure"} and "fabricSpecificDetails" not in p
    # F-027: the read-back fields
    assert p["state"] == "Paired"
    assert (p["primaryNetworkFriendlyName"], p["primaryFabricFriendlyName"]) == ("Corp-VMNet", "vmm01")
    assert p["primaryNetworkId"].lower() == net["id"].lower()
    assert (p["recoveryNetworkFriendlyName"], p["recoveryFabricFriendlyName"]) == ("corp-vnet", "Microsoft Azure")
    assert p["recoveryNetworkId"].lower() == VNET.lower()
    assert "/replicationFabrics/" in p["recoveryFabricArmId"]


def test_policy_and_mapping_jobs_are_jobs_of_the_vault(sr, emulator):
    """F-041 F-047 F-048: every write's job, as recorded: type, AsrJobDetails, Succeeded/Completed"""
    r = raw(sr, "PUT", f"{VAULT_PATH}/replicationPolicies/p2", {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 2, "replicationInterval": 30}}})
    job_id = r.headers["x-ms-request-id"]
    emulator.advance(SLACK)
    job = get(sr, job_id)
    assert job["type"] == "Microsoft.RecoveryServices/vaults/replicationJobs"
    p = job["properties"]
    assert (p["state"], p["stateDescription"]) == ("Succeeded", "Completed")
    assert p["customDetails"]["instanceType"] == "AsrJobDetails" and "affectedObjectDetails" in p["customDetails"]
    assert p["allowedActions"] == [] and p["errors"] == []
    assert job["name"] in [j.name for j in sr.replication_jobs.list(RG, V)]

"""Enable protection -> initial replication -> Protected, update, disable, purge and
recovery-plan CRUD, with the requests Azure's own clients send (docs/fidelity.md
F-030..F-037, F-041..F-047, F-070..F-072)."""

from __future__ import annotations

import re

from tests.fidelity.helpers import FRG, SLACK, SUB, VAULT_PATH, associate, get, powershell_enable_body, protectables, raw, vmm_tree

ENABLE_TASKS = [
    ("EnableProtectionPrerequisitesCheck", "Prerequisites check for enabling protection"),
    ("CreateProtectionTarget", "Identifying the replication target"),
    ("EnableProtection", "Enable replication"),
    ("VmStartInitialReplication", "Starting initial replication"),
    ("UpdateDraState", "Updating the provider states"),
]
UNSET = "0001-01-01T00:00:00"


def enable_app01(emulator, sr, crid="0204188f-503c-45b6-a8e9-6b80da598fae"):
    fabric, container = vmm_tree(sr)
    pol_id = associate(emulator, sr, container)
    pi = protectables(sr, fabric, container)["app01"]
    r = sr.send_request(__import__("azure.core.rest", fromlist=["HttpRequest"]).HttpRequest(
        "PUT", "{endpoint}" + f"{container['id']}/replicationProtectedItems/{pi['name']}?api-version=2025-08-01",
        json=powershell_enable_body(pol_id, pi), headers={"x-ms-client-request-id": crid}))
    return container, pi, r


def test_enable_as_powershell_sends_it_answers_202_and_starts_enabledr(sr, emulator):
    """F-032 F-033 F-034 F-041 F-042 F-043 F-044 F-045 F-046 F-047"""
    container, pi, r = enable_app01(emulator, sr)
    # F-032: the PowerShell body (hvHostVmId, vmName, osType, vhdId, targetStorageAccountId,
    # targetAzureVmName, targetAzureV2ResourceGroupId) is accepted
    assert r.status_code == 202, r.text()
    # F-033: Location <item>/operationresults/<job>, Azure-AsyncOperation <vault>/replicationOperationStatus/<job>
    job_id = r.headers["x-ms-request-id"]
    assert job_id.startswith(f"/Subscriptions/{SUB}/") and "/replicationJobs/" in job_id
    job_name = job_id.rsplit("/", 1)[1]
    assert re.search(rf"/replicationProtectedItems/{pi['name']}/operationresults/{job_name}\?", r.headers["Location"])
    assert re.search(rf"/replicationOperationStatus/{job_name}\?", r.headers["Azure-AsyncOperation"])
    emulator.advance(5)  # into the first task
    job = get(sr, job_id)
    p = job["properties"]
    # F-034: scenario, names and target of the EnableDr job
    assert (p["scenarioName"], p["friendlyName"], p["state"], p["stateDescription"]) == \
        ("EnableDr", "Enable replication", "InProgress", "InProgress")
    assert (p["targetObjectId"], p["targetObjectName"], p["targetInstanceType"]) == (pi["name"], "app01", "ProtectionEntity")
    assert p["allowedActions"] == ["Cancel"]
    # F-046: activityId = "<x-ms-client-request-id> ActivityId: <guid>"
    assert re.fullmatch(r"0204188f-503c-45b6-a8e9-6b80da598fae ActivityId: [0-9a-f-]{36}", p["activityId"])
    # F-042: the five tasks of the recorded EnableDr job
    assert [(t["name"], t["friendlyName"]) for t in p["tasks"]] == ENABLE_TASKS
    first, rest = p["tasks"][0], p["tasks"][1:]
    # F-043: plain tasks
    assert all(t["taskType"] == "TaskDetails" and t["customDetails"] == {"instanceType": "TaskDetails"}
               and t["allowedActions"] == [] and t["errors"] == [] for t in p["tasks"])
    # F-044: DateTime.MinValue where a task has not started / not ended
    assert first["state"] == "InProgress" and first["startTime"] != UNSET and first["endTime"] == UNSET
    assert all(t["state"] == "NotStarted" and t["startTime"] == UNSET and t["endTime"] == UNSET for t in rest)
    # F-045: no endTime at all while the job runs
    assert "endTime" not in p and p["startTime"]
    # F-047: affectedObjectDetails of the recorded EnableDr job
    aod = p["customDetails"]["affectedObjectDetails"]
    assert p["customDetails"]["instanceType"] == "AsrJobDetails"
    assert {k: aod[k] for k in ("primaryVmId", "primaryVmName", "primaryCloudId", "primaryCloudName", "recoveryCloudName",
                                "recoveryVmmName", "primaryFabricProviderId", "recoveryFabricProviderId")} == {
        "primaryVmId": pi["name"], "primaryVmName": "app01", "primaryCloudId": container["name"], "primaryCloudName": "Gold",
        "recoveryCloudName": "Microsoft Azure", "recoveryVmmName": "Microsoft Azure", "primaryFabricProviderId": "VMM",
        "recoveryFabricProviderId": "Azure"}
    emulator.advance(SLACK)
    done = get(sr, job_id)["properties"]
    assert (done["state"], done["stateDescription"]) == ("Succeeded", "Completed") and done["endTime"]
    assert all(t["state"] == "Succeeded" and t["endTime"] != UNSET for t in done["tasks"])


def test_initial_replication_then_protected(sr, emulator):
    """F-030 F-031 F-038"""
    container, pi, r = enable_app01(emulator, sr)
    emulator.advance(200)  # the EnableDr job (122 s) is done, initial replication (127 GB) is not
    item = get(sr, f"{container['id']}/replicationProtectedItems/{pi['name']}")
    assert item["properties"]["protectionState"] == "InitialReplicationInProgress"  # F-038 (unconfirmed)
    emulator.advance(7 * 24 * 3600)
    item = get(sr, f"{container['id']}/replicationProtectedItems/{pi['name']}")
    p = item["properties"]
    # F-030: a Protected Hyper-V item, as ReplicationProtectedItems_Get.json shows it
    assert (p["protectionState"], p["protectionStateDescription"], p["activeLocation"], p["replicationHealth"]) == \
        ("Protected", "Protected", "Primary", "Normal")
    assert p["allowedOperations"] == ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"]
    assert (p["protectedItemType"], p["recoveryFabricId"], p["recoveryProtectionContainerFriendlyName"],
            p["recoveryFabricFriendlyName"]) == ("HyperVVirtualMachine", "Microsoft Azure", "Microsoft Azure", "Microsoft Azure")
    assert (p["primaryFabricFriendlyName"], p["primaryProtectionContainerFriendlyName"], p["policyFriendlyName"]) == \
        ("vmm01", "Gold", "every-5-min")
    assert p["protectableItemId"].lower() == pi["id"].lower() and item["name"] == pi["name"]
    assert p["providerSpecificDetails"]["instanceType"] == "HyperVReplicaAzure"
    # F-031: the OS disk the item replicates is marked in azureVmDiskDetails too (unconfirmed)
    (disk,) = p["providerSpecificDetails"]["azureVmDiskDetails"]
    assert disk["vhdType"] == "OperatingSystem" and disk["vhdId"] == pi["properties"]["customDetails"]["diskDetails"][0]["vhdId"]


def test_disable_and_purge_answer_202(sr, emulator):
    """F-036 F-037"""
    container, pi, r = enable_app01(emulator, sr)
    emulator.advance(SLACK)
    item_path = f"{container['id']}/replicationProtectedItems/{pi['name']}"
    # F-036: disable = POST .../remove with DisableProtectionProviderSpecificInput (ReplicationProtectedItems_Delete.json)
    r = raw(sr, "POST", item_path + "/remove",
            {"properties": {"replicationProviderInput": {"instanceType": "DisableProtectionProviderSpecificInput"}}})
    assert r.status_code == 202 and "Azure-AsyncOperation" in r.headers and r.headers["Retry-After"]
    job = get(sr, r.headers["x-ms-request-id"])
    assert job["properties"]["scenarioName"] == "DisableDr"
    emulator.advance(SLACK)
    assert raw(sr, "GET", item_path).status_code == 404
    # F-037: purge = DELETE, 202 (ReplicationProtectedItems_Purge.json); nothing left: 404 on GET
    container, pi, r = container, pi, raw(sr, "PUT", item_path, powershell_enable_body(
        f"{VAULT_PATH}/replicationPolicies/every-5-min", pi))
    assert r.status_code == 202
    emulator.advance(SLACK)
    r = raw(sr, "DELETE", item_path)
    assert r.status_code == 202
    emulator.advance(SLACK)
    assert raw(sr, "GET", item_path).status_code == 404


def test_recovery_plan_crud(sr, emulator):
    """F-070 F-071 F-072"""
    container, pi, r = enable_app01(emulator, sr)
    emulator.advance(7 * 24 * 3600)
    fabric_id = container["id"].split("/replicationProtectionContainers/")[0]
    item_id = f"{container['id']}/replicationProtectedItems/{pi['name']}"
    body = {"properties": {"primaryFabricId": fabric_id, "recoveryFabricId": "Microsoft Azure",
                           "failoverDeploymentModel": "ResourceManager",
                           "groups": [{"groupType": "Boot", "replicationProtectedItems": [
                               {"id": item_id, "virtualMachineId": pi["name"]}], "startGroupActions": [],
                               "endGroupActions": []}]}}
    r = raw(sr, "PUT", f"{VAULT_PATH}/replicationRecoveryPlans/RPtest1", body)
    assert r.status_code == 202
    create_job = get(sr, r.headers["x-ms-request-id"])
    emulator.advance(SLACK)
    plan = get(sr, f"{VAULT_PATH}/replicationRecoveryPlans/RPtest1")
    p = plan["properties"]
    # F-070: Shutdown and Failover groups are added in front of the Boot group
    assert [g["groupType"] for g in p["groups"]] == ["Shutdown", "Failover", "Boot"]
    assert p["groups"][0]["replicationProtectedItems"] == [] and p["groups"][1]["replicationProtectedItems"] == []
    (it,) = p["groups"][2]["replicationProtectedItems"]
    assert it["id"].lower() == item_id.lower() and it["virtualMachineId"] == pi["name"]
    # F-071: what else the plan reads back with
    assert (p["friendlyName"], p["recoveryFabricId"], p["recoveryFabricFriendlyName"], p["primaryFabricFriendlyName"]) == \
        ("RPtest1", "Microsoft Azure", "Microsoft Azure", "vmm01")
    assert p["replicationProviders"] == ["HyperVReplicaAzure"] and p["failoverDeploymentModel"] == "ResourceManager"
    assert p["allowedOperations"][:3] == ["PlannedFailover", "UnplannedFailover", "TestFailover"]
    # F-072: recovery plan jobs: targetObjectId a GUID, targetObjectName the plan, RecoveryPlan
    r = raw(sr, "DELETE", f"{VAULT_PATH}/replicationRecoveryPlans/RPtest1")
    assert r.status_code == 202
    job = get(sr, r.headers["x-ms-request-id"])["properties"]
    assert (job["scenarioName"], job["friendlyName"], job["targetObjectName"], job["targetInstanceType"]) == \
        ("DeleteRecoveryPlan", "Delete a recovery plan", "RPtest1", "RecoveryPlan")
    assert re.fullmatch(r"[0-9a-f-]{36}", job["targetObjectId"])
    assert [(t["name"], t["friendlyName"]) for t in job["tasks"]] == [("DeleteRecoveryPlanTask", "Delete a recovery plan task")]
    assert create_job["properties"]["targetObjectId"] == job["targetObjectId"]
    emulator.advance(SLACK)
    assert raw(sr, "GET", f"{VAULT_PATH}/replicationRecoveryPlans/RPtest1").status_code == 404


def test_update_renames_the_azure_vm(sr, emulator):
    """F-035: PATCH with updateReplicationProtectedItemInput names (recoveryAzureVMName ...)"""
    container, pi, r = enable_app01(emulator, sr)
    emulator.advance(7 * 24 * 3600)
    item_path = f"{container['id']}/replicationProtectedItems/{pi['name']}"
    r = raw(sr, "PATCH", item_path, {"properties": {
        "recoveryAzureVMName": "app01-dr", "recoveryAzureVMSize": "Standard_D2s_v3",
        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure",
                                    "recoveryAzureV2ResourceGroupId": f"/subscriptions/{SUB}/resourceGroups/{FRG}"}}})
    assert r.status_code == 202, r.text()
    assert get(sr, r.headers["x-ms-request-id"])["properties"]["scenarioName"] == "UpdateVmProperties"
    emulator.advance(SLACK)
    d = get(sr, item_path)["properties"]["providerSpecificDetails"]
    assert (d["recoveryAzureVmName"], d["recoveryAzureVMSize"]) == ("app01-dr", "Standard_D2s_v3")
    bad = raw(sr, "PATCH", item_path, {"properties": {"recoveryAzureVMName": "app01_dr"}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidVmName"

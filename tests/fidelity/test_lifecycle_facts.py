"""The failover lifecycle facts of docs/fidelity.md ("Failover lifecycle", rows L-001...),
checked against the emulator through the real SDK: one test per fact (a fact the
sources leave open is checked as the emulator's stated choice).

Sources are Microsoft's examples for 2025-08-01 (azure-rest-api-specs,
specification/recoveryservicessiterecovery/.../SiteRecovery/stable/2025-08-01/examples/)
and Azure PowerShell's recorded sessions (azure-powershell,
src/RecoveryServices/RecoveryServices.SiteRecovery.Test/SessionRecords/
RecoveryServices.SiteRecovery.Test.AsrB2ATests/).
"""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.emulator.estate import quickstart_estate
from reconciler.ops.inventory import as_json

SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
TEST_VNET = f"/subscriptions/{SUB}/resourceGroups/contoso-failover-rg/providers/Microsoft.Network/virtualNetworks/corp-test-vnet"
PROTECTED_OPS = ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"]
NO_TIME = "0001-01-01T00:00:00"


@pytest.fixture
def sdk(emulator):
    from reconciler.azure.clients import Clients

    emulator.reset(estate=quickstart_estate(applied=True), time_scale=600)
    c = Clients(SUB)
    yield c.site_recovery()
    c.close()


@pytest.fixture
def slow(emulator):
    """Time scale 1: running jobs are looked at, then time is advanced by hand."""
    from reconciler.azure.clients import Clients

    emulator.reset(estate=quickstart_estate(applied=True), time_scale=1)
    c = Clients(SUB)
    yield c.site_recovery()
    c.close()


def key_of(sdk, vm):
    for it in sdk.replication_protected_items.list(RG, V):
        if it.properties.friendly_name == vm:
            parts = it.id.split("/")
            return parts[parts.index("replicationFabrics") + 1], parts[parts.index("replicationProtectionContainers") + 1], it.name
    raise AssertionError(vm)


def item(sdk, key) -> dict:
    return as_json(sdk.replication_protected_items.get(RG, V, *key))["properties"]


def job(sdk, job_id: str) -> dict:
    return as_json(sdk.replication_jobs.get(RG, V, job_id.rstrip("/").split("/")[-1]))["properties"]


def tfo_body():
    return {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput",
                           "networkId": TEST_VNET, "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}


def failover_body(direction="PrimaryToRecovery"):
    psd = {"instanceType": "HyperVReplicaAzure"} if direction == "PrimaryToRecovery" else {
        "instanceType": "HyperVReplicaAzureFailback", "dataSyncOption": "ForSynchronization",
        "recoveryVmCreationOption": "NoAction"}
    return {"properties": {"failoverDirection": direction, "providerSpecificDetails": psd}}


def unplanned_body():
    return {"properties": {"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
                           "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}


def plan_tfo_body():
    return {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput",
                           "networkId": TEST_VNET, "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}


def tfo_done(sdk, key):
    p = sdk.replication_protected_items.begin_test_failover(RG, V, *key, tfo_body()).result()
    return as_json(p)["properties"]


# --- test failover of one VM ----------------------------------------------------------

def test_L001_test_failover_job_suspends_waiting_for_cleanup(sdk):
    key = key_of(sdk, "sql01")
    p = tfo_done(sdk, key)
    j = job(sdk, p["currentScenario"]["jobId"])
    assert (j["state"], j["stateDescription"], j["allowedActions"]) == \
        ("Suspended", "WaitingForStopTestFailover", ["Cancel", "Resume"])
    assert j["scenarioName"] == "TestFailover" and j["friendlyName"] == "Test failover"
    assert j["customDetails"]["instanceType"] == "TestFailoverJobDetails"
    assert j["customDetails"]["testFailoverStatus"] == "Completed"
    assert j["customDetails"]["networkType"] == "VmNetworkAsInput" and j["customDetails"]["networkName"] == "corp-test-vnet"
    assert j.get("endTime") is None and j["targetInstanceType"] == "ProtectionEntity"


def test_L002_item_waits_for_completion_with_its_scenario(sdk):
    key = key_of(sdk, "sql01")
    p = tfo_done(sdk, key)
    assert (p["testFailoverState"], p["testFailoverStateDescription"]) == ("WaitingForCompletion", "Waiting for user input")
    assert p["allowedOperations"] == ["TestFailoverCleanup"]
    assert (p["protectionState"], p["protectionStateDescription"], p["activeLocation"]) == \
        ("Protected", "Cleanup test failover pending", "Primary")
    assert p["currentScenario"]["scenarioName"] == "TestFailover"
    assert job(sdk, p["currentScenario"]["jobId"])["scenarioName"] == "TestFailover"
    with pytest.raises(HttpResponseError) as ei:  # only the cleanup is allowed
        sdk.replication_protected_items.begin_planned_failover(RG, V, *key, failover_body()).result()
    assert ei.value.status_code == 409


def test_L003_running_test_failover_job(slow, emulator):
    key = key_of(slow, "sql01")
    slow.replication_protected_items.begin_test_failover(RG, V, *key, tfo_body(), polling=False)
    emulator.advance(20)
    p = item(slow, key)
    assert p["testFailoverState"] == "None"  # unconfirmed: the emulator keeps the previous value
    assert p["allowedOperations"] == [] and p["currentScenario"]["scenarioName"] == "TestFailover"
    j = job(slow, p["currentScenario"]["jobId"])
    assert (j["state"], j["allowedActions"]) == ("InProgress", ["Cancel"])
    assert j["customDetails"]["testFailoverStatus"] == "Active" and j["customDetails"]["protectedItemDetails"] == []


def test_L004_test_failover_tasks_and_placeholder_times(slow, emulator):
    key = key_of(slow, "sql01")
    slow.replication_protected_items.begin_test_failover(RG, V, *key, tfo_body(), polling=False)
    emulator.advance(20)
    jid = item(slow, key)["currentScenario"]["jobId"]
    j = job(slow, jid)
    t = j["tasks"]
    assert [x["name"] for x in t] == ["VmTfoPrerequisitesCheck", "VmTfoInitiateFailover", "VmTfoPrepareTestVm",
                                      "VmTfoBootTestVm"]
    assert [x["friendlyName"] for x in t] == ["Prerequisites check for test failover", "Starting test failover",
                                              "Creating test virtual machine", "Start the virtual machine"]
    assert [x["state"] for x in t] == ["Succeeded", "InProgress", "NotStarted", "NotStarted"]
    assert t[0]["endTime"] != NO_TIME and t[1]["startTime"] != NO_TIME and t[1]["endTime"] == NO_TIME
    assert (t[2]["startTime"], t[2]["endTime"]) == (NO_TIME, NO_TIME)
    emulator.advance(600)
    j = job(slow, jid)
    assert all(x["state"] == "Succeeded" and x["endTime"] != NO_TIME for x in j["tasks"])


def test_L005_variant_test_failover_job_ends_succeeded(sdk, emulator):
    emulator.set_faults("tfojob=succeeded")
    key = key_of(sdk, "sql01")
    jobs_before = {j.name for j in sdk.replication_jobs.list(RG, V)}
    p = tfo_done(sdk, key)
    new = [as_json(j)["properties"] for j in sdk.replication_jobs.list(RG, V) if j.name not in jobs_before]
    j = next(x for x in new if x["scenarioName"] == "TestFailover")
    assert (j["state"], j["stateDescription"], j["allowedActions"]) == ("Succeeded", "Completed", [])
    assert j["endTime"] and j["customDetails"]["testFailoverStatus"] == "Active"
    assert j["customDetails"]["protectedItemDetails"][0]["testVmName"] == "sql01-test"
    # the item waits for the cleanup all the same (unconfirmed for this variant)
    assert p["testFailoverState"] == "WaitingForCompletion" and p["allowedOperations"] == ["TestFailoverCleanup"]


def test_L006_cleanup_is_its_own_job(slow, emulator):
    key = key_of(slow, "sql01")
    slow.replication_protected_items.begin_test_failover(RG, V, *key, tfo_body(), polling=False)
    emulator.advance(600)
    tfo_job = item(slow, key)["currentScenario"]["jobId"]
    slow.replication_protected_items.begin_test_failover_cleanup(RG, V, *key, {"properties": {"comments": ""}},
                                                                 polling=False)
    emulator.advance(10)
    p = item(slow, key)
    assert p["currentScenario"]["scenarioName"] == "TestFailoverCleanup" and p["currentScenario"]["jobId"] != tfo_job
    j = job(slow, p["currentScenario"]["jobId"])
    assert (j["scenarioName"], j["friendlyName"]) == ("TestFailoverCleanup", "Test failover cleanup")
    assert j["customDetails"]["instanceType"] == "TestFailoverJobDetails" and "testFailoverStatus" not in j["customDetails"]
    assert [x["name"] for x in j["tasks"]] == ["VmTfoCleanupPreflightsCheck", "VmTfoEndFailover", "VmTfoDeleteTestVm"]
    assert (j["state"], j["allowedActions"]) == ("InProgress", ["Cancel"])


def test_L007_after_cleanup_the_item_is_idle_and_marked_for_deletion(sdk):
    key = key_of(sdk, "sql01")
    tfo_job = job(sdk, tfo_done(sdk, key)["currentScenario"]["jobId"])
    p = as_json(sdk.replication_protected_items.begin_test_failover_cleanup(
        RG, V, *key, {"properties": {"comments": "Test Failover Cleanup"}}).result())["properties"]
    assert (p["protectionState"], p["activeLocation"]) == ("Protected", "Primary")
    assert (p["testFailoverState"], p["testFailoverStateDescription"]) == ("MarkedForDeletion", "Cleaning up test environment")
    assert p["allowedOperations"] == PROTECTED_OPS
    cs = p["currentScenario"]
    assert (cs["scenarioName"], cs["jobId"].rsplit("/", 1)[1], cs["startTime"]) == ("None", "None", "1753-01-01T01:01:01Z")
    assert p["lastSuccessfulTestFailoverTime"] == tfo_job["startTime"]


def test_L008_suspended_job_ends_with_its_cleanup(sdk):
    key = key_of(sdk, "sql01")
    tfo_id = tfo_done(sdk, key)["currentScenario"]["jobId"]
    sdk.replication_protected_items.begin_test_failover_cleanup(RG, V, *key, {"properties": {}}).result()
    j = job(sdk, tfo_id)
    assert (j["state"], j["stateDescription"]) == ("Succeeded", "Completed") and j["endTime"]


def test_L009_marked_for_deletion_stays_through_later_failovers(sdk):
    key = key_of(sdk, "sql01")
    items = sdk.replication_protected_items
    tfo_done(sdk, key)
    items.begin_test_failover_cleanup(RG, V, *key, {"properties": {}}).result()
    seen = [as_json(items.begin_planned_failover(RG, V, *key, failover_body()).result())["properties"]["testFailoverState"],
            as_json(items.begin_failover_commit(RG, V, *key).result())["properties"]["testFailoverState"]]
    key2 = key_of(sdk, "app01")
    tfo_done(sdk, key2)
    items.begin_test_failover_cleanup(RG, V, *key2, {"properties": {}}).result()
    seen.append(as_json(items.begin_unplanned_failover(RG, V, *key2, unplanned_body()).result())["properties"]["testFailoverState"])
    assert seen == ["MarkedForDeletion"] * 3


# --- planned failover, commit, failback, reprotect ----------------------------------

def test_L010_planned_failover_item(sdk):
    key = key_of(sdk, "sql01")
    p = as_json(sdk.replication_protected_items.begin_planned_failover(RG, V, *key, failover_body()).result())["properties"]
    assert (p["protectionState"], p["protectionStateDescription"], p["activeLocation"]) == \
        ("PlannedFailoverCommitRequired", "Planned failover finished", "Recovery")
    assert p["allowedOperations"] == ["CompleteMigration", "Commit", "DisableProtection", "ChangePit"]
    assert p["lastSuccessfulFailoverTime"] and p["currentScenario"]["scenarioName"] == "None"


def test_L011_planned_failover_job(slow, emulator):
    key = key_of(slow, "sql01")
    slow.replication_protected_items.begin_planned_failover(RG, V, *key, failover_body(), polling=False)
    emulator.advance(5)
    jid = item(slow, key)["currentScenario"]["jobId"]
    j = job(slow, jid)
    assert (j["scenarioName"], j["friendlyName"]) == ("PlannedFailover", "Planned failover")
    assert [x["name"] for x in j["tasks"]] == ["VmPfoPrerequisitesCheck", "VmShutdownVmOnPrimary", "VmPrepareForFailover",
                                               "VmFailover", "VmFoStartVmOnSecondary"]
    assert j["customDetails"]["instanceType"] == "FailoverJobDetails" and j["customDetails"]["protectedItemDetails"] == []
    emulator.advance(3600)
    j = job(slow, jid)
    assert (j["state"], j["stateDescription"]) == ("Succeeded", "Completed")
    assert [d["friendlyName"] for d in j["customDetails"]["protectedItemDetails"]] == ["sql01"]


def test_L012_commit_after_planned_failover(sdk):
    key = key_of(sdk, "sql01")
    items = sdk.replication_protected_items
    items.begin_planned_failover(RG, V, *key, failover_body()).result()
    p = as_json(items.begin_failover_commit(RG, V, *key).result())["properties"]
    assert (p["protectionState"], p["protectionStateDescription"], p["activeLocation"]) == \
        ("PlannedFailoverStatesBegin", "Planned failover committed", "Recovery")
    assert p["allowedOperations"] == ["CompleteMigration", "DisableProtection", "Failback"]


def test_L013_unplanned_failover_item_has_no_cancel(sdk):
    key = key_of(sdk, "app01")
    p = as_json(sdk.replication_protected_items.begin_unplanned_failover(RG, V, *key, unplanned_body()).result())["properties"]
    assert (p["protectionState"], p["protectionStateDescription"], p["activeLocation"]) == \
        ("UnplannedFailoverCommitPendingStatesBegin", "Failover completed", "Recovery")
    assert p["allowedOperations"] == ["CompleteMigration", "Commit", "DisableProtection", "ChangePit"]


def test_L014_commit_after_unplanned_failover_is_a_guess(sdk):
    key = key_of(sdk, "app01")
    items = sdk.replication_protected_items
    items.begin_unplanned_failover(RG, V, *key, unplanned_body()).result()
    p = as_json(items.begin_failover_commit(RG, V, *key).result())["properties"]
    assert (p["protectionState"], p["activeLocation"]) == ("UnplannedFailoverStatesBegin", "Recovery")
    assert p["allowedOperations"] == ["CompleteMigration", "DisableProtection", "Failback"]


def test_L015_cancel_is_refused_after_unplanned_failover(sdk):
    key = key_of(sdk, "app01")
    items = sdk.replication_protected_items
    items.begin_unplanned_failover(RG, V, *key, unplanned_body()).result()
    with pytest.raises(HttpResponseError) as ei:
        items.begin_failover_cancel(RG, V, *key).result()
    assert ei.value.status_code == 409 and ei.value.error.code == "OperationNotAllowed"


def test_L016_failback_and_its_commit_are_guesses(sdk):
    key = key_of(sdk, "sql01")
    items = sdk.replication_protected_items
    items.begin_planned_failover(RG, V, *key, failover_body()).result()
    items.begin_failover_commit(RG, V, *key).result()
    p = as_json(items.begin_planned_failover(RG, V, *key, failover_body("RecoveryToPrimary")).result())["properties"]
    assert (p["protectionState"], p["activeLocation"], p["allowedOperations"]) == \
        ("PlannedFailoverCommitRequired", "Primary", ["Commit", "DisableProtection"])
    p = as_json(items.begin_failover_commit(RG, V, *key).result())["properties"]
    assert (p["protectionState"], p["activeLocation"], p["allowedOperations"]) == \
        ("PlannedFailoverStatesBegin", "Primary", ["ReverseReplicate", "DisableProtection"])


def test_L017_reprotect_ends_protected_on_the_primary(sdk, emulator):
    key = key_of(sdk, "sql01")
    items = sdk.replication_protected_items
    items.begin_planned_failover(RG, V, *key, failover_body()).result()
    items.begin_failover_commit(RG, V, *key).result()
    items.begin_planned_failover(RG, V, *key, failover_body("RecoveryToPrimary")).result()
    items.begin_failover_commit(RG, V, *key).result()
    p = as_json(items.begin_reprotect(RG, V, *key, {"properties": {
        "failoverDirection": "PrimaryToRecovery",
        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}).result())["properties"]
    assert p["protectionState"] in ("InitialReplicationInProgress", "Protected")  # resync first: the emulator's guess
    emulator.advance(10 * 3600)
    p = item(sdk, key)
    assert (p["protectionState"], p["activeLocation"], p["allowedOperations"]) == ("Protected", "Primary", PROTECTED_OPS)


# --- recovery plans ----------------------------------------------------------------------

def plan(sdk) -> dict:
    return as_json(sdk.replication_recovery_plans.get(RG, V, "tier1"))["properties"]


def test_L018_plan_test_failover_suspends(sdk):
    p = as_json(sdk.replication_recovery_plans.begin_test_failover(RG, V, "tier1", plan_tfo_body()).result())["properties"]
    assert p["allowedOperations"] == ["TestFailoverCleanup"]
    assert p["currentScenario"]["scenarioName"] == "TestFailover"
    assert (p["currentScenarioStatus"], p["currentScenarioStatusDescription"]) == ("Suspended", "WaitingForStopTestFailover")
    assert job(sdk, p["currentScenario"]["jobId"])["state"] == "Suspended"


def test_L019_plan_after_cleanup_keeps_its_last_scenario(sdk):
    plans = sdk.replication_recovery_plans
    plans.begin_test_failover(RG, V, "tier1", plan_tfo_body()).result()
    p = as_json(plans.begin_test_failover_cleanup(RG, V, "tier1", {"properties": {"comments": "Test Failover Cleanup"}})
                .result())["properties"]
    assert p["currentScenario"]["scenarioName"] == "TestFailoverCleanup"
    assert (p["currentScenarioStatus"], p["currentScenarioStatusDescription"]) == ("Succeeded", "Completed")
    assert p["allowedOperations"] == ["PlannedFailover", "UnplannedFailover", "TestFailover"]
    assert p["lastTestFailoverTime"]


@pytest.mark.parametrize("kind", ["planned", "unplanned"])
def test_L020_plan_after_failover(sdk, kind):
    plans = sdk.replication_recovery_plans
    body = {"properties": {"failoverDirection": "PrimaryToRecovery",
                           "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}
    if kind == "planned":
        p = plans.begin_planned_failover(RG, V, "tier1", body).result()
    else:
        body["properties"]["sourceSiteOperations"] = "Required"
        p = plans.begin_unplanned_failover(RG, V, "tier1", body).result()
    p = as_json(p)["properties"]
    assert p["currentScenario"]["scenarioName"] == ("PlannedFailover" if kind == "planned" else "UnplannedFailover")
    assert (p["currentScenarioStatus"], p["currentScenarioStatusDescription"]) == ("Succeeded", "Completed")
    assert p["allowedOperations"] == ["PlannedFailover", "UnplannedFailover", "TestFailover", "Commit"]


def test_L021_plan_commit_scenario_is_commit_failover(sdk):
    plans = sdk.replication_recovery_plans
    plans.begin_planned_failover(RG, V, "tier1", {"properties": {
        "failoverDirection": "PrimaryToRecovery", "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}).result()
    p = as_json(plans.begin_failover_commit(RG, V, "tier1").result())["properties"]
    assert p["currentScenario"]["scenarioName"] == "CommitFailover"
    assert (p["currentScenarioStatus"], p["currentScenarioStatusDescription"]) == ("Succeeded", "Completed")
    assert p["allowedOperations"] == ["PlannedFailover", "UnplannedFailover", "TestFailover"]


def test_L022_plan_reprotect_scenario_is_reverse_replication(sdk, emulator):
    plans = sdk.replication_recovery_plans
    fo = {"properties": {"failoverDirection": "PrimaryToRecovery",
                         "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}
    fb = {"properties": {"failoverDirection": "RecoveryToPrimary", "providerSpecificDetails": [{
        "instanceType": "HyperVReplicaAzureFailback", "dataSyncOption": "ForSynchronization",
        "recoveryVmCreationOption": "NoAction"}]}}
    plans.begin_planned_failover(RG, V, "tier1", fo).result()
    plans.begin_failover_commit(RG, V, "tier1").result()
    plans.begin_planned_failover(RG, V, "tier1", fb).result()
    plans.begin_failover_commit(RG, V, "tier1").result()
    p = as_json(plans.begin_reprotect(RG, V, "tier1").result())["properties"]
    assert p["currentScenario"]["scenarioName"] == "ReverseReplication"
    assert (p["currentScenarioStatus"], p["currentScenarioStatusDescription"]) == ("Succeeded", "Completed")
    emulator.advance(10 * 3600)
    assert plan(sdk)["allowedOperations"] == ["PlannedFailover", "UnplannedFailover", "TestFailover"]


def test_L023_plan_cancel_is_refused_for_hyper_v(sdk):
    plans = sdk.replication_recovery_plans
    plans.begin_unplanned_failover(RG, V, "tier1", {"properties": {
        "failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "Required",
        "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}).result()
    with pytest.raises(HttpResponseError) as ei:
        plans.begin_failover_cancel(RG, V, "tier1").result()
    assert ei.value.status_code == 409


# --- jobs ----------------------------------------------------------------------------------

def test_L024_asr_reads_jobs_bounded_whatever_their_order():
    """The recorded job list is not in time order (ReplicationJobs_List.json): asr stops
    paging only when a whole page is older than its window (tests/live, tests/ops)."""
    from reconciler.live.reader import page_is_older_than

    old = [{"properties": {"startTime": "2017-04-27T12:46:04Z"}}, {"properties": {"startTime": "2017-05-02T05:56:14Z"}}]
    mixed = old + [{"properties": {"startTime": "2017-05-02T14:07:19Z"}}]
    assert page_is_older_than(old, "2017-05-02T10:00:00Z")
    assert not page_is_older_than(mixed, "2017-05-02T10:00:00Z")


def test_L025_placeholder_times_are_no_times():
    from reconciler.live.jobs import parse_time

    for placeholder in (NO_TIME, "1601-01-01T00:00:00.0000000Z", "1753-01-01T01:01:01Z"):
        assert parse_time(placeholder) is None
    assert parse_time("2021-03-24T14:25:23.9191039Z") is not None


def test_L026_not_started_job_allows_nothing(slow):
    key = key_of(slow, "web01")
    slow.replication_protected_items.begin_test_failover(RG, V, *key, tfo_body(), polling=False)
    j = job(slow, item(slow, key)["currentScenario"]["jobId"])
    assert (j["state"], j["allowedActions"]) == ("NotStarted", [])


def test_L027_plan_job_details_are_a_guess(sdk):
    p = as_json(sdk.replication_recovery_plans.begin_test_failover(RG, V, "tier1", plan_tfo_body()).result())["properties"]
    j = job(sdk, p["currentScenario"]["jobId"])
    assert j["targetInstanceType"] == "RecoveryPlan" and j["customDetails"]["instanceType"] == "AsrJobDetails"
    assert [t["name"] for t in j["tasks"]] == ["BootGroup1", "BootGroup2"]


def test_L028_test_vm_details_once_suspended(sdk):
    key = key_of(sdk, "sql01")
    j = job(sdk, tfo_done(sdk, key)["currentScenario"]["jobId"])
    d = j["customDetails"]["protectedItemDetails"]
    assert [(x["friendlyName"], x["testVmName"], x["networkConnectionStatus"]) for x in d] == \
        [("sql01", "sql01-test", "Connected")]


def test_L030_other_job_tasks_are_guesses(sdk):
    key = key_of(sdk, "app01")
    p = as_json(sdk.replication_protected_items.begin_unplanned_failover(RG, V, *key, unplanned_body()).result())["properties"]
    jobs = [as_json(j)["properties"] for j in sdk.replication_jobs.list(RG, V)]
    ufo = next(j for j in jobs if j["scenarioName"] == "UnplannedFailover" and j["targetObjectName"] == "app01")
    assert [t["name"] for t in ufo["tasks"]] == ["PrerequisiteCheck", "CreateRecoveryVm"]
    assert p["activeLocation"] == "Recovery"
    sdk.replication_protected_items.begin_failover_commit(RG, V, *key).result()
    jobs = [as_json(j)["properties"] for j in sdk.replication_jobs.list(RG, V)]
    commit = next(j for j in jobs if j["scenarioName"] == "CommitFailover" and j["targetObjectName"] == "app01")
    assert [t["name"] for t in commit["tasks"]] == ["CommitFailover"] and commit["state"] == "Succeeded"

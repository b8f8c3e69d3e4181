"""The failover family on replicated items and recovery plans, through the real
SDK: activeLocation, protectionState, testFailoverState and allowedOperations move
as Microsoft's 2025-08-01 examples show them (docs/fidelity.md, "Failover lifecycle";
tests/fidelity/test_lifecycle_facts.py checks each fact), and operations outside
allowedOperations are refused with 409."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceExistsError

from reconciler.emulator.estate import quickstart_estate

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
TEST_VNET = f"/subscriptions/{SUB}/resourceGroups/contoso-failover-rg/providers/Microsoft.Network/virtualNetworks/corp-test-vnet"
PROTECTED_OPS = ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"]


@pytest.fixture
def asr(emulator):
    from reconciler.azure.clients import Clients

    emulator.reset(estate=quickstart_estate(applied=True), time_scale=600)
    c = Clients(SUB)
    yield c.site_recovery()
    c.close()


def find(asr, vm):
    for it in asr.replication_protected_items.list(RG, V):
        if it.properties.friendly_name == vm:
            parts = it.id.split("/")
            return parts[parts.index("replicationFabrics") + 1], parts[parts.index("replicationProtectionContainers") + 1], it.name
    raise AssertionError(vm)


def props(asr, key):
    return asr.replication_protected_items.get(RG, V, *key).properties


def tfo_input():
    return {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput",
                           "networkId": TEST_VNET, "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}


def planned(direction="PrimaryToRecovery"):
    psd = {"instanceType": "HyperVReplicaAzure"} if direction == "PrimaryToRecovery" else {
        "instanceType": "HyperVReplicaAzureFailback", "dataSyncOption": "ForSynchronization", "recoveryVmCreationOption": "NoAction"}
    return {"properties": {"failoverDirection": direction, "providerSpecificDetails": psd}}


def assert_conflict(fn, code):
    with pytest.raises(HttpResponseError) as ei:
        fn()
    assert ei.value.status_code == 409, ei.value
    assert ei.value.error.code == code


def test_item_test_failover_failover_commit_failback_reprotect(asr, emulator):
    key = find(asr, "sql01")
    items = asr.replication_protected_items
    p = props(asr, key)
    assert (p.protection_state, p.active_location, p.test_failover_state) == ("Protected", "Primary", "None")
    assert p.allowed_operations == PROTECTED_OPS

    p = items.begin_test_failover(RG, V, *key, tfo_input()).result().properties
    assert p.test_failover_state == "WaitingForCompletion" and p.allowed_operations == ["TestFailoverCleanup"]
    assert p.current_scenario.scenario_name == "TestFailover" and p.active_location == "Primary"
    assert_conflict(lambda: items.begin_failover_commit(RG, V, *key).result(), "OperationNotAllowed")
    p = items.begin_test_failover_cleanup(RG, V, *key, {"properties": {"comments": "drill ok"}}).result().properties
    assert p.test_failover_state == "MarkedForDeletion" and p.allowed_operations == PROTECTED_OPS
    assert p.last_successful_test_failover_time is not None and p.current_scenario.scenario_name == "None"

    p = items.begin_planned_failover(RG, V, *key, planned()).result().properties
    assert (p.protection_state, p.protection_state_description) == ("PlannedFailoverCommitRequired", "Planned failover finished")
    assert p.active_location == "Recovery"
    assert p.allowed_operations == ["CompleteMigration", "Commit", "DisableProtection", "ChangePit"]
    assert p.last_successful_failover_time is not None and p.failover_recovery_point_id
    assert_conflict(lambda: items.begin_failover_cancel(RG, V, *key).result(), "OperationNotAllowed")

    p = items.begin_failover_commit(RG, V, *key).result().properties
    assert (p.protection_state, p.active_location) == ("PlannedFailoverStatesBegin", "Recovery")
    assert p.allowed_operations == ["CompleteMigration", "DisableProtection", "Failback"]
    assert_conflict(lambda: items.begin_reprotect(RG, V, *key, {"properties": {"failoverDirection": "PrimaryToRecovery"}}).result(),
                    "OperationNotAllowed")
    # a failback is a planned failover RecoveryToPrimary with HyperVReplicaAzureFailback input
    with pytest.raises(HttpResponseError) as ei:
        items.begin_planned_failover(RG, V, *key, {"properties": {"failoverDirection": "RecoveryToPrimary",
                                                                   "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}})
    assert ei.value.status_code == 400
    p = items.begin_planned_failover(RG, V, *key, planned("RecoveryToPrimary")).result().properties
    assert p.active_location == "Primary" and p.allowed_operations == ["Commit", "DisableProtection"]
    p = items.begin_failover_commit(RG, V, *key).result().properties
    assert p.allowed_operations == ["ReverseReplicate", "DisableProtection"]
    p = items.begin_reprotect(RG, V, *key, {"properties": {"failoverDirection": "PrimaryToRecovery",
                                                          "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}).result().properties
    # reverse replication resynchronises 10 % of 639 GB: about 6 simulated minutes, under a second here
    assert p.protection_state in ("InitialReplicationInProgress", "Protected")
    assert p.provider_specific_details.initial_replication_details.initial_replication_type == "ReverseReplication"
    emulator.advance(10 * 3600)
    p = props(asr, key)
    assert p.protection_state == "Protected" and p.allowed_operations == PROTECTED_OPS and p.active_location == "Primary"


def test_unplanned_failover_allows_commit_not_cancel(asr):
    key = find(asr, "app01")
    items = asr.replication_protected_items
    p = items.begin_unplanned_failover(RG, V, *key, {"properties": {
        "failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}).result().properties
    assert (p.protection_state, p.active_location) == ("UnplannedFailoverCommitPendingStatesBegin", "Recovery")
    assert p.allowed_operations == ["CompleteMigration", "Commit", "DisableProtection", "ChangePit"]
    assert_conflict(lambda: items.begin_failover_cancel(RG, V, *key).result(), "OperationNotAllowed")
    p = items.begin_failover_commit(RG, V, *key).result().properties
    assert p.active_location == "Recovery" and "Failback" in p.allowed_operations


def test_second_operation_while_one_runs_is_409(asr):
    key = find(asr, "app02")
    items = asr.replication_protected_items
    items.begin_planned_failover(RG, V, *key, planned(), polling=False)
    p = props(asr, key)
    assert p.current_scenario.scenario_name == "PlannedFailover" and p.allowed_operations == []
    running = {j.id.lower(): j.properties.state for j in asr.replication_jobs.list(RG, V)}
    assert running[p.current_scenario.job_id.lower()] in ("NotStarted", "InProgress")
    assert_conflict(lambda: items.begin_unplanned_failover(RG, V, *key, {"properties": {
        "failoverDirection": "PrimaryToRecovery", "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}).result(),
        "OperationInProgress")
    assert_conflict(lambda: items.begin_update(RG, V, *key, {"properties": {"recoveryAzureVMSize": "Standard_D2s_v5"}}).result(),
                    "OperationInProgress")


def test_recovery_plan_failover_family(asr):
    plans = asr.replication_recovery_plans
    tfo = {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput", "networkId": TEST_VNET,
                          "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}
    plan = plans.begin_test_failover(RG, V, "tier1", tfo).result()
    assert plan.properties.allowed_operations == ["TestFailoverCleanup"]
    assert plan.properties.current_scenario.scenario_name == "TestFailover"
    assert (plan.properties.current_scenario_status, plan.properties.current_scenario_status_description) == \
        ("Suspended", "WaitingForStopTestFailover")
    assert plan.properties.last_test_failover_time is not None
    assert {i.properties.test_failover_state for i in asr.replication_protected_items.list(RG, V)} == {"WaitingForCompletion"}
    plan = plans.begin_test_failover_cleanup(RG, V, "tier1", {"properties": {"comments": "ok"}}).result()
    assert plan.properties.allowed_operations == ["PlannedFailover", "UnplannedFailover", "TestFailover"]
    assert {i.properties.test_failover_state for i in asr.replication_protected_items.list(RG, V)} == {"MarkedForDeletion"}

    plan = plans.begin_planned_failover(RG, V, "tier1", {"properties": {
        "failoverDirection": "PrimaryToRecovery", "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure"}]}}).result()
    assert plan.properties.allowed_operations == ["PlannedFailover", "UnplannedFailover", "TestFailover", "Commit"]
    assert plan.properties.last_planned_failover_time is not None
    assert {i.properties.active_location for i in asr.replication_protected_items.list(RG, V)} == {"Recovery"}
    plan = plans.begin_failover_commit(RG, V, "tier1").result()
    assert plan.properties.current_scenario.scenario_name == "CommitFailover"
    assert plan.properties.allowed_operations == ["PlannedFailover", "UnplannedFailover", "TestFailover"]
    with pytest.raises(HttpResponseError) as ei:
        plans.begin_reprotect(RG, V, "tier1").result()
    assert ei.value.status_code == 409
    jobs = [j for j in asr.replication_jobs.list(RG, V) if j.properties.target_instance_type == "RecoveryPlan"]
    assert [j.properties.scenario_name for j in jobs] == ["CreateRecoveryPlan", "TestFailover", "TestFailoverCleanup",
                                                          "PlannedFailover", "CommitFailover"]
    # the suspended test failover job ends when its cleanup does (the emulator's choice)
    assert all(j.properties.state == "Succeeded" and j.properties.target_object_name == "tier1" for j in jobs)
    tasks = jobs[1].properties.tasks
    assert [t.name for t in tasks] == ["BootGroup1", "BootGroup2"]
    assert tasks[0].friendly_name == "Group 1: Boot (1 virtual machines)"
    children = [c.custom_details.job_task.target_object_name for t in tasks for c in t.group_task_custom_details.child_tasks]
    assert children == ["sql01", "app01", "app02", "web01"]
    assert tasks[0].group_task_custom_details.rp_group_type == "Boot"


def test_recovery_plan_body_is_validated(asr):
    plans = asr.replication_recovery_plans
    with pytest.raises(HttpResponseError) as ei:
        plans.begin_unplanned_failover(RG, V, "tier1", {"properties": {"failoverDirection": "PrimaryToRecovery"}})
    assert ei.value.status_code == 400 and "sourceSiteOperations" in str(ei.value)
    with pytest.raises(HttpResponseError) as ei:
        plans.begin_test_failover(RG, V, "tier1", {"properties": {"failoverDirection": "PrimaryToRecovery",
                                                                   "networkType": "VmNetworkAsInput"}})
    assert ei.value.status_code == 400 and "networkId" in str(ei.value)
    with pytest.raises(ResourceExistsError):
        plans.begin_failover_commit(RG, V, "tier1").result()

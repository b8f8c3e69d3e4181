"""Replication jobs through the SDK: every write starts one, its state and tasks
progress with simulated time, activityId carries the caller's request id, the job
list filters with OData $filter and pages, and a jobfail fault fails jobs with
ARM-shaped error details (and the LRO with the job's error)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from reconciler.emulator.estate import quickstart_estate

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
POLICY = {"properties": {"providerSpecificInput": {"instanceType": "HyperVReplicaAzure", "replicationInterval": 300,
                                                   "recoveryPointHistoryDuration": 24,
                                                   "applicationConsistentSnapshotFrequencyInHours": 4}}}


def client():
    from reconciler.azure.clients import Clients

    return Clients(SUB).site_recovery()


def only_job(asr, **kw):
    jobs = list(asr.replication_jobs.list(RG, V, **kw))
    assert len(jobs) == 1, [j.properties.scenario_name for j in jobs]
    return jobs[0]


def test_job_progresses_with_simulated_time(emulator):
    emulator.reset(estate=quickstart_estate(azure=True), time_scale=1)
    asr = client()
    assert list(asr.replication_jobs.list(RG, V)) == []
    asr.replication_policies.begin_create(RG, V, "every-5-min", POLICY, polling=False,
                                          headers={"x-ms-client-request-id": "plan-1234-policy"})
    job = only_job(asr)
    p = job.properties
    assert p.state == "NotStarted" and p.scenario_name == "AddProtectionProfile"
    assert p.activity_id.startswith("plan-1234-policy ActivityId: ")
    assert p.target_object_name == "every-5-min" and p.target_instance_type == "ProtectionProfile"
    # a NotStarted job allows nothing yet (TestTFO.json: the cleanup job's first read)
    assert p.allowed_actions == [] and p.end_time is None
    assert [t.state for t in p.tasks] == ["NotStarted"]
    with pytest.raises(ResourceNotFoundError):  # the policy appears when its job is done
        asr.replication_policies.get(RG, V, "every-5-min")

    emulator.advance(10)
    p = asr.replication_jobs.get(RG, V, job.name).properties
    assert p.state == "InProgress" and p.tasks[0].state == "InProgress" and p.tasks[0].start_time is not None

    emulator.advance(30)
    p = asr.replication_jobs.get(RG, V, job.name).properties
    assert (p.state, p.state_description, p.errors) == ("Succeeded", "Completed", [])
    assert p.end_time is not None and p.end_time - p.start_time == timedelta(seconds=30)
    assert [t.state for t in p.tasks] == ["Succeeded"]
    assert asr.replication_policies.get(RG, V, "every-5-min").name == "every-5-min"


def test_lro_location_follows_the_job(emulator):
    from azure.core.rest import HttpRequest

    emulator.reset(estate=quickstart_estate(azure=True), time_scale=1)
    asr = client()
    poller = asr.replication_policies.begin_create(RG, V, "p1", POLICY, polling=False)
    initial = poller.polling_method()._initial_response.http_response
    assert initial.status_code == 202
    assert "/replicationPolicies/p1/operationresults/" in initial.headers["Location"]  # docs/fidelity.md F-050
    assert "/replicationOperationStatus/" in initial.headers["Azure-AsyncOperation"]
    assert int(initial.headers["Retry-After"]) >= 1

    def get(url):  # the URL as given, through the client's own pipeline (its token)
        return asr.send_request(HttpRequest("GET", url))

    r = get(initial.headers["Location"])
    assert r.status_code == 202 and "Retry-After" in r.headers
    assert get(initial.headers["Azure-AsyncOperation"]).json()["status"] == "InProgress"
    emulator.advance(60)
    r = get(initial.headers["Location"])
    assert r.status_code == 200 and r.json()["name"] == "p1"
    assert get(initial.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded"


def test_job_list_filters(emulator):
    emulator.reset(estate=quickstart_estate(azure=True), time_scale=1)
    asr = client()
    asr.replication_policies.begin_create(RG, V, "first", POLICY, polling=False)
    emulator.advance(120)
    first = only_job(asr)
    cut = first.properties.end_time + timedelta(seconds=1)
    asr.replication_policies.begin_create(RG, V, "second", POLICY, polling=False)
    iso = cut.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    second = only_job(asr, filter=f"startTime ge '{iso}'")
    assert second.properties.target_object_name == "second"
    assert only_job(asr, filter=f"endTime le '{iso}'").name == first.name
    assert only_job(asr, filter="jobStatus eq 'Succeeded'").name == first.name
    assert only_job(asr, filter=f"startTime ge '{iso}' and jobStatus eq 'NotStarted,InProgress'").name == second.name
    assert len(list(asr.replication_jobs.list(RG, V, filter="affectedObjectTypes eq 'ProtectionProfile'"))) == 2
    assert list(asr.replication_jobs.list(RG, V, filter="affectedObjectTypes eq 'RecoveryPlan'")) == []
    assert only_job(asr, filter="jobName eq 'AddProtectionProfile' and jobStatus eq 'Succeeded'").name == first.name
    with pytest.raises(HttpResponseError) as ei:
        list(asr.replication_jobs.list(RG, V, filter="owner eq 'me'"))
    assert ei.value.status_code == 400 and ei.value.error.code == "InvalidQueryParameterValue"
    with pytest.raises(HttpResponseError):
        list(asr.replication_jobs.list(RG, V, filter="startTime ge 'yesterday'"))


def test_job_list_pages_keep_the_filter(emulator):
    emulator.reset(estate=quickstart_estate(applied=True), time_scale=1, page_size=2)
    asr = client()
    emulator.reset_stats()
    jobs = list(asr.replication_jobs.list(RG, V, filter="affectedObjectTypes eq 'ProtectionEntity'"))
    assert [j.properties.scenario_name for j in jobs] == ["EnableDr"] * 4
    assert emulator.stats()["reads"] == 2


def test_item_current_scenario_names_the_running_job(emulator):
    emulator.reset(estate=quickstart_estate(applied=True), time_scale=1)
    asr = client()
    item = next(i for i in asr.replication_protected_items.list(RG, V) if i.properties.friendly_name == "web01")
    parts = item.id.split("/")
    key = (parts[parts.index("replicationFabrics") + 1], parts[parts.index("replicationProtectionContainers") + 1], item.name)
    assert item.properties.current_scenario.scenario_name == "None"
    assert item.properties.current_scenario.job_id.endswith("/replicationJobs/None")
    asr.replication_protected_items.begin_test_failover(RG, V, *key, {"properties": {
        "failoverDirection": "PrimaryToRecovery", "networkType": "NoNetworkAttachAsInput",
        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}, polling=False)
    p = asr.replication_protected_items.get(RG, V, *key).properties
    # testFailoverState keeps its value while the job runs (docs/fidelity.md L-003)
    assert p.current_scenario.scenario_name == "TestFailover" and p.test_failover_state == "None"
    job = asr.replication_jobs.get(RG, V, p.current_scenario.job_id.rsplit("/", 1)[-1])
    assert job.properties.target_object_id == item.name and job.properties.target_object_name == "web01"
    assert job.properties.target_instance_type == "ProtectionEntity"
    emulator.advance(200)
    p = asr.replication_protected_items.get(RG, V, *key).properties
    # the test failover waits for its cleanup: its suspended job stays the current scenario
    # (ReplicationProtectedItems_TestFailover.json; docs/fidelity.md L-002)
    assert p.current_scenario.scenario_name == "TestFailover" and p.test_failover_state == "WaitingForCompletion"
    names = [t.name for t in asr.replication_jobs.get(RG, V, job.name).properties.tasks]
    assert names == ["VmTfoPrerequisitesCheck", "VmTfoInitiateFailover", "VmTfoPrepareTestVm", "VmTfoBootTestVm"]  # L-004


def test_jobfail_fault_fails_jobs_and_rolls_back(emulator):
    emulator.reset(estate=quickstart_estate(azure=True), time_scale=600, faults="jobfail=1,seed=4")
    asr = client()
    with pytest.raises(HttpResponseError) as ei:
        asr.replication_policies.begin_create(RG, V, "every-5-min", POLICY).result()
    assert "InjectedJobFailure" in str(ei.value)
    job = only_job(asr)
    p = job.properties
    assert p.state == "Failed" and p.allowed_actions == ["Restart"]
    err = p.errors[0]
    assert err.service_error_details.code == "InjectedJobFailure" and err.service_error_details.message
    assert err.service_error_details.recommended_action and err.error_level == "Error"
    assert err.task_id == p.tasks[-1].task_id and p.tasks[-1].state == "Failed"
    with pytest.raises(ResourceNotFoundError):
        asr.replication_policies.get(RG, V, "every-5-min")


def test_jobfail_rate_is_seeded(emulator):
    outcomes = []
    for _ in range(2):
        emulator.reset(estate=quickstart_estate(azure=True), time_scale=1, faults="jobfail=0.5,seed=11")
        asr = client()
        for i in range(8):
            asr.replication_policies.begin_create(RG, V, f"p{i}", POLICY, polling=False)
        emulator.advance(60)
        outcomes.append([j.properties.state for j in asr.replication_jobs.list(RG, V)])
    assert outcomes[0] == outcomes[1]
    assert set(outcomes[0]) == {"Succeeded", "Failed"}

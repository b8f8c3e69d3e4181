"""Job control as Azure answers it (docs/fidelity.md "Jobs and recovery plans as runbooks",
J-001..J-005): resume / restart / cancel of `replicationJobs/{job}`, decided by the job's
allowedActions, and a recovery plan job that suspends at a manual action until resumed."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.azure.clients import Clients
from reconciler.emulator.estate import quickstart_estate

SUB = "00000000-0000-0000-0000-000000000001"
RG, V, TRG = "contoso-dr-rg", "contoso-asr-vault", "contoso-failover-rg"
VNET = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Network/virtualNetworks/corp-vnet"


@pytest.fixture
def clients(emulator):
    emulator.reset(estate=quickstart_estate(applied=True), time_scale=1)
    c = Clients(SUB)
    yield c
    c.close()


def _tfo_body():
    return {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput",
                           "networkId": VNET, "providerSpecificDetails": [
                               {"instanceType": "HyperVReplicaAzure", "recoveryPointType": "Latest"}]}}


def _manual(name, text, types=("TestFailover",)):
    return {"actionName": name, "failoverTypes": list(types), "failoverDirections": ["PrimaryToRecovery"],
            "customDetails": {"instanceType": "ManualActionDetails", "description": text}}


def _job(sr, name):
    return sr.replication_jobs.get(RG, V, name).as_dict()["properties"]


def _plan_job(sr, scenario):
    jobs = [j.as_dict() for j in sr.replication_jobs.list(RG, V)]
    jobs = [j for j in jobs if j["properties"]["scenarioName"] == scenario
            and j["properties"]["targetInstanceType"] == "RecoveryPlan"]
    return jobs[-1]["name"]


def test_J005_plan_drill_suspends_at_manual_action_and_resume_goes_on(clients, emulator):
    sr = clients.site_recovery()
    plans = sr.replication_recovery_plans
    groups = plans.get(RG, V, "tier1").as_dict()["properties"]["groups"]
    groups[2]["endGroupActions"] = [_manual("check-sql", "Check that SQL Server answers on the listener"),
                                    _manual("only-on-failover", "not in a drill", types=("PlannedFailover",))]
    # time scale 1: the SDK's poller would follow the update's job in real time; simulated time ends it
    plans.begin_update(RG, V, "tier1", {"properties": {"groups": groups}}, polling=False)
    emulator.advance(600)
    assert _job(sr, _plan_job(sr, "UpdateRecoveryPlan"))["state"] == "Succeeded"
    plans.begin_test_failover(RG, V, "tier1", _tfo_body(), polling=False)
    name = _plan_job(sr, "TestFailover")
    emulator.advance(3600)
    job = _job(sr, name)
    assert job["state"] == "Suspended" and job["allowedActions"] == ["Cancel", "Resume"]
    waiting = [t for t in job["tasks"] if (t.get("customDetails") or {}).get("instanceType") == "ManualActionTaskDetails"]
    assert len(waiting) == 1  # the PlannedFailover-only action is not part of a drill
    assert waiting[0]["state"] == "InProgress"
    assert waiting[0]["customDetails"]["name"] == "check-sql"
    assert waiting[0]["customDetails"]["instructions"] == "Check that SQL Server answers on the listener"
    assert job["stateDescription"] != "WaitingForStopTestFailover"
    later = job["tasks"][job["tasks"].index(waiting[0]) + 1:]
    assert all(t["state"] == "NotStarted" for t in later)

    sr.replication_jobs.begin_resume(RG, V, name, {"properties": {"comments": "SQL answers"}}, polling=False)
    emulator.advance(3600)
    job = _job(sr, name)
    # then the test failover job waits for its cleanup, as recorded (L-001)
    assert job["state"] == "Suspended" and job["stateDescription"] == "WaitingForStopTestFailover"
    assert all(t["state"] == "Succeeded" for t in job["tasks"])
    assert job["customDetails"]["comments"] == "SQL answers"


def test_J002_cancel_a_running_job_then_cancelled(clients, emulator):
    sr = clients.site_recovery()
    sr.replication_recovery_plans.begin_test_failover(RG, V, "tier1", _tfo_body(), polling=False)
    name = _plan_job(sr, "TestFailover")
    emulator.advance(5)
    assert _job(sr, name)["allowedActions"] == ["Cancel"]
    sr.replication_jobs.begin_cancel(RG, V, name).result()
    job = _job(sr, name)
    assert job["state"] == "Cancelling" and job["allowedActions"] == []  # ReplicationJobs_Cancel.json
    emulator.advance(60)
    assert _job(sr, name)["state"] == "Cancelled"
    # the plan is free again: a new test failover starts
    sr.replication_recovery_plans.begin_test_failover(RG, V, "tier1", _tfo_body(), polling=False)


def test_J004_actions_a_job_does_not_allow_are_refused(clients, emulator):
    sr = clients.site_recovery()
    jobs = [j.as_dict() for j in sr.replication_jobs.list(RG, V)]
    done = next(j["name"] for j in jobs if j["properties"]["state"] == "Succeeded")
    for call in (lambda: sr.replication_jobs.begin_resume(RG, V, done, {"properties": {"comments": ""}}),
                 lambda: sr.replication_jobs.begin_restart(RG, V, done),
                 lambda: sr.replication_jobs.begin_cancel(RG, V, done)):
        with pytest.raises(HttpResponseError) as ei:
            call()
        assert ei.value.status_code == 409 and "allows no action" in str(ei.value)


def test_J003_restart_a_failed_job_starts_a_restart_job(clients, emulator):
    sr = clients.site_recovery()
    emulator.set_faults("jobfail=1,seed=1")
    sr.replication_recovery_plans.begin_test_failover(RG, V, "tier1", _tfo_body(), polling=False)
    name = _plan_job(sr, "TestFailover")
    emulator.advance(3600)
    assert _job(sr, name)["state"] == "Failed" and _job(sr, name)["allowedActions"] == ["Restart"]
    emulator.set_faults(None)
    new = sr.replication_jobs.begin_restart(RG, V, name).result().as_dict()
    assert _job(sr, name)["allowedActions"] == []
    restart = [j.as_dict() for j in sr.replication_jobs.list(RG, V) if j.as_dict()["properties"]["scenarioName"] == "RestartJob"]
    assert len(restart) == 1
    p = restart[0]["properties"]
    assert p["friendlyName"] == "Restart job" and p["tasks"][0]["name"] == "RemediateTask"
    assert p["tasks"][0]["customDetails"]["instanceType"] == "ManualActionTaskDetails"
    assert new is not None
    emulator.advance(60)
    assert _job(sr, restart[0]["name"])["state"] == "Succeeded"


def test_J001_resume_of_a_test_failover_waiting_for_cleanup_records_comments(clients, emulator):
    sr = clients.site_recovery()
    sr.replication_recovery_plans.begin_test_failover(RG, V, "tier1", _tfo_body(), polling=False)
    name = _plan_job(sr, "TestFailover")
    emulator.advance(3600)
    assert _job(sr, name)["stateDescription"] == "WaitingForStopTestFailover"
    raw = sr.replication_jobs._resume_initial(RG, V, name, {"properties": {"comments": " "}},
                                              cls=lambda pipeline, x, y: pipeline.http_response)
    # 202 with Azure-AsyncOperation at the vault's replicationOperationStatus, no Location
    assert raw.status_code == 202
    assert "/replicationOperationStatus/" in raw.headers["Azure-AsyncOperation"]
    assert "Location" not in raw.headers and raw.headers.get("Retry-After")
    job = _job(sr, name)
    assert job["state"] == "Suspended" and job["customDetails"]["comments"] == " "

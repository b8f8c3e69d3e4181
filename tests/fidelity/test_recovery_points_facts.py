"""Recovery points of a replicated item (docs/fidelity.md J-006..J-008): hourly points from
the end of initial replication, app-consistent ones by the policy's frequency, kept for the
policy's retention; a failover to a chosen point reports it as failoverRecoveryPointId."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.azure.clients import Clients
from reconciler.emulator.estate import quickstart_estate

SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"


@pytest.fixture
def clients(emulator):
    emulator.reset(estate=quickstart_estate(applied=True), time_scale=1)
    c = Clients(SUB)
    yield c
    c.close()


def _item(sr, vm):
    it = next(i.as_dict() for i in sr.replication_protected_items.list(RG, V) if i.properties.friendly_name == vm)
    parts = it["id"].split("/")
    low = [p.lower() for p in parts]
    return it, parts[low.index("replicationfabrics") + 1], parts[low.index("replicationprotectioncontainers") + 1], it["name"]


def _policy(sr, it):
    pid = it["properties"]["policyId"].rstrip("/").rsplit("/", 1)[-1]
    return sr.replication_policies.get(RG, V, pid).as_dict()["properties"]["providerSpecificDetails"]


def test_J006_hourly_points_app_consistent_by_policy_retention_bounded(clients, emulator):
    sr = clients.site_recovery()
    emulator.advance(3 * 24 * 3600)
    it, f, c, name = _item(sr, "sql01")
    pol = _policy(sr, it)
    pts = [p.as_dict() for p in sr.recovery_points.list_by_replication_protected_items(RG, V, f, c, name)]
    assert pts, "no recovery points after 3 days"
    times = [p["properties"]["recoveryPointTime"] for p in pts]
    assert times == sorted(times, reverse=True)
    retention = pol["recoveryPointHistoryDurationInHours"]
    assert len(pts) == (retention + 1 if retention else 1)
    app = pol["applicationConsistentSnapshotFrequencyInHours"]
    kinds = [p["properties"]["recoveryPointType"] for p in pts]
    assert set(kinds) <= {"CrashConsistent", "AppConsistent"}
    if app:
        assert kinds.count("AppConsistent") >= len(pts) // app
    p0 = pts[0]
    assert p0["id"].startswith(it["id"] + "/recoveryPoints/")
    got = sr.recovery_points.get(RG, V, f, c, name, p0["name"]).as_dict()
    assert got == p0


def test_J007_failover_to_a_chosen_point_reports_it(clients, emulator):
    sr = clients.site_recovery()
    emulator.advance(2 * 24 * 3600)
    it, f, c, name = _item(sr, "web01")
    pts = [p.as_dict() for p in sr.recovery_points.list_by_replication_protected_items(RG, V, f, c, name)]
    chosen = pts[2]
    body = {"properties": {"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
                           "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure",
                                                       "recoveryPointId": chosen["id"]}}}
    bad = {"properties": {**body["properties"], "providerSpecificDetails": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointId": it["id"] + "/recoveryPoints/nope"}}}
    with pytest.raises(HttpResponseError) as ei:
        sr.replication_protected_items.begin_unplanned_failover(RG, V, f, c, name, bad, polling=False)
    assert ei.value.status_code == 400
    sr.replication_protected_items.begin_unplanned_failover(RG, V, f, c, name, body, polling=False)
    emulator.advance(3600)
    after = sr.replication_protected_items.get(RG, V, f, c, name).as_dict()["properties"]
    assert after["failoverRecoveryPointId"].lower() == chosen["id"].lower()
    # the item keeps the points it had when replication stopped
    frozen = [p.as_dict()["name"] for p in sr.recovery_points.list_by_replication_protected_items(RG, V, f, c, name)]
    emulator.advance(5 * 3600)
    assert [p.as_dict()["name"] for p in sr.recovery_points.list_by_replication_protected_items(RG, V, f, c, name)] == frozen
    assert chosen["name"] in frozen


def test_J010_apply_recovery_point_only_while_failover_awaits_commit(clients, emulator):
    sr = clients.site_recovery()
    emulator.advance(2 * 24 * 3600)
    it, f, c, name = _item(sr, "app01")
    pts = [p.as_dict() for p in sr.recovery_points.list_by_replication_protected_items(RG, V, f, c, name)]
    body = {"properties": {"recoveryPointId": pts[4]["id"],
                           "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}
    # Protected: no ChangePit, refused
    assert "ChangePit" not in it["properties"]["allowedOperations"]
    with pytest.raises(HttpResponseError) as ei:
        sr.replication_protected_items.begin_apply_recovery_point(RG, V, f, c, name, body, polling=False)
    assert ei.value.status_code == 409
    fo = {"properties": {"failoverDirection": "PrimaryToRecovery", "sourceSiteOperations": "NotRequired",
                         "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}
    sr.replication_protected_items.begin_unplanned_failover(RG, V, f, c, name, fo, polling=False)
    emulator.advance(3600)
    props = sr.replication_protected_items.get(RG, V, f, c, name).as_dict()["properties"]
    assert props["protectionState"] == "UnplannedFailoverCommitPendingStatesBegin"
    assert "ChangePit" in props["allowedOperations"]
    assert props["failoverRecoveryPointId"].lower() != pts[4]["id"].lower()
    bad = {"properties": {**body["properties"], "recoveryPointId": it["id"] + "/recoveryPoints/nope"}}
    with pytest.raises(HttpResponseError) as ei:
        sr.replication_protected_items.begin_apply_recovery_point(RG, V, f, c, name, bad, polling=False)
    assert ei.value.status_code == 400
    poller = sr.replication_protected_items.begin_apply_recovery_point(RG, V, f, c, name, body, polling=False)
    assert poller.polling_method()._initial_response.http_response.status_code == 202
    jobs = [j.as_dict() for j in sr.replication_jobs.list(RG, V)]
    job = next(j for j in jobs if j["properties"]["scenarioName"] == "ApplyRecoveryPoint")
    assert job["properties"]["targetObjectName"] == "app01"
    emulator.advance(3600)
    after = sr.replication_protected_items.get(RG, V, f, c, name).as_dict()["properties"]
    assert after["failoverRecoveryPointId"].lower() == pts[4]["id"].lower()
    assert "ChangePit" in after["allowedOperations"]  # still before the commit
    sr.replication_protected_items.begin_failover_commit(RG, V, f, c, name, polling=False)
    emulator.advance(3600)
    done = sr.replication_protected_items.get(RG, V, f, c, name).as_dict()["properties"]
    assert "ChangePit" not in done["allowedOperations"]
    with pytest.raises(HttpResponseError) as ei:
        sr.replication_protected_items.begin_apply_recovery_point(RG, V, f, c, name, body, polling=False)
    assert ei.value.status_code == 409

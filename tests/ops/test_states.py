"""Failover state rules: which operation is allowed in which state, and the messages."""

from __future__ import annotations

import pytest

from reconciler.ops.states import (
    ItemState,
    Operation,
    OperationNotAllowedError,
    PlanState,
    check_allowed,
    check_plan_allowed,
)
from tests.ops.conftest import item_json


def st(**kw):
    return ItemState.from_json(item_json("sql01", **kw))


def test_parses_rest_json():
    s = st(rpo=90)
    assert s.vm_name == "sql01"
    assert s.fabric == "fab-vmm01" and s.container == "cloud_1" and s.name == "guid-sql01"
    assert s.rpo_seconds == 90 and s.location == "primary" and not s.scenario.busy
    assert not s.in_test_failover


@pytest.mark.parametrize("op", [Operation.TEST, Operation.PLANNED, Operation.UNPLANNED])
def test_protected_allows_failovers(op):
    check_allowed(st(), op)  # no exception


@pytest.mark.parametrize("op", [Operation.CLEANUP, Operation.COMMIT, Operation.REPROTECT, Operation.FAILBACK, Operation.CANCEL])
def test_protected_refuses_others_naming_the_state(op):
    with pytest.raises(OperationNotAllowedError) as ei:
        check_allowed(st(), op, file="q.yaml")
    msg = ei.value.message
    assert msg.startswith("sql01: ")
    assert "Protected" in msg or "primary site" in msg


def test_second_test_failover_points_to_cleanup():
    s = st(tfo="TestFailoverCompleted", allowed=["TestFailoverCleanup", "DisableProtection"])
    with pytest.raises(OperationNotAllowedError) as ei:
        check_allowed(s, Operation.TEST, file="q.yaml")
    assert "test failover 'TestFailoverCompleted'" in ei.value.message
    assert "Azure allows now: TestFailoverCleanup, DisableProtection" in ei.value.message
    assert ei.value.hint == "a test failover is still active: clean it up first with `asr failover cleanup q.yaml --vm sql01`"
    check_allowed(s, Operation.CLEANUP)


def test_busy_item_refused_with_job():
    s = st(scenario="TestFailover", job="job-42")
    with pytest.raises(OperationNotAllowedError) as ei:
        check_allowed(s, Operation.PLANNED)
    assert "already in progress (TestFailover, job job-42" in ei.value.message


def test_planned_failover_of_failed_over_vm_suggests_failback():
    s = st(state="FailedOver", location="Recovery", allowed=["PlannedFailover", "ReverseReplicate", "DisableProtection"])
    with pytest.raises(OperationNotAllowedError) as ei:
        check_allowed(s, Operation.PLANNED, file="q.yaml")
    assert "already runs in Azure" in ei.value.message and "asr failback q.yaml --vm sql01" in ei.value.hint
    check_allowed(s, Operation.FAILBACK)
    check_allowed(s, Operation.REPROTECT)


def test_commit_needed_hint():
    s = st(state="FailedOver", location="Recovery", allowed=["Commit", "CancelFailover"])
    with pytest.raises(OperationNotAllowedError) as ei:
        check_allowed(s, Operation.UNPLANNED, file="q.yaml")
    assert "asr failover commit q.yaml --vm sql01" in ei.value.hint
    check_allowed(s, Operation.COMMIT)
    check_allowed(s, Operation.CANCEL)


def test_allowed_operations_compare_case_insensitively():
    check_allowed(st(allowed=["testfailover"]), Operation.TEST)


def test_plan_checks():
    plan = PlanState.from_json({"name": "tier1", "id": "/x/tier1", "properties": {
        "allowedOperations": ["TestFailover", "PlannedFailover"],
        "currentScenario": {"scenarioName": "None"},
        "groups": [{"groupType": "Shutdown", "replicationProtectedItems": []},
                   {"groupType": "Boot", "replicationProtectedItems": [{"id": "/a"}, {"id": "/b"}]},
                   {"groupType": "Boot", "replicationProtectedItems": [{"id": "/c"}]}]}})
    assert plan.item_ids() == ["/a", "/b", "/c"]
    check_plan_allowed(plan, Operation.TEST)
    with pytest.raises(OperationNotAllowedError) as ei:
        check_plan_allowed(plan, Operation.COMMIT)
    assert "recovery plan tier1" in ei.value.message and "TestFailover, PlannedFailover" in ei.value.message


def test_initial_replication_hint():
    s = ItemState.from_json(item_json("sql01", state="InitialReplicationInProgress", allowed=["DisableProtection"]))
    s.initial_replication_percent = 64
    with pytest.raises(OperationNotAllowedError) as ei:
        check_allowed(s, Operation.TEST, file="q.yaml")
    assert "state 'InitialReplicationInProgress'" in ei.value.message
    assert ei.value.hint.startswith("wait until the VM is Protected (initial replication 64%)")


@pytest.mark.parametrize("op,kw,expect", [
    (Operation.TEST, dict(tfo="Completed", allowed=["TestFailoverCleanup"]), "already in test failover"),
    (Operation.CLEANUP, dict(), "no test failover to clean up"),
    (Operation.PLANNED, dict(state="PlannedFailoverCommitRequired", location="Recovery",
                             allowed=["Commit", "DisableProtection"]), "already failed over"),
    (Operation.COMMIT, dict(state="PlannedFailoverStatesBegin", location="Recovery",
                            allowed=["Failback", "DisableProtection"]), "already committed"),
    (Operation.FAILBACK, dict(), "already replicating from the primary site"),
    (Operation.REPROTECT, dict(state="InitialReplicationInProgress", allowed=["DisableProtection"]),
     "already replicating from the primary site"),
])
def test_already_done(op, kw, expect):
    from reconciler.ops.states import already_done

    assert expect in already_done(st(**kw), op)


@pytest.mark.parametrize("op,kw", [
    (Operation.TEST, dict()),
    (Operation.PLANNED, dict()),
    (Operation.COMMIT, dict(state="PlannedFailoverCommitRequired", location="Recovery", allowed=["Commit"])),
    (Operation.TEST, dict(tfo="Completed", allowed=[], scenario="TestFailoverCleanup", job="j")),
    (Operation.CANCEL, dict(state="InitialReplicationInProgress", allowed=["DisableProtection"])),
])
def test_not_done(op, kw):
    from reconciler.ops.states import already_done

    assert already_done(st(**kw), op) is None

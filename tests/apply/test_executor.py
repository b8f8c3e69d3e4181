"""The executor on hand-built plans against the emulator: ordering, bounded
parallelism, failure propagation, skipped-with-reason, refusing unknown calls."""

from __future__ import annotations

import threading

import pytest

from reconciler.apply.executor import FAILED, MANUAL, SKIPPED, SUCCEEDED, UNCHANGED, Executor
from reconciler.apply.operations import OPERATIONS, check_request
from reconciler.errors import UsageError
from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request

SUB = "00000000-0000-0000-0000-000000000001"


def rg_change(name: str, *, rg_name: str | None = None, depends_on=(), blocked_by=()) -> Change:
    return Change(
        address=f"resource_group.{name}", kind=Kind.RESOURCE_GROUP, action=Action.CREATE, reason=Reason.MISSING,
        depends_on=list(depends_on), blocked_by=list(blocked_by),
        requests=[Request("resources.resource_groups.create_or_update",
                          {"resource_group_name": rg_name or name, "parameters": {"location": "westeurope"}})],
    )


def plan_of(*changes: Change) -> Plan:
    return Plan(manifest_path="hand-built", subscription=SUB, vault="v", resource_group="rg", changes=list(changes))


def test_failure_stops_only_its_dependents(clients):
    plan = plan_of(
        rg_change("a"),
        rg_change("bad", rg_name="bad!name"),
        rg_change("child-of-bad", depends_on=["resource_group.bad"]),
        rg_change("grandchild", depends_on=["resource_group.child-of-bad"]),
        rg_change("child-of-a", depends_on=["resource_group.a"]),
    )
    events = []
    result = Executor(clients, plan, parallelism=3, emit=events.append).run()
    st = {o.address: o for o in result.outcomes}
    assert st["resource_group.a"].status == SUCCEEDED
    assert st["resource_group.child-of-a"].status == SUCCEEDED
    assert st["resource_group.bad"].status == FAILED
    assert st["resource_group.bad"].error_code == "InvalidResourceGroupName"
    assert st["resource_group.child-of-bad"].status == SKIPPED
    assert "resource_group.bad failed" in st["resource_group.child-of-bad"].reason
    assert st["resource_group.grandchild"].status == SKIPPED
    assert result.failed and not result.converged
    names = {g.name for g in clients.resources.resource_groups.list()}
    assert {"a", "child-of-a"} <= names
    assert "child-of-bad" not in names and "grandchild" not in names
    # a dependent never starts before what it depends on finished
    order = [e["address"] for e in events if e["event"] in ("start", "done")]
    assert order.index("resource_group.child-of-a") > order.index("resource_group.a")


def test_manual_steps_block_their_dependents_and_noops_pass(clients):
    manual = Change(address="vmm_server.vmm09", kind=Kind.VMM_SERVER, action=Action.MANUAL,
                    reason=Reason.NOT_REGISTERED, note="register vmm09 with the vault")
    noop = Change(address="resource_group.same", kind=Kind.RESOURCE_GROUP, action=Action.NOOP)
    plan = plan_of(manual, noop, rg_change("after-noop", depends_on=["resource_group.same"]),
                   rg_change("blocked", blocked_by=["vmm_server.vmm09"]))
    result = Executor(clients, plan, parallelism=2).run()
    st = {o.address: o for o in result.outcomes}
    assert st["vmm_server.vmm09"].status == MANUAL and "register vmm09" in st["vmm_server.vmm09"].reason
    assert st["resource_group.same"].status == UNCHANGED
    assert st["resource_group.after-noop"].status == SUCCEEDED
    assert st["resource_group.blocked"].status == SKIPPED
    assert "vmm_server.vmm09" in st["resource_group.blocked"].reason
    assert "blocked" not in {g.name for g in clients.resources.resource_groups.list()}


def test_parallelism_is_bounded(clients):
    plan = plan_of(*[rg_change(f"p{i}") for i in range(12)])
    active = [0]
    peak = [0]
    lock = threading.Lock()

    def emit(e):
        with lock:
            if e["event"] == "start":
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            elif e["event"] in ("done", "failed"):
                active[0] -= 1

    result = Executor(clients, plan, parallelism=3, emit=emit).run()
    assert all(o.status == SUCCEEDED for o in result.outcomes)
    assert 1 <= peak[0] <= 3


def test_unknown_operation_is_refused_before_any_call(clients, emu):
    emu.reset_stats()
    bad = Change(address="resource_group.x", kind=Kind.RESOURCE_GROUP, action=Action.DELETE,
                 requests=[Request("resources.resource_groups.begin_export_template", {"resource_group_name": "x"})])
    plan = plan_of(rg_change("first"), bad)
    with pytest.raises(UsageError, match="does not carry out"):
        Executor(clients, plan).run()
    assert emu.stats()["writes"] == 0


def test_arguments_are_checked_against_the_sdk_method(clients):
    with pytest.raises(UsageError, match="unknown argument"):
        check_request("resources.resource_groups.create_or_update",
                      {"resource_group_name": "x", "parameters": {}, "bogus": 1}, clients)
    with pytest.raises(UsageError, match="missing argument"):
        check_request("site_recovery.replication_policies.begin_create",
                      {"resource_group_name": "x", "resource_name": "v", "policy_name": "p"}, clients)


def test_every_table_entry_resolves_to_an_sdk_method(clients):
    from reconciler.apply.operations import resolve

    for spec in OPERATIONS.values():
        assert callable(resolve(clients, spec)), spec.key
        assert spec.style in ("asr", "lro", "sync", "await")


def test_the_reason_never_steers_apply_the_action_does(clients, emu):
    """A NOOP is left alone whatever its reason (no job id dug out of before/after);
    an AWAIT reads its job through its request and waits for it."""
    emu.reset_stats()
    noop = Change(address="protected_vm.x", kind=Kind.PROTECTED_VM, action=Action.NOOP,
                  reason=Reason.OPERATION_IN_PROGRESS, before={"status": {"jobId": "job-1"}},
                  after={"status": {"jobId": "job-1"}})
    events = []
    result = Executor(clients, plan_of(noop), emit=events.append).run()
    assert result.outcomes[0].status == UNCHANGED
    assert emu.stats()["requests"] == 0 and not [e for e in events if e["event"] == "await"]
    wait = Change(address="protected_vm.y", kind=Kind.PROTECTED_VM, action=Action.AWAIT, reason=Reason.NONE,
                  requests=[Request("site_recovery.replication_jobs.get",
                                    {"resource_group_name": "rg", "resource_name": "v", "job_name": "no-such-job"})])
    result = Executor(clients, plan_of(wait), emit=events.append).run()
    o = result.outcomes[0]
    assert o.status == FAILED and "GET" in o.error_message and "/replicationJobs/no-such-job" in o.error_message, o
    assert emu.stats()["reads"] >= 1

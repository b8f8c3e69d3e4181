"""`asr jobs` and job control end to end on the emulator, and a drill / failover of a
recovery plan that reaches a manual action (docs/fidelity.md J-001..J-006): it says what
it waits for (the action's text) and goes on with --yes; without a terminal or --yes it
stops naming `asr jobs resume`, which resumes it."""

from __future__ import annotations

import json
import os

import pytest

from reconciler.azure.clients import Clients
from tests.ops.conftest import EXAMPLES
from tests.ops.helpers import JOB_SLACK, asr

QS = os.path.join(EXAMPLES, "quickstart.yaml")
SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
TEXT = "Check that SQL Server answers on the listener"


def add_manual_action(emulator, types=("TestFailover",)):
    """A manual action set outside asr (as in the portal), after group 1 of tier1. Its
    update job runs to its end in simulated time (no SDK poller sleeping its Retry-After)."""
    c = Clients(SUB)
    plans = c.site_recovery().replication_recovery_plans
    groups = plans.get(RG, V, "tier1").as_dict()["properties"]["groups"]
    boot = [g for g in groups if g["groupType"] == "Boot"]
    boot[0]["endGroupActions"] = [{"actionName": "check-sql", "failoverTypes": list(types),
                                   "failoverDirections": ["PrimaryToRecovery"],
                                   "customDetails": {"instanceType": "ManualActionDetails", "description": TEXT}}]
    plans.begin_update(RG, V, "tier1", {"properties": {"groups": groups}}, polling=False)
    emulator.advance(JOB_SLACK)
    c.close()


def jobs(capsys, *extra):
    code, out, err = asr(capsys, "jobs", QS, "--format", "json", *extra)
    assert code == 0, err
    return json.loads(out)["jobs"]


def test_drill_pauses_at_manual_action_says_what_it_waits_for_and_goes_on_with_yes(protected, capsys):
    add_manual_action(protected)
    code, out, err = asr(capsys, "drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json")
    assert code == 0, out + err
    assert "waits for manual action 'check-sql'" in err and TEXT in err and "--yes: resuming it" in err
    rep = json.loads(out)
    assert rep["failover_job_state"] == "Suspended" and rep["cleanup_state"] == "succeeded"
    tfo = [j for j in jobs(capsys, "--recovery-plan", "tier1") if j["scenario"] == "TestFailover"]
    assert tfo and tfo[0]["name"] == rep["failover_job"]


def test_failover_without_terminal_stops_at_manual_action_then_jobs_resume(protected, capsys, monkeypatch):
    add_manual_action(protected)
    answers = iter([None])  # the start is confirmed; the pause finds no terminal

    def ask(question, *, yes, **kw):
        if next(answers, "none") == "none":
            from reconciler.errors import UsageError

            raise UsageError("refusing to continue without confirmation: no terminal to ask on")

    from reconciler.ops import failover as fo
    from reconciler.ops.context import OpsContext, select_targets
    from reconciler.ops.states import Operation

    ctx = OpsContext.load(QS)
    targets = select_targets(ctx.manifest, vms=None, recovery_plan="tier1", file=QS)
    from reconciler.errors import OperationFailedError

    with pytest.raises(OperationFailedError) as ei:
        fo.run_operation(ctx, Operation.TEST, targets, yes=False, ask=ask)
    assert "paused at manual action 'check-sql'" in ei.value.message
    assert f"asr jobs resume {QS}" in (ei.value.hint or "")
    out, _ = capsys.readouterr()
    assert TEXT in out

    rows = jobs(capsys, "--state", "Suspended")
    assert len(rows) == 1 and rows[0]["waitingFor"] == {"kind": "manual-action", "action": "check-sql",
                                                        "instructions": TEXT}
    job = rows[0]["name"]
    code, out, err = asr(capsys, "jobs", QS)
    assert code == 0 and "waiting for manual action 'check-sql'" in out and f"asr jobs resume {QS} {job}" in out

    # restart is not allowed on a suspended job: refused, nothing sent, exit 1
    code, out, err = asr(capsys, "jobs", "restart", QS, job)
    assert code == 1 and "allows Cancel, Resume, not restart" in err

    code, out, err = asr(capsys, "jobs", "resume", QS, job, "--comment", "SQL answers")
    assert code == 0, err
    assert f"resumed job {job}" in out
    protected.advance(3600)
    row = next(r for r in jobs(capsys) if r["name"] == job)
    assert row["state"] == "Suspended" and row["waitingFor"]["kind"] == "test-failover-cleanup"
    # the test failover is up: the cleanup works as usual
    code, out, err = asr(capsys, "failover", "cleanup", QS, "--recovery-plan", "tier1", "--yes")
    assert code == 0, out + err


def test_jobs_filters_and_cancel(protected, capsys):
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "web01", "--yes")
    assert code == 0, out + err
    rows = jobs(capsys, "--vm", "web01")
    assert rows and all(r["target"] == "web01" for r in rows)
    assert jobs(capsys, "--vm", "web01", "--since", "2000-01-01T00:00:00Z")
    tfo = next(r for r in rows if r["scenario"] == "TestFailover")
    assert tfo["state"] == "Suspended" and tfo["allowedActions"] == ["Cancel", "Resume"]
    code, out, err = asr(capsys, "jobs", "cancel", QS, tfo["name"])
    assert code == 0, err
    assert "cancel requested" in out and ("now Cancelling" in out or "now Cancelled" in out)  # 5 simulated s
    protected.advance(60)
    assert next(r for r in jobs(capsys) if r["name"] == tfo["name"])["state"] == "Cancelled"
    # a finished job allows nothing
    code, out, err = asr(capsys, "jobs", "resume", QS, tfo["name"])
    assert code == 1 and "allows no action, not resume" in err
    code, out, err = asr(capsys, "jobs", QS, "--since", "yesterday")
    assert code == 1 and "--since" in err

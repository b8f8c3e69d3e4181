"""Progress renderers and the summary, checked by reading their output back."""

import io
import json
import re

from reconciler.apply.executor import FAILED, IN_PROGRESS, MANUAL, SKIPPED, SUCCEEDED, UNCHANGED, ApplyResult, Outcome
from reconciler.apply.jobs import JobView
from reconciler.apply.lock import LeaseInfo
from reconciler.apply.progress import JsonProgress, TextProgress, make_progress
from reconciler.apply.summary import exit_status, render

EVENTS = [
    {"event": "start", "address": "policy.every-5-min", "action": "create"},
    {"event": "sent", "address": "policy.every-5-min", "operation": "site_recovery.replication_policies.begin_create",
     "status": 202, "request_id": "r1"},
    {"event": "job", "address": "policy.every-5-min", "job": "j1", "scenario": "AddProtectionProfile",
     "state": "InProgress", "percent": 50, "tasks": [{"name": "Prerequisites check", "state": "Succeeded"},
                                                     {"name": "Create policy", "state": "InProgress"}]},
    {"event": "done", "address": "policy.every-5-min", "action": "create", "seconds": 1.5},
    {"event": "failed", "address": "protected_vm.sql01", "code": "ProtectionFailed", "message": "disk too big"},
    {"event": "skipped", "address": "recovery_plan.tier1", "reason": "depends on protected_vm.sql01 failed"},
]


def test_text_progress_is_one_timestamped_line_per_event():
    buf = io.StringIO()
    p = TextProgress(buf)
    for e in EVENTS:
        p(e)
    lines = buf.getvalue().splitlines()
    assert len(lines) == len(EVENTS)
    for line in lines:
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line), line
    assert "50%" in lines[2] and "Create policy" in lines[2]
    assert "FAILED: ProtectionFailed: disk too big" in lines[4]


def test_json_progress_parses_back():
    buf = io.StringIO()
    p = JsonProgress(buf)
    for e in EVENTS:
        p(e)
    parsed = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert [x["event"] for x in parsed] == [e["event"] for e in EVENTS]
    assert all("time" in x for x in parsed)
    assert parsed[2]["percent"] == 50


def test_auto_without_terminal_is_text():
    assert isinstance(make_progress("auto", io.StringIO()), TextProgress)
    assert isinstance(make_progress("json", io.StringIO()), JsonProgress)


def _result() -> ApplyResult:
    return ApplyResult(outcomes=[
        Outcome("policy.every-5-min", "create", SUCCEEDED, jobs=[{"name": "j1", "state": "Succeeded"}]),
        Outcome("protected_vm.sql01", "create", FAILED, error_code="ProtectionFailed", error_message="disk too big",
                jobs=[{"name": "j2", "state": "Failed", "tasks": [{"name": "Enable", "state": "Failed"}]}]),
        Outcome("recovery_plan.tier1", "create", SKIPPED, reason="depends on protected_vm.sql01 failed"),
        Outcome("vmm_server.vmm02", "manual", MANUAL, reason="not registered"),
        Outcome("protected_vm.web01", "create", IN_PROGRESS, reason="interrupted"),
        Outcome("vault.v", "noop", UNCHANGED),
    ], requests={"requests": 10, "reads": 6, "writes": 4, "throttled": 2, "server_errors": 1,
                 "retry_budget_per_request": 10, "job_list_reads": 3, "pacing_wait_seconds": 0})


def test_summary_text_lists_everything_with_codes_and_reasons():
    buf = io.StringIO()
    render(_result(), buf, "text")
    text = buf.getvalue()
    assert "1 succeeded, 1 failed, 1 skipped, 1 manual, 1 still running in Azure, 1 unchanged" in text
    assert "FAILED   protected_vm.sql01 (create): ProtectionFailed: disk too big" in text
    assert "task Enable: Failed" in text
    assert "skipped  recovery_plan.tier1: depends on protected_vm.sql01 failed" in text
    assert "2 answered 429" in text and "at most 10 retries" in text
    assert exit_status(_result()) == 1


def test_summary_json_parses_back():
    buf = io.StringIO()
    render(_result(), buf, "json")
    d = json.loads(buf.getvalue())
    assert d["counts"] == {"succeeded": 1, "failed": 1, "skipped": 1, "manual": 1, "in_progress": 1, "unchanged": 1}
    failed = [o for o in d["outcomes"] if o["status"] == "failed"][0]
    assert failed["error"] == {"code": "ProtectionFailed", "message": "disk too big"}


def test_converged_result_exits_zero():
    ok = ApplyResult(outcomes=[Outcome("a", "create", SUCCEEDED), Outcome("b", "noop", UNCHANGED)])
    assert exit_status(ok) == 0


def test_lease_format_round_trip():
    raw = "asr:ci|build-7|4242|2020-01-02T03:00:00Z|2020-01-02T03:02:00Z"
    info = LeaseInfo.parse(raw)
    assert info is not None and info.holder == "asr:ci" and info.host == "build-7" and info.pid == 4242
    assert "asr:ci on build-7 (pid 4242) since 2020-01-02T03:00:00Z" == info.describe()
    assert info.expired()
    assert LeaseInfo.parse("garbage") is None
    assert LeaseInfo.parse("a|b|notapid|x|y") is None


def test_job_view_reads_the_sdk_model():
    from azure.mgmt.recoveryservicessiterecovery.models import Job

    job = Job({
        "name": "j-1", "id": "/Subscriptions/x/replicationJobs/j-1",
        "properties": {
            "activityId": "ABC-123 ActivityId: 9", "scenarioName": "EnableDr", "state": "Failed",
            "targetObjectId": "vm-guid", "targetObjectName": "sql01", "startTime": "2026-11-22T03:00:00Z",
            "tasks": [{"name": "t1", "friendlyName": "Prerequisites check", "state": "Succeeded"},
                      {"name": "t2", "friendlyName": "Enable protection", "state": "Failed"}],
            "errors": [{"serviceErrorDetails": {"code": "70094", "message": "The VM is not reachable"}}],
        },
    })
    v = JobView.from_job(job)
    assert v.terminal and not v.succeeded
    assert v.percent == 100
    assert v.errors == [{"code": "70094", "message": "The VM is not reachable"}]
    assert v.activity_id.lower().startswith("abc-123")
    assert v.start_time is not None


def test_long_success_lists_are_cut_but_failures_never():
    outcomes = [Outcome(f"protected_vm.vm{i:03d}", "create", SUCCEEDED) for i in range(60)]
    outcomes += [Outcome(f"protected_vm.bad{i:03d}", "create", FAILED, error_code="E", error_message="m")
                 for i in range(55)]
    buf = io.StringIO()
    render(ApplyResult(outcomes=outcomes), buf, "text")
    lines = buf.getvalue().splitlines()
    assert sum(1 for x in lines if x.startswith("  ok       protected_vm.")) == 50
    assert any("... and 10 more" in x for x in lines)
    assert sum(1 for x in lines if x.startswith("  FAILED   ")) == 55

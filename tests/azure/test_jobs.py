"""The one job follower (reconciler/azure/jobs.py): matching (table-driven, for the
applier's and day-2's policies), and no wait without an end: a job list that answers
403 or 500 for ever, and a job that never ends, all end within their bounds with a
clear message; a wait longer than the progress interval says what it waits for."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from reconciler.azure.clients import Clients
from reconciler.azure.jobs import APPLY, JobFollower, JobMatcher, Tracked
from reconciler.errors import AuthorizationError, AzureError, OperationFailedError
from reconciler.live.jobs import JobView, parse_timestamp
from reconciler.ops.jobs import OPS
from reconciler.ops.jobs import JobFollower as OpsFollower
from reconciler.settings import Settings
from tests.azure.fakearm import FakeArm, arm_error, job_json

SUB = "00000000-0000-0000-0000-000000000001"
RID = "0d3f6a52-1111-4a5e-9a3e-000000000001"
SENT = parse_timestamp("2026-12-06T05:00:00Z")


def J(name, *, activity="", target="app01", scenario="EnableDr", start="2026-12-06T05:00:00Z", target_id=None):
    return JobView.from_json(job_json(name, activity=activity, target=target, scenario=scenario, start=start,
                                      target_id=target_id))


def T(*, request_id=RID, job_name=None, targets=("app01",), scenarios=("enabledr",), polls=0):
    return Tracked(label="protected_vm.app01", request_id=request_id.lower() if request_id else None,
                   job_name=job_name, targets=targets, scenarios=scenarios, sent_at=SENT, polls_unmatched=polls)


ASR_ACTIVITY = f"{RID} ActivityId: 5c6e2f0a-2222-4e1b-8d3f-000000000002"
CASES = [
    # (case, policy, tracked, jobs, claimed, expected job name)
    ("activityId starts with our request id", APPLY, T(), [J("other", activity="x"), J("ours", activity=ASR_ACTIVITY)],
     set(), "ours"),
    ("same for ops", OPS, T(), [J("ours", activity=ASR_ACTIVITY.upper())], set(), "ours"),
    ("request id inside, not first: no match", OPS, T(targets=()), [J("x", activity=f"abc {RID}")], set(), None),
    ("a job known by name is matched by name only", APPLY, T(job_name="known"),
     [J("other", activity=ASR_ACTIVITY), J("known")], set(), "known"),
    ("known name not listed yet: nothing", OPS, T(job_name="known"), [J("other", activity=ASR_ACTIVITY)], set(), None),
    # the fallback, used when Azure gives no activityId
    ("no activityId: apply waits two reads before the fallback", APPLY, T(polls=1), [J("j1")], set(), None),
    ("no activityId: apply falls back after two reads", APPLY, T(polls=2), [J("j1")], set(), "j1"),
    ("no activityId: ops falls back at once", OPS, T(), [J("j1")], set(), "j1"),
    ("fallback: apply prefers the newest", APPLY, T(polls=2),
     [J("early", start="2026-12-06T05:00:10Z"), J("late", start="2026-12-06T05:01:00Z")], set(), "late"),
    ("fallback: ops prefers the earliest", OPS, T(),
     [J("late", start="2026-12-06T05:01:00Z"), J("early", start="2026-12-06T05:00:10Z")], set(), "early"),
    ("fallback: the expected scenario first", OPS, T(),
     [J("other", scenario="UpdateReplicationProtectedItem", start="2026-12-06T04:59:00Z"),
      J("enable", start="2026-12-06T05:00:30Z")], set(), "enable"),
    ("fallback: never a job claimed by another", OPS, T(), [J("j1"), J("j2", start="2026-12-06T05:00:05Z")],
     {"j1"}, "j2"),
    ("fallback: not a job started long before the write", OPS, T(), [J("old", start="2026-12-06T04:57:00Z")],
     set(), None),
    ("fallback: within the window (clock skew)", OPS, T(), [J("skewed", start="2026-12-06T04:58:30Z")],
     set(), "skewed"),
    ("fallback: target by the tail of targetObjectId", OPS, T(targets=("APP01".lower(),)),
     [J("byid", target="", target_id="/Subscriptions/S/replicationProtectedItems/App01")], set(), "byid"),
    ("fallback: another target is not ours", APPLY, T(polls=5), [J("web", target="web01")], set(), None),
]


@pytest.mark.parametrize("case,policy,tracked,jobs,claimed,expected", CASES, ids=[c[0] for c in CASES])
def test_matcher(case, policy, tracked, jobs, claimed, expected):
    got = JobMatcher(policy).match(tracked, jobs, claimed)
    assert (got.name if got else None) == expected


def fast(emulator_env_url: str, ca: str, **kw) -> Settings:
    base = dict(arm_endpoint=emulator_env_url, ca_bundle=ca, job_poll_min=0.1, job_poll_max=0.2,
                retry_total=3, retry_timeout=1.0, connect_timeout=2.0, read_timeout=2.0, deadline=8.0,
                job_read_errors=2.0, progress_interval=0.3)
    base.update(kw)
    return Settings(**base)


@pytest.fixture
def fake(emulator, tmp_path):
    with FakeArm(str(tmp_path)) as arm:
        yield arm


def test_job_list_answering_403_for_ever_ends_at_once_with_azures_message(fake):
    fake.answer(403, arm_error("AuthorizationFailed", "The client 'x' does not have authorization to perform "
                                                      "action 'Microsoft.RecoveryServices/vaults/replicationJobs/read'"))
    clients = Clients(SUB, settings=fast(fake.url, fake.certs.ca_cert))
    f = JobFollower(clients, "rg", "v", settings=clients.config)
    t = f.follow("protected_vm.app01", request_id=RID, targets=("app01",), timeout=1)
    t0 = time.monotonic()
    f.start()
    assert t.event.wait(10), "the wait never ended"
    f.close()
    assert time.monotonic() - t0 < 5
    assert isinstance(t.error, AuthorizationError)
    assert "permission denied (403)" in t.error.message and "replicationJobs" in t.error.message
    assert "AuthorizationFailed" in t.error.message
    assert f.list_calls == 1  # a refusal retrying does not change is not asked again


def test_job_list_answering_500_for_ever_ends_within_the_read_error_budget(fake):
    fake.answer(500, arm_error("InternalServerError", "Encountered internal server error."))
    clients = Clients(SUB, settings=fast(fake.url, fake.certs.ca_cert, job_read_errors=2.0, deadline=30.0))
    lines: list[str] = []
    f = JobFollower(clients, "rg", "v", settings=clients.config, on_waiting=lines.append)
    t = f.follow("protected_vm.app01", what="enable protection", request_id=RID, targets=("app01",))
    t0 = time.monotonic()
    f.start()
    assert t.event.wait(20), "the wait never ended"
    took = time.monotonic() - t0
    f.close()
    assert took < 10, took  # budget 2 s + one read (retries bounded at 1 s + one read timeout)
    assert isinstance(t.error, AzureError) and not t.timed_out
    assert "Azure answered 500 for GET" in t.error.message and "InternalServerError" in t.error.message
    assert any("last read of the job list failed: " in x for x in lines), lines


def test_job_list_answering_500_hits_the_deadline_first_when_it_is_shorter(fake):
    fake.answer(500, arm_error("InternalServerError", "Encountered internal server error."))
    clients = Clients(SUB, settings=fast(fake.url, fake.certs.ca_cert, job_read_errors=600.0, deadline=2.0))
    f = JobFollower(clients, "rg", "v", settings=clients.config)
    t = f.follow("protected_vm.app01", request_id=RID, targets=("app01",))
    f.start()
    assert t.event.wait(20)
    f.close()
    assert t.timed_out and t.error is not None and "500" in t.error.message


def test_ops_follower_raises_a_clear_error_when_the_job_list_is_refused(fake):
    fake.answer(403, arm_error("AuthorizationFailed", "no read on replicationJobs"))
    clients = Clients(SUB, settings=fast(fake.url, fake.certs.ca_cert))
    f = OpsFollower(clients, "rg", "v", sleep=lambda s: None, timeout=1)
    f.watch("app01", request_id=RID, target_id="/x/replicationProtectedItems/app01",
            started=dt.datetime.now(dt.UTC))
    t0 = time.monotonic()
    with pytest.raises(OperationFailedError, match=r"stopped waiting for the jobs of: app01: .*permission denied \(403\)"):
        f.wait()
    assert time.monotonic() - t0 < 5


def test_ops_follower_500_for_ever_ends_at_its_deadline_in_simulated_time(fake):
    fake.answer(500, arm_error("InternalServerError", "Encountered internal server error."))
    # no SDK retries: each read fails at once, the follower's own waits are simulated
    clients = Clients(SUB, settings=fast(fake.url, fake.certs.ca_cert, job_read_errors=3600.0, retry_total=0))
    f = OpsFollower(clients, "rg", "v", sleep=lambda s: None, interval=5.0, timeout=12.0)
    f.watch("app01", request_id=RID, target_id="/x/replicationProtectedItems/app01",
            started=dt.datetime.now(dt.UTC))
    with pytest.raises(OperationFailedError, match=r"gave up waiting .* for the jobs of: app01; last error: "
                                                   r"read the job list of vault v: Azure answered 500"):
        f.wait()
    assert f.reads <= 5


def test_a_wait_longer_than_the_progress_interval_says_what_it_waits_for(fake):
    fake.answer(200, {"value": [job_json("job-1", "InProgress")]})
    clients = Clients(SUB, settings=fast(fake.url, fake.certs.ca_cert, deadline=1.5, progress_interval=0.3))
    lines: list[str] = []
    f = JobFollower(clients, "rg", "v", settings=clients.config, on_waiting=lines.append)
    t = f.follow("protected_vm.app01", what="enable protection", job_name="job-1")
    f.start()
    assert t.event.wait(10)
    f.close()
    assert t.timed_out and t.job is not None and t.job.state == "InProgress" and t.error is None
    assert lines, "no waiting line"
    assert lines[0].startswith("still waiting for 1 job(s): enable protection of protected_vm.app01 (InProgress, ")


def test_no_waiting_line_before_the_interval(fake):
    fake.answer(200, {"value": [job_json("job-1", "Succeeded")]})
    clients = Clients(SUB, settings=fast(fake.url, fake.certs.ca_cert, progress_interval=30.0))
    lines: list[str] = []
    f = JobFollower(clients, "rg", "v", settings=clients.config, on_waiting=lines.append)
    t = f.follow("protected_vm.app01", job_name="job-1")
    f.start()
    assert t.event.wait(10)
    f.close()
    assert t.job.succeeded and not lines

"""The job engine without HTTP: state and tasks over simulated time, errors,
the $filter grammar and its ASR semantics."""

from __future__ import annotations

import pytest

from reconciler.emulator.siterecovery.jobs import (
    QUEUE_DELAY,
    FilterError,
    Job,
    JobError,
    TaskSpec,
    iso,
    job_matches,
    parse_iso,
    parse_job_filter,
)

T0 = 1_800_000_000.0
VAULT = "/Subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v"


def job(**kw):
    base = dict(name="j1", vault_id=VAULT, scenario="EnableDr", friendly_name="Enable replication", target_object_id="vm-guid",
                target_object_name="sql01", target_instance_type="ProtectionEntity", activity_id="req-1 ActivityId: a",
                created=T0, tasks=[TaskSpec("A", "first", 10), TaskSpec("B", "second", 20)])
    base.update(kw)
    return Job(**base)


def test_state_and_tasks_follow_the_clock():
    j = job()
    s = lambda t: (j.to_json(t)["properties"]["state"], [x["state"] for x in j.to_json(t)["properties"]["tasks"]])  # noqa: E731
    assert s(T0) == ("NotStarted", ["NotStarted", "NotStarted"])
    assert s(T0 + QUEUE_DELAY + 1) == ("InProgress", ["InProgress", "NotStarted"])
    assert s(T0 + QUEUE_DELAY + 15) == ("InProgress", ["Succeeded", "InProgress"])
    j.final, j.final_at = "Succeeded", j.end
    props = j.to_json(T0 + 100)["properties"]
    assert (props["state"], props["stateDescription"], props["endTime"]) == ("Succeeded", "Completed", iso(T0 + QUEUE_DELAY + 30))
    assert [x["endTime"] for x in props["tasks"]] == [iso(T0 + QUEUE_DELAY + 10), iso(T0 + QUEUE_DELAY + 30)]
    assert j.id == VAULT + "/replicationJobs/j1"


def test_failed_job_carries_arm_shaped_errors():
    j = job(fail=JobError("Boom", "It failed.", "cause", "retry"))
    j.final, j.final_at = "Failed", j.end
    props = j.to_json(j.end)["properties"]
    assert props["state"] == "Failed" and props["allowedActions"] == ["Restart"]
    (err,) = props["errors"]
    assert err["serviceErrorDetails"] == {"code": "Boom", "message": "It failed.", "possibleCauses": "cause",
                                          "recommendedAction": "retry", "activityId": "req-1 ActivityId: a"}
    assert err["taskId"] == props["tasks"][-1]["taskId"] and props["tasks"][-1]["state"] == "Failed"
    assert j.error_body()["code"] == "Boom"


def test_iso_has_seven_fraction_digits_and_parses_back():
    s = iso(T0 + 0.25)
    assert s.endswith("2500000Z") and abs(parse_iso(s) - (T0 + 0.25)) < 1e-6
    assert parse_iso("2027-01-15T08:00:00Z") == parse_iso("2027-01-15T09:00:00+01:00")


def test_filter_grammar():
    assert parse_job_filter(None) == []
    assert parse_job_filter("startTime ge '2027-01-01T00:00:00Z' and jobStatus eq 'InProgress'") == [
        ("starttime", "ge", "2027-01-01T00:00:00Z"), ("jobstatus", "eq", "InProgress")]
    for bad in ("startTime >= '2027'", "owner eq 'x'", "startTime ge 'soon'", "jobStatus eq InProgress"):
        with pytest.raises(FilterError):
            parse_job_filter(bad)


def test_filter_semantics():
    j = job()
    now = T0 + 5
    before, after = iso(T0 - 60), iso(T0 + 60)
    assert job_matches(j, parse_job_filter(f"startTime ge '{before}'"), now)
    assert not job_matches(j, parse_job_filter(f"startTime ge '{after}'"), now)
    assert job_matches(j, parse_job_filter(f"startTime eq '{before}'"), now)  # eq: a lower bound, as ASR treats it
    assert job_matches(j, parse_job_filter(f"endTime le '{after}'"), now)
    assert not job_matches(j, parse_job_filter(f"endTime le '{before}'"), now)
    assert job_matches(j, parse_job_filter("jobStatus eq 'NotStarted,InProgress'"), now)
    assert not job_matches(j, parse_job_filter("jobStatus eq 'Succeeded'"), now)
    assert job_matches(j, parse_job_filter("affectedObjectTypes eq 'ProtectionEntity'"), now)
    assert job_matches(j, parse_job_filter("jobName eq 'EnableDr'"), now)
    assert not job_matches(j, parse_job_filter("jobName ne 'EnableDr'"), now)
    j.fabric_id = VAULT + "/replicationFabrics/f1"
    assert job_matches(j, parse_job_filter(f"fabricId eq '{j.fabric_id.lower()}'"), now)

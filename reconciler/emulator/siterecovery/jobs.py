"""Replication jobs and the event queue that moves simulated time forward.

Every Site Recovery write creates a `Job`. A job waits `QUEUE_DELAY` simulated
seconds in NotStarted, then runs its tasks one after the other; its state at any
moment is computed from the clock (so a read never mutates anything). When the
last task ends, an event fires the job's completion callback, which is where the
write takes effect (a policy appears, an item fails over...). A job chosen by the
`jobfail` fault fails in its last task with ARM-shaped error details and its
failure callback rolls the object back, so re-running the same write converges.

Time is lazy: the completion events go to the framework's scheduler
(`state.schedule`), whose due callbacks run at the start of each request, in time
order, each told the simulated time it was due.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

QUEUE_DELAY = 2.0  # simulated seconds a job stays NotStarted

UNSET_TIME = "0001-01-01T00:00:00"  # start/end of a task that has not started/ended, as Azure shows it
IDLE_START = "1753-01-01T01:01:01Z"  # what Azure shows as startTime of the idle scenario "None"
# what Azure shows as the start / end time of a task that has not started / not ended
# (PowerShell SessionRecords AsrB2ATests/TestTFO.json, TestPlannedFailover.json)
NO_TIME = "0001-01-01T00:00:00"
# the state description of a test failover job waiting for its cleanup (ReplicationJobs_Resume.json)
WAITING_FOR_CLEANUP = "WaitingForStopTestFailover"
# the state description of a job (and its task) waiting at a recovery plan's manual action: a guess
# (no recording shows one; docs/fidelity.md J-005)
WAITING_FOR_MANUAL_ACTION = "WaitingForManualAction"


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    dt = datetime.fromtimestamp(t, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"  # 7 digits, as ARM writes them


def parse_iso(s: str) -> float:
    """ISO 8601 (with Z, an offset or naive = UTC) -> epoch seconds. ValueError on junk."""
    s = s.strip()
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    # Python < 3.11 cannot parse 7-digit fractions; trim to 6.
    if "." in s:
        head, _, frac = s.partition(".")
        digits = ""
        rest = ""
        for i, ch in enumerate(frac):
            if ch.isdigit():
                digits += ch
            else:
                rest = frac[i:]
                break
        s = head + "." + (digits[:6] or "0") + rest
    dt = datetime.fromisoformat(s)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


@dataclass
class TaskSpec:
    name: str
    friendly_name: str
    seconds: float
    group: tuple[str, str] | None = None  # recovery plan group: (groupId, rpGroupType)
    children: list[tuple[str, str]] = field(default_factory=list)  # (item name, VM name) failed over in this group
    # a recovery plan action's task: its customDetails (ManualActionTaskDetails...); `pause`: the job
    # suspends when it reaches the task until a resume (a manual action; docs/fidelity.md J-005)
    details: dict[str, Any] | None = None
    pause: bool = False


@dataclass
class JobError:
    code: str
    message: str
    possible_causes: str = ""
    recommended_action: str = ""


@dataclass
class Job:
    name: str
    vault_id: str  # canonical (capital-S) vault id
    scenario: str
    friendly_name: str
    target_object_id: str
    target_object_name: str
    target_instance_type: str
    activity_id: str
    created: float
    tasks: list[TaskSpec]
    fabric_id: str | None = None  # for $filter fabricId
    affected: dict[str, str] = field(default_factory=dict)
    fail: JobError | None = None  # decided at creation (jobfail fault) or by the callback
    final: str | None = None  # Succeeded / Failed / Cancelled once the completion event ran
    final_at: float | None = None
    task_ids: list[str] = field(default_factory=list)
    on_success: Callable[[float], None] | None = None
    on_failure: Callable[[float], None] | None = None
    custom_instance_type: str = "AsrJobDetails"
    fail_task: int | None = None  # index of the task a failure ends the job in (None: the last)
    custom_extra: dict[str, Any] = field(default_factory=dict)  # more customDetails (TestFailoverJobDetails...)
    suspend: bool = False  # a test failover job: Suspended (WaitingForStopTestFailover) when its tasks end
    suspended_at: float | None = None
    details_when_done: list[dict[str, Any]] = field(default_factory=list)  # customDetails.protectedItemDetails
    overlay: dict[str, Any] | None = None  # test hook: properties written over the rendering (SiteRecovery.overlay)
    # job control (emulator/siterecovery/jobcontrol.py): pauses at manual actions, cancel, restart
    pauses: list[tuple[int, float]] = field(default_factory=list)  # (task index, seconds it waited), resumed
    waiting: tuple[int, float] | None = None  # (task index, since): suspended at a manual action
    cancel_at: float | None = None  # cancel asked: Cancelling until cancel_at + CANCEL_SECONDS
    restarted: bool = False  # a RestartJob was started for this failed job

    def __post_init__(self) -> None:
        if not self.task_ids:
            self.task_ids = [str(uuid.uuid4()) for _ in self.tasks]

    @property
    def id(self) -> str:
        return f"{self.vault_id}/replicationJobs/{self.name}"

    @property
    def start(self) -> float:
        return self.created + QUEUE_DELAY

    def paused(self, index: int) -> float:
        """Seconds task `index` waited for a resume (0 for a task that never paused)."""
        return sum(p for k, p in self.pauses if k == index)

    @property
    def duration(self) -> float:
        if self.fail is not None and self.fail_task is not None:
            return sum(t.seconds for t in self.tasks[: self.fail_task + 1]) + sum(
                p for k, p in self.pauses if k <= self.fail_task)
        return sum(t.seconds for t in self.tasks) + sum(p for _, p in self.pauses)

    def task_start(self, index: int) -> float:
        return self.start + sum(t.seconds for t in self.tasks[:index]) + sum(p for k, p in self.pauses if k < index)

    @property
    def failed_task(self) -> int:
        return self.fail_task if self.fail_task is not None else len(self.tasks) - 1

    @property
    def end(self) -> float:
        return self.start + self.duration

    def state(self, now: float) -> str:
        if self.final:
            return self.final
        if self.cancel_at is not None:
            return "Cancelling"  # ReplicationJobs_Cancel.json
        if self.suspended_at is not None or self.waiting is not None:
            return "Suspended"
        if now < self.start:
            return "NotStarted"
        return "InProgress"

    def error_body(self) -> dict[str, Any] | None:
        """The ARM error an LRO that follows this job fails with."""
        if self.final != "Failed" or self.fail is None:
            return None
        return {
            "code": self.fail.code,
            "message": self.fail.message,
            # ASR's ARMExceptionDetails: code, message, possibleCauses, recommendedAction, activityId... (F-052)
            "details": [
                {"code": self.fail.code, "message": self.fail.message, "possibleCauses": self.fail.possible_causes,
                 "recommendedAction": self.fail.recommended_action, "activityId": self.activity_id,
                 "target": self.target_object_name}
            ],
        }

    # ---- rendering --------------------------------------------------
    def to_json(self, now: float) -> dict[str, Any]:
        state = self.state(now)
        tasks = []
        t = self.start
        for i, spec in enumerate(self.tasks):
            t_end = t + spec.seconds + self.paused(i)
            last = i == self.failed_task if self.fail is not None else i == len(self.tasks) - 1
            waiting_here = self.waiting is not None and self.waiting[0] == i and self.final is None
            if waiting_here:
                ts = "InProgress"  # waiting for the manual action (J-005: guess)
            elif self.waiting is not None and i > self.waiting[0] and self.final is None:
                ts = "NotStarted"
            elif self.fail is not None and i > self.failed_task:
                ts = "NotStarted"  # after the failed task (unconfirmed)
            elif self.final == "Cancelled" and (self.final_at or 0) < t_end:
                ts = "Cancelled" if (self.final_at or 0) >= t else "Skipped"
            elif now < t or state == "NotStarted":
                ts = "NotStarted"
            elif now < t_end and self.final is None and self.suspended_at is None:
                ts = "InProgress"
            elif last and self.final == "Failed":
                ts = "Failed"
            elif self.final is None and self.suspended_at is None and last:
                ts = "InProgress"  # completion event not run yet
            else:
                ts = "Succeeded"
            task: dict[str, Any] = {
                "taskId": self.task_ids[i],
                "name": spec.name,
                "friendlyName": spec.friendly_name,
                "state": ts,
                "stateDescription": WAITING_FOR_MANUAL_ACTION if waiting_here else _DESCR.get(ts, ts),
                "taskType": "TaskDetails",
                "allowedActions": [],
                # a task not started / not ended shows .NET's DateTime.MinValue (TestEnableDR.json): F-044
                "startTime": iso(t) if ts not in ("NotStarted", "Skipped") else UNSET_TIME,
                "endTime": iso(t_end) if ts in ("Succeeded", "Failed") else UNSET_TIME,
                "errors": [self._error_json(i)] if ts == "Failed" else [],
            }
            if spec.details is not None:  # a recovery plan action's task (ReplicationJobs_Restart.json): J-005
                task["customDetails"] = dict(spec.details)
                if waiting_here:
                    task["allowedActions"] = ["Resume"]  # guess
            elif spec.group is None:  # a plain task (CreateFabricTests.json, TestEnableDR.json): F-043
                task["customDetails"] = {"instanceType": "TaskDetails"}
            if spec.group is not None:
                task["groupTaskCustomDetails"] = {
                    "instanceType": "RecoveryPlanGroupTaskDetails",
                    "name": spec.friendly_name,
                    "groupId": spec.group[0],
                    "rpGroupType": spec.group[1],
                    "childTasks": [
                        {
                            "taskId": f"{self.task_ids[i]}-{k}",
                            "name": f"{spec.name}Vm{k + 1}",
                            "friendlyName": f"{self.friendly_name}: {vm}",
                            "state": ts,
                            "stateDescription": _DESCR.get(ts, ts),
                            "startTime": task["startTime"],
                            "endTime": task["endTime"],
                            "allowedActions": [],
                            "customDetails": {"instanceType": "JobTaskDetails", "jobTask": {
                                "jobId": self.id, "jobFriendlyName": self.friendly_name, "targetObjectId": item,
                                "targetObjectName": vm, "targetInstanceType": "ProtectionEntity", "jobScenarioName": self.scenario}},
                            "errors": [],
                        }
                        for k, (item, vm) in enumerate(spec.children)
                    ],
                }
            tasks.append(task)
            t = t_end
        props: dict[str, Any] = {
            "activityId": self.activity_id,
            "scenarioName": self.scenario,
            "friendlyName": self.friendly_name,
            "state": state,
            "stateDescription": (WAITING_FOR_MANUAL_ACTION if self.waiting is not None and state == "Suspended"
                                 else WAITING_FOR_CLEANUP if state == "Suspended" else _DESCR.get(state, state)),
            "tasks": tasks,
            "errors": [self._error_json(self.failed_task)] if state == "Failed" else [],
            "startTime": iso(self.start if now >= self.start else self.created),
            "allowedActions": [] if self.restarted else _ALLOWED.get(state, []),
            "targetObjectId": self.target_object_id,
            "targetObjectName": self.target_object_name,
            "targetInstanceType": self.target_instance_type,
            "customDetails": self._custom_details(state),
        }
        if self.final:  # a running job has no endTime at all (CreateFabricTests.json, TestEnableDR.json): F-045
            props["endTime"] = iso(self.final_at)
        if self.overlay:
            props.update(self.overlay)
        return {
            "name": self.name,
            "type": "Microsoft.RecoveryServices/vaults/replicationJobs",
            "id": self.id,
            "properties": props,
        }

    def _custom_details(self, state: str) -> dict[str, Any]:
        d: dict[str, Any] = {"instanceType": self.custom_instance_type}
        for k, v in self.custom_extra.items():
            d[k] = v
        if self.custom_instance_type in ("TestFailoverJobDetails", "FailoverJobDetails"):
            # empty while the job runs, filled at its end (TestTFO.json, TestPlannedFailover.json)
            d["protectedItemDetails"] = ([dict(x) for x in self.details_when_done]
                                         if state not in ("NotStarted", "InProgress") else [])
        if self.custom_instance_type == "TestFailoverJobDetails" and self.scenario == "TestFailover":
            # "Active" while it runs (TestTFO.json), "Completed" once suspended (ReplicationJobs_Resume.json)
            # and "Active" also on a job that ended Succeeded (TestTFO.json)
            d["testFailoverStatus"] = "Completed" if state == "Suspended" or (self.suspend and self.final) else "Active"
        d["affectedObjectDetails"] = dict(self.affected)
        return d

    def _error_json(self, task_index: int) -> dict[str, Any]:
        err = self.fail or JobError("InternalError", "The job failed.")
        return {
            "serviceErrorDetails": {
                "code": err.code,
                "message": err.message,
                "possibleCauses": err.possible_causes,
                "recommendedAction": err.recommended_action,
                "activityId": self.activity_id,
            },
            "errorLevel": "Error",
            "creationTime": iso(self.final_at),
            "taskId": self.task_ids[task_index] if self.task_ids else None,
        }


_DESCR = {
    "NotStarted": "NotStarted",
    "InProgress": "InProgress",
    "Succeeded": "Completed",
    "Failed": "Failed",
    "Cancelled": "Cancelled",
    "Cancelling": "Cancelling",
    "Skipped": "Skipped",
}
# InProgress: [Cancel] (TestTFO.json); Suspended: [Cancel, Resume] (ReplicationJobs_Resume.json);
# NotStarted: [] (TestTFO.json, the cleanup job's first read); Failed: [Restart] (guess)
_ALLOWED = {"InProgress": ["Cancel"], "Suspended": ["Cancel", "Resume"], "Failed": ["Restart"]}


# ---- $filter for the job list -------------------------------------------

_FILTER_FIELDS = {
    "starttime", "endtime", "fabricid", "affectedobjecttypes", "jobstatus",
    "jobstatustype", "jobname", "joboutputtype", "timezoneoffset",
}


class FilterError(ValueError):
    pass


def parse_job_filter(text: str | None) -> list[tuple[str, str, str]]:
    """`startTime ge '2026-01-01T00:00:00Z' and jobStatus eq 'InProgress'` ->
    [(field, op, value)]. Fields are JobQueryParameter's; FilterError on
    anything else."""
    if not text or not text.strip():
        return []
    out: list[tuple[str, str, str]] = []
    import re

    clause = re.compile(r"^\s*(\w+)\s+(eq|ne|ge|gt|le|lt)\s+'((?:[^']|'')*)'\s*$", re.I)
    parts = re.split(r"\s+and\s+", text.strip(), flags=re.I)
    for part in parts:
        m = clause.match(part)
        if not m:
            raise FilterError(f"The $filter clause '{part.strip()}' is not valid. Expected: <field> <eq|ge|le|gt|lt|ne> '<value>'.")
        fld, op, val = m.group(1), m.group(2).lower(), m.group(3).replace("''", "'")
        if fld.lower() not in _FILTER_FIELDS:
            raise FilterError(f"The $filter field '{fld}' is not supported. Supported: startTime, endTime, fabricId, affectedObjectTypes, jobStatus, jobName, jobOutputType, timezoneOffset.")
        if fld.lower() in ("starttime", "endtime"):
            try:
                parse_iso(val)
            except ValueError:
                raise FilterError(f"The $filter value '{val}' of {fld} is not a valid date-time.") from None
        out.append((fld.lower(), op, val))
    return out


def _cmp(a: float, op: str, b: float) -> bool:
    return {"eq": a >= b, "ge": a >= b, "gt": a > b, "le": a <= b, "lt": a < b, "ne": a != b}[op]


def job_matches(job: Job, clauses: list[tuple[str, str, str]], now: float) -> bool:
    """ASR semantics: `startTime` is a lower bound on the job's start (also with
    `eq`, as the PowerShell module sends it), `endTime` an upper bound on it."""
    for fld, op, val in clauses:
        if fld == "starttime":
            if not _cmp(job.created, op, parse_iso(val) - 0.0005):
                return False
        elif fld == "endtime":
            eop = {"eq": "le", "ge": "ge", "gt": "gt", "le": "le", "lt": "lt", "ne": "ne"}[op]
            if not _cmp(job.created, eop, parse_iso(val) + 0.0005):
                return False
        elif fld == "fabricid":
            ok = (job.fabric_id or "").lower() == val.lower()
            if ok == (op == "ne"):
                return False
        elif fld in ("jobstatus", "jobstatustype"):
            wanted = {v.strip().lower() for v in val.split(",") if v.strip()}
            ok = job.state(now).lower() in wanted
            if ok == (op == "ne"):
                return False
        elif fld == "affectedobjecttypes":
            wanted = {v.strip().lower() for v in val.split(",") if v.strip()}
            ok = job.target_instance_type.lower() in wanted
            if ok == (op == "ne"):
                return False
        elif fld == "jobname":
            wanted = {v.strip().lower() for v in val.split(",") if v.strip()}
            ok = job.scenario.lower() in wanted or job.name.lower() in wanted
            if ok == (op == "ne"):
                return False
        # jobOutputType, timezoneOffset: accepted, no effect on the list
    return True

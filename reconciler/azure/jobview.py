"""ASR replication jobs as plain values: the one reading of a job's REST JSON.

The applier and day-2 operations follow jobs through the one follower in
`reconciler.azure.jobs` (one paged `replication_jobs.list` per interval); this
module is the view it hands out. It lives in `azure` (the layer that talks to Azure
and follows jobs) and imports nothing of ours, so `azure.jobs` and `live.reader` both
use it without an import cycle; `reconciler.live.jobs` re-exports it under its old path:

- `JobView.from_job(model_or_dict)` / `JobView.from_json(dict)`: name, id, state,
  scenario, target object id/name, `activityId`, start/end time, tasks, errors;
- `parse_time(value) -> datetime | None` (ASR sends 7 fractional digits) and
  `iso(datetime | epoch seconds) -> "YYYY-MM-DDTHH:MM:SSZ"` for job-list filters;
- `page_is_older_than(page, since)`: whether a whole page of the job list is older
  than the `startTime` filter (the paging stop of every job-list read);
- error extraction: `JobView.errors` ([{code, message}], one per job error) and
  `JobView.error_message()` (Azure's own text, with the recommended action).

Times are kept as Azure sent them (ISO strings, so reports quote Azure verbatim);
`started` / `ended` parse them to aware datetimes and `start_ts` / `end_ts` to
epoch seconds. Tasks and errors are kept raw (nested group tasks carry the
per-VM timings); `task_summary()` gives `[{name, state}]`.

Which states end a wait is the caller's policy (`reconciler.azure.jobs.JobPolicy.view`):
this class treats Suspended as still running (the applier keeps waiting);
`reconciler.ops.jobs.JobView` overrides `TERMINAL_STATES` / `SUCCESS_STATES`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

SUCCEEDED = frozenset({"succeeded", "completedwithinformation", "completed"})
FAILED = frozenset({"failed", "cancelled", "canceled"})
_TASK_DONE = SUCCEEDED | FAILED | {"skipped"}


# ASR writes placeholders where a time is not known: "0001-01-01T00:00:00" for the start
# and end of a task that has not started / ended (PowerShell SessionRecords
# AsrB2ATests/TestTFO.json), "1601-01-01T00:00:00Z" for a never-run test failover
# (ReplicationProtectedItems_FailoverCancel.json), "1753-01-01T01:01:01Z" for the idle
# scenario's start (ReplicationProtectedItems_TestFailoverCleanup.json). None of them is a time.
PLACEHOLDER_BEFORE_YEAR = 1900


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC)


def parse_time(value: Any) -> _dt.datetime | None:
    """An ISO 8601 time (or datetime) as an aware datetime (naive = UTC); None if unreadable,
    and None for the placeholders Azure shows instead of a time: `0001-01-01T00:00:00` on a
    task that has not started or ended (.NET DateTime.MinValue, TestEnableDR.json) and
    `1753-01-01T01:01:01Z` on an idle currentScenario (docs/fidelity.md F-044, F-031)."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=_dt.UTC)
    s = str(value).strip()
    if not s:
        return None
    try:
        s2 = s.replace("Z", "+00:00")
        # trim fractional seconds beyond microseconds (ASR sends 7 digits)
        if "." in s2:
            head, rest = s2.split(".", 1)
            frac = "".join(ch for ch in rest if ch.isdigit())
            tz = rest[len(frac):]
            s2 = f"{head}.{frac[:6]}{tz}"
        d = _dt.datetime.fromisoformat(s2)
    except ValueError:
        return None
    if d.year < PLACEHOLDER_BEFORE_YEAR:
        return None  # a placeholder, not a time (see PLACEHOLDER_BEFORE_YEAR)
    return d if d.tzinfo else d.replace(tzinfo=_dt.UTC)


def parse_timestamp(value: Any) -> float | None:
    """`parse_time` as epoch seconds."""
    d = parse_time(value)
    return None if d is None else d.timestamp()


def iso(when: _dt.datetime | float) -> str:
    """A datetime or epoch seconds as `YYYY-MM-DDTHH:MM:SSZ` (UTC)."""
    if isinstance(when, _dt.datetime):
        d = when.astimezone(_dt.UTC)
    else:
        d = _dt.datetime.fromtimestamp(when, _dt.UTC)
    return d.strftime("%Y-%m-%dT%H:%M:%SZ")


def job_json(obj: Any) -> dict[str, Any]:
    """An SDK Job model (TypeSpec MutableMapping) or dict -> REST-shaped dict."""
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    as_dict = getattr(obj, "as_dict", None)
    if as_dict is not None:
        try:
            return as_dict()
        except TypeError:
            pass
    try:
        return dict(obj)
    except Exception:
        return {}


@dataclass
class JobView:
    """What we know of one ASR job, in plain values."""

    TERMINAL_STATES = SUCCEEDED | FAILED
    SUCCESS_STATES = SUCCEEDED

    name: str
    id: str
    state: str
    scenario: str = ""
    friendly_name: str = ""
    target_object_id: str = ""
    target_object_name: str = ""
    activity_id: str = ""
    start_time: str | None = None  # as Azure sent it
    end_time: str | None = None
    state_description: str = ""
    tasks: list[dict[str, Any]] = field(default_factory=list)  # raw task JSON
    error_details: list[dict[str, Any]] = field(default_factory=list)  # raw job errors

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> JobView:
        p = d.get("properties") or {}
        return cls(
            name=d.get("name") or "",
            id=d.get("id") or "",
            state=p.get("state") or "",
            scenario=p.get("scenarioName") or "",
            friendly_name=p.get("friendlyName") or "",
            target_object_id=p.get("targetObjectId") or "",
            target_object_name=p.get("targetObjectName") or "",
            activity_id=p.get("activityId") or "",
            start_time=p.get("startTime"),
            end_time=p.get("endTime"),
            state_description=p.get("stateDescription") or "",
            tasks=list(p.get("tasks") or []),
            error_details=list(p.get("errors") or []),
        )

    @classmethod
    def from_job(cls, job: Any) -> JobView:
        """From an SDK Job model or its REST dict."""
        return cls.from_json(job_json(job))

    # --- times ------------------------------------------------------------------
    @property
    def started(self) -> _dt.datetime | None:
        return parse_time(self.start_time)

    @property
    def ended(self) -> _dt.datetime | None:
        return parse_time(self.end_time)

    @property
    def start_ts(self) -> float | None:
        return parse_timestamp(self.start_time)

    @property
    def end_ts(self) -> float | None:
        return parse_timestamp(self.end_time)

    # --- state ------------------------------------------------------------------
    @property
    def terminal(self) -> bool:
        return self.state.lower() in self.TERMINAL_STATES

    @property
    def succeeded(self) -> bool:
        return self.state.lower() in self.SUCCESS_STATES

    def task_summary(self) -> list[dict[str, str]]:
        """`[{name, state}]` per top-level task."""
        return [{"name": t.get("friendlyName") or t.get("name") or t.get("taskType") or "",
                 "state": t.get("state") or ""} for t in self.tasks]

    @property
    def percent(self) -> int | None:
        if not self.tasks:
            return 100 if self.terminal else None
        done = sum(1 for t in self.tasks if (t.get("state") or "").lower() in _TASK_DONE)
        return int(100 * done / len(self.tasks))

    def progress(self) -> str:
        if not self.tasks:
            return self.state
        done = sum(1 for t in self.tasks if str(t.get("state", "")).lower() in self.SUCCESS_STATES)
        running = [t.get("friendlyName") or t.get("name") for t in self.tasks
                   if str(t.get("state", "")).lower() == "inprogress"]
        extra = f": {running[0]}" if running else ""
        return f"{self.state} ({done}/{len(self.tasks)} tasks{extra})"

    # --- errors -----------------------------------------------------------------
    @property
    def errors(self) -> list[dict[str, str]]:
        """`[{code, message}]`: one per job error (service details first, else the
        provider's), else the first task-level service error."""
        errors: list[dict[str, str]] = []
        for e in self.error_details:
            se = e.get("serviceErrorDetails") or {}
            pe = e.get("providerErrorDetails") or {}
            code = se.get("code") or (str(pe.get("errorCode")) if pe.get("errorCode") is not None else "")
            msg = se.get("message") or pe.get("errorMessage") or ""
            if code or msg:
                errors.append({"code": code or "JobFailed", "message": msg})
        for t in self.tasks:  # task-level errors when the job has none
            for e in t.get("errors") or []:
                se = e.get("serviceErrorDetails") or {}
                if se and not errors:
                    errors.append({"code": se.get("code") or "JobFailed", "message": se.get("message") or ""})
        return errors

    def error_message(self) -> str:
        """Azure's own message(s) for a failed job."""
        msgs: list[str] = []
        for e in self.error_details:
            se = e.get("serviceErrorDetails") or {}
            pe = e.get("providerErrorDetails") or {}
            for code, msg, action in ((se.get("code"), se.get("message"), se.get("recommendedAction")),
                                      (pe.get("errorCode"), pe.get("errorMessage"), pe.get("recommendedAction"))):
                if msg:
                    text = f"{code}: {msg}" if code else str(msg)
                    if action:
                        text += f" (recommended action: {action})"
                    msgs.append(text)
        if not msgs:
            for t in self.tasks:
                if str(t.get("state", "")).lower() == "failed":
                    for e in t.get("errors") or []:
                        se = e.get("serviceErrorDetails") or {}
                        if se.get("message"):
                            msgs.append(f"{se.get('code')}: {se['message']}" if se.get("code") else se["message"])
        if not msgs and self.state_description and self.state_description.lower() != self.state.lower():
            msgs.append(self.state_description)
        return "; ".join(msgs) or f"job {self.name} ended {self.state} without an error message"


def page_is_older_than(page: list[dict[str, Any]], since: str) -> bool:
    """True when every job of a non-empty page started before `since` (ISO time). ASR's job
    list is not in time order (ReplicationJobs_List.json lists 2017-04-27, 2017-05-02 14:07,
    then 2017-05-02 05:56; docs/fidelity.md L-024), so one old job says nothing; a whole
    page of them means the `startTime` filter was ignored and older pages follow. A job
    without a start time (NotStarted) is not old."""
    limit = parse_time(since)
    if not page or limit is None:
        return False
    for j in page:
        t = parse_time((j.get("properties") or {}).get("startTime"))
        if t is None or t >= limit:
            return False
    return True

"""Following ASR jobs for day-2 operations.

Every failover-family POST starts an ASR job. We send our own request id (azure-core's
`request_id=`, i.e. `x-ms-client-request-id`); ASR records it as the job's `activityId`.
All jobs in flight are followed through ONE paged `replication_jobs.list` per interval
for the whole vault (filter `startTime ge '<iso>'`), never a poll per job, and matched
back by activity id, falling back to target object + start time.

`sleep` is injectable: tests advance the emulator's simulated clock instead of waiting.

The job view, time parsing and error extraction are `reconciler.live.jobs` (shared with
the applier's `JobTracker`); the matching stays here: activity id containing our request
id, else an unclaimed job on the target object (expected scenario preferred) started at
most 60 s before the POST, earliest first. Single-threaded on purpose.
"""

from __future__ import annotations

import datetime as _dt
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

from reconciler.errors import OperationFailedError
from reconciler.live.jobs import JobView as _SharedJobView
from reconciler.live.jobs import iso, parse_time, utcnow
from reconciler.ops.inventory import list_jobs, same_id

__all__ = ["JobFollower", "JobView", "SUCCESS", "TERMINAL", "Watch", "group_end_times", "iso", "parse_time",
           "utcnow", "vm_end_times"]

TERMINAL = {"succeeded", "failed", "cancelled", "canceled", "suspended", "completedwithinformation", "skipped"}
SUCCESS = {"succeeded", "completedwithinformation", "skipped"}
RUNNING = {"", "notstarted", "inprogress", "cancelling", "running", "waiting"}
TASK_ENDED = {"succeeded", "failed", "cancelled", "canceled", "skipped", "completedwithinformation"}


class JobView(_SharedJobView):
    """The shared job view with day-2's end states: a Suspended job ends the wait (it
    waits for a person) and a Skipped one counts as done; the applier keeps waiting on
    Suspended instead."""

    TERMINAL_STATES = frozenset(TERMINAL)
    SUCCESS_STATES = frozenset(SUCCESS)

    @property
    def terminal(self) -> bool:
        """A known end state; or a state this code does not know once the job has an end
        time or all its tasks ended (it is then reported as Azure wrote it, never waited
        on for hours)."""
        s = self.state.lower()
        if s in self.TERMINAL_STATES:
            return True
        if s in RUNNING:
            return False
        return self.ended is not None or (bool(self.tasks) and all(
            str(t.get("state") or "").lower() in TASK_ENDED for t in self.tasks))


@dataclass
class Watch:
    key: str  # what we call it (VM name or "recovery plan NAME")
    request_id: str
    target_id: str
    started: _dt.datetime
    scenarios: tuple[str, ...] = ()
    target_name: str = ""
    job_name: str = ""  # a job already known by name (awaited, not started by us)
    job: JobView | None = None
    last_progress: str = ""


class JobFollower:
    """Follows several ASR jobs with one job-list read per interval."""

    def __init__(self, clients: Any, resource_group: str, vault: str, *, interval: float | None = None,
                 timeout: float | None = None, sleep: Callable[[float], None] | None = None,
                 on_progress: Callable[[str, JobView], None] | None = None) -> None:
        self.clients = clients
        self.rg = resource_group
        self.vault = vault
        # A fixed interval when given (tests advance simulated time by it); otherwise start
        # at ASR_JOB_POLL_MIN_SECONDS (1) and back off x1.5 up to ASR_JOB_POLL_SECONDS (15)
        # while nothing changes, so reads grow with elapsed time, not with the number of VMs.
        self.fixed = interval is not None
        self.ceiling = float(os.environ.get("ASR_JOB_POLL_SECONDS", "15"))
        self.floor = min(self.ceiling, float(os.environ.get("ASR_JOB_POLL_MIN_SECONDS", "1")))
        self.interval = interval if interval is not None else self.floor
        self.timeout = timeout if timeout is not None else float(os.environ.get("ASR_JOB_TIMEOUT_SECONDS", str(4 * 3600)))
        self.sleep = sleep or time.sleep
        self.on_progress = on_progress
        self.watches: dict[str, Watch] = {}
        self.reads = 0

    def watch(self, key: str, *, request_id: str, target_id: str, started: _dt.datetime,
              scenarios: tuple[str, ...] = (), target_name: str = "", job_name: str = "") -> Watch:
        w = Watch(key=key, request_id=request_id, target_id=target_id, started=started, scenarios=scenarios,
                  target_name=target_name, job_name=job_name.rstrip("/").split("/")[-1] if job_name else "")
        self.watches[key] = w
        return w

    def _since(self) -> _dt.datetime:
        earliest = min(w.started for w in self.watches.values())
        return earliest - _dt.timedelta(minutes=5)

    def poll_once(self) -> bool:
        """One job-list read; True when anything we follow changed."""
        jobs = [JobView.from_json(j) for j in list_jobs(self.clients, self.rg, self.vault, iso(self._since()))]
        self.reads += 1
        before = {k: (w.job.name, w.job.state, w.job.progress()) if w.job else None for k, w in self.watches.items()}
        claimed = {w.job.name for w in self.watches.values() if w.job is not None}
        for w in self.watches.values():
            if w.job is not None:
                for j in jobs:
                    if j.name == w.job.name:
                        w.job = j
                        break
                continue
            match = next((j for j in jobs if w.job_name and j.name.lower() == w.job_name.lower()), None)
            if match is None and w.job_name:
                continue  # an awaited job is matched by its name only
            match = match or next((j for j in jobs if w.request_id and w.request_id.lower() in j.activity_id.lower()),
                                  None)
            if match is None:
                cands = [j for j in jobs if j.name not in claimed and (
                    same_id(j.target_object_id, w.target_id)
                    or (w.target_name and j.target_object_name.lower() == w.target_name.lower()))]
                if w.scenarios:
                    scen = [j for j in cands if j.scenario.lower() in {s.lower() for s in w.scenarios}]
                    cands = scen or cands
                cands = [j for j in cands if (parse_time(j.start_time) or w.started) >= w.started - _dt.timedelta(seconds=60)]
                cands.sort(key=lambda j: parse_time(j.start_time) or w.started)
                match = cands[0] if cands else None
            if match is not None:
                w.job = match
                claimed.add(match.name)
        for w in self.watches.values():
            if w.job is not None and self.on_progress:
                text = w.job.progress()
                if text != w.last_progress:
                    w.last_progress = text
                    self.on_progress(w.key, w.job)
        after = {k: (w.job.name, w.job.state, w.job.progress()) if w.job else None for k, w in self.watches.items()}
        return after != before

    def wait(self, keys: list[str] | None = None) -> dict[str, Watch]:
        """Poll until every watched job (or those in `keys`) reached a terminal state."""
        keys = keys or list(self.watches)
        waited = 0.0
        while True:
            changed = self.poll_once()
            pending = [k for k in keys if self.watches[k].job is None or not self.watches[k].job.terminal]
            if not pending:
                return {k: self.watches[k] for k in keys}
            if waited >= self.timeout:
                names = ", ".join(pending)
                raise OperationFailedError(
                    f"gave up waiting after {int(waited)} s for the jobs of: {names}",
                    hint="the jobs keep running in Azure; follow them with `asr status FILE`",
                )
            if not self.fixed:
                self.interval = self.floor if changed else min(self.ceiling, self.interval * 1.5)
            self.sleep(self.interval)
            waited += self.interval


# --- per-VM and per-group times of a recovery-plan job ------------------------------

def _tasks_flat(tasks: list[dict[str, Any]], group: int | None = None) -> list[tuple[int | None, dict[str, Any]]]:
    out: list[tuple[int | None, dict[str, Any]]] = []
    for t in tasks or []:
        g = group
        gd = t.get("groupTaskCustomDetails") or {}
        gid = gd.get("groupId") if isinstance(gd, dict) else None
        if gid is not None:
            try:
                g = int(str(gid).strip())
            except ValueError:
                pass
        out.append((g, t))
        if isinstance(gd, dict) and gd.get("childTasks"):
            out += _tasks_flat(gd["childTasks"], g)
    return out


def _task_target(t: dict[str, Any]) -> tuple[str, str]:
    """(target object id, target object name) a task acts on, if it says."""
    cd = t.get("customDetails") or {}
    jt = cd.get("jobTask") or {} if isinstance(cd, dict) else {}
    return (jt.get("targetObjectId") or cd.get("targetObjectId") or "", jt.get("targetObjectName") or cd.get("targetObjectName") or "")


def vm_end_times(job: JobView, items: list[Any], other_jobs: list[JobView]) -> dict[str, _dt.datetime]:
    """When each VM came up: its failover task in the plan job (a child job task naming
    the protected item), else its own child job in the job list."""
    ends: dict[str, _dt.datetime] = {}
    for _, t in _tasks_flat(job.tasks):
        tid, tname = _task_target(t)
        end = parse_time(t.get("endTime"))
        if end is None:
            continue
        for it in items:
            if (tid and (same_id(tid, it.id) or tid.lower() == it.name.lower())) or \
                    (tname and tname.lower() in (it.vm_name.lower(), it.name.lower())):
                ends[it.vm_name] = max(end, ends.get(it.vm_name, end))
    start = parse_time(job.start_time)
    for j in other_jobs:
        if j.name == job.name:
            continue
        for it in items:
            if it.vm_name in ends:
                continue
            if same_id(j.target_object_id, it.id) or j.target_object_name.lower() == it.vm_name.lower():
                js, je = parse_time(j.start_time), parse_time(j.end_time)
                if je and js and start and js >= start - _dt.timedelta(seconds=5) and j.succeeded:
                    ends[it.vm_name] = je
    return ends


def group_end_times(job: JobView, n_groups: int) -> dict[int, _dt.datetime]:
    """End of each boot group's task in the plan job, mapped in order onto the manifest's
    groups 1..n. Group tasks are those whose name says "Group N" (or that carry a
    groupId); when some of them are Boot groups, only those count (ASR puts Shutdown and
    Failover groups in front of the boot groups)."""
    import re

    found: list[tuple[int, bool, _dt.datetime]] = []
    for g, t in _tasks_flat(job.tasks):
        end = parse_time(t.get("endTime"))
        if end is None:
            continue
        name = f"{t.get('friendlyName') or ''} {t.get('name') or ''}"
        m = re.search(r"group\s*(\d+)", name, re.I)
        gi = int(m.group(1)) if m else g
        if gi is None:
            continue
        found.append((gi, "boot" in name.lower(), end))
    if any(boot for _, boot, _ in found):
        found = [f for f in found if f[1]]
    order = sorted({gi for gi, _, _ in found})
    ends: dict[int, _dt.datetime] = {}
    for gi, _, end in found:
        k = order.index(gi) + 1
        if k <= n_groups:
            ends[k] = max(end, ends.get(k, end))
    return ends

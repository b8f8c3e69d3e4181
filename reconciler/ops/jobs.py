"""Following ASR jobs for day-2 operations: the shared follower
(`reconciler.azure.jobs`) with day-2's policy, reading on the caller's thread.

Every failover-family POST starts an ASR job; `reconciler.azure.jobs.send_write` sends
it with our request id, which ASR records as the job's `activityId`. All jobs in flight
are followed through ONE paged `replication_jobs.list` per interval for the whole vault,
never a poll per job (matching rules: `reconciler.azure.jobs`).

Day-2's policy (`OPS`): a Suspended job ends the wait (it waits for a person: a test
failover's job stays Suspended until cleanup) and a Skipped one counts as done
(`JobView` below; pass another `policy` to change that); among target-object fallback
candidates the earliest wins, tried from the first read.

`sleep` is injectable: tests advance the emulator's simulated clock instead of waiting,
and the deadlines count that simulated time.
"""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from typing import Any

from reconciler.azure.jobs import JobFollower as _Follower
from reconciler.azure.jobs import JobPolicy, Tracked
from reconciler.errors import OperationFailedError
from reconciler.live.jobs import JobView as _SharedJobView
from reconciler.live.jobs import iso, parse_time, utcnow
from reconciler.ops.inventory import same_id

__all__ = ["OPS", "JobFollower", "JobView", "SUCCESS", "TERMINAL", "Watch", "group_end_times", "iso", "parse_time",
           "utcnow", "vm_end_times"]

TERMINAL = {"succeeded", "failed", "cancelled", "canceled", "suspended", "completedwithinformation", "skipped",
            "completed"}
SUCCESS = {"succeeded", "completedwithinformation", "skipped", "completed"}
RUNNING = {"", "notstarted", "inprogress", "cancelling", "running", "waiting"}
TASK_ENDED = {"succeeded", "failed", "cancelled", "canceled", "skipped", "completedwithinformation", "completed"}


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


OPS = JobPolicy("ops", view=JobView, prefer="earliest", fallback_after=0)

Watch = Tracked  # what `watch` returns: `.job` is the JobView once matched


class JobFollower:
    """Follows several ASR jobs with one job-list read per interval."""

    def __init__(self, clients: Any, resource_group: str, vault: str, *, interval: float | None = None,
                 timeout: float | None = None, sleep: Callable[[float], None] | None = None,
                 on_progress: Callable[[str, _SharedJobView], None] | None = None, settings: Any = None,
                 policy: JobPolicy = OPS, on_waiting: Callable[[str], None] | None = None) -> None:
        """`interval`: a fixed interval (tests advance simulated time by it); otherwise
        adaptive between Settings.job_poll_min and job_poll_max. `timeout`: the deadline
        of this wait (default Settings.deadline)."""
        from reconciler.settings import Settings

        self.vault = vault
        self.sleep = sleep or time.sleep
        self._virtual = 0.0  # simulated seconds slept through an injected `sleep`
        settings = settings or getattr(clients, "config", None) or Settings.from_env()
        self.timeout = timeout if timeout is not None else settings.deadline
        self.on_progress = on_progress
        self._core = _Follower(clients, resource_group, vault, policy=policy, settings=settings,
                               on_update=self._updated, on_waiting=on_waiting or self._say, clock=self._clock,
                               deadline=self._clock() + self.timeout, fixed_interval=interval)
        self.watches: dict[str, Tracked] = {}

    def _clock(self) -> float:
        return time.monotonic() + self._virtual

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)
        if self.sleep is not time.sleep:
            self._virtual += seconds

    def _updated(self, t: Tracked, job: _SharedJobView) -> None:
        text = job.progress()
        if self.on_progress is not None and text != t.last_progress:
            t.last_progress = text
            self.on_progress(t.label, job)

    @staticmethod
    def _say(line: str) -> None:
        import sys

        print(line, file=sys.stderr, flush=True)

    @property
    def reads(self) -> int:
        return self._core.list_calls

    def watch(self, key: str, *, request_id: str, target_id: str, started: _dt.datetime,
              scenarios: tuple[str, ...] = (), target_name: str = "", job_name: str = "") -> Tracked:
        w = self._core.follow(key, request_id=request_id or None, job_name=job_name or None,
                              targets=(target_id, target_name), scenarios=scenarios, sent_at=started.timestamp())
        self.watches[key] = w
        return w

    def poll_once(self) -> bool:
        """One job-list read; True when anything we follow changed."""
        return self._core.poll_once(list(self.watches.values()))

    def wait(self, keys: list[str] | None = None) -> dict[str, Tracked]:
        """Read until every watched job (or those in `keys`) ended; raises
        OperationFailedError naming the jobs when the wait ends without them."""
        keys = keys or list(self.watches)
        tracked = [self.watches[k] for k in keys]
        t0 = self._clock()
        self._core.wait(tracked, sleep=self._sleep)
        unfinished = [t for t in tracked if t.job is None or not t.job.terminal]
        if not unfinished:
            return {k: self.watches[k] for k in keys}
        names = ", ".join(t.label for t in unfinished)
        err = next((t.error for t in unfinished if t.error is not None), None)
        hint = "the jobs keep running in Azure; follow them with `asr jobs FILE` or `asr status FILE`"
        if any(t.timed_out for t in unfinished):
            last = f"; last error: {err.message}" if err is not None else ""
            raise OperationFailedError(
                f"gave up waiting after {int(self._clock() - t0)} s (deadline {int(self.timeout)} s, "
                f"--deadline / ASR_DEADLINE) for the jobs of: {names}{last}", hint=hint)
        if err is not None:
            raise OperationFailedError(f"stopped waiting for the jobs of: {names}: {err.message}",
                                       hint=err.hint or hint)
        raise OperationFailedError(f"no ASR job showed up for: {names}", hint=hint)


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


def vm_end_times(job: _SharedJobView, items: list[Any], other_jobs: list[_SharedJobView]) -> dict[str, _dt.datetime]:
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


def group_end_times(job: _SharedJobView, n_groups: int) -> dict[int, _dt.datetime]:
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

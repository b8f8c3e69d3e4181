"""Following ASR jobs: one paged job list per interval for everything in flight.

Every Site Recovery write starts a replication job. Polling each operation would
cost one read per operation per interval (1,000 VMs every 10 s = 100 reads/s,
four times ARM's refill rate), so the `JobTracker` reads the vault's job list
once per interval,

    replication_jobs.list(rg, vault, filter="startTime ge '<oldest in flight>'")

and matches every job against every operation it follows:

1. by job name, for jobs we already know (an operation found in progress at plan
   time is awaited by its job id, never repeated);
2. by `activityId`, whose first part is the `x-ms-client-request-id` of the
   request that started the job (the applier generates and sends its own);
3. failing both for a while, by `targetObjectId` / `targetObjectName` (+
   `scenarioName` as tie-breaker), among jobs started after the write.

The interval comes from the writes' `Retry-After`, clamped between a floor and a
ceiling; it starts at the floor and backs off while nothing changes, so reads
grow with elapsed time, not with the number of operations.

The job view (`JobView`), time parsing and error extraction are
`reconciler.live.jobs`, shared with day-2's `JobFollower`.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from reconciler.live.jobs import FAILED, SUCCEEDED, JobView, iso

__all__ = ["FAILED", "SUCCEEDED", "JobTracker", "JobView", "Tracked", "iso"]

DEFAULT_FLOOR = 1.0
DEFAULT_CEILING = 15.0
FILTER_SKEW_SECONDS = 600.0


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, ""))
    except ValueError:
        return default


@dataclass
class Tracked:
    """One operation the tracker follows until its job ends."""

    label: str  # plan address, for people
    request_id: str | None = None
    job_name: str | None = None
    targets: tuple[str, ...] = ()  # lower-cased candidate names / ids
    scenarios: tuple[str, ...] = ()
    sent_at: float = 0.0  # epoch seconds (server clock when known)
    job: JobView | None = None
    polls_unmatched: int = 0
    event: threading.Event = field(default_factory=threading.Event)
    lost: bool = False  # never matched; given up
    optional: bool = False  # a 200 answer: there may be no job at all
    timed_out: bool = False
    deadline: float | None = None  # monotonic; None = no limit
    created: float = field(default_factory=time.monotonic)
    notify: Callable[[], None] | None = None  # called once when done (any thread)

    @property
    def done(self) -> bool:
        return self.event.is_set()

    def finish(self) -> None:
        if not self.event.is_set():
            self.event.set()
            cb = self.notify
            if cb is not None:
                try:
                    cb()
                except Exception:
                    pass


class JobTracker:
    def __init__(
        self,
        clients: Any,
        resource_group: str,
        vault: str,
        *,
        floor: float | None = None,
        ceiling: float | None = None,
        on_update: Callable[[Tracked, JobView], None] | None = None,
        give_up_after: float | None = None,
    ) -> None:
        self.clients = clients
        self.resource_group = resource_group
        self.vault = vault
        self.floor = floor if floor is not None else _env_float("ASR_JOB_POLL_MIN", DEFAULT_FLOOR)
        self.ceiling = ceiling if ceiling is not None else _env_float("ASR_JOB_POLL_MAX", DEFAULT_CEILING)
        self.ceiling = max(self.ceiling, self.floor)
        self.give_up_after = give_up_after if give_up_after is not None else _env_float("ASR_JOB_MATCH_TIMEOUT", 600.0)
        self.on_update = on_update
        self._lock = threading.Condition()
        self._tracked: list[Tracked] = []
        self._claimed: set[str] = set()  # job names matched to some operation
        self._retry_after: float | None = None
        self._interval = self.floor
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._kick = threading.Event()
        self.list_calls = 0  # paged list iterations (one per interval)
        self.last_error: str | None = None

    # --- registering work -------------------------------------------------
    def follow(self, label: str, *, request_id: str | None = None, job_name: str | None = None,
               targets: tuple[str, ...] = (), scenarios: tuple[str, ...] = (), sent_at: float | None = None,
               retry_after: float | None = None, optional: bool = False, timeout: float | None = None) -> Tracked:
        if job_name and "/" in job_name:
            job_name = job_name.rstrip("/").rsplit("/", 1)[-1]
        t = Tracked(
            label=label,
            request_id=(request_id or "").lower() or None,
            job_name=job_name,
            targets=tuple(x.lower() for x in targets if x),
            scenarios=tuple(s.lower() for s in scenarios),
            sent_at=sent_at if sent_at is not None else time.time(),
            optional=optional,
        )
        if timeout is not None:
            t.deadline = t.created + timeout
        with self._lock:
            self._tracked.append(t)
            if retry_after:
                self._retry_after = retry_after if self._retry_after is None else min(self._retry_after, retry_after)
            self._interval = self.floor  # new work: look soon
            self._ensure_thread()
        self._kick.set()
        return t

    def wait(self, t: Tracked, timeout: float | None = None, should_stop: Callable[[], bool] | None = None) -> bool:
        """Block until the tracked job ends (True) or stop/timeout (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not t.event.wait(0.2):
            if should_stop is not None and should_stop():
                return False
            if deadline is not None and time.monotonic() > deadline:
                return False
        return True

    def close(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # --- the one read per interval ------------------------------------------
    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="asr-job-tracker", daemon=True)
            self._thread.start()

    def _pending(self) -> list[Tracked]:
        with self._lock:
            return [t for t in self._tracked if not t.done]

    def _base_interval(self) -> float:
        ra = self._retry_after if self._retry_after is not None else self.ceiling
        return min(self.ceiling, max(self.floor, ra))

    def _run(self) -> None:
        while not self._stop.is_set():
            pending = self._pending()
            if not pending:
                # idle: wait for new work, then look after the floor interval
                self._kick.wait(1.0)
                self._kick.clear()
                if not self._pending():
                    continue
                self._stop.wait(self.floor)
                continue
            changed = False
            try:
                changed = self.poll_once(pending)
                self.last_error = None
            except Exception as exc:  # the retry policy already retried; try again next interval
                self.last_error = f"{type(exc).__name__}: {exc}"
            with self._lock:
                if changed:
                    self._interval = self.floor
                else:
                    self._interval = min(self._base_interval(), max(self.floor, self._interval * 1.5))
                interval = self._interval
            self._stop.wait(interval)

    def poll_once(self, pending: list[Tracked] | None = None) -> bool:
        """One paged read of the vault's job list; match and update. Returns
        whether anything changed."""
        pending = self._pending() if pending is None else pending
        if not pending:
            return False
        since = min(t.sent_at for t in pending) - FILTER_SKEW_SECONDS
        sr = self.clients.site_recovery()
        self.list_calls += 1
        jobs = [JobView.from_job(j) for j in sr.replication_jobs.list(
            self.resource_group, self.vault, filter=f"startTime ge '{iso(since)}'")]
        by_name = {j.name.lower(): j for j in jobs if j.name}
        by_activity = [(j.activity_id.lower(), j) for j in jobs if j.activity_id]
        changed = False
        for t in pending:
            job = None
            if t.job is not None:
                job = by_name.get(t.job.name.lower())
            if job is None and t.job_name:
                job = by_name.get(t.job_name.lower())
            if job is None and t.request_id:
                for aid, j in by_activity:
                    if aid.startswith(t.request_id):
                        job = j
                        break
            if job is None and t.targets and t.polls_unmatched >= 2:
                job = self._fallback(t, jobs)
            if job is None:
                t.polls_unmatched += 1
                age = time.monotonic() - t.created
                if t.job is None and t.optional and t.polls_unmatched >= 3 and age > 3 * self.floor:
                    t.finish()  # a synchronous answer that started no job
                    changed = True
                elif t.job is None and age > self.give_up_after:
                    t.lost = True
                    t.finish()
                    changed = True
                elif t.deadline is not None and time.monotonic() > t.deadline:
                    t.timed_out = True
                    t.finish()
                    changed = True
                continue
            with self._lock:
                self._claimed.add(job.name.lower())
            old = t.job
            t.job = job
            if old is None or old.state != job.state or old.percent != job.percent:
                changed = True
                if self.on_update is not None:
                    try:
                        self.on_update(t, job)
                    except Exception:
                        pass
            if job.terminal:
                t.finish()
            elif t.deadline is not None and time.monotonic() > t.deadline:
                t.timed_out = True
                t.finish()
        return changed

    def _fallback(self, t: Tracked, jobs: list[JobView]) -> JobView | None:
        candidates = []
        for j in jobs:
            if j.name.lower() in self._claimed:
                continue
            if j.start_ts is not None and j.start_ts < t.sent_at - 120:
                continue
            tid = j.target_object_id.lower()
            tname = j.target_object_name.lower()
            hit = any(x == tname or x == tid or (tid and tid.endswith("/" + x)) for x in t.targets)
            if not hit:
                continue
            candidates.append(j)
        if not candidates:
            return None
        candidates.sort(key=lambda j: (j.scenario.lower() not in t.scenarios, -(j.start_ts or 0)))
        return candidates[0]

    def note_retry_after(self, seconds: float | None) -> None:
        if seconds:
            with self._lock:
                self._retry_after = seconds if self._retry_after is None else min(self._retry_after, seconds)

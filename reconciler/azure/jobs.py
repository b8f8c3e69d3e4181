"""Sending Site Recovery writes and following their jobs: the one mechanism used by
the applier (`reconciler/apply/`) and the day-2 operations (`reconciler/ops/`).

Sending: `send_write(method, *args, counter=, **kwargs) -> Sent` calls an SDK
operation with `polling=False` and our own `x-ms-client-request-id` (ASR copies it
into the job's `activityId`), and reads the 200/202 answer (Retry-After, Date,
Location) instead of polling the operation.

Following: `JobFollower` reads the vault's job list ONCE per interval,

    replication_jobs.list(rg, vault, filter="startTime ge '<oldest in flight - look-back>'")

for everything in flight, and a `JobMatcher` maps jobs back to what is followed:

1. a job already matched, by its name; a job known by name (awaited), by name only;
2. `activityId` starting with our request id (ASR sends `<request id> ActivityId: <guid>`);
3. when Azure gives no usable `activityId`, after `policy.fallback_after` reads: an
   unclaimed job on the same target object (`targetObjectId` / `targetObjectName`),
   started at most `FALLBACK_WINDOW` seconds before the write, the expected
   `scenarioName` first, then the newest or the earliest (`policy.prefer`).

The `JobPolicy` of each use holds what really differs between apply and ops:
`view` (which states end a wait and which count as success: ops ends its wait on
Suspended), `prefer` and `fallback_after`. Everything else (look-back, window,
activity matching, deadlines, error handling) is the same.

No wait without an end: each followed job ends at its deadline (`timeout`, and the
command's `Settings.deadline`), when no job shows up for a write within
`Settings.job_match_timeout`, or when the job list cannot be read: at once for a
refusal retrying does not change (401, 403, 404...), after `Settings.job_read_errors`
of failed reads in a row otherwise (5xx, timeouts; every read already went through
azure-core's bounded retries). The error is Azure's, translated by
`reconciler.azure.errors`. Every `Settings.progress_interval` the follower reports
what it still waits for (`on_waiting(line)`).

Two ways to drive it: `start()` runs the reads on a background thread (the applier:
workers wait on `Tracked.event`); `wait(tracked, sleep=)` reads on the caller's
thread (day-2: tests inject `sleep` to drive the emulator's simulated clock).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from reconciler.azure.jobview import JobView, iso
from reconciler.errors import AsrError, AuthenticationError, AuthorizationError, AzureError, NotFoundError

__all__ = ["APPLY", "FALLBACK_WINDOW", "JobFollower", "JobMatcher", "JobPolicy", "Sent", "Tracked", "send_write"]

log = logging.getLogger("asr.jobs")

FALLBACK_WINDOW = 120.0  # seconds a fallback candidate may have started before the write (clock skew)


# --- sending ---------------------------------------------------------------------

@dataclass
class Sent:
    """What the 200/202 answer to a write told us."""

    status: int
    request_id: str
    sent_at: float  # time.time() just before sending
    server_time: float | None = None  # from the Date header, if any
    retry_after: float | None = None
    location: str | None = None
    async_operation: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def started(self) -> float:
        """When the job can have started at the earliest (server clock when known)."""
        return min(self.sent_at, self.server_time) if self.server_time else self.sent_at


class _Capture:
    """Per-call raw_response_hook: keeps the answer to the write (the last attempt's)
    and still feeds the clients' request counter."""

    def __init__(self, chain: Callable[[Any], None] | None) -> None:
        self.chain = chain
        self.response: Any = None
        self.writes = 0  # answers to the write, retries included
        self._lock = threading.Lock()

    def __call__(self, response: Any) -> None:
        if self.chain is not None:
            self.chain(response)
        with self._lock:
            if response.http_request.method.upper() in ("PUT", "PATCH", "POST", "DELETE"):
                self.response = response.http_response
                self.writes += 1


def _sent_from(resp: Any, rid: str, sent_at: float) -> Sent:
    headers = {k.lower(): v for k, v in resp.headers.items()} if resp is not None else {}
    retry_after = server_time = body = None
    try:
        retry_after = float(headers["retry-after"]) if headers.get("retry-after") else None
    except ValueError:
        pass
    try:
        server_time = parsedate_to_datetime(headers["date"]).timestamp() if headers.get("date") else None
    except (TypeError, ValueError):
        pass
    if resp is not None:
        try:
            text = resp.text()
            body = json.loads(text) if text else None
        except Exception:
            body = None
    return Sent(status=resp.status_code if resp is not None else 0, request_id=rid, sent_at=sent_at,
                server_time=server_time, retry_after=retry_after, location=headers.get("location"),
                async_operation=headers.get("azure-asyncoperation"), body=body,
                headers={k: v for k, v in headers.items() if k.startswith("x-ms-") or k in ("location", "retry-after")})


def send_write(method: Callable[..., Any], *args: Any, counter: Any = None, request_id: str | None = None,
               **kwargs: Any) -> Sent:
    """Call an SDK write with polling=False and our client request id. Raises the SDK's
    exception on refusal, marked with `asr_request_id`, `asr_attempts` (answers received,
    retries included) and `asr_sent_at`: a refusal on a retry may mean the first attempt
    was carried out, and its job can be looked for by request id."""
    import uuid

    rid = request_id or str(uuid.uuid4())
    capture = _Capture(counter)
    headers = {**(kwargs.pop("headers", None) or {}), "x-ms-client-request-id": rid}
    sent_at = time.time()
    try:
        method(*args, **kwargs, polling=False, headers=headers, raw_response_hook=capture)
    except Exception as exc:
        exc.asr_request_id = rid  # type: ignore[attr-defined]
        exc.asr_attempts = capture.writes  # type: ignore[attr-defined]
        exc.asr_sent_at = sent_at  # type: ignore[attr-defined]
        raise
    return _sent_from(capture.response, rid, sent_at)


# --- what is followed ------------------------------------------------------------

@dataclass
class Tracked:
    """One job followed until it ends (or the wait does)."""

    label: str  # for people: plan address, VM name, "recovery plan NAME"
    what: str = ""  # e.g. "enable protection"; shown in the waiting line
    request_id: str | None = None
    job_name: str | None = None  # a job known by name (awaited, not started by us)
    targets: tuple[str, ...] = ()  # lower-cased target object names / ids
    scenarios: tuple[str, ...] = ()  # lower-cased expected scenarioName values
    sent_at: float = 0.0  # epoch seconds
    optional: bool = False  # a 200 answer: there may be no job at all
    job: JobView | None = None
    polls_unmatched: int = 0
    lost: bool = False  # no job showed up in time
    timed_out: bool = False  # its deadline passed
    error: AsrError | None = None  # the job list could not be read: why the wait ended
    deadline: float | None = None  # on the follower's clock
    created: float = 0.0  # on the follower's clock
    event: threading.Event = field(default_factory=threading.Event)
    notify: Callable[[], None] | None = None  # called once when it ends (any thread)
    last_progress: str = ""

    @property
    def key(self) -> str:
        return self.label

    @property
    def done(self) -> bool:
        return self.event.is_set()

    def finish(self) -> None:
        if not self.event.is_set():
            self.event.set()
            if self.notify is not None:
                try:
                    self.notify()
                except Exception:
                    pass


# --- matching --------------------------------------------------------------------

@dataclass(frozen=True)
class JobPolicy:
    """What differs between uses. `view`: the JobView class whose TERMINAL_STATES /
    SUCCESS_STATES decide when a wait ends; `prefer`: among fallback candidates, the
    "newest" (apply: a retry's job) or the "earliest" (ops: the job of our POST, not a
    later one); `fallback_after`: reads without an activityId match before the
    target-object fallback is tried."""

    name: str
    view: type[JobView] = JobView
    prefer: str = "newest"
    fallback_after: int = 2


APPLY = JobPolicy("apply", view=JobView, prefer="newest", fallback_after=2)


class JobMatcher:
    def __init__(self, policy: JobPolicy) -> None:
        self.policy = policy

    def match(self, t: Tracked, jobs: list[JobView], claimed: set[str]) -> JobView | None:
        by_name = {j.name.lower(): j for j in jobs if j.name}
        if t.job is not None and t.job.name.lower() in by_name:
            return by_name[t.job.name.lower()]
        if t.job_name:
            return by_name.get(t.job_name.lower())  # an awaited job: by its name only
        if t.request_id:
            for j in jobs:
                if j.activity_id and j.activity_id.lower().startswith(t.request_id):
                    return j
        if t.targets and t.polls_unmatched >= self.policy.fallback_after:
            return self.fallback(t, jobs, claimed)
        return None

    def fallback(self, t: Tracked, jobs: list[JobView], claimed: set[str]) -> JobView | None:
        cands = []
        for j in jobs:
            if j.name.lower() in claimed:
                continue
            start = j.start_ts
            if start is not None and start < t.sent_at - FALLBACK_WINDOW:
                continue
            tid, tname = j.target_object_id.lower().rstrip("/"), j.target_object_name.lower()
            if any(x == tname or x == tid or (tid and tid.endswith("/" + x)) for x in t.targets):
                cands.append(j)
        if not cands:
            return None
        sign = -1 if self.policy.prefer == "newest" else 1
        cands.sort(key=lambda j: (j.scenario.lower() not in t.scenarios, sign * (j.start_ts or t.sent_at)))
        return cands[0]


def _permanent(err: AsrError) -> bool:
    """A refusal that asking again will not change."""
    if isinstance(err, (AuthenticationError, AuthorizationError, NotFoundError)):
        return True
    status = getattr(err, "status", None)
    return isinstance(err, AzureError) and status is not None and 400 <= status < 500 and status not in (408, 429)


# --- following -------------------------------------------------------------------

class JobFollower:
    """Follows every job of a run with one job-list read per interval."""

    def __init__(self, clients: Any, resource_group: str, vault: str, *, policy: JobPolicy = APPLY,
                 settings: Any = None, on_update: Callable[[Tracked, JobView], None] | None = None,
                 on_waiting: Callable[[str], None] | None = None, clock: Callable[[], float] = time.monotonic,
                 deadline: float | None = None, fixed_interval: float | None = None) -> None:
        from reconciler.settings import Settings

        self.clients = clients
        self.resource_group = resource_group
        self.vault = vault
        self.policy = policy
        self.matcher = JobMatcher(policy)
        self.settings = settings or getattr(clients, "config", None) or Settings.from_env()
        self.on_update = on_update
        self.on_waiting = on_waiting
        self.clock = clock
        self.floor = self.settings.job_poll_min
        self.ceiling = max(self.settings.job_poll_max, self.floor)
        self.fixed_interval = fixed_interval
        self.interval = fixed_interval or self.floor
        t0 = clock()
        # the command's deadline: no followed job outlives it
        self.deadline = deadline if deadline is not None else t0 + self.settings.deadline
        self._last_report = t0
        self._lock = threading.RLock()
        self._tracked: list[Tracked] = []
        self._claimed: set[str] = set()
        self._retry_after: float | None = None
        self._failing_since: float | None = None
        self.last_error: AsrError | None = None
        self.list_calls = 0
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._kick = threading.Event()

    # --- registering work -------------------------------------------------------
    def follow(self, label: str, *, what: str = "", request_id: str | None = None, job_name: str | None = None,
               targets: Iterable[str] = (), scenarios: Iterable[str] = (), sent_at: float | None = None,
               retry_after: float | None = None, optional: bool = False, timeout: float | None = None) -> Tracked:
        if job_name and "/" in job_name:
            job_name = job_name.rstrip("/").rsplit("/", 1)[-1]
        now = self.clock()
        t = Tracked(label=label, what=what, request_id=(request_id or "").lower() or None, job_name=job_name or None,
                    targets=tuple(x.lower().rstrip("/") for x in targets if x),
                    scenarios=tuple(s.lower() for s in scenarios), optional=optional,
                    sent_at=sent_at if sent_at is not None else time.time(), created=now)
        t.deadline = self.deadline if timeout is None else min(self.deadline, now + timeout)
        with self._lock:
            self._tracked.append(t)
            self.note_retry_after(retry_after)
            if self.fixed_interval is None:
                self.interval = self.floor  # new work: look soon
        if self._thread is not None:
            self._kick.set()
        return t

    def note_retry_after(self, seconds: float | None) -> None:
        if seconds:
            with self._lock:
                self._retry_after = seconds if self._retry_after is None else min(self._retry_after, seconds)

    def pending(self) -> list[Tracked]:
        with self._lock:
            return [t for t in self._tracked if not t.done]

    # --- the one read per interval ----------------------------------------------
    def poll_once(self, pending: list[Tracked] | None = None) -> bool:
        """One paged read of the job list; match, update, and end what must end
        (job over, deadline passed, no job for too long, list unreadable).
        Returns whether anything changed."""
        pending = self.pending() if pending is None else [t for t in pending if not t.done]
        if not pending:
            return False
        since = min(t.sent_at for t in pending) - self.settings.job_lookback
        changed = False
        try:
            self.list_calls += 1
            sr = self.clients.site_recovery()
            jobs = self._read_jobs(sr, iso(since))
        except Exception as exc:
            from reconciler.azure.errors import translate

            err = translate(exc, f"read the job list of vault {self.vault}")
            return self._read_failed(err, pending)
        self.last_error, self._failing_since = None, None
        for t in pending:
            changed |= self._update(t, jobs)
        return changed

    def _read_jobs(self, sr: Any, since: str) -> list[JobView]:
        """The jobs started since `since`, bounded even where Azure ignores the `startTime`
        filter: paging stops after a page whose jobs all started before it (the list is
        not in time order, docs/fidelity.md L-024)."""
        from reconciler.azure.jobview import job_json, page_is_older_than

        out: list[JobView] = []
        for page in sr.replication_jobs.list(self.resource_group, self.vault,
                                             filter=f"startTime ge '{since}'").by_page():
            rows = [job_json(j) for j in page]
            out += [self.policy.view.from_json(j) for j in rows]
            if page_is_older_than(rows, since):
                break
        return out

    def _update(self, t: Tracked, jobs: list[JobView]) -> bool:
        with self._lock:
            job = self.matcher.match(t, jobs, self._claimed)
            if job is not None:
                self._claimed.add(job.name.lower())
        now = self.clock()
        if job is None:
            t.polls_unmatched += 1
            if t.job is None and t.optional and t.polls_unmatched >= 3:
                t.finish()  # a synchronous answer that started no job
                return True
            if t.job is None and now - t.created > self.settings.job_match_timeout:
                t.lost = True
                t.finish()
                return True
            return self._check_deadline(t, now)
        old, t.job = t.job, job
        changed = old is None or (old.state, old.percent, old.progress()) != (job.state, job.percent, job.progress())
        if changed and self.on_update is not None:
            try:
                self.on_update(t, job)
            except Exception:
                pass
        if job.terminal:
            t.finish()
            return True
        return self._check_deadline(t, now) or changed

    def _check_deadline(self, t: Tracked, now: float) -> bool:
        if t.deadline is not None and now >= t.deadline:
            t.timed_out = True
            t.error = t.error or self.last_error
            t.finish()
            return True
        return False

    def _read_failed(self, err: AsrError, pending: list[Tracked]) -> bool:
        now = self.clock()
        self.last_error = err
        if self._failing_since is None:
            self._failing_since = now
        log.info("job list read failed: %s", err.message)
        give_up = _permanent(err) or now - self._failing_since >= self.settings.job_read_errors
        for t in pending:
            if give_up:
                t.error = err
                t.finish()
            else:
                self._check_deadline(t, now)
        return True

    def next_interval(self, changed: bool) -> float:
        if self.fixed_interval is not None:
            return self.fixed_interval
        with self._lock:
            ra = self._retry_after if self._retry_after is not None else self.ceiling
            base = min(self.ceiling, max(self.floor, ra))
            self.interval = self.floor if changed else min(base, max(self.floor, self.interval * 1.5))
            return self.interval

    # --- saying what we wait for ------------------------------------------------
    def waiting_line(self, limit: int = 5) -> str | None:
        pending = self.pending()
        if not pending:
            return None
        now = self.clock()
        parts = []
        for t in pending[:limit]:
            state = t.job.state if t.job is not None else "no job seen yet"
            name = f"{t.what} of {t.label}" if t.what else t.label
            parts.append(f"{name} ({state}, {_age(now - t.created)})")
        more = f", and {len(pending) - limit} more" if len(pending) > limit else ""
        err = f"; last read of the job list failed: {self.last_error.message}" if self.last_error else ""
        return f"still waiting for {len(pending)} job(s): {', '.join(parts)}{more}{err}"

    def heartbeat(self) -> None:
        """Report what we wait for when `progress_interval` passed since the last report."""
        now = self.clock()
        if now - self._last_report < self.settings.progress_interval:
            return
        self._last_report = now
        line = self.waiting_line()
        if line is None:
            return
        log.info("%s", line)
        if self.on_waiting is not None:
            try:
                self.on_waiting(line)
            except Exception:
                pass

    # --- driving it: on a background thread (apply) ------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="asr-job-follower", daemon=True)
                self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._kick.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self.pending():
                self._kick.wait(1.0)
                self._kick.clear()
                self._last_report = self.clock()
                if self.pending():
                    self._stop.wait(self.floor)  # let the writes of this burst go out first
                continue
            changed = self.poll_once()
            self._pause(self.next_interval(changed), self._stop.wait)

    def _pause(self, seconds: float, sleep: Callable[[float], Any]) -> None:
        """Sleep `seconds` in slices, reporting progress meanwhile."""
        end = time.monotonic() + seconds
        while not self._stop.is_set():
            self.heartbeat()
            left = end - time.monotonic()
            if left <= 0:
                return
            sleep(min(left, 1.0))

    # --- driving it: on the caller's thread (ops) --------------------------------
    def wait(self, tracked: list[Tracked], sleep: Callable[[float], None] = time.sleep) -> None:
        """Read until every one of `tracked` ended (its job, its deadline, or an
        unreadable job list). Never longer than the deadlines."""
        while True:
            changed = self.poll_once(tracked)
            if all(t.done for t in tracked):
                return
            self.heartbeat()
            sleep(self.next_interval(changed))


def _age(seconds: float) -> str:
    from reconciler.settings import format_seconds

    return format_seconds(max(0.0, seconds))

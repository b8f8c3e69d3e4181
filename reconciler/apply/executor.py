"""Carry out a Plan's dependency graph with bounded parallelism.

Each change runs its requests in order on a worker thread (at most
`parallelism` at once). Site Recovery writes are sent with polling=False and
followed through the shared `JobTracker`; other long-running operations through
their pollers with a bounded wait. Writes take a token from the `WritePacer`
first.

A failed change stops only what depends on it (transitively); independent
branches go on. Changes that wait for a manual step (provider registration) are
skipped with that reason. An AWAIT change is an ASR job already running in Azure
(from an earlier, interrupted apply): its request (`replication_jobs.get`) reads the
job, which is then followed like any other before its dependents run, never
repeated. The executor branches on actions, never on reasons.

`stop()` (Ctrl-C) stops scheduling new work; changes waiting for Azure jobs stop
waiting and are reported as still running in Azure; nothing is cancelled.
"""

from __future__ import annotations

import concurrent.futures as cf
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.apply import operations as ops
from reconciler.apply.jobs import JobTracker, JobView
from reconciler.apply.pacing import WritePacer
from reconciler.apply.resolve import check_markers, has_markers, resolve_args
from reconciler.plan.model import Action, Change, Plan

SUCCEEDED = "succeeded"
FAILED = "failed"
SKIPPED = "skipped"
UNCHANGED = "unchanged"
MANUAL = "manual"
IN_PROGRESS = "in_progress"  # left running in Azure (interrupted while waiting)

Emit = Callable[[dict[str, Any]], None]


@dataclass
class Outcome:
    address: str
    action: str
    status: str
    reason: str = ""  # why skipped / manual / in progress
    error_code: str | None = None
    error_message: str | None = None
    error_hint: str | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"address": self.address, "action": self.action, "status": self.status, "seconds": round(self.seconds, 3)}
        if self.reason:
            d["reason"] = self.reason
        if self.error_code or self.error_message:
            d["error"] = {"code": self.error_code, "message": self.error_message}
            if self.error_hint:
                d["error"]["hint"] = self.error_hint
        if self.jobs:
            d["jobs"] = self.jobs
        return d


@dataclass
class ApplyResult:
    outcomes: list[Outcome] = field(default_factory=list)
    interrupted: bool = False
    seconds: float = 0.0
    requests: dict[str, Any] = field(default_factory=dict)

    def by_status(self, status: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == status]

    @property
    def failed(self) -> bool:
        return any(o.status == FAILED for o in self.outcomes)

    @property
    def converged(self) -> bool:
        return all(o.status in (SUCCEEDED, UNCHANGED) for o in self.outcomes) and not self.interrupted

    def to_dict(self) -> dict[str, Any]:
        counts: dict[str, int] = {}
        for o in self.outcomes:
            counts[o.status] = counts.get(o.status, 0) + 1
        return {
            "counts": counts,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 3),
            "requests": self.requests,
            "outcomes": [o.to_dict() for o in self.outcomes],
        }


@dataclass
class _State:
    """Where a change is: the next request to send and the jobs seen so far."""

    t0: float
    index: int = 0
    jobs: list[dict[str, Any]] = field(default_factory=list)
    pending_error: tuple[str | None, str] | None = None  # a refusal on a retry, while looking for its job


class ChangeFailed(Exception):
    def __init__(self, code: str | None, message: str, jobs: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.jobs = jobs or []


class Interrupted(Exception):
    def __init__(self, jobs: list[dict[str, Any]]) -> None:
        super().__init__("interrupted")
        self.jobs = jobs


def error_hint(exc: BaseException) -> str | None:
    """The hint the shared translator gives for an Azure refusal (e.g. which role to grant)."""
    try:
        from reconciler.azure.errors import translate  # type: ignore

        return getattr(translate(exc), "hint", None)
    except Exception:
        return None


def error_info(exc: BaseException) -> tuple[str | None, str]:
    """(code, message) of an Azure refusal, without secrets or tracebacks."""
    try:  # the shared translator, when present
        from reconciler.azure.errors import translate  # type: ignore

        err = translate(exc)
        if err is not None and getattr(err, "message", None):
            return getattr(err, "code", None), err.message
    except Exception:
        pass
    code = None
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    error = getattr(exc, "error", None)
    if error is not None:
        code = getattr(error, "code", None) or code
        message = getattr(error, "message", None) or message
    status = getattr(exc, "status_code", None)
    if code is None and status is not None:
        code = f"HTTP{status}"
    return code, message


def job_record(job: JobView) -> dict[str, Any]:
    d: dict[str, Any] = {"name": job.name, "state": job.state, "scenario": job.scenario}
    if job.tasks:
        d["tasks"] = job.task_summary()
    if job.errors:
        d["errors"] = job.errors
    return d


_NOUNS = {"replication_protected_items": "protection", "replication_policies": "policy",
          "replication_protection_container_mappings": "policy association", "replication_fabrics": "site",
          "replication_network_mappings": "network mapping", "replication_recovery_plans": "recovery plan"}
_VERBS = {"begin_create": "create", "begin_update": "update", "begin_delete": "delete", "begin_purge": "purge"}


def describe_write(spec: ops.OpSpec) -> str:
    """For people: "enable protection", "create policy"..."""
    noun = _NOUNS.get(spec.group, spec.group)
    verb = _VERBS.get(spec.method, spec.method)
    if noun == "protection":
        verb = {"create": "enable", "delete": "disable", "purge": "disable"}.get(verb, verb)
    return f"{verb} {noun}"


class Executor:
    def __init__(
        self,
        clients: Any,
        plan: Plan,
        *,
        parallelism: int = 10,
        emit: Emit | None = None,
        tracker: JobTracker | None = None,
        pacer: WritePacer | None = None,
        lro_timeout: float | None = None,
        job_timeout: float | None = None,
        lock: Any = None,
        settings: Any = None,
        deadline: float | None = None,
    ) -> None:
        """`settings`: timeouts and intervals (default: the clients' `config`, else the
        environment); `deadline`: time.monotonic() by which every wait of this apply ends
        (default: now + settings.deadline)."""
        from reconciler.settings import Settings

        self.clients = clients
        self.plan = plan
        self.parallelism = max(1, int(parallelism))
        self.emit = emit or (lambda e: None)
        self.settings = settings or getattr(clients, "config", None) or Settings.from_env()
        self.tracker = tracker or JobTracker(clients, plan.resource_group, plan.vault, settings=self.settings,
                                             on_update=self._job_update, on_waiting=self._waiting,
                                             deadline=deadline)
        if tracker is not None and tracker.on_update is None:
            tracker.on_update = self._job_update
        if tracker is not None and tracker.on_waiting is None:
            tracker.on_waiting = self._waiting
        self.pacer = pacer or WritePacer(getattr(clients, "counter", None))
        self.lro_timeout = lro_timeout if lro_timeout is not None else self.settings.lro_timeout
        self.job_timeout = job_timeout
        self.lock = lock
        self._stop = threading.Event()
        self._stop_reason = "interrupted"

    # --- control ------------------------------------------------------------
    def stop(self, reason: str = "interrupted") -> None:
        self._stop_reason = reason
        self._stop.set()

    @property
    def stopping(self) -> bool:
        if self.lock is not None and getattr(self.lock, "lost", False) and not self._stop.is_set():
            self.stop("the vault lock was lost")
        return self._stop.is_set()

    def _waiting(self, line: str) -> None:
        self.emit({"event": "waiting", "message": line, "jobs": len(self.tracker.pending())})

    def _job_update(self, t: Any, job: JobView) -> None:
        self.emit({"event": "job", "address": t.label, "job": job.name, "scenario": job.scenario,
                   "state": job.state, "percent": job.percent, "tasks": job.task_summary()})

    # --- validation before anything is sent ------------------------------------
    def check(self, changes: list[Change] | None = None) -> None:
        for c in changes if changes is not None else self.plan.changes:
            for r in c.requests:
                ops.check_request(r.operation, r.args, self.clients)
                check_markers(r.operation, r.args)

    # --- the graph ------------------------------------------------------------------
    def run(self, only: set[str] | None = None, prior: dict[str, Outcome] | None = None) -> ApplyResult:
        """Run the plan's changes (or those in `only`). `prior` holds outcomes
        of changes carried out earlier in the same apply, for dependencies.

        `parallelism` bounds the requests in flight (worker threads), not the
        ASR jobs: a change whose write was accepted gives its worker back and
        waits for its job through the tracker, so thousands of jobs can run
        while at most `parallelism` calls are being made."""
        t0 = time.monotonic()
        changes = [c for c in self.plan.changes if only is None or c.address in only]
        self.check(changes)
        run = _Run(self, changes, dict(prior or {}))
        try:
            run.loop()
        except KeyboardInterrupt:
            run.abort()
        finally:
            run.pool.shutdown(wait=True)
            self.tracker.close()
        return self._result(run, t0)

    def _result(self, run: _Run, t0: float) -> ApplyResult:
        for addr in run.order:
            if addr not in run.outcomes:
                run.outcomes[addr] = Outcome(addr, run.index[addr].action.value, SKIPPED,
                                             reason=f"not started: {self._stop_reason}")
        result = ApplyResult(
            outcomes=[run.outcomes[a] for a in run.order],  # this run's changes only
            interrupted=run.interrupted or self._stop.is_set(),
            seconds=time.monotonic() - t0,
        )
        counter = getattr(self.clients, "counter", None)
        if counter is not None:
            result.requests = dict(counter.snapshot())
            result.requests["job_list_reads"] = self.tracker.list_calls
            result.requests["pacing_wait_seconds"] = round(self.pacer.waited_seconds, 2)
            settings = getattr(self.clients, "settings", None)
            if settings is not None:
                result.requests["retry_budget_per_request"] = settings.retry_total
        return result

    def _skip(self, c: Change, bad: list[str], outcomes: dict[str, Outcome], index: dict[str, Change]) -> Outcome:
        parts = []
        for d in bad:
            st = outcomes[d].status
            word = {FAILED: "failed", MANUAL: "waits for a manual step", SKIPPED: "was skipped",
                    IN_PROGRESS: "is still running in Azure"}.get(st, st)
            parts.append(f"{d} {word}")
        o = Outcome(c.address, c.action.value, SKIPPED, reason="depends on " + "; ".join(parts))
        self.emit({"event": "skipped", "address": c.address, "reason": o.reason})
        return o

    def _manual(self, c: Change) -> Outcome:
        o = Outcome(c.address, c.action.value, MANUAL, reason=c.note or f"{c.reason.value}: a manual step is needed")
        self.emit({"event": "manual", "address": c.address, "reason": o.reason})
        return o

    # --- one change, step by step ---------------------------------------------
    def _step(self, c: Change, st: _State) -> Outcome | tuple[Any, _State]:
        """Run the change's requests from `st.index` on until one starts an ASR
        job (returns (tracked, state): the worker is given back while the job
        runs) or the change ends (returns its Outcome)."""
        try:
            while st.index < len(c.requests):
                if self.stopping:
                    raise Interrupted(st.jobs)
                req = c.requests[st.index]
                st.index += 1
                t = self._run_request(c, req.operation, req.args, st)
                if t is not None:
                    return t, st
        except ChangeFailed as f:
            return self._failed(c, st, f.code, f.message, f.jobs)
        except Interrupted:
            reason = f"not finished: {self._stop_reason}"
            self.emit({"event": "interrupted", "address": c.address, "reason": reason})
            return Outcome(c.address, c.action.value, SKIPPED, reason=reason, jobs=st.jobs, seconds=time.monotonic() - st.t0)
        except Exception as exc:  # an Azure refusal or an unreachable endpoint
            code, message = error_info(exc)
            o = self._failed(c, st, code, message)
            o.error_hint = error_hint(exc)
            return o
        return self._succeeded(c, st)

    def _succeeded(self, c: Change, st: _State) -> Outcome:
        o = Outcome(c.address, c.action.value, SUCCEEDED, jobs=st.jobs, seconds=time.monotonic() - st.t0)
        self.emit({"event": "done", "address": c.address, "action": c.action.value, "seconds": round(o.seconds, 2)})
        return o

    def _failed(self, c: Change, st: _State, code: str | None, message: str, jobs: list | None = None) -> Outcome:
        self.emit({"event": "failed", "address": c.address, "code": code, "message": message})
        return Outcome(c.address, c.action.value, FAILED, error_code=code, error_message=message,
                       jobs=st.jobs or list(jobs or []), seconds=time.monotonic() - st.t0)

    def _job_verdict(self, c: Change, t: Any, st: _State) -> Outcome | None:
        """A followed job ended: the change's outcome, or None to go on with its
        next request."""
        if t.job is not None:
            st.jobs.append(job_record(t.job))
        if t.job is None:
            if st.pending_error is not None:  # no job from an earlier attempt: the refusal stands
                code, message = st.pending_error
                return self._failed(c, st, code, message)
            if t.timed_out or t.error is not None:
                return self._wait_ended(c, st, t, f"the job of {c.address}")
            if t.optional:  # a 200 answer without a job: the write was synchronous
                return None if st.index < len(c.requests) else self._succeeded(c, st)
            return self._failed(c, st, "JobNotFound", f"no ASR job was found for request {t.request_id or t.job_name}")
        job = t.job
        if not job.succeeded:
            if not job.terminal:  # the wait ended before the job: deadline, or the job list unreadable
                return self._wait_ended(c, st, t, f"job {job.name} ({job.scenario}, {job.state})")
            err = job.errors[0] if job.errors else {"code": "JobFailed",
                                                     "message": f"job {job.name} ({job.scenario}) ended {job.state}"}
            return self._failed(c, st, err["code"], err["message"])
        if st.index < len(c.requests):
            return None
        return self._succeeded(c, st)

    def _wait_ended(self, c: Change, st: _State, t: Any, what: str) -> Outcome:
        """The wait for a job ended before the job did: say why, with Azure's last error."""
        from reconciler.settings import format_seconds

        err = t.error
        if t.timed_out:
            last = f"; last error: {err.message}" if err is not None else ""
            o = self._failed(c, st, "DeadlineExceeded",
                             f"stopped waiting for {what} at the deadline "
                             f"({format_seconds(self.settings.deadline)}, --deadline / ASR_DEADLINE){last}; "
                             "the Azure job keeps running and the next apply awaits it")
        else:
            o = self._failed(c, st, getattr(err, "code", None) or "JobListUnreadable",
                             f"stopped waiting for {what}: {err.message}")
        o.error_hint = getattr(err, "hint", None)
        return o

    def _await_job(self, c: Change, spec: ops.OpSpec, args: dict[str, Any], st: _State) -> Any:
        """An AWAIT change's request: read the running job, then follow it (None when
        it already ended well)."""
        short = str(args.get("job_name") or "").rstrip("/").rsplit("/", 1)[-1]
        job = JobView.from_job(ops.resolve(self.clients, spec)(**args))
        self.emit({"event": "await", "address": c.address, "job": job.name, "state": job.state})
        if job.terminal:
            st.jobs.append(job_record(job))
            if not job.succeeded:
                err = job.errors[0] if job.errors else {"code": "JobFailed", "message": f"job {job.name} ended {job.state}"}
                raise ChangeFailed(err["code"], err["message"])
            return None
        return self.tracker.follow(c.address, what=job.scenario or "job", job_name=job.name or short,
                                   sent_at=job.start_ts or time.time(), timeout=self.job_timeout)

    def _run_request(self, c: Change, operation: str, args: dict[str, Any], st: _State) -> Any:
        """Send one request. Returns the tracked job for an ASR write (the
        caller waits for it without holding a worker), None when done."""
        spec = ops.spec_for(operation)
        args = self._with_lock_tag(spec, args)
        if has_markers(args):  # values that exist only now (a new item's NIC ids): read from Azure
            try:
                args = resolve_args(self.clients, operation, args)
            except ValueError as exc:
                raise ChangeFailed("NotResolved", f"the NIC update was not sent: {exc}") from exc
            self.emit({"event": "note", "address": c.address,
                       "message": "read the item to resolve the values the plan marks $resolve (its NIC ids)"})
        if spec.style == ops.AWAIT:
            return self._await_job(c, spec, args, st)
        if spec.style == ops.ASR:
            self.pacer.acquire(should_stop=lambda: self.stopping)
            try:
                sent = ops.send_asr(self.clients, spec, args)
            except Exception as exc:
                if getattr(exc, "status_code", None) == 409 and getattr(exc, "asr_attempts", 0) > 1:
                    # refused on a retry: an earlier attempt may have been carried out and
                    # started a job under our request id; follow it, else report the 409
                    code, message = error_info(exc)
                    st.pending_error = (code, message)
                    self.emit({"event": "note", "address": c.address,
                               "message": f"{code} on a retried request: looking for the job of the first attempt"})
                    targets = [str(args.get(spec.target_arg, ""))] if spec.target_arg else []
                    return self.tracker.follow(
                        c.address, request_id=exc.asr_request_id, targets=tuple(targets),  # type: ignore[attr-defined]
                        scenarios=spec.scenarios, sent_at=exc.asr_sent_at, optional=True,  # type: ignore[attr-defined]
                        timeout=self.job_timeout)
                raise
            finally:
                self.pacer.done()
            st.pending_error = None
            self.emit({"event": "sent", "address": c.address, "operation": operation, "status": sent.status,
                       "request_id": sent.request_id})
            self.tracker.note_retry_after(sent.retry_after)
            targets = [str(args.get(spec.target_arg, ""))] if spec.target_arg else []
            targets.append(c.address.split(".", 1)[-1].rsplit("/", 1)[-1])
            return self.tracker.follow(
                c.address, what=describe_write(spec), request_id=sent.request_id, targets=tuple(targets),
                scenarios=spec.scenarios,
                sent_at=sent.server_time or sent.sent_at, retry_after=sent.retry_after,
                optional=sent.status == 200, timeout=self.job_timeout)
        # non-ASR write: its own poller, holding the worker (few of these)
        self.pacer.acquire(should_stop=lambda: self.stopping)
        try:
            self.emit({"event": "sent", "address": c.address, "operation": operation})
            try:
                from reconciler.settings import format_seconds

                what = f"{describe_write(spec)} of {c.address}"
                ops.run_lro(self.clients, spec, args, timeout=self.lro_timeout, should_stop=lambda: self.stopping,
                            every=self.settings.progress_interval,
                            on_waiting=lambda elapsed: self.emit({
                                "event": "waiting", "jobs": 0, "address": c.address,
                                "message": f"still waiting for Azure: {what} ({format_seconds(elapsed)}, "
                                           f"gives up after {format_seconds(self.lro_timeout)})"}))
            except InterruptedError:
                raise Interrupted(st.jobs) from None
            except TimeoutError as exc:
                raise ChangeFailed("OperationTimeout", str(exc)) from exc
            except Exception as exc:
                if spec.key in ops.CREATE_ONLY and getattr(exc, "status_code", None) == 412:
                    # created meanwhile by someone else: it exists, which is what we wanted
                    self.emit({"event": "note", "address": c.address,
                               "message": "already created by someone else meanwhile"})
                    return None
                raise
        finally:
            self.pacer.done()
        return None

    def _with_lock_tag(self, spec: ops.OpSpec, args: dict[str, Any]) -> dict[str, Any]:
        """A vault write must not drop our lock tag."""
        if self.lock is None or not spec.key.startswith("vaults.vaults.") or spec.destructive:
            return args
        body_key = "vault"
        body = args.get(body_key)
        if not isinstance(body, dict) or "tags" not in body:
            return args
        value = getattr(self.lock, "value", None)
        if not value:
            return args
        body = dict(body)
        body["tags"] = {**(body.get("tags") or {}), self.lock.TAG: value}
        return {**args, body_key: body}


class _Run:
    """One `Executor.run`: the event loop over a graph of changes. Workers run a
    change's requests (`Executor._step`); a change waiting for an ASR job gives its
    worker back and is resumed (`wakeups`) when the tracker ends its wait."""

    def __init__(self, ex: Executor, changes: list[Change], prior: dict[str, Outcome]) -> None:
        self.ex = ex
        self.index = {c.address: c for c in changes}
        self.order = [c.address for c in changes]
        self.pos = {a: i for i, a in enumerate(self.order)}
        self.deps: dict[str, list[str]] = {}
        self.dependents: dict[str, list[str]] = {a: [] for a in self.index}
        for c in changes:
            ds = [d for d in list(c.depends_on) + list(c.blocked_by)
                  if (d in self.index or d in prior) and d != c.address]
            self.deps[c.address] = list(dict.fromkeys(ds))
            for d in self.deps[c.address]:
                if d in self.dependents:
                    self.dependents[d].append(c.address)
        self.outcomes: dict[str, Outcome] = {a: o for a, o in prior.items() if a not in self.index}
        self.running: dict[cf.Future, str] = {}
        self.waiting: dict[str, tuple[Any, _State]] = {}  # address -> (tracked job, state)
        self.busy: set[str] = set()
        self.candidates = set(self.order)  # addresses worth looking at in the next scan
        self.wakeups: queue.Queue[str] = queue.Queue()
        self.interrupted = False
        self.pool = cf.ThreadPoolExecutor(max_workers=ex.parallelism, thread_name_prefix="asr-apply")

    def finish(self, addr: str, o: Outcome) -> None:
        self.outcomes[addr] = o
        self.busy.discard(addr)
        self.candidates.update(self.dependents.get(addr, ()))

    def submit(self, addr: str, st: _State) -> None:
        self.running[self.pool.submit(self.ex._step, self.index[addr], st)] = addr

    def loop(self) -> None:
        while True:
            try:
                self.schedule()
                if not self.running and not self.waiting:
                    return
                done = self.pause()
                if done is None:
                    continue
                self.collect(done)
                self.resume()
                if self.ex.stopping and self.waiting:
                    self.leave_waiting()
            except KeyboardInterrupt:
                # Ctrl-C lands wherever the main thread is (on a loaded machine often here,
                # not in pause): the same handling everywhere; a second Ctrl-C propagates
                self.interrupt()

    # --- resolve what needs no work, start what is ready (in plan order) -----------
    def schedule(self) -> None:
        progressed = True
        while progressed:
            progressed = False
            for addr in sorted(self.candidates, key=self.pos.__getitem__):
                if addr in self.outcomes or addr in self.busy:
                    self.candidates.discard(addr)
                    continue
                if any(d not in self.outcomes for d in self.deps[addr]) and not self._failed_deps(addr):
                    self.candidates.discard(addr)  # looked at again when a dependency ends
                    continue
                verdict = self.verdict(addr)
                if verdict is not None:
                    self.finish(addr, verdict)
                    progressed = True
                    continue
                if len(self.running) >= self.ex.parallelism:
                    break  # no free worker: keep the candidate for later
                self.candidates.discard(addr)
                self.busy.add(addr)
                self.ex.emit({"event": "start", "address": addr, "action": self.index[addr].action.value})
                self.submit(addr, _State(t0=time.monotonic()))

    def _failed_deps(self, addr: str) -> list[str]:
        return [d for d in self.deps[addr]
                if d in self.outcomes and self.outcomes[d].status not in (SUCCEEDED, UNCHANGED)]

    def verdict(self, addr: str) -> Outcome | None:
        """The outcome of a change that needs no work (skipped, manual, noop), or None to start it."""
        ex, c = self.ex, self.index[addr]
        bad = self._failed_deps(addr)
        if bad:
            return ex._skip(c, bad, self.outcomes, self.index)
        if c.action == Action.MANUAL:
            return ex._manual(c)
        if c.blocked_by:
            o = Outcome(addr, c.action.value, SKIPPED, reason=f"waits for manual step {', '.join(c.blocked_by)}")
            ex.emit({"event": "skipped", "address": addr, "reason": o.reason})
            return o
        if c.action == Action.NOOP:
            return Outcome(addr, c.action.value, UNCHANGED)
        if ex.stopping:
            return Outcome(addr, c.action.value, SKIPPED, reason=f"not started: {ex._stop_reason}")
        return None

    # --- wait a little for workers or ended jobs -------------------------------------
    def pause(self) -> set[cf.Future] | None:
        try:
            if self.running:
                done, _ = cf.wait(list(self.running), timeout=0.1, return_when=cf.FIRST_COMPLETED)
                return done
            try:
                self.wakeups.put(self.wakeups.get(timeout=0.1))
            except queue.Empty:
                pass
            return set()
        except KeyboardInterrupt:
            self.interrupt()
            return None

    def interrupt(self) -> None:
        """Stop scheduling, say what is in flight (left running in Azure); a second Ctrl-C raises."""
        if self.ex._stop.is_set():
            raise KeyboardInterrupt
        self.interrupted = True
        self.ex.stop("interrupted")
        self.ex.emit({"event": "interrupt", "in_flight": sorted(list(self.running.values()) + list(self.waiting))})

    def collect(self, done: set[cf.Future]) -> None:
        for fut in done:
            addr = self.running.pop(fut)
            res = fut.result()
            if isinstance(res, Outcome):
                self.finish(addr, res)
                continue
            tracked, st = res  # waiting for an ASR job
            self.waiting[addr] = (tracked, st)
            tracked.notify = lambda a=addr: self.wakeups.put(a)
            if tracked.done:
                self.wakeups.put(addr)

    def resume(self) -> None:
        """Jobs whose wait ended: continue their change on a worker, or finish it."""
        while True:
            try:
                addr = self.wakeups.get_nowait()
            except queue.Empty:
                return
            if addr not in self.waiting or not self.waiting[addr][0].done:
                continue
            tracked, st = self.waiting.pop(addr)
            verdict = self.ex._job_verdict(self.index[addr], tracked, st)
            if isinstance(verdict, Outcome):
                self.finish(addr, verdict)
            else:
                self.submit(addr, st)  # next request of the change

    def leave_waiting(self) -> None:
        """Stopping: changes waiting for Azure jobs stop waiting; the jobs go on."""
        reason = "interrupted; its Azure job keeps running and the next apply awaits it"
        for addr, (tracked, st) in list(self.waiting.items()):
            self.waiting.pop(addr)
            self.ex.emit({"event": "interrupted", "address": addr, "reason": reason})
            self.finish(addr, Outcome(addr, self.index[addr].action.value, IN_PROGRESS, reason=reason,
                                      jobs=st.jobs + ([job_record(tracked.job)] if tracked.job else []),
                                      seconds=time.monotonic() - st.t0))

    def abort(self) -> None:
        """A second Ctrl-C: stop at once; what was in flight is reported as running in Azure."""
        self.interrupted = True
        self.ex.stop("interrupted")
        self.pool.shutdown(wait=False, cancel_futures=True)
        for addr in list(self.running.values()) + list(self.waiting):
            self.outcomes.setdefault(addr, Outcome(addr, self.index[addr].action.value, IN_PROGRESS,
                                                   reason="interrupted; any Azure job keeps running"))

"""One `asr apply`, from a Plan to a result: the order of the steps around the
executor.

1. Refuse deletes and replacements without allow_destroy, before any change: a
   change is destructive when any of its requests' operations is (`OpSpec.destructive`
   in operations.py) or when its action is delete / replace.
2. Create the vault (and its resource group) first if the plan says so: the lock
   lives in the vault, so it must exist; the create is sent with
   `If-None-Match: *` so two appliers cannot both create it.
3. Take the vault lock (a lease in a vault tag, renewed while running).
4. Execute the rest of the graph.
5. With `replan`: re-plan from Azure; when the new plan has work that became
   possible during this run (a VMM server or Hyper-V host that registered once its
   vault or site existed, a recovery plan to update after a replace), hand the new
   plan to `approve`, which shows it and says whether it may run (None) or why not
   (a reason string). Without `approve`, nothing more runs. Destructive follow-ups
   still need allow_destroy. A bounded number of rounds. The CLI gives a saved plan
   an `approve` that always says no: it is applied exactly, once, and what remains
   is reported.
6. Release the lock. Optionally wait until every VM is Protected.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from reconciler.apply.executor import (
    FAILED,
    MANUAL,
    SKIPPED,
    SUCCEEDED,
    UNCHANGED,
    ApplyResult,
    Executor,
    Outcome,
)
from reconciler.apply.lock import VaultLock
from reconciler.apply.operations import OPERATIONS
from reconciler.apply.pacing import WritePacer
from reconciler.errors import AsrError, UsageError
from reconciler.plan.model import Action, Change, Kind, Plan, Reason

MAX_ROUNDS = 6

Emit = Callable[[dict[str, Any]], None]
# approve(new_plan, work) -> None to run `work` (shown to the user and approved), or the
# reason it is not run (recorded as the skipped outcomes' reason)
Approve = Callable[[Plan, list[Change]], "str | None"]
NOT_SHOWN = "became possible during apply; not run, as nobody was shown it to approve: run `asr apply` again"


def destructive_operations(change: Change) -> list[str]:
    """The operations of `change`'s requests that delete, remove, purge or disable
    something (`OpSpec.destructive`); an operation not in the allow-list counts too."""
    out: list[str] = []
    for r in change.requests:
        spec = OPERATIONS.get(r.operation)
        if (spec is None or spec.destructive) and r.operation not in out:
            out.append(r.operation)
    return out


def destroying(plan: Plan) -> list[Change]:
    """Changes that need --allow-destroy: by what they send, and by their action."""
    return [c for c in plan.changes if c.destructive or destructive_operations(c) or c.removes]


def _destroy_label(c: Change) -> str:
    if c.destructive:
        return f"{c.address} ({c.action.value})"
    if c.removes:
        return f"{c.address} ({c.action.value}, removes {', '.join(c.removes)} under prune)"
    return f"{c.address} ({c.action.value}, but sends {', '.join(destructive_operations(c))})"


def refuse_destroy(plan: Plan) -> None:
    bad = destroying(plan)
    if bad:
        lines = ", ".join(_destroy_label(c) for c in bad)
        raise UsageError(
            f"the plan deletes or replaces {len(bad)} object(s): {lines}; nothing was changed",
            hint="review the plan, then re-run with --allow-destroy to allow it",
        )


def pre_lock_addresses(plan: Plan) -> set[str]:
    """The vault's creation and what it depends on (its resource group)."""
    idx = plan.by_address()
    out: set[str] = set()
    for c in plan.changes:
        if c.kind == Kind.VAULT and c.action == Action.CREATE:
            stack = [c.address]
            while stack:
                a = stack.pop()
                if a in out or a not in idx:
                    continue
                out.add(a)
                stack.extend(idx[a].depends_on)
    return out


def actionable(plan: Plan) -> list[Change]:
    out = []
    for c in plan.changes:
        if c.action == Action.MANUAL or c.blocked:
            continue
        if c.is_change:  # AWAIT included: a job running at plan time is awaited
            out.append(c)
    return out


def _merge(total: dict[str, Outcome], result: ApplyResult, emit: Emit | None = None) -> None:
    for o in result.outcomes:
        prev = total.get(o.address)
        if prev is not None and prev.status == SUCCEEDED and o.status == UNCHANGED:
            continue
        if emit is not None and prev is not None and prev.status in (MANUAL, SKIPPED) and o.status == UNCHANGED:
            # nothing to do any more (a host registered meanwhile): no executor event says so
            emit({"event": "outcome", "address": o.address, "status": UNCHANGED,
                  "reason": f"no longer {prev.status}: nothing to do now"})
        total[o.address] = o


class Applier:
    def __init__(
        self,
        clients: Any,
        *,
        parallelism: int = 10,
        emit: Emit | None = None,
        allow_destroy: bool = False,
        replan: Callable[[], Plan] | None = None,
        registration_wait: float | None = None,
        lock_ttl: float | None = None,
        lock: VaultLock | None = None,
        approve: Approve | None = None,
        settings: Any = None,
    ) -> None:
        from reconciler.settings import Settings

        self.settings = settings or getattr(clients, "config", None) or Settings.from_env()
        self.deadline: float | None = None  # time.monotonic() by which every wait ends; set by apply()
        self.clients = clients
        self.parallelism = parallelism
        self.emit = emit or (lambda e: None)
        self.allow_destroy = allow_destroy
        self.replan = replan
        self.approve = approve
        self.followups_run = 0  # actions run after approval of a re-plan
        self.registration_wait = (registration_wait if registration_wait is not None
                                  else self.settings.registration_wait)
        self.replan_interval = self.settings.replan_interval
        self.lock_ttl = lock_ttl if lock_ttl is not None else self.settings.lock_ttl
        self.pacer = WritePacer(getattr(clients, "counter", None))
        self.lock: VaultLock | None = lock  # may be taken already (before planning)
        self._executor: Executor | None = None
        self._stopped = False
        self.job_list_reads = 0

    def stop(self) -> None:
        self._stopped = True
        if self._executor is not None:
            self._executor.stop()

    def _execute(self, plan: Plan, only: set[str] | None, prior: dict[str, Outcome]) -> ApplyResult:
        ex = Executor(self.clients, plan, parallelism=self.parallelism, emit=self.emit, pacer=self.pacer, lock=self.lock,
                      settings=self.settings, deadline=self.deadline)
        self._executor = ex
        try:
            return ex.run(only=only, prior=prior)
        finally:
            self._executor = None
            self.job_list_reads += ex.tracker.list_calls

    def apply(self, plan: Plan) -> ApplyResult:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.settings.deadline
        try:
            return self._apply(plan)
        finally:
            if self.lock is not None:
                try:
                    self.lock.release()
                except Exception as exc:  # the lease expires by itself: never hide the result for it
                    from reconciler.azure.errors import translate

                    self.emit({"event": "note", "address": f"vault.{plan.vault}",
                               "message": f"could not remove the lock (it expires by itself within "
                                          f"{int(self.lock.ttl)} s): {translate(exc).message}"})

    def _apply(self, plan: Plan) -> ApplyResult:
        t0 = time.monotonic()
        Executor(self.clients, plan).check()  # unknown operations / bad arguments: refuse before any call
        if not self.allow_destroy:
            refuse_destroy(plan)
        total: dict[str, Outcome] = {}
        interrupted = False
        pre = pre_lock_addresses(plan) if not (self.lock is not None and self.lock.held) else set()
        created_vault = False
        if pre:
            self.emit({"event": "phase", "message": f"creating vault {plan.vault} before taking its lock"})
            r = self._execute(plan, pre, {})
            _merge(total, r, self.emit)
            interrupted = r.interrupted
            if any(total[a].status != SUCCEEDED and total[a].status != UNCHANGED for a in pre):
                for c in plan.changes:
                    if c.address not in total:
                        total[c.address] = Outcome(c.address, c.action.value, SKIPPED,
                                                   reason=f"vault {plan.vault} could not be created")
                return self._result(plan, total, interrupted, t0)
            created_vault = True
        if self.lock is None or not self.lock.held:
            self.lock = VaultLock(self.clients, plan.resource_group, plan.vault, ttl=self.lock_ttl, emit=self.emit)
            self.lock.acquire()
        try:
            if not interrupted and not self._stopped:
                rest = {c.address for c in plan.changes} - pre
                r = self._execute(plan, rest, dict(total))
                _merge(total, r, self.emit)
                interrupted = r.interrupted
            rounds = 1
            registration_deadline = None
            while (self.replan is not None and not interrupted and not self._stopped
                   and not any(o.status == FAILED for o in total.values())):
                try:
                    new = self.replan()
                except AsrError as err:  # the work done stands; convergence is unknown
                    total["(re-plan)"] = Outcome("(re-plan)", "read", FAILED, error_code=getattr(err, "code", None),
                                                 error_message=err.message)
                    self.emit({"event": "failed", "address": "(re-plan)", "code": getattr(err, "code", None),
                               "message": err.message})
                    break
                bad = destroying(new)
                if not self.allow_destroy and bad:
                    for c in bad:
                        total[c.address] = Outcome(c.address, c.action.value, SKIPPED,
                                                   reason="the re-plan wants to delete or replace it; needs --allow-destroy")
                    self.emit({"event": "phase", "message": "the new plan would delete or replace; stopping"})
                    break
                work = actionable(new)
                if work and rounds >= MAX_ROUNDS:
                    for c in work:  # e.g. a difference that does not go away: never claim convergence
                        total[c.address] = Outcome(c.address, c.action.value, SKIPPED,
                                                   reason=f"still differs after {rounds} rounds of this apply")
                    break
                if not work:
                    # only what a registration or a discovery resolves is worth waiting for (a VM whose
                    # settings Azure would refuse waits for a person, not for time)
                    waiting_manual = [c for c in new.changes if c.action == Action.MANUAL
                                      and c.reason in (Reason.NOT_REGISTERED, Reason.NOT_DISCOVERED)]
                    made = created_vault or any(
                        o.status == SUCCEEDED and o.address.split(".", 1)[0] in (Kind.HYPERV_SITE.value, Kind.VAULT.value)
                        for o in total.values())
                    if not waiting_manual or not made or self.registration_wait <= 0:
                        # refresh the manual / skipped view from the newest plan
                        self._refresh_pending(new, total)
                        break
                    if registration_deadline is None:
                        registration_deadline = time.monotonic() + self.registration_wait
                        self.emit({"event": "phase", "message":
                                   "waiting for servers to register with the new vault or site: "
                                   + ", ".join(c.address for c in waiting_manual)})
                    if time.monotonic() > registration_deadline:
                        self._refresh_pending(new, total)
                        break
                    time.sleep(self.replan_interval)
                    continue
                refusal = self.approve(new, work) if self.approve is not None else NOT_SHOWN
                if refusal is not None:
                    self._refresh_pending(new, total)
                    for c in work:
                        total[c.address] = Outcome(c.address, c.action.value, SKIPPED, reason=refusal)
                    self.emit({"event": "phase", "message": f"{len(work)} more action(s) not run: "
                               + ", ".join(c.address for c in work)})
                    break
                rounds += 1
                self.followups_run += len(work)
                self.emit({"event": "phase", "message": f"running {len(work)} more action(s), approved during apply"})
                r = self._execute(new, None, {})
                _merge(total, r, self.emit)
                interrupted = r.interrupted
        except KeyboardInterrupt:
            interrupted = True
        return self._result(plan, total, interrupted, t0)

    def _refresh_pending(self, new: Plan, total: dict[str, Outcome]) -> None:
        for c in new.changes:
            prev = total.get(c.address)
            if prev is not None and prev.status in (MANUAL, SKIPPED) and not c.is_change:
                # e.g. a host registered meanwhile: say so, the live counters follow (progress.LiveCounts)
                self.emit({"event": "outcome", "address": c.address, "status": UNCHANGED,
                           "reason": f"no longer {prev.status}: nothing to do now"})
            if prev is None or prev.status in (MANUAL, SKIPPED):
                if c.action == Action.MANUAL:
                    total[c.address] = Outcome(c.address, c.action.value, MANUAL,
                                               reason=c.note or f"{c.reason.value}: a manual step is needed")
                elif c.blocked:
                    total[c.address] = Outcome(c.address, c.action.value, SKIPPED,
                                               reason=f"waits for manual step {', '.join(c.blocked_by)}")
                elif not c.is_change:
                    total[c.address] = Outcome(c.address, c.action.value, UNCHANGED)

    def _result(self, plan: Plan, total: dict[str, Outcome], interrupted: bool, t0: float) -> ApplyResult:
        order = [c.address for c in plan.changes] + [a for a in total if a not in plan.by_address()]
        res = ApplyResult(outcomes=[total[a] for a in order if a in total], interrupted=interrupted,
                          seconds=time.monotonic() - t0)
        # the final status of every address: live displays end on the counts the summary prints
        self.emit({"event": "result", "statuses": {o.address: o.status for o in res.outcomes}})
        counter = getattr(self.clients, "counter", None)
        if counter is not None:
            res.requests = dict(counter.snapshot())
            settings = getattr(self.clients, "settings", None)
            if settings is not None:
                res.requests["retry_budget_per_request"] = settings.retry_total
            res.requests["pacing_wait_seconds"] = round(self.pacer.waited_seconds, 2)
            res.requests["job_list_reads"] = self.job_list_reads
        return res


def wait_protected(clients: Any, resource_group: str, vault: str, vm_names: list[str], *, emit: Emit,
                   timeout: float | None = None, interval: float | None = None) -> list[str]:
    """Wait until every named VM's protected item reads Protected: one paged
    list of the vault's protected items per interval. Returns the VMs still not
    protected at the deadline (empty when all are). Says what it waits for at
    least every Settings.progress_interval."""
    from reconciler.settings import Settings, format_seconds

    settings = getattr(clients, "config", None) or Settings.from_env()
    timeout = timeout if timeout is not None else settings.wait_protected_timeout
    interval = interval if interval is not None else settings.job_poll_max
    t0 = last_report = time.monotonic()
    want = {n.lower(): n for n in vm_names}
    deadline = time.monotonic() + timeout
    sr = clients.site_recovery()
    last: tuple | None = None
    while True:
        states: dict[str, str] = {}
        for item in sr.replication_protected_items.list(resource_group, vault):
            d = item.as_dict() if hasattr(item, "as_dict") else dict(item)
            p = d.get("properties") or {}
            psd = p.get("providerSpecificDetails") or {}
            name = str(p.get("friendlyName") or psd.get("vmName") or "").lower()
            if name in want:
                states[name] = str(p.get("protectionState") or "")
        waiting = sorted(want[n] for n in want if states.get(n, "").lower() != "protected")
        snap = (len(want) - len(waiting), tuple(waiting))
        if snap != last:
            detail = {want[n]: states.get(n, "missing") for n in want}
            emit({"event": "protection", "protected": len(want) - len(waiting), "total": len(want),
                  "waiting": waiting, "states": detail})
            last = snap
        elif waiting and time.monotonic() - last_report >= settings.progress_interval:
            last_report = time.monotonic()
            shown = ", ".join(f"{n} ({states.get(n.lower(), 'missing')})" for n in waiting[:5])
            emit({"event": "waiting", "message": f"still waiting for {len(waiting)} VM(s) to be Protected: {shown} "
                                                 f"({format_seconds(last_report - t0)})"})
        if not waiting or time.monotonic() > deadline:
            return waiting
        time.sleep(interval)

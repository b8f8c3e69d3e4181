"""The failover family on VMs or a recovery plan: validate, confirm, call Azure, follow
the jobs, report per VM.

    result = run_operation(ctx, Operation.TEST, targets, yes=True)
    result.ok, [o.as_dict() for o in result.outcomes]

Validation happens on one vault-wide read before anything is written: VMs not in the
manifest, VMs the vault does not protect, and operations their current state does not
allow are all reported together, naming the state.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from reconciler.azure.errors import azure_errors
from reconciler.errors import OperationFailedError, UsageError
from reconciler.live.jobs import JobView as SharedJobView
from reconciler.ops.context import OpsContext, Targets, confirm
from reconciler.ops.inputs import Call, item_call, plan_call, running_same, vnet_id
from reconciler.ops.inventory import Inventory, read_inventory
from reconciler.ops.jobs import JobFollower, parse_time, utcnow, vm_end_times
from reconciler.ops.states import (
    ItemState,
    NotInManifestError,
    Operation,
    OperationNotAllowedError,
    PlanState,
    already_done,
    check_allowed,
    check_plan_allowed,
)


@dataclass
class VmOutcome:
    vm: str
    operation: str
    ok: bool
    message: str = ""
    job: str | None = None
    job_state: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    duration_seconds: float | None = None
    state_after: str | None = None
    active_location_after: str | None = None
    recovery_point_id: str | None = None
    last_replicated_time: str | None = None  # at the start of the operation

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class OperationResult:
    operation: str
    recovery_plan: str | None
    outcomes: list[VmOutcome] = field(default_factory=list)
    plan_job: str | None = None
    plan_job_state: str | None = None
    message: str = ""
    plan_job_ok: bool | None = None  # job_ok() of the plan job, None without one

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes) and self.plan_job_ok is not False

    def as_dict(self) -> dict[str, Any]:
        return {"format": "asr-operation-result", "format_version": 1,
                "operation": self.operation, "recovery_plan": self.recovery_plan, "ok": self.ok,
                "plan_job": self.plan_job, "plan_job_state": self.plan_job_state, "message": self.message,
                "vms": [o.as_dict() for o in self.outcomes]}


def job_ok(op: Operation, job: SharedJobView) -> bool:
    """Did the operation's job do its work? Succeeded; and for a test failover also
    Suspended: a Hyper-V-to-Azure test failover job waits for its cleanup in state
    Suspended, WaitingForStopTestFailover (ReplicationJobs_Resume.json,
    ReplicationRecoveryPlans_TestFailover.json), while PowerShell's 2021 recording
    (TestTFO.json) shows it Succeeded: both mean the test VMs are up."""
    if job.succeeded:
        return True
    return op == Operation.TEST and job.state.lower() == "suspended"


def job_end(job: SharedJobView) -> _dt.datetime | None:
    """When the job's work ended: its endTime; else (a suspended test failover job has
    none) the latest end of its tasks. Placeholder times (0001-01-01) are not times."""
    if job.ended is not None:
        return job.ended
    ends = [e for e in (parse_time(t.get("endTime")) for t in job.tasks) if e is not None]
    if not ends or any((t.get("state") or "").lower() in ("inprogress", "notstarted") for t in job.tasks):
        return None
    return max(ends)


def test_network_id(ctx: OpsContext, override: str | None = None) -> tuple[str, str]:
    """(name, ARM id) of the network test failovers use: --test-network, else
    target.testNetwork. Never the production network by default."""
    m = ctx.manifest
    name = override or m.target.test_network
    if not name:
        raise UsageError(
            f"{ctx.file}: no test network: test failover never uses a production network by default",
            hint="declare an isolated network under target.networks and name it in target.testNetwork "
                 "(or pass --test-network NAME)",
        )
    names = {n.name.lower(): n.name for n in m.target.networks}
    if name.lower() not in names:
        raise UsageError(f"test network {name!r} is not declared under target.networks in {ctx.file}")
    name = names[name.lower()]
    production = {v.target.network.lower() for v in m.protected_vms}
    production |= {nm.target_network.lower() for s in m.source.vmm_servers for nm in s.network_mappings}
    if name.lower() in production:
        if not override:
            raise UsageError(
                f"{ctx.file}: target.testNetwork {name} is also a production network (VMs fail over into it); "
                "a test failover there could clash with the running VMs",
                hint="declare a separate, isolated network for tests",
            )
        print(f"warning: --test-network {name} is a production network: the test VMs come up next to production",
              file=ctx.err, flush=True)
    return name, vnet_id(m.subscription, m.target.resource_group, name)


def resolve_items(ctx: OpsContext, inv: Inventory, targets: Targets) -> list[ItemState]:
    items: list[ItemState] = []
    missing: list[str] = []
    for vm in targets.vms:
        it = inv.item_for(vm)
        if it is None:
            missing.append(vm)
        else:
            items.append(it)
    if missing:
        raise NotInManifestError(
            f"not protected in vault {ctx.vault}: {', '.join(missing)} (declared in {ctx.file}, but Azure has no "
            f"replication for {'it' if len(missing) == 1 else 'them'})",
            hint=f"run `asr plan {ctx.file}` and `asr apply {ctx.file}` to enable protection first",
        )
    return items


def validate(ctx: OpsContext, op: Operation, items: list[ItemState], plan: PlanState | None) -> None:
    """All state errors at once, before any write."""
    problems: list[OperationNotAllowedError] = []
    if plan is not None:
        try:
            check_plan_allowed(plan, op, file=ctx.file)
        except OperationNotAllowedError as e:
            problems.append(e)
    for it in items:
        try:
            check_allowed(it, op, file=ctx.file)
        except OperationNotAllowedError as e:
            problems.append(e)
    if not problems:
        return
    if len(problems) == 1:
        raise problems[0]
    hints = [p.hint for p in problems if p.hint]
    raise OperationNotAllowedError(
        f"{op.title} refused for {len(problems)} targets:\n  " + "\n  ".join(p.message for p in problems),
        hint=hints[0] if hints else None,
    )


def describe_effect(op: Operation, items: list[ItemState], *, plan: str | None, network: str | None) -> str:
    """What the operation will do, in words, for the confirmation prompt and the log."""
    who = f"recovery plan {plan} ({', '.join(i.vm_name for i in items)})" if plan else ", ".join(i.vm_name for i in items)
    if op == Operation.TEST:
        return (f"Test failover of {who} into the isolated test network {network}. Production keeps running "
                "and replicating; clean up afterwards with `asr failover cleanup`.")
    if op == Operation.CLEANUP:
        return f"Clean up the test failover of {who}: the test VMs in Azure are deleted."
    if op == Operation.PLANNED:
        return (f"Planned failover of {who} to Azure. The source VMs are shut down first and their last "
                "changes replicated, so no data is lost; the VMs then run in Azure.")
    if op == Operation.UNPLANNED:
        lines = [f"UNPLANNED failover of {who} to Azure from the latest recovery point.",
                 "Data written since the last recovery point can be lost:"]
        for i in items:
            lines.append(f"  {i.vm_name}: last replicated {i.last_replicated_time or 'unknown'}")
        return "\n".join(lines)
    if op == Operation.COMMIT:
        return f"Commit the failover of {who}: the recovery points used can no longer be changed."
    if op == Operation.CANCEL:
        return f"Cancel the failover of {who}."
    if op == Operation.REPROTECT:
        return f"Reprotect {who}: start reverse replication from where the VMs run now."
    if op == Operation.FAILBACK:
        return (f"Failback of {who}: planned failover from Azure to the primary site (the Azure VMs are shut "
                "down and their changes synchronised back), commit, then reprotect to Azure.")
    return f"{op.title} of {who}"


def _start(ctx: OpsContext, group: str, call: Call, path_args: dict[str, Any], what: str) -> tuple[str, _dt.datetime]:
    """Send one failover-family POST (`reconciler.azure.jobs.send_write`: polling=False, our
    request id); returns (request id, start time)."""
    from reconciler.azure.jobs import send_write

    sr = ctx.clients.site_recovery()
    method = getattr(getattr(sr, group), call.method)
    with azure_errors(what):
        sent = send_write(method, ctx.resource_group, ctx.vault, *path_args.values(), **call.kwargs(),
                          counter=getattr(ctx.clients, "counter", None))
    started = _dt.datetime.fromtimestamp(sent.started, _dt.UTC)
    return sent.request_id, started - _dt.timedelta(seconds=2)


def _item_path(it: ItemState) -> dict[str, Any]:
    return {"fabric_name": it.fabric, "protection_container_name": it.container, "replicated_protected_item_name": it.name}


def _progress_printer(ctx: OpsContext) -> Callable[[str, SharedJobView], None]:
    def show(key: str, job: SharedJobView) -> None:
        ctx.say(f"  {key}: {job.scenario or job.friendly_name or 'job'} {job.progress()}")

    return show


def execute(ctx: OpsContext, op: Operation, items: list[ItemState], plan: PlanState | None, *,
            network_id: str | None = None, shutdown_source: bool = False,
            sleep: Callable[[float], None] | None = None, interval: float | None = None,
            timeout: float | None = None, awaiting: dict[str, str] | None = None,
            on_pause: Callable[..., None] | None = None, choice: Any = None,
            failback: dict[str, Any] | None = None) -> OperationResult:
    """Start `op` (on the plan, else on each item) and follow its jobs to the end.
    `on_pause(job_name, waiting)`: called when the plan job suspends at a manual action
    (ops/jobcontrol.pause_handler); without it such a pause stops with a message.
    `awaiting` maps VM names (or "recovery plan NAME") to the id of a job of this very
    operation already running on them: followed, never started again.
    No validation or confirmation here: callers do that first."""
    awaiting = awaiting or {}
    res = OperationResult(operation=op.value, recovery_plan=plan.name if plan else None)
    follower = JobFollower(ctx.clients, ctx.resource_group, ctx.vault, interval=interval, timeout=timeout,
                           sleep=sleep, on_progress=_progress_printer(ctx))
    started_at: dict[str, _dt.datetime] = {}
    if plan is not None:
        direction = "RecoveryToPrimary" if items and all(i.location == "recovery" for i in items) else "PrimaryToRecovery"
        key = f"recovery plan {plan.name}"
        if key in awaiting:
            t0 = (parse_time(plan.current_scenario.start_time) or utcnow()) - _dt.timedelta(seconds=2)
            follower.watch(key, request_id="", target_id=plan.id, started=t0, target_name=plan.name,
                           job_name=awaiting[key])
            ctx.say(f"{op.title} of recovery plan {plan.name} is already running; following its job instead of "
                    "starting another...")
        else:
            call = plan_call(op, test_network_id=network_id, shutdown_source=shutdown_source, direction=direction,
                             recovery_point_type=choice.plan_type if choice is not None else "Latest", failback=failback)
            rid, t0 = _start(ctx, "replication_recovery_plans", call, {"recovery_plan_name": plan.name},
                             f"{op.title} of recovery plan {plan.name}")
            follower.watch(key, request_id=rid, target_id=plan.id, started=t0, scenarios=call.scenario_hint,
                           target_name=plan.name)
            ctx.say(f"Started {op.title} of recovery plan {plan.name}; following its job...")
        w = follower.wait([key])[key]
        from reconciler.ops.jobcontrol import follow_through_pauses

        w = follow_through_pauses(ctx, follower, key, w, target_id=plan.id, target_name=plan.name, started=t0,
                                  on_pause=on_pause)
        job = w.job
        assert job is not None
        res.plan_job, res.plan_job_state = job.name, job.state
        res.plan_job_ok = job_ok(op, job)
        plan_job = job
        for it in items:
            started_at[it.vm_name] = parse_time(job.start_time) or t0
        if not res.plan_job_ok:
            res.message = f"recovery plan {plan.name}: {op.title} job {job.name} {job.state}: {job.error_message()}"
    else:
        errors: dict[str, str] = {}
        for it in items:
            if it.vm_name in awaiting:
                t0 = (parse_time(it.scenario.start_time) or utcnow()) - _dt.timedelta(seconds=2)
                follower.watch(it.vm_name, request_id="", target_id=it.id, started=t0, target_name=it.name,
                               job_name=awaiting[it.vm_name])
                started_at[it.vm_name] = t0
                ctx.say(f"{op.title} of {it.vm_name} is already running; following its job instead of starting another")
                continue
            call = item_call(op, it, test_network_id=network_id, shutdown_source=shutdown_source,
                             recovery_point_id=choice.ids.get(it.vm_name) if choice is not None else None,
                             failback=failback)
            try:
                rid, t0 = _start(ctx, "replication_protected_items", call, _item_path(it), f"{op.title} of {it.vm_name}")
            except Exception as exc:  # one VM refused by Azure must not hide the others' outcome
                from reconciler.errors import AsrError

                if not isinstance(exc, AsrError):
                    raise
                errors[it.vm_name] = exc.message
                continue
            follower.watch(it.vm_name, request_id=rid, target_id=it.id, started=t0, scenarios=call.scenario_hint,
                           target_name=it.name)
            started_at[it.vm_name] = t0
            ctx.say(f"Started {op.title} of {it.vm_name}")
        watches = follower.wait() if follower.watches else {}
        from reconciler.ops.jobcontrol import follow_through_pauses

        for it in items:  # a job suspended for a person (a ForDownTime failback): say so, resume or stop
            if it.vm_name in watches:
                watches[it.vm_name] = follow_through_pauses(
                    ctx, follower, it.vm_name, watches[it.vm_name], target_id=it.id, target_name=it.name,
                    started=started_at.get(it.vm_name) or utcnow(), on_pause=on_pause)
        for it in items:
            if it.vm_name in errors:
                res.outcomes.append(VmOutcome(vm=it.vm_name, operation=op.value, ok=False, message=errors[it.vm_name],
                                              last_replicated_time=it.last_replicated_time))
        for it in items:
            watched = watches.get(it.vm_name)
            if watched is None:
                continue
            job = watched.job
            assert job is not None
            res.outcomes.append(_outcome(op, it, job, started_at.get(it.vm_name)))
    # One more vault-wide read: the state each VM ended in.
    after = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))
    if plan is not None:
        # Per-VM work of a plan runs inside the plan job: its tasks say when each VM was done.
        ends = vm_end_times(plan_job, items, [])
        start = parse_time(plan_job.start_time)
        for it in items:
            ok = job_ok(op, plan_job)
            end = ends.get(it.vm_name) or (job_end(plan_job) if ok else None)
            res.outcomes.append(VmOutcome(
                vm=it.vm_name, operation=op.value, ok=ok,
                message="" if ok else res.message, job=res.plan_job, job_state=res.plan_job_state,
                started_at=plan_job.start_time, ended_at=end.strftime("%Y-%m-%dT%H:%M:%SZ") if end else None,
                duration_seconds=(end - start).total_seconds() if (end and start) else None,
                last_replicated_time=it.last_replicated_time))
    for o in res.outcomes:
        now = after.item_for(o.vm)
        if now is not None:
            o.state_after = now.protection_state
            o.active_location_after = now.active_location
            o.recovery_point_id = now.failover_recovery_point_id or o.recovery_point_id
    return res


def _vm_name_or_id(inv: Any, item_id: str) -> str:
    item = inv.item_by_id(item_id)
    return item.vm_name if item is not None else item_id


def _outcome(op: Operation, it: ItemState, job: SharedJobView, t0: _dt.datetime | None) -> VmOutcome:
    start = parse_time(job.start_time) or t0
    ok = job_ok(op, job)
    end = job_end(job) if ok else parse_time(job.end_time)
    dur = (end - start).total_seconds() if (start and end) else None
    return VmOutcome(
        vm=it.vm_name, operation=op.value, ok=ok,
        message="" if ok else f"job {job.name} {job.state}: {job.error_message()}",
        job=job.name, job_state=job.state,
        started_at=job.start_time, ended_at=end.strftime("%Y-%m-%dT%H:%M:%SZ") if end else None, duration_seconds=dur,
        last_replicated_time=it.last_replicated_time,
    )


def prepare(ctx: OpsContext, op: Operation, targets: Targets, *, awaiting: dict[str, str] | None = None,
            done: dict[str, str] | None = None) -> tuple[list[ItemState], PlanState | None, Inventory]:
    """One vault-wide read, then every check; raises before anything is written.
    With `awaiting` (a dict, filled here), objects already running a job of this very
    operation (a re-run after Ctrl-C) are awaited instead of refused; with `done` (a
    dict, filled here), VMs the operation already happened to are reported, not refused."""
    parts = ("items", "plans") if targets.recovery_plan else ("items",)
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=parts)
    plan = None
    if targets.recovery_plan:
        plan = inv.plan_for(targets.recovery_plan)
        if plan is None:
            raise NotInManifestError(
                f"recovery plan {targets.recovery_plan} is declared in {ctx.file} but does not exist in vault {ctx.vault}",
                hint=f"run `asr apply {ctx.file}` to create it",
            )
    items = resolve_items(ctx, inv, targets)
    if plan is not None:
        live_ids = {i.lower() for i in plan.item_ids()}
        want_ids = {i.id.lower() for i in items}
        if live_ids and live_ids != want_ids:
            extra = sorted(_vm_name_or_id(inv, i) for i in live_ids - want_ids)
            missing = sorted(i.vm_name for i in items if i.id.lower() not in live_ids)
            bits = ([f"also fails over {', '.join(extra)}"] if extra else []) + \
                   ([f"does not contain {', '.join(missing)}"] if missing else [])
            print(f"warning: recovery plan {plan.name} in Azure differs from {ctx.file}: it {' and '.join(bits)} "
                  f"(`asr plan {ctx.file}` shows the change)", file=ctx.err, flush=True)
    if awaiting is not None:
        if plan is not None and plan.busy and running_same(op, plan.current_scenario.name) \
                and plan.current_scenario.job_id:
            awaiting[f"recovery plan {plan.name}"] = plan.current_scenario.job_id
        for it in items:
            if it.busy and running_same(op, it.scenario.name) and it.scenario.job_id:
                awaiting[it.vm_name] = it.scenario.job_id
        if plan is not None and f"recovery plan {plan.name}" in awaiting:
            return items, plan, inv  # the plan's own job is what we follow; nothing else to check
    if done is not None:
        for it in items:
            why = already_done(it, op) if it.vm_name not in (awaiting or {}) else None
            if why:
                done[it.vm_name] = why
        if plan is not None and len(done) != len(items):
            done.clear()  # a plan acts on all its VMs: partly done is checked (and refused) as a whole
        if len(done) == len(items):
            return items, plan, inv
    skip = set(awaiting or {}) | set(done or {})
    validate(ctx, op, [i for i in items if i.vm_name not in skip], plan)
    return items, plan, inv


def run_operation(ctx: OpsContext, op: Operation, targets: Targets, *, yes: bool, test_network: str | None = None,
                  shutdown_source: bool = False, sleep: Callable[[float], None] | None = None,
                  interval: float | None = None, timeout: float | None = None,
                  ask: Callable[..., None] = confirm, recovery_point: str | None = None,
                  failback: dict[str, Any] | None = None) -> OperationResult:
    """Validate, confirm, run and follow one operation (failback: its three steps).
    `recovery_point`: --recovery-point of planned / unplanned / test (ops/recoverypoints)."""
    if op == Operation.FAILBACK:
        return run_failback(ctx, targets, yes=yes, sleep=sleep, interval=interval, timeout=timeout, ask=ask,
                            failback=failback)
    from reconciler.ops.jobcontrol import pause_handler

    on_pause = pause_handler(ctx, yes=yes, ask=ask)
    if recovery_point is not None and op not in (Operation.PLANNED, Operation.UNPLANNED, Operation.TEST):
        from reconciler.errors import UsageError

        raise UsageError(f"--recovery-point goes with failover planned, unplanned or test, not {op.value}")
    network_name = network_id = None
    if op == Operation.TEST:
        network_name, network_id = test_network_id(ctx, test_network)
    awaiting: dict[str, str] = {}
    done: dict[str, str] = {}
    items, plan, _ = prepare(ctx, op, targets, awaiting=awaiting, done=done)
    for vm, why in done.items():
        ctx.say(f"{vm}: {why}; nothing to do")
    todo = [i for i in items if i.vm_name not in done]
    if not todo:
        return _done_result(op, items, plan, done)
    choice = None
    if recovery_point is not None:
        from reconciler.errors import UsageError
        from reconciler.ops.recoverypoints import resolve

        choice = resolve(ctx, recovery_point, todo, plan=plan is not None)
        for vm, p in choice.points.items():
            ctx.say(f"{vm}: recovery point {p['name']} ({p['type']}, {p['time']})")
    if awaiting and (len(awaiting) == len(todo) or (plan is not None and f"recovery plan {plan.name}" in awaiting)):
        # nothing new is started: following a running job needs no confirmation
        res = execute(ctx, op, todo, plan, sleep=sleep, interval=interval, timeout=timeout, awaiting=awaiting,
                      on_pause=on_pause, choice=choice)
    else:
        effect = describe_effect(op, todo, plan=plan.name if plan else None, network=network_name)
        ctx.say(effect)
        ask("Continue?", yes=yes)
        res = execute(ctx, op, todo, plan, network_id=network_id, shutdown_source=shutdown_source,
                      sleep=sleep, interval=interval, timeout=timeout, awaiting=awaiting, on_pause=on_pause,
                      choice=choice)
    res.outcomes = _done_result(op, [i for i in items if i.vm_name in done], None, done).outcomes + res.outcomes
    if choice is not None:  # the point each VM was recovered to, as Azure reports it (failoverRecoveryPointId)
        for o in res.outcomes:
            if o.ok and o.recovery_point_id:
                asked = choice.points.get(o.vm)
                how = f" ({asked['type']}, {asked['time']})" if asked and asked["id"].lower() == o.recovery_point_id.lower() \
                    else f" (asked: {choice.asked})"
                ctx.say(f"{o.vm}: recovered to recovery point {o.recovery_point_id.rstrip('/').rsplit('/', 1)[-1]}{how}")
    return res


def _done_result(op: Operation, items: list[ItemState], plan: PlanState | None, done: dict[str, str]) -> OperationResult:
    res = OperationResult(operation=op.value, recovery_plan=plan.name if plan else None, message="nothing to do")
    for it in items:
        res.outcomes.append(VmOutcome(vm=it.vm_name, operation=op.value, ok=True, message=done[it.vm_name],
                                      state_after=it.protection_state, active_location_after=it.active_location,
                                      last_replicated_time=it.last_replicated_time))
    return res


def _failback_start(items: list[ItemState]) -> Operation:
    """Where a failback (re)starts: an interrupted failback resumes at its next step, so
    re-running `asr failback` converges."""
    if items and all(i.location == "primary" for i in items):
        if all(i.allows("Commit") for i in items):
            return Operation.COMMIT
        if all(i.allows("ReverseReplicate") for i in items):
            return Operation.REPROTECT
    return Operation.FAILBACK


def run_failback(ctx: OpsContext, targets: Targets, *, yes: bool, sleep: Callable[[float], None] | None = None,
                 interval: float | None = None, timeout: float | None = None,
                 ask: Callable[..., None] = confirm, failback: dict[str, Any] | None = None) -> OperationResult:
    """Planned failover Azure -> primary site, commit, then reprotect (each step checked
    against a fresh read of the vault). Resumes where an interrupted failback stopped.
    `failback`: the failback input's options (ops/inputs.failback_input)."""
    parts = ("items", "plans") if targets.recovery_plan else ("items",)
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=parts)
    current = resolve_items(ctx, inv, targets)
    done = {i.vm_name: why for i in current if (why := already_done(i, Operation.FAILBACK))}
    if len(done) == len(current):
        for vm, why in done.items():
            ctx.say(f"{vm}: {why}; nothing to do")
        return _done_result(Operation.FAILBACK, current, inv.plan_for(targets.recovery_plan) if targets.recovery_plan
                            else None, done)
    first = _failback_start(current)
    items, plan, _ = prepare(ctx, first, targets)
    steps = [Operation.FAILBACK, Operation.COMMIT, Operation.REPROTECT]
    steps = steps[steps.index(first):]
    if first != Operation.FAILBACK:
        ctx.say(f"The VMs are already back on the primary site; resuming the failback at: {first.title}.")
    ctx.say(describe_effect(Operation.FAILBACK, items, plan=plan.name if plan else None, network=None))
    ask("Continue?", yes=yes)
    total = OperationResult(operation=Operation.FAILBACK.value, recovery_plan=plan.name if plan else None)
    for step in steps:
        if step != first:
            items, plan, _ = _refresh(ctx, targets)
            # Commit is skipped where the service does not ask for it after failback.
            if step == Operation.COMMIT and not all(i.allows("Commit") for i in items):
                continue
            validate(ctx, step, items, plan)
        ctx.say(f"== {step.title}")
        from reconciler.ops.jobcontrol import pause_handler

        res = execute(ctx, step, items, plan, sleep=sleep, interval=interval, timeout=timeout,
                      on_pause=pause_handler(ctx, yes=yes, ask=ask), failback=failback)
        total.outcomes = _merge(total.outcomes, res.outcomes)
        total.plan_job, total.plan_job_state, total.plan_job_ok = res.plan_job, res.plan_job_state, res.plan_job_ok
        if not res.ok:
            total.message = res.message or f"{step.title} failed"
            break
    return total


def _refresh(ctx: OpsContext, targets: Targets) -> tuple[list[ItemState], PlanState | None, Inventory]:
    parts = ("items", "plans") if targets.recovery_plan else ("items",)
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=parts)
    plan = inv.plan_for(targets.recovery_plan) if targets.recovery_plan else None
    return resolve_items(ctx, inv, targets), plan, inv


def _merge(old: list[VmOutcome], new: list[VmOutcome]) -> list[VmOutcome]:
    by = {o.vm: o for o in old}
    for o in new:
        prev = by.get(o.vm)
        if prev is not None and prev.ok and o.ok:
            o.message = prev.message
        by[o.vm] = o
    return list(by.values())


def raise_for(result: OperationResult) -> None:
    """Exit status 1 with Azure's messages when any VM failed."""
    if result.ok:
        return
    bad = [o for o in result.outcomes if not o.ok]
    lines = [f"{o.vm}: {o.message}" for o in bad if o.message]
    if result.message and result.message not in lines:
        lines.insert(0, result.message)
    raise OperationFailedError(f"{result.operation} failed:\n  " + "\n  ".join(lines or ["see the job in Azure"]))

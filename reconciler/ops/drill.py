"""`asr drill`: a DR rehearsal of one recovery plan, with its audit evidence.

    report = run_drill(ctx, "tier1", yes=True)

1. one vault-wide read; every VM of the plan must allow TestFailover (checked first)
2. test failover of the recovery plan into target.testNetwork, followed through its job
3. per group and per VM: the measured time to recover (from the start of the test
   failover job to the end of the group / of the VM's failover task) and the recovery
   point used
4. optional checks (`--verify-command`), run locally once per VM
5. cleanup: ALWAYS, also after a failure or Ctrl-C (test failover cleanup of the plan,
   after waiting for a still-running test failover to end)
6. the report (`reconciler.ops.report`): text, JSON, Markdown
"""

from __future__ import annotations

import datetime as _dt
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from reconciler.errors import AsrError
from reconciler.ops.context import OpsContext, confirm, select_targets
from reconciler.ops.failover import describe_effect, execute, job_end, job_ok, prepare, test_network_id
from reconciler.ops.inventory import list_jobs, read_inventory
from reconciler.ops.jobs import JobView, group_end_times, iso, parse_time, utcnow, vm_end_times
from reconciler.ops.states import ItemState, Operation, PlanState


@dataclass
class VmResult:
    vm: str
    group: int
    ok: bool = False
    recovered_seconds: float | None = None  # time to recover, from the drill's failover start
    recovery_point_type: str = "Latest"  # what the drill asks for (RecoveryPlanHyperVReplicaAzureFailoverInput)
    recovery_point_id: str | None = None  # failoverRecoveryPointId, when Azure reports it
    recovery_point_time: str | None = None  # the VM's last replicated time when the failover started
    test_vm_name: str | None = None
    check: str | None = None  # "passed" / "failed: ..." / None (no check)
    message: str = ""


@dataclass
class GroupResult:
    group: int
    vms: list[str]
    ok: bool = False
    recovered_seconds: float | None = None


@dataclass
class DrillReport:
    recovery_plan: str
    vault: str
    resource_group: str
    manifest: str
    test_network: str
    started_at: str = ""
    ended_at: str = ""
    outcome: str = "not started"  # succeeded | failed | interrupted | refused
    failover_job: str | None = None
    failover_job_state: str | None = None
    failover_started_at: str | None = None
    failover_ended_at: str | None = None
    recovery_time_seconds: float | None = None  # whole plan
    cleanup_job: str | None = None
    cleanup_state: str = "not needed"  # succeeded | failed: ... | skipped: ...
    groups: list[GroupResult] = field(default_factory=list)
    vms: list[VmResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome == "succeeded" and (self.cleanup_state == "succeeded"
                                                 or self.cleanup_state.startswith("not needed"))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ok"] = self.ok
        return d


def _run_check(cmd: str, vm: VmResult, network: str, timeout: float = 600) -> str:
    argv = [a.replace("{vm}", vm.vm).replace("{test_vm}", vm.test_vm_name or vm.vm).replace("{network}", network)
            for a in shlex.split(cmd)]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"failed: {type(exc).__name__}: {exc}"
    if p.returncode == 0:
        return "passed"
    tail = (p.stderr or p.stdout or "").strip().splitlines()[-1:] or [""]
    return f"failed: exit {p.returncode} {tail[0][:200]}".rstrip()


def run_drill(ctx: OpsContext, plan_name: str, *, yes: bool, verify_command: str | None = None,
              test_network: str | None = None, sleep: Callable[[float], None] | None = None,
              interval: float | None = None, timeout: float | None = None,
              ask: Callable[..., None] = confirm) -> DrillReport:
    targets = select_targets(ctx.manifest, vms=None, recovery_plan=plan_name, file=ctx.file)
    net_name, net_id = test_network_id(ctx, test_network)
    rep = DrillReport(recovery_plan=targets.recovery_plan or plan_name, vault=ctx.vault,
                      resource_group=ctx.resource_group, manifest=ctx.file, test_network=net_name)
    for gi, g in enumerate(targets.groups, 1):
        rep.groups.append(GroupResult(group=gi, vms=list(g)))
        for vm in g:
            rep.vms.append(VmResult(vm=vm, group=gi))
    items, plan, _ = prepare(ctx, Operation.TEST, targets)  # raises before any write
    assert plan is not None
    ctx.say(describe_effect(Operation.TEST, items, plan=plan.name, network=net_name))
    ctx.say("The drill cleans up the test failover afterwards, also after a failure or Ctrl-C.")
    ask("Start the DR drill?", yes=yes)

    rep.started_at = iso(utcnow())
    by_vm = {v.vm: v for v in rep.vms}
    for it in items:
        if it.vm_name in by_vm:
            by_vm[it.vm_name].recovery_point_time = it.last_replicated_time
    started = False
    try:
        started = True
        from reconciler.ops.jobcontrol import pause_handler

        res = execute(ctx, Operation.TEST, items, plan, network_id=net_id, sleep=sleep, interval=interval,
                      timeout=timeout, on_pause=pause_handler(ctx, yes=yes, ask=ask))
        rep.failover_job, rep.failover_job_state = res.plan_job, res.plan_job_state
        rep.outcome = "succeeded" if res.ok else "failed"
        if res.message:
            rep.errors.append(res.message)
        _measure(ctx, rep, items, plan, res.plan_job)
        if rep.outcome == "succeeded" and verify_command:
            for v in rep.vms:
                v.check = _run_check(verify_command, v, net_name)
                if v.check != "passed":
                    v.ok = False
                    rep.outcome = "failed"
                    rep.errors.append(f"{v.vm}: check {v.check}")
    except KeyboardInterrupt:
        rep.outcome = "interrupted"
        rep.errors.append("interrupted (Ctrl-C) during the test failover")
    except AsrError as exc:
        rep.outcome = "failed"
        rep.errors.append(exc.message)
    finally:
        if started:
            _cleanup(ctx, rep, targets, sleep=sleep, interval=interval, timeout=timeout)
        rep.ended_at = iso(utcnow())
    return rep


def _measure(ctx: OpsContext, rep: DrillReport, items: list[ItemState], plan: PlanState, job_name: str | None) -> None:
    """Times to recover per group and VM, from the plan job and the job list (one read)."""
    since = parse_time(rep.started_at) or utcnow()
    jobs = [JobView.from_json(j) for j in
            list_jobs(ctx.clients, ctx.resource_group, ctx.vault, iso(since - _dt.timedelta(minutes=5)))]
    job = next((j for j in jobs if j.name == job_name), None)
    after = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))
    if job is None:
        return
    # A test failover job waits for its cleanup (Suspended, no endTime): its work ended with
    # its last task (job_end); the 0001-01-01 end of an unfinished task is no time.
    t0, t1 = parse_time(job.start_time), job_end(job)
    rep.failover_started_at = job.start_time
    rep.failover_ended_at = job.end_time or (iso(t1) if t1 else None)
    ok = job_ok(Operation.TEST, job)
    if t0 and t1 and ok:  # a failed failover has no time to recover
        rep.recovery_time_seconds = round((t1 - t0).total_seconds(), 1)
    vm_ends = vm_end_times(job, items, jobs)
    g_ends = group_end_times(job, len(rep.groups))
    for v in rep.vms:
        end = vm_ends.get(v.vm) or g_ends.get(v.group)
        if end is None and ok:
            end = t1
        if end and t0:
            v.recovered_seconds = round((end - t0).total_seconds(), 1)
        now = after.item_for(v.vm)
        if now is not None:
            v.recovery_point_id = now.failover_recovery_point_id
            target = (now.provider or {}).get("recoveryAzureVmName") or now.recovery_azure_vm_name or v.vm
            v.test_vm_name = f"{target}-test"  # ASR names test failover VMs <target VM name>-test
            v.ok = ok and now.in_test_failover
            if ok and not v.ok:
                v.message = f"test failover state '{now.test_failover_state}' after the job"
        else:
            v.ok = False
            v.message = "not found in the vault after the test failover"
        if not ok and not (now is not None and now.in_test_failover):
            v.recovered_seconds = None  # the job failed and the VM is not up: no "up after" time
    for g in rep.groups:
        mine = [v for v in rep.vms if v.group == g.group]
        g.ok = bool(mine) and all(v.ok for v in mine)
        times = [v.recovered_seconds for v in mine if v.recovered_seconds is not None]
        end = g_ends.get(g.group)
        if end and t0:
            g.recovered_seconds = round((end - t0).total_seconds(), 1)
        elif times and len(times) == len(mine):
            g.recovered_seconds = max(times)
        if not ok and len(times) < len(mine):
            g.recovered_seconds = None  # a VM of the group did not come up
    if any(not v.ok for v in rep.vms) and rep.outcome == "succeeded":
        rep.outcome = "failed"
        rep.errors += [f"{v.vm}: {v.message}" for v in rep.vms if v.message]


def _cleanup(ctx: OpsContext, rep: DrillReport, targets: Any, *, sleep: Callable[[float], None] | None,
             interval: float | None, timeout: float | None) -> None:
    """Test failover cleanup of the plan, always; waits out a test failover still running."""
    pause = sleep or time.sleep
    step = interval if interval is not None else 5.0
    limit = timeout if timeout is not None else 4 * 3600.0
    waited = 0.0
    try:
        while True:
            inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items", "plans"))
            items = [i for i in (inv.item_for(v) for v in targets.vms) if i is not None]
            plan = inv.plan_for(targets.recovery_plan)
            busy = [i for i in items if i.busy]  # a test failover waiting for its cleanup is not busy
            if not busy or waited >= limit:
                break
            ctx.say(f"Waiting for {', '.join(i.vm_name for i in busy)} to finish before cleaning up...")
            pause(step)
            waited += step
        need = [i for i in items if i.allows("TestFailoverCleanup")]
        if not need:
            rep.cleanup_state = "not needed" if not any(i.in_test_failover for i in items) else \
                "skipped: Azure does not allow cleanup in the current state"
            if rep.cleanup_state != "not needed":
                rep.errors.append(rep.cleanup_state)
            else:
                rep.cleanup_state = "not needed: nothing was left behind in Azure"
            return
        ctx.say(f"== cleanup: test failover cleanup of recovery plan {targets.recovery_plan}")
        res = execute(ctx, Operation.CLEANUP, need, plan, sleep=sleep, interval=interval, timeout=timeout)
        rep.cleanup_job = res.plan_job
        if res.ok:
            rep.cleanup_state = "succeeded"
        else:
            rep.cleanup_state = f"failed: {res.message or 'see the job in Azure'}"
            rep.errors.append(f"cleanup {rep.cleanup_state}")
    except KeyboardInterrupt:
        rep.cleanup_state = "interrupted: run `asr failover cleanup` for the recovery plan"
        rep.errors.append(rep.cleanup_state)
    except AsrError as exc:
        rep.cleanup_state = f"failed: {exc.message}"
        rep.errors.append(f"cleanup {rep.cleanup_state}")

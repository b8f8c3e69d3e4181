"""`asr jobs`: the vault's Site Recovery jobs, what a suspended job waits for, and job
control (resume / restart / cancel), refused when the job's `allowedActions` do not
allow it.

    rows = list_vault_jobs(ctx, since="2026-01-01T00:00:00Z", state="Suspended")
    waiting_for(job_json)      # None, or what a Suspended job waits for (a manual action...)
    control(ctx, "resume", JOB, comment="SQL answers")

A job waits either at a recovery plan's manual action (its unfinished task has
`customDetails.instanceType: ManualActionTaskDetails`, docs/fidelity.md J-005) or, a
test failover, for its cleanup (`stateDescription: WaitingForStopTestFailover`, L-001).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reconciler.azure.errors import azure_errors
from reconciler.errors import UserError
from reconciler.ops.inventory import as_json, list_jobs

ACTIONS = ("resume", "restart", "cancel")
WAITING_FOR_CLEANUP = "waitingforstoptestfailover"
_ENDED = {"succeeded", "failed", "cancelled", "canceled", "skipped", "completed", "completedwithinformation"}


class JobActionRefused(UserError):
    """The job does not allow the action now (its allowedActions): exit 1."""


@dataclass
class Waiting:
    kind: str  # "manual-action" | "test-failover-cleanup" | "suspended"
    action: str = ""  # the manual action's name
    instructions: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "action": self.action or None, "instructions": self.instructions or None}

    def describe(self) -> str:
        if self.kind == "manual-action":
            return f"manual action {self.action!r}: {self.instructions}".rstrip(": ")
        if self.kind == "test-failover-cleanup":
            return "the test failover cleanup"
        return "a resume (suspended)"


def _all_tasks(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for t in tasks or []:
        out.append(t)
        g = t.get("groupTaskCustomDetails") or {}
        out += list(g.get("childTasks") or [])
    return out


def manual_task(job: dict[str, Any]) -> dict[str, Any] | None:
    """The unfinished manual-action task of a job, if any."""
    for t in _all_tasks((job.get("properties") or {}).get("tasks") or []):
        cd = t.get("customDetails") or {}
        if (cd.get("instanceType") or "").lower() == "manualactiontaskdetails" and \
                (t.get("state") or "").lower() not in _ENDED:
            return t
    return None


def waiting_for(job: dict[str, Any]) -> Waiting | None:
    """What a Suspended job waits for; None for a job that is not Suspended."""
    p = job.get("properties") or {}
    if (p.get("state") or "").lower() != "suspended":
        return None
    t = manual_task(job)
    if t is not None:
        cd = t.get("customDetails") or {}
        return Waiting("manual-action", action=cd.get("name") or t.get("friendlyName") or "",
                       instructions=cd.get("instructions") or "")
    if (p.get("stateDescription") or "").lower() == WAITING_FOR_CLEANUP:
        return Waiting("test-failover-cleanup")
    return Waiting("suspended")


def row(job: dict[str, Any]) -> dict[str, Any]:
    p = job.get("properties") or {}
    w = waiting_for(job)
    return {
        "name": job.get("name"), "id": job.get("id"), "scenario": p.get("scenarioName"),
        "friendlyName": p.get("friendlyName"), "target": p.get("targetObjectName"),
        "targetType": p.get("targetInstanceType"), "state": p.get("state"),
        "stateDescription": p.get("stateDescription"), "startTime": p.get("startTime"), "endTime": p.get("endTime"),
        "allowedActions": list(p.get("allowedActions") or []), "waitingFor": w.as_dict() if w else None,
    }


def _touches_vm(job: dict[str, Any], vm: str) -> bool:
    p = job.get("properties") or {}
    if (p.get("targetObjectName") or "").lower() == vm.lower():
        return True
    for t in _all_tasks(p.get("tasks") or []):
        jt = (t.get("customDetails") or {}).get("jobTask") or {}
        if (jt.get("targetObjectName") or "").lower() == vm.lower():
            return True
    return False


def list_vault_jobs(ctx: Any, *, since: str, state: str | None = None, vm: str | None = None,
                    plan: str | None = None) -> list[dict[str, Any]]:
    """Rows of the vault's jobs started since `since`, newest first, filtered."""
    jobs = list_jobs(ctx.clients, ctx.resource_group, ctx.vault, since)
    out = []
    for j in jobs:
        p = j.get("properties") or {}
        if state and (p.get("state") or "").lower() != state.lower():
            continue
        if vm and not _touches_vm(j, vm):
            continue
        if plan and not ((p.get("targetInstanceType") or "").lower() == "recoveryplan"
                         and (p.get("targetObjectName") or "").lower() == plan.lower()):
            continue
        out.append(row(j))
    out.sort(key=lambda r: r.get("startTime") or "", reverse=True)
    return out


def get_job(ctx: Any, name: str) -> dict[str, Any]:
    sr = ctx.clients.site_recovery()
    with azure_errors(f"read job {name} of vault {ctx.vault}"):
        return as_json(sr.replication_jobs.get(ctx.resource_group, ctx.vault, name))


def control(ctx: Any, action: str, name: str, *, comment: str | None = None) -> dict[str, Any]:
    """Send resume / restart / cancel for job `name` when its allowedActions allow it;
    JobActionRefused otherwise (nothing is sent). Returns the job as read afterwards (for
    restart: the new RestartJob when Azure answered it, else the job)."""
    from reconciler.azure.jobs import send_write

    if action not in ACTIONS:
        raise UserError(f"unknown job action {action!r} (one of: {', '.join(ACTIONS)})")
    job = get_job(ctx, name)
    p = job.get("properties") or {}
    allowed = [str(a) for a in p.get("allowedActions") or []]
    if action.lower() not in {a.lower() for a in allowed}:
        state = p.get("state") or "unknown"
        raise JobActionRefused(
            f"job {job.get('name')} ({p.get('friendlyName') or p.get('scenarioName')}, "
            f"{p.get('targetObjectName') or '?'}) is {state}: it allows "
            f"{', '.join(allowed) if allowed else 'no action'}, not {action}",
            hint="list jobs and what they allow with `asr jobs FILE`",
        )
    sr = ctx.clients.site_recovery()
    rg, v = ctx.resource_group, ctx.vault
    with azure_errors(f"{action} job {name} of vault {v}"):
        if action == "resume":
            sent = send_write(sr.replication_jobs.begin_resume, rg, v, job["name"],
                              {"properties": {"comments": comment or "Resumed by asr"}}, counter=ctx.clients.counter)
        elif action == "restart":
            sent = send_write(sr.replication_jobs.begin_restart, rg, v, job["name"], counter=ctx.clients.counter)
        else:
            sent = send_write(sr.replication_jobs.begin_cancel, rg, v, job["name"], counter=ctx.clients.counter)
    body = sent.body if isinstance(sent.body, dict) and sent.body.get("name") else None
    if body is not None:
        return body
    return get_job(ctx, job["name"])


def render_text(rows: list[dict[str, Any]], file: str) -> str:
    if not rows:
        return "no jobs"
    heads = ("JOB", "OPERATION", "TARGET", "STATE", "STARTED", "ALLOWS")
    table = [(r["name"] or "", r["friendlyName"] or r["scenario"] or "", r["target"] or "", r["state"] or "",
              (r["startTime"] or "")[:19].replace("T", " "), ",".join(r["allowedActions"]) or "-") for r in rows]
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=False)).rstrip()]
    for r, t in zip(rows, table, strict=False):
        lines.append("  ".join(c.ljust(w) for c, w in zip(t, widths, strict=False)).rstrip())
        w = r.get("waitingFor")
        if w:
            lines.append("    " + waiting_line(Waiting(w["kind"], w.get("action") or "", w.get("instructions") or ""),
                                              r["name"], file))
    return "\n".join(lines)


def waiting_line(w: Waiting, job: str, file: str) -> str:
    if w.kind == "manual-action":
        return (f"waiting for manual action {w.action!r}: {w.instructions}\n"
                f"    when done: asr jobs resume {file} {job} [--comment TEXT]")
    if w.kind == "test-failover-cleanup":
        return "waiting for the test failover cleanup: asr failover cleanup FILE --vm NAME | --recovery-plan NAME"
    return f"suspended: asr jobs resume {file} {job}"


# --- a failover or drill that reaches a manual action ------------------------------

def view_waiting(job: Any) -> Waiting | None:
    """`waiting_for` of a followed JobView (reconciler.live.jobs.JobView)."""
    return waiting_for({"name": job.name, "properties": {"state": job.state, "stateDescription": job.state_description,
                                                         "tasks": job.tasks}})


def pause_handler(ctx: Any, *, yes: bool, ask: Any = None) -> Any:
    """What a failover-family command does when its recovery plan job suspends at a manual
    action: it says what the job waits for (the action's name and text); then with --yes
    (unattended runs) resumes it at once, on a terminal asks whether the action is done and
    resumes it, and otherwise stops, naming the command that resumes it."""
    from reconciler.errors import OperationFailedError, UsageError
    from reconciler.ops.context import confirm

    ask = ask or confirm

    def handle(job_name: str, w: Waiting) -> None:
        ctx.say(f"Paused: job {job_name} waits for manual action {w.action!r}:")
        ctx.say(f"  {w.instructions or '(no instructions given)'}")
        if yes:
            ctx.say("  --yes: resuming it (unattended run)")
            comment = f"manual action {w.action} resumed by asr (--yes)"
        else:
            try:
                ask(f"Is manual action {w.action!r} done? Resume the job?", yes=False)
            except UsageError as exc:
                raise OperationFailedError(
                    f"job {job_name} is paused at manual action {w.action!r} ({exc.message})",
                    hint=f"when the action is done: asr jobs resume {ctx.file} {job_name}",
                ) from None
            comment = f"manual action {w.action} confirmed on the terminal"
        control(ctx, "resume", job_name, comment=comment)
        ctx.say(f"Resumed job {job_name}; following it...")

    return handle


def follow_through_pauses(ctx: Any, follower: Any, key: str, tracked: Any, *, target_id: str, target_name: str,
                          started: Any, on_pause: Any) -> Any:
    """Follow a recovery plan job past its manual actions: while the job the wait ended on
    is Suspended at a manual action, hand it to `on_pause` (None: stop with a message naming
    the action and the resume command), then follow the same job again. A job still shown
    at an action already resumed is read again (Azure takes a moment), up to the follower's
    deadline."""
    from reconciler.errors import OperationFailedError

    resumed: set[str] = set()
    while True:
        job = tracked.job
        w = view_waiting(job) if job is not None else None
        if job is None or w is None or w.kind != "manual-action":
            return tracked
        task = manual_task({"properties": {"tasks": job.tasks}}) or {}
        mark = f"{job.name}/{task.get('taskId') or w.action}"
        if mark in resumed:
            deadline = getattr(follower._core, "deadline", None)
            if deadline is not None and follower._clock() >= deadline:
                raise OperationFailedError(
                    f"job {job.name} still shows manual action {w.action!r} waiting after the resume was sent; "
                    "gave up at the deadline (--deadline / ASR_DEADLINE)",
                    hint=f"see the job with `asr jobs {ctx.file} --state Suspended`")
            ctx.say(f"Waiting for Azure to resume job {job.name} past manual action {w.action!r}...")
            follower._sleep(follower._core.next_interval(False))
        else:
            if on_pause is None:
                raise OperationFailedError(
                    f"job {job.name} is paused at manual action {w.action!r}: {w.instructions}",
                    hint=f"when the action is done: asr jobs resume {ctx.file} {job.name}")
            on_pause(job.name, w)
            resumed.add(mark)
        follower.watches.pop(key, None)
        follower.watch(key, request_id="", target_id=target_id, started=started, target_name=target_name,
                       job_name=job.name)
        tracked = follower.wait([key])[key]

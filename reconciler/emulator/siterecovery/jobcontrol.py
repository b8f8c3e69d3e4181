"""Job control: `replicationJobs/{job}/resume`, `/restart`, `/cancel`, and the pause of a
recovery plan job at a manual action (docs/fidelity.md "Jobs and recovery plans as
runbooks", J-001...).

- resume (ReplicationJobs_Resume.json): allowed on a Suspended job (`allowedActions`
  [Cancel, Resume]). A job suspended at a manual action goes on with its next task; a test
  failover job waiting for its cleanup records the comments and stays Suspended, as the
  recorded answer shows it (its cleanup is `testFailoverCleanup`).
- cancel (ReplicationJobs_Cancel.json): allowed on InProgress and Suspended jobs; the job
  is `Cancelling` (allowedActions []) for CANCEL_SECONDS, then `Cancelled`; a job that had
  not taken effect is rolled back (its failure callback).
- restart (ReplicationJobs_Restart.json): allowed on a Failed job (the `Restart` action:
  guess); starts a new job `RestartJob` "Restart job" with one task `RemediateTask`
  "Restarting job" (customDetails ManualActionTaskDetails), which answers the POST; when it
  succeeds the failed job's write takes effect.

Every POST answers 202 with `Azure-AsyncOperation` (vault's replicationOperationStatus) and
`Retry-After`, no `Location`, as the three examples record. The route handler is
`handlers.job_control`; this module holds the rules (service.py calls them too) and imports
nothing of handlers.py or service.py at run time.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from reconciler.emulator.framework import ArmError
from reconciler.emulator.siterecovery.jobs import Job, TaskSpec

if TYPE_CHECKING:
    from reconciler.emulator.siterecovery.model import Vault
    from reconciler.emulator.siterecovery.service import SiteRecovery

CANCEL_SECONDS = 5.0  # simulated seconds a cancelled job shows Cancelling (guess)
RESTART_SECONDS = 2.0  # the RemediateTask took 0.08 s in ReplicationJobs_Restart.json; rounded up


def not_allowed(job: Job, action: str, now: float) -> ArmError:
    """The answer to an action the job does not allow (code and status: guess, J-004)."""
    state = job.state(now)
    allowed = job.to_json(now)["properties"]["allowedActions"]
    return ArmError(
        409, "OperationNotAllowed",
        f"The job '{job.name}' ({job.friendly_name}) is {state}; it allows "
        f"{', '.join(allowed) if allowed else 'no action'}, not {action}.",
    )


def schedule_pause(sr: SiteRecovery, job: Job, after: int = -1) -> None:
    """Schedule the suspension at the first manual-action task after index `after`."""
    for i, spec in enumerate(job.tasks):
        if i > after and spec.pause:
            at = job.task_start(i)
            sr.state.schedule(at, functools.partial(_reach, job, i, at))
            return


def _reach(job: Job, index: int, at: float) -> None:
    if job.final is not None or job.cancel_at is not None or job.waiting is not None:
        return
    if job.fail is not None and index > job.failed_task:
        return
    if job.task_start(index) > at + 1e-6:  # stale: a pause before moved it
        return
    job.waiting = (index, at)


def _reschedule_end(sr: SiteRecovery, job: Job) -> None:
    end = job.end
    sr.state.schedule(end, lambda: sr._finish(job, end))


def resume(sr: SiteRecovery, vault: Vault, job: Job, comments: str) -> None:
    now = sr.now()
    if "Resume" not in job.to_json(now)["properties"]["allowedActions"]:
        raise not_allowed(job, "Resume", now)
    if comments:
        job.custom_extra["comments"] = comments  # customDetails.comments (ReplicationJobs_Resume.json)
    if job.waiting is not None:
        index, since = job.waiting
        job.pauses.append((index, max(0.0, now - since)))
        job.waiting = None
        schedule_pause(sr, job, after=index)
        _reschedule_end(sr, job)


def cancel(sr: SiteRecovery, vault: Vault, job: Job) -> None:
    now = sr.now()
    if "Cancel" not in job.to_json(now)["properties"]["allowedActions"]:
        raise not_allowed(job, "Cancel", now)
    job.cancel_at = now
    took_effect = job.suspended_at is not None  # a test failover waiting for its cleanup is up already

    def done() -> None:
        at = now + CANCEL_SECONDS
        job.final = "Cancelled"
        job.final_at = at
        job.waiting = None
        if not took_effect and job.on_failure is not None:
            job.on_failure(at)
        op = getattr(job, "_operation", None)
        if op is not None and not op.done:
            op.fail(ArmError(400, "JobCancelled", f"The job '{job.name}' ({job.friendly_name}) was cancelled."))
            op.end = at

    sr.state.schedule(now + CANCEL_SECONDS, done)


def restart(sr: SiteRecovery, vault: Vault, job: Job, crid: str | None) -> Job:
    now = sr.now()
    if "Restart" not in job.to_json(now)["properties"]["allowedActions"]:
        raise not_allowed(job, "Restart", now)
    job.restarted = True
    original = job.on_success

    def done(at: float) -> None:
        if original is not None:
            original(at)

    new = sr.start_job(
        vault, "RestartJob", "Restart job", target_id=job.target_object_id, target_name=job.target_object_name,
        target_type=job.target_instance_type, client_request_id=crid, fabric_id=job.fabric_id,
        tasks=[TaskSpec("RemediateTask", "Restarting job", RESTART_SECONDS,
                        details={"instanceType": "ManualActionTaskDetails"})],
        on_success=done, on_failure=job.on_failure,
    )
    return new


ACTION_SECONDS = 5.0  # simulated seconds a script or runbook action runs (guess)


def action_tasks(actions: Any, op: str, body: Any) -> list[TaskSpec]:
    """The tasks of a recovery plan group's actions that apply to this failover (its type in
    the action's `failoverTypes`, its direction in `failoverDirections`, J-005). A manual action
    pauses the job (ManualActionTaskDetails with the action's name and instructions); a script
    runs as ScriptActionTaskDetails, a runbook as AutomationRunbookTaskDetails (their task
    names and timings: guess)."""
    props: dict[str, Any] = body["properties"] if isinstance(body, dict) and isinstance(body.get("properties"), dict) else {}
    direction = props.get("failoverDirection") or "PrimaryToRecovery"
    out: list[TaskSpec] = []
    for act in actions or []:
        if not isinstance(act, dict):
            continue
        types = [str(t).lower() for t in act.get("failoverTypes") or []]
        dirs = [str(d).lower() for d in act.get("failoverDirections") or []]
        if op.lower() not in types or (dirs and direction.lower() not in dirs):
            continue
        cd: dict[str, Any] = act["customDetails"] if isinstance(act.get("customDetails"), dict) else {}
        kind = cd.get("instanceType")
        name = str(act.get("actionName") or "")
        if kind == "ManualActionDetails":
            out.append(TaskSpec("ManualActionTask", name, 1.0, pause=True, details={
                "instanceType": "ManualActionTaskDetails", "name": name,
                "instructions": cd.get("description") or "", "observation": ""}))
        elif kind == "ScriptActionDetails":
            out.append(TaskSpec("ScriptActionTask", name, ACTION_SECONDS, details={
                "instanceType": "ScriptActionTaskDetails", "name": name, "path": cd.get("path"),
                "output": "", "isPrimarySideScript": str(cd.get("fabricLocation") or "").lower() == "primary"}))
        elif kind == "AutomationRunbookActionDetails":
            rb = str(cd.get("runbookId") or "")
            out.append(TaskSpec("AutomationRunbookTask", name, ACTION_SECONDS, details={
                "instanceType": "AutomationRunbookTaskDetails", "name": name, "runbookId": rb,
                "runbookName": rb.rstrip("/").rsplit("/", 1)[-1],
                "accountName": rb.split("/automationAccounts/")[-1].split("/")[0] if "/automationAccounts/" in rb else "",
                "isPrimarySideScript": str(cd.get("fabricLocation") or "").lower() == "primary"}))
    return out


COMPLETE_FAILBACK = ("Complete failback", "The data was synchronised while the Azure VM kept running. Resume the job "
                     "to shut the Azure VM down, synchronise the last changes and start the on-premises VM.")


def failback_first_tasks(body: Any) -> list[TaskSpec] | None:
    """The tasks a failback (planned failover RecoveryToPrimary) runs before its usual ones.
    dataSyncOption ForDownTime synchronises before the failover without shutting the Azure VM
    down, then the job is suspended until resumed (PowerShell help of
    Start-AzRecoveryServicesAsrPlannedFailoverJob -Optimize); ForSynchronization shuts it down at
    once and synchronises during the failover only (the usual tasks). Task names, the
    ManualActionTaskDetails of the pause and its text: guess (docs/fidelity.md J-008)."""
    props: dict[str, Any] = body["properties"] if isinstance(body, dict) and isinstance(body.get("properties"), dict) else {}
    psd = props.get("providerSpecificDetails")
    psd = psd[0] if isinstance(psd, list) and psd and isinstance(psd[0], dict) else psd
    if not isinstance(psd, dict) or psd.get("dataSyncOption") != "ForDownTime":
        return None
    name, text = COMPLETE_FAILBACK
    return [TaskSpec("SyncDataBeforeFailover", "Synchronize data while the Azure virtual machine runs", 120),
            TaskSpec("CompleteFailback", name, 1.0, pause=True, details={
                "instanceType": "ManualActionTaskDetails", "name": name, "instructions": text, "observation": ""})]

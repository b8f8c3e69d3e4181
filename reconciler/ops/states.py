"""Which day-2 operation is allowed in which state of a protected VM or a recovery plan.

Azure is the authority: every replication protected item (and every recovery plan)
carries `allowedOperations`, the operations ASR accepts in the item's current state,
using the vocabulary of the REST spec's `ReplicationProtectedItemOperation`:
ReverseReplicate, Commit, PlannedFailover, UnplannedFailover, DisableProtection,
TestFailover, TestFailoverCleanup, Failback, FinalizeFailback, CancelFailover,
ChangePit, RepairReplication, SwitchProtection, CompleteMigration.

`check_allowed(state, op)` refuses an operation *before* calling Azure, with a message
that names the item, the state it is in and what is allowed instead. The checks are
pure functions of the item's REST JSON, so they are tested without a network.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from reconciler.errors import UserError


class Operation(str, Enum):
    """A day-2 operation, named as on the command line."""

    TEST = "test"  # test failover into the isolated test network
    CLEANUP = "cleanup"  # test failover cleanup
    PLANNED = "planned"  # planned failover primary -> Azure (source shut down first)
    UNPLANNED = "unplanned"  # unplanned failover (primary lost; data since the last recovery point may be lost)
    COMMIT = "commit"  # commit a failover
    CANCEL = "cancel"  # cancel a failover that was not committed
    REPROTECT = "reprotect"  # reverse replication
    FAILBACK = "failback"  # planned failover Azure -> primary site

    @property
    def title(self) -> str:  # type: ignore[override]  # shadows str.title on purpose: the display name
        return _TITLES[self]


_TITLES = {
    Operation.TEST: "test failover",
    Operation.CLEANUP: "test failover cleanup",
    Operation.PLANNED: "planned failover",
    Operation.UNPLANNED: "unplanned failover",
    Operation.COMMIT: "failover commit",
    Operation.CANCEL: "failover cancel",
    Operation.REPROTECT: "reprotect (reverse replication)",
    Operation.FAILBACK: "failback (planned failover to the primary site)",
}

# Operation -> the allowedOperations values that permit it (any of them).
ALLOWED_BY: dict[Operation, tuple[str, ...]] = {
    Operation.TEST: ("TestFailover",),
    Operation.CLEANUP: ("TestFailoverCleanup",),
    Operation.PLANNED: ("PlannedFailover",),
    Operation.UNPLANNED: ("UnplannedFailover",),
    Operation.COMMIT: ("Commit",),
    Operation.CANCEL: ("CancelFailover",),
    Operation.REPROTECT: ("ReverseReplicate",),
    Operation.FAILBACK: ("PlannedFailover", "Failback"),
}

PRIMARY = "primary"
RECOVERY = "recovery"


class OperationNotAllowedError(UserError):
    """The item's current state does not allow the operation (checked before calling Azure)."""


class NotInManifestError(UserError):
    """A VM or recovery plan named on the command line is not declared in the manifest."""


def _int(v: Any) -> int | None:
    """Numbers ASR sends as numbers or as strings (initialReplicationProgressPercentage is a string)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def _lower(v: Any) -> str:
    return str(v or "").strip().lower()


@dataclass
class Scenario:
    name: str | None = None  # e.g. TestFailover; None when idle
    job_id: str | None = None
    start_time: str | None = None

    @property
    def job_name(self) -> str | None:
        """The job's name (the last segment of its ARM id), as `replicationJobs` lists it."""
        return self.job_id.rstrip("/").split("/")[-1] if self.job_id else None

    @property
    def busy(self) -> bool:
        return bool(self.name) and _lower(self.name) not in ("none", "")


@dataclass
class ItemState:
    """What day-2 commands need from a replication protected item (REST JSON)."""

    name: str  # ARM name (the VM's GUID for Hyper-V)
    id: str
    vm_name: str  # friendly name: the VM name VMM / Hyper-V knows
    fabric: str = ""
    container: str = ""
    protection_state: str = ""
    protection_state_description: str = ""
    replication_health: str = ""
    failover_health: str = ""
    health_errors: list[dict[str, Any]] = field(default_factory=list)
    active_location: str = ""
    test_failover_state: str = ""
    test_failover_state_description: str = ""
    allowed_operations: list[str] = field(default_factory=list)
    scenario: Scenario = field(default_factory=Scenario)
    policy_id: str = ""
    policy_name: str = ""
    rpo_seconds: int | None = None
    last_replicated_time: str | None = None
    last_rpo_calculated_time: str | None = None
    recovery_azure_vm_name: str | None = None
    last_successful_failover_time: str | None = None
    last_successful_test_failover_time: str | None = None
    failover_recovery_point_id: str | None = None
    initial_replication_percent: int | None = None
    vm_protection_state: str | None = None
    provider: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ItemState:
        props = d.get("properties") or {}
        psd = props.get("providerSpecificDetails") or {}
        cs = props.get("currentScenario") or {}
        arm_id = d.get("id") or ""
        parts = arm_id.split("/")
        low = [p.lower() for p in parts]
        fabric = parts[low.index("replicationfabrics") + 1] if "replicationfabrics" in low else ""
        container = (
            parts[low.index("replicationprotectioncontainers") + 1] if "replicationprotectioncontainers" in low else ""
        )
        ird = psd.get("initialReplicationDetails") or {}
        return cls(
            name=d.get("name") or (parts[-1] if parts else ""),
            id=arm_id,
            vm_name=props.get("friendlyName") or psd.get("recoveryAzureVmName") or d.get("name") or "",
            fabric=fabric,
            container=container,
            protection_state=props.get("protectionState") or "",
            protection_state_description=props.get("protectionStateDescription") or "",
            replication_health=props.get("replicationHealth") or "",
            failover_health=props.get("failoverHealth") or "",
            health_errors=list(props.get("healthErrors") or []),
            active_location=props.get("activeLocation") or "",
            test_failover_state=props.get("testFailoverState") or "",
            test_failover_state_description=props.get("testFailoverStateDescription") or "",
            allowed_operations=[str(x) for x in (props.get("allowedOperations") or [])],
            scenario=Scenario(cs.get("scenarioName"), cs.get("jobId"), cs.get("startTime")),
            policy_id=props.get("policyId") or "",
            policy_name=props.get("policyFriendlyName") or "",
            rpo_seconds=_int(psd.get("rpoInSeconds")),
            last_replicated_time=psd.get("lastReplicatedTime"),
            last_rpo_calculated_time=psd.get("lastRpoCalculatedTime"),
            recovery_azure_vm_name=psd.get("recoveryAzureVmName"),
            last_successful_failover_time=props.get("lastSuccessfulFailoverTime"),
            last_successful_test_failover_time=props.get("lastSuccessfulTestFailoverTime"),
            failover_recovery_point_id=props.get("failoverRecoveryPointId"),
            initial_replication_percent=_int(ird.get("initialReplicationProgressPercentage")),
            vm_protection_state=psd.get("vmProtectionState"),
            provider=psd,
            raw=d,
        )

    # --- derived facts ---------------------------------------------------
    @property
    def location(self) -> str:
        """primary / recovery / '' (unknown)."""
        v = _lower(self.active_location)
        if v.startswith("primary"):
            return PRIMARY
        if v.startswith("recovery"):
            return RECOVERY
        return ""

    @property
    def waiting_for_cleanup(self) -> bool:
        """A test failover is up and waits for its cleanup: the item allows
        TestFailoverCleanup, or shows WaitingForCompletion
        (ReplicationProtectedItems_TestFailover.json)."""
        return self.allows("TestFailoverCleanup") or _lower(self.test_failover_state) == "waitingforcompletion"

    @property
    def in_test_failover(self) -> bool:
        """A test failover is running or waits for its cleanup. MarkedForDeletion is what
        an idle item keeps after a cleanup (..._TestFailoverCleanup.json, and through later
        failovers): not a test failover. Unknown values do not count either (they are shown
        as they are by `describe`, never taken for a reason to leave the VM alone)."""
        return self.waiting_for_cleanup or (self.scenario.busy and _lower(self.scenario.name) == "testfailover")

    @property
    def busy(self) -> bool:
        """An operation runs on the item. A test failover waiting for its cleanup keeps
        currentScenario TestFailover (and its job Suspended) until the cleanup: it is not
        running any more, and the cleanup is exactly what it waits for."""
        return self.scenario.busy and not self.waiting_for_cleanup

    def allows(self, wire_op: str) -> bool:
        return any(_lower(a) == _lower(wire_op) for a in self.allowed_operations)

    def describe(self) -> str:
        """Human description of the state, for messages: names the state."""
        bits = [f"state '{self.protection_state or 'unknown'}'"]
        if self.protection_state_description and self.protection_state_description != self.protection_state:
            bits[0] += f" ({self.protection_state_description})"
        if self.active_location:
            bits.append(f"active location {self.active_location}")
        if _lower(self.test_failover_state) not in ("", "none", "markedfordeletion"):
            bits.append(f"test failover '{self.test_failover_state}'")
        return ", ".join(bits)


def already_done(state: ItemState, op: Operation) -> str | None:
    """What the item shows when `op` has already happened to it (a re-run after a lost
    answer or Ctrl-C): re-running then reports it and does nothing, so it converges.
    Conservative: only the state an operation's own success leaves behind."""
    if state.busy:
        return None
    prot = _lower(state.protection_state)
    if op == Operation.TEST and state.waiting_for_cleanup:
        return f"already in test failover (test failover '{state.test_failover_state}', waiting for its cleanup)"
    if op == Operation.CLEANUP and not state.waiting_for_cleanup and not state.scenario.busy:
        return "no test failover to clean up"
    if op in (Operation.PLANNED, Operation.UNPLANNED) and state.location == RECOVERY and state.allows("Commit"):
        return f"already failed over to Azure, commit pending (state '{state.protection_state}')"
    if op == Operation.COMMIT and not state.allows("Commit") and (
            (state.location == RECOVERY and (state.allows("Failback") or state.allows("PlannedFailover")))
            or (state.location == PRIMARY and state.allows("ReverseReplicate"))):
        return f"failover already committed (state '{state.protection_state}')"
    if op in (Operation.REPROTECT, Operation.FAILBACK, Operation.CANCEL) and state.location == PRIMARY and (
            prot == "protected" or (prot == "initialreplicationinprogress" and op != Operation.CANCEL)):
        return f"already replicating from the primary site (state '{state.protection_state}')"
    return None


def check_allowed(state: ItemState, op: Operation, *, file: str = "FILE") -> None:
    """Raise OperationNotAllowedError unless `op` may run on the item now."""
    who = state.vm_name
    if state.busy:
        job = f", job {state.scenario.job_name}" if state.scenario.job_id else ""
        since = f", started {state.scenario.start_time}" if state.scenario.start_time else ""
        raise OperationNotAllowedError(
            f"{who}: cannot start {op.title}: an operation is already in progress "
            f"({state.scenario.name}{job}{since}); the VM is in {state.describe()}",
            hint=f"wait for it to finish (`asr status {file}` shows it), then retry",
        )
    # Direction rules: planned failover goes primary -> Azure, failback Azure -> primary.
    if op == Operation.PLANNED and state.location == RECOVERY:
        raise OperationNotAllowedError(
            f"{who}: cannot start {op.title}: the VM already runs in Azure ({state.describe()})",
            hint=f"to return it to the primary site run `asr failback {file} --vm {who}`",
        )
    if op == Operation.FAILBACK and state.location == PRIMARY:
        raise OperationNotAllowedError(
            f"{who}: cannot start {op.title}: the VM runs on the primary site ({state.describe()})",
            hint="failback is for VMs that were failed over to Azure",
        )
    if any(state.allows(w) for w in ALLOWED_BY[op]):
        return
    allowed = ", ".join(state.allowed_operations) or "none"
    raise OperationNotAllowedError(
        f"{who}: {op.title} is not allowed while the VM is in {state.describe()}; Azure allows now: {allowed}",
        hint=_hint(state, op, file),
    )


def _hint(state: ItemState, op: Operation, file: str) -> str | None:
    who = state.vm_name
    if op != Operation.CLEANUP and state.allows("TestFailoverCleanup"):
        return f"a test failover is still active: clean it up first with `asr failover cleanup {file} --vm {who}`"
    if op in (Operation.TEST, Operation.PLANNED, Operation.UNPLANNED) and state.allows("Commit"):
        return f"the VM is failed over and not committed yet: `asr failover commit {file} --vm {who}`"
    if op in (Operation.PLANNED, Operation.UNPLANNED, Operation.TEST, Operation.FAILBACK) and state.allows("ReverseReplicate"):
        return f"the failover is committed; start reverse replication first: `asr reprotect {file} --vm {who}`"
    if op in (Operation.TEST, Operation.PLANNED, Operation.UNPLANNED) and state.location != RECOVERY \
            and _lower(state.protection_state) != "protected":
        pct = f" (initial replication {state.initial_replication_percent}%)" if state.initial_replication_percent is not None else ""
        return (f"wait until the VM is Protected{pct}: `asr status {file} --check` exits 0 then "
                f"(`asr apply --wait-protected` waits for it)")
    if op == Operation.CLEANUP:
        return "there is no test failover to clean up"
    if op == Operation.COMMIT:
        return "only a completed planned or unplanned failover can be committed"
    if _lower(state.protection_state) not in ("protected", "") and not state.allowed_operations:
        return f"wait until replication reaches Protected (`asr status {file}`)"
    return None


@dataclass
class PlanState:
    """What day-2 commands need from a recovery plan (REST JSON)."""

    name: str
    id: str
    allowed_operations: list[str] = field(default_factory=list)
    current_scenario: Scenario = field(default_factory=Scenario)
    current_scenario_status: str = ""
    current_scenario_status_description: str = ""
    groups: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PlanState:
        props = d.get("properties") or {}
        cs = props.get("currentScenario") or {}
        return cls(
            name=d.get("name") or props.get("friendlyName") or "",
            id=d.get("id") or "",
            allowed_operations=[str(x) for x in (props.get("allowedOperations") or [])],
            current_scenario=Scenario(cs.get("scenarioName"), cs.get("jobId"), cs.get("startTime")),
            current_scenario_status=props.get("currentScenarioStatus") or "",
            current_scenario_status_description=props.get("currentScenarioStatusDescription") or "",
            groups=list(props.get("groups") or []),
            raw=d,
        )

    @property
    def busy(self) -> bool:
        """A scenario runs on the plan. The last scenario stays in currentScenario after it
        ended, with currentScenarioStatus Succeeded (ReplicationRecoveryPlans_PlannedFailover.json
        and the others); a test failover waiting for its cleanup shows Suspended
        (ReplicationRecoveryPlans_TestFailover.json): neither is running."""
        return self.current_scenario.busy and _lower(self.current_scenario_status) in ("inprogress", "notstarted", "")

    def item_ids(self) -> list[str]:
        """Protected item ids in boot-group order (Shutdown/Failover groups carry none)."""
        out: list[str] = []
        for g in self.groups:
            for it in g.get("replicationProtectedItems") or []:
                if it.get("id") and it["id"] not in out:
                    out.append(it["id"])
        return out


def check_plan_allowed(plan: PlanState, op: Operation, *, file: str = "FILE") -> None:
    """Recovery plans carry their own allowedOperations. Older services leave it empty;
    then the per-VM checks (always made as well) decide."""
    if plan.busy:
        job = f", job {plan.current_scenario.job_name}" if plan.current_scenario.job_id else ""
        raise OperationNotAllowedError(
            f"recovery plan {plan.name}: cannot start {op.title}: {plan.current_scenario.name} is in progress{job}",
            hint=f"wait for it to finish (`asr status {file}`), then retry",
        )
    if not plan.allowed_operations:
        return
    if any(any(_lower(a) == _lower(w) for a in plan.allowed_operations) for w in ALLOWED_BY[op]):
        return
    raise OperationNotAllowedError(
        f"recovery plan {plan.name}: {op.title} is not allowed in its current state"
        f" ({plan.current_scenario_status_description or plan.current_scenario_status or 'idle'});"
        f" Azure allows now: {', '.join(plan.allowed_operations)}",
    )

"""Request bodies of the failover family, REST-shaped (camelCase), per the pinned SDK
models (azure.mgmt.recoveryservicessiterecovery 2.0.0, api-version 2025-08-01):

| operation | protected item (`replication_protected_items.`)        | recovery plan (`replication_recovery_plans.`) |
|-----------|--------------------------------------------------------|-----------------------------------------------|
| test      | begin_test_failover(testfailover_input=TestFailoverInput) | begin_test_failover(input=RecoveryPlanTestFailoverInput) |
| cleanup   | begin_test_failover_cleanup(cleanup_input=TestFailoverCleanupInput) | begin_test_failover_cleanup(input=RecoveryPlanTestFailoverCleanupInput) |
| planned   | begin_planned_failover(failover_input=PlannedFailoverInput), HyperVReplicaAzure | begin_planned_failover(input=RecoveryPlanPlannedFailoverInput) |
| failback  | begin_planned_failover, RecoveryToPrimary, HyperVReplicaAzureFailback | same, RecoveryPlanHyperVReplicaAzureFailbackInput |
| unplanned | begin_unplanned_failover(failover_input=UnplannedFailoverInput) | begin_unplanned_failover(input=RecoveryPlanUnplannedFailoverInput) |
| commit    | begin_failover_commit (no body)                        | begin_failover_commit (no body) |
| cancel    | begin_failover_cancel (no body)                        | begin_failover_cancel (no body) |
| reprotect | begin_reprotect(reprotect_input=ReverseReplicationInput), HyperVReplicaAzureReprotectInput | begin_reprotect (no body) |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.ops.states import RECOVERY, ItemState, Operation

PRIMARY_TO_RECOVERY = "PrimaryToRecovery"
RECOVERY_TO_PRIMARY = "RecoveryToPrimary"
HVRA = "HyperVReplicaAzure"
HVRA_FAILBACK = "HyperVReplicaAzureFailback"


@dataclass
class Call:
    """One SDK call: `method` is the operations-group method name, `body_arg` its body
    keyword (None when the operation takes no body)."""

    method: str
    body_arg: str | None = None
    body: dict[str, Any] | None = None
    scenario_hint: tuple[str, ...] = field(default_factory=tuple)  # job scenarioName values expected

    def kwargs(self) -> dict[str, Any]:
        return {self.body_arg: self.body} if self.body_arg else {}


# Job scenarioName values each operation's job carries (Azure's, and the emulator's).
SCENARIOS: dict[Operation, tuple[str, ...]] = {
    Operation.TEST: ("TestFailover", "RecoveryPlanTestFailover"),
    Operation.CLEANUP: ("TestFailoverCleanup", "RecoveryPlanTestFailoverCleanup"),
    Operation.PLANNED: ("PlannedFailover", "RecoveryPlanPlannedFailover"),
    Operation.FAILBACK: ("PlannedFailover", "Failback", "RecoveryPlanPlannedFailover"),
    Operation.UNPLANNED: ("UnplannedFailover", "RecoveryPlanUnplannedFailover"),
    # CommitFailover: ReplicationRecoveryPlans_FailoverCommit.json (the plan's currentScenario)
    Operation.COMMIT: ("CommitFailover", "Commit", "FailoverCommit", "RecoveryPlanFailoverCommit"),
    Operation.CANCEL: ("CancelFailover",),
    Operation.REPROTECT: ("Reprotect", "ReverseReplicate", "ReverseReplication", "RecoveryPlanReprotect"),
}


def running_same(op: Operation, scenario_name: str | None) -> bool:
    """True when a job already running on an object is this very operation (await it, never repeat it)."""
    if not scenario_name:
        return False
    return scenario_name.lower() in {s.lower() for s in SCENARIOS[op]}


def vnet_id(subscription: str, resource_group: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.Network/virtualNetworks/{name}"


def failback_input(options: dict[str, Any] | None = None) -> dict[str, Any]:
    """HyperVReplicaAzureFailbackProviderInput: dataSyncOption ForSynchronization (the Azure VM
    is shut down at once, data synchronised during the failover only: the default) or
    ForDownTime (synchronised first while it runs, then the job waits for a resume);
    recoveryVmCreationOption NoAction (default) or CreateVmIfNotFound; and, for an alternate
    location, providerIdForAlternateRecovery (the Hyper-V host / VMM server's provider)."""
    body: dict[str, Any] = {"instanceType": HVRA_FAILBACK, "dataSyncOption": "ForSynchronization",
                            "recoveryVmCreationOption": "NoAction"}
    body.update({k: v for k, v in (options or {}).items() if v is not None})
    return body


def item_call(op: Operation, item: ItemState, *, test_network_id: str | None = None,
              comments: str | None = None, recovery_point_id: str | None = None,
              shutdown_source: bool = False, failback: dict[str, Any] | None = None) -> Call:
    """The SDK call for `op` on one protected item."""
    if op == Operation.TEST:
        if not test_network_id:
            raise ValueError("test failover needs a test network id")
        psd: dict[str, Any] = {"instanceType": HVRA}
        if recovery_point_id:
            psd["recoveryPointId"] = recovery_point_id
        body = {"properties": {"failoverDirection": PRIMARY_TO_RECOVERY, "networkType": "VmNetworkAsInput",
                               "networkId": test_network_id, "providerSpecificDetails": psd}}
        return Call("begin_test_failover", "testfailover_input", body, ("TestFailover",))
    if op == Operation.CLEANUP:
        body = {"properties": {"comments": comments or "Test failover cleanup by asr"}}
        return Call("begin_test_failover_cleanup", "cleanup_input", body, ("TestFailoverCleanup",))
    if op == Operation.PLANNED:
        psd = {"instanceType": HVRA}
        if recovery_point_id:
            psd["recoveryPointId"] = recovery_point_id
        body = {"properties": {"failoverDirection": PRIMARY_TO_RECOVERY, "providerSpecificDetails": psd}}
        return Call("begin_planned_failover", "failover_input", body, ("PlannedFailover",))
    if op == Operation.FAILBACK:
        body = {"properties": {"failoverDirection": RECOVERY_TO_PRIMARY, "providerSpecificDetails": failback_input(failback)}}
        return Call("begin_planned_failover", "failover_input", body, ("PlannedFailover", "Failback"))
    if op == Operation.UNPLANNED:
        direction = RECOVERY_TO_PRIMARY if item.location == RECOVERY else PRIMARY_TO_RECOVERY
        psd = {"instanceType": HVRA}
        if recovery_point_id:
            psd["recoveryPointId"] = recovery_point_id
        body = {"properties": {"failoverDirection": direction,
                               "sourceSiteOperations": "Required" if shutdown_source else "NotRequired",
                               "providerSpecificDetails": psd}}
        return Call("begin_unplanned_failover", "failover_input", body, ("UnplannedFailover",))
    if op == Operation.COMMIT:
        return Call("begin_failover_commit", scenario_hint=("CommitFailover", "Commit", "FailoverCommit"))
    if op == Operation.CANCEL:
        return Call("begin_failover_cancel", scenario_hint=("CancelFailover",))
    if op == Operation.REPROTECT:
        direction = RECOVERY_TO_PRIMARY if item.location == RECOVERY else PRIMARY_TO_RECOVERY
        p = item.provider or {}
        os_type = (p.get("oSDetails") or {}).get("osType") or p.get("osType")
        psd = {"instanceType": HVRA}
        for key, value in (("hvHostVmId", p.get("vmId")), ("vmName", item.vm_name), ("osType", os_type),
                           ("storageAccountId", p.get("recoveryAzureStorageAccount")),
                           ("logStorageAccountId", p.get("recoveryAzureLogStorageAccountId"))):
            if value:
                psd[key] = value
        body = {"properties": {"failoverDirection": direction, "providerSpecificDetails": psd}}
        return Call("begin_reprotect", "reprotect_input", body, ("Reprotect", "ReverseReplicate", "ReverseReplication"))
    raise ValueError(f"unknown operation {op}")


def plan_call(op: Operation, *, test_network_id: str | None = None, comments: str | None = None,
              shutdown_source: bool = False, direction: str = PRIMARY_TO_RECOVERY,
              recovery_point_type: str = "Latest", failback: dict[str, Any] | None = None) -> Call:
    """The SDK call for `op` on a recovery plan (`recovery_point_type`: Latest,
    LatestApplicationConsistent or LatestProcessed)."""
    rp_psd = [{"instanceType": HVRA, "recoveryPointType": recovery_point_type}]
    if op == Operation.TEST:
        if not test_network_id:
            raise ValueError("test failover needs a test network id")
        body = {"properties": {"failoverDirection": PRIMARY_TO_RECOVERY, "networkType": "VmNetworkAsInput",
                               "networkId": test_network_id, "providerSpecificDetails": rp_psd}}
        return Call("begin_test_failover", "input", body, ("TestFailover", "RecoveryPlanTestFailover"))
    if op == Operation.CLEANUP:
        body = {"properties": {"comments": comments or "Test failover cleanup by asr"}}
        return Call("begin_test_failover_cleanup", "input", body, ("TestFailoverCleanup", "RecoveryPlanTestFailoverCleanup"))
    if op == Operation.PLANNED:
        body = {"properties": {"failoverDirection": PRIMARY_TO_RECOVERY, "providerSpecificDetails": rp_psd}}
        return Call("begin_planned_failover", "input", body, ("PlannedFailover", "RecoveryPlanPlannedFailover"))
    if op == Operation.FAILBACK:
        body = {"properties": {"failoverDirection": RECOVERY_TO_PRIMARY, "providerSpecificDetails": [failback_input(failback)]}}
        return Call("begin_planned_failover", "input", body, ("PlannedFailover", "Failback", "RecoveryPlanPlannedFailover"))
    if op == Operation.UNPLANNED:
        body = {"properties": {"failoverDirection": direction,
                               "sourceSiteOperations": "Required" if shutdown_source else "NotRequired",
                               "providerSpecificDetails": rp_psd}}
        return Call("begin_unplanned_failover", "input", body, ("UnplannedFailover", "RecoveryPlanUnplannedFailover"))
    if op == Operation.COMMIT:
        return Call("begin_failover_commit", scenario_hint=("CommitFailover", "Commit", "FailoverCommit", "RecoveryPlanFailoverCommit"))
    if op == Operation.CANCEL:
        return Call("begin_failover_cancel", scenario_hint=("CancelFailover",))
    if op == Operation.REPROTECT:
        return Call("begin_reprotect", scenario_hint=("ReverseReplication", "Reprotect", "ReverseReplicate", "RecoveryPlanReprotect"))
    raise ValueError(f"unknown operation {op}")

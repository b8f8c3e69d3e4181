"""Protection and failover state machine of a Hyper-V (VMM or site) VM replicated
to Azure. Every state string, allowed operation and scenario name below is cited in
docs/fidelity.md ("Failover lifecycle", rows L-nnn); what no recording shows is
marked there (and in docs/emulator.md) as the emulator's guess.

    Enabling --EnableDr job--> InitialReplication --(disk size / rate)--> Protected
    Protected --TestFailover--> job Suspended (WaitingForStopTestFailover),
        testFailoverState WaitingForCompletion, allowed [TestFailoverCleanup]
        --TestFailoverCleanup (its own job)--> Protected, testFailoverState MarkedForDeletion
        (MarkedForDeletion stays on the idle item, through later failovers)
    Protected --PlannedFailover--> PlannedFailoverCommitRequired --Commit--> PlannedFailoverStatesBegin
    Protected --UnplannedFailover--> UnplannedFailoverCommitPendingStatesBegin --Commit--> committed (guess)
    committed --PlannedFailover RecoveryToPrimary ("Failback")--> FailedBack (guess)
    FailedBack --Commit--> FailbackCommitted (guess) --ReverseReplicate (reprotect)--> Resync --> Protected
    any phase --DisableProtection--> (removed)

`PHASES[phase]` is (protectionState, protectionStateDescription, activeLocation,
allowedOperations). While a job runs on the item, allowedOperations is empty and
`currentScenario` names the job; any other operation is answered 409. A suspended
test failover job is not "running": the item then allows TestFailoverCleanup.
"""

from __future__ import annotations

PRIMARY = "Primary"
RECOVERY = "Recovery"

PHASES: dict[str, tuple[str, str, str, list[str]]] = {
    "Enabling": ("EnablingProtection", "Enabling protection", PRIMARY, []),
    "InitialReplication": ("InitialReplicationInProgress", "Initial replication in progress", PRIMARY, ["DisableProtection"]),
    "Protected": ("Protected", "Protected", PRIMARY, ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"]),
    "PlannedFailedOver": ("PlannedFailoverCommitRequired", "Planned failover finished", RECOVERY,
                          ["CompleteMigration", "Commit", "DisableProtection", "ChangePit"]),
    # ReplicationProtectedItems_UnplannedFailover.json (2025-08-01): no CancelFailover for Hyper-V to Azure
    "UnplannedFailedOver": ("UnplannedFailoverCommitPendingStatesBegin", "Failover completed", RECOVERY,
                            ["CompleteMigration", "Commit", "DisableProtection", "ChangePit"]),
    "PlannedFailoverCommitted": ("PlannedFailoverStatesBegin", "Planned failover committed", RECOVERY,
                                 ["CompleteMigration", "DisableProtection", "Failback"]),
    "UnplannedFailoverCommitted": ("UnplannedFailoverStatesBegin", "Failover committed", RECOVERY,
                                   ["CompleteMigration", "DisableProtection", "Failback"]),
    "FailedBack": ("PlannedFailoverCommitRequired", "Planned failover finished", PRIMARY, ["Commit", "DisableProtection"]),
    "FailbackCommitted": ("PlannedFailoverStatesBegin", "Planned failover committed", PRIMARY, ["ReverseReplicate", "DisableProtection"]),
    "Resync": ("InitialReplicationInProgress", "Resynchronization in progress", PRIMARY, ["DisableProtection"]),
}

# testFailoverState overlay: (state, description, allowedOperations or None = phase's).
# WaitingForCompletion: ReplicationProtectedItems_TestFailover.json; MarkedForDeletion (during
# and after the cleanup, and through later failovers): ..._TestFailoverCleanup.json,
# ..._PlannedFailover.json, ..._UnplannedFailover.json, ..._FailoverCommit.json, ..._Reprotect.json.
# While the test failover job runs, the item keeps its previous value (no recording shows it).
TFO: dict[str | None, tuple[str, str, list[str] | None]] = {
    None: ("None", "None", None),
    "WaitingForCompletion": ("WaitingForCompletion", "Waiting for user input", ["TestFailoverCleanup"]),
    "MarkedForDeletion": ("MarkedForDeletion", "Cleaning up test environment", None),
}

# protectionStateDescription of a Protected item whose test failover waits for its cleanup
# (ReplicationProtectedItems_TestFailover.json)
TFO_PENDING_DESCRIPTION = "Cleanup test failover pending"

# operation (as in allowedOperations) -> (job scenarioName, friendly name, tasks [(name, friendly, seconds)])
# Durations are simulated seconds (see docs/emulator.md).
OPERATIONS: dict[str, tuple[str, str, list[tuple[str, str, float]]]] = {
    # task names as the EnableDr job of PowerShell's TestEnableDR.json shows them (docs/fidelity.md F-042)
    "EnableProtection": ("EnableDr", "Enable replication", [
        ("EnableProtectionPrerequisitesCheck", "Prerequisites check for enabling protection", 10),
        ("CreateProtectionTarget", "Identifying the replication target", 30),
        ("EnableProtection", "Enable replication", 40),
        ("VmStartInitialReplication", "Starting initial replication", 20),
        ("UpdateDraState", "Updating the provider states", 20),
    ]),
    "DisableProtection": ("DisableDr", "Disable replication", [
        ("DisableProtectionOnPrimary", "Disable replication on the primary", 40),
        ("DeleteReplicaData", "Delete replica data", 20),
    ]),
    "PurgeProtection": ("PurgeProtection", "Purge replication", [
        ("PurgeProtection", "Remove the replicated item", 20),
    ]),
    "UpdateProtection": ("UpdateVmProperties", "Update the virtual machine", [
        ("UpdateVmProperties", "Update the virtual machine properties", 20),
    ]),
    # task names and friendly names: PowerShell SessionRecords AsrB2ATests/TestTFO.json
    "TestFailover": ("TestFailover", "Test failover", [
        ("VmTfoPrerequisitesCheck", "Prerequisites check for test failover", 15),
        ("VmTfoInitiateFailover", "Starting test failover", 30),
        ("VmTfoPrepareTestVm", "Creating test virtual machine", 120),
        ("VmTfoBootTestVm", "Start the virtual machine", 15),
    ]),
    "TestFailoverCleanup": ("TestFailoverCleanup", "Test failover cleanup", [
        ("VmTfoCleanupPreflightsCheck", "Prerequisites check for test failover cleanup", 5),
        ("VmTfoEndFailover", "Ending test failover", 5),
        ("VmTfoDeleteTestVm", "Clean up the test virtual machine", 60),
    ]),
    # AsrB2ATests/TestPlannedFailover.json
    "PlannedFailover": ("PlannedFailover", "Planned failover", [
        ("VmPfoPrerequisitesCheck", "Prerequisites check for planned failover", 15),
        ("VmShutdownVmOnPrimary", "Shut down the virtual machine", 60),
        ("VmPrepareForFailover", "Preparing for failover", 105),
        ("VmFailover", "Start failover", 100),
        ("VmFoStartVmOnSecondary", "Start the replica virtual machine", 20),
    ]),
    "Failback": ("PlannedFailover", "Planned failover", [
        ("PrerequisiteCheck", "Prerequisites check for planned failover", 15),
        ("ShutdownRecoveryVm", "Shut down the Azure virtual machine", 60),
        ("SyncData", "Synchronize data to the on-premises virtual machine", 105),
        ("StartPrimaryVm", "Start the on-premises virtual machine", 120),
    ]),
    "UnplannedFailover": ("UnplannedFailover", "Failover", [
        ("PrerequisiteCheck", "Prerequisites check for failover", 15),
        ("CreateRecoveryVm", "Start the replica virtual machine", 225),
    ]),
    # plan-level scenario name: ReplicationRecoveryPlans_FailoverCommit.json; item level: guess
    "Commit": ("CommitFailover", "Commit", [
        ("CommitFailover", "Commit the failover", 30),
    ]),
    "CancelFailover": ("CancelFailover", "Cancel failover", [
        ("DeleteRecoveryVm", "Delete the replica virtual machine", 60),
    ]),
    "ReverseReplicate": ("ReverseReplication", "Reverse replicate", [
        ("PrerequisiteCheck", "Prerequisites check for reprotect", 20),
        ("ReverseReplication", "Start reverse replication", 100),
    ]),
}

# REST action segment -> operation name (plannedFailover depends on direction)
# The failover family, one table for replicated items and recovery plans alike: the POST
# segment (…/replicationProtectedItems/{name}/<segment>, …/replicationRecoveryPlans/{name}/<segment>)
# and the operation it starts (handlers.register adds both routes of every row).
FAILOVER_ACTIONS = {
    "testFailover": "TestFailover",
    "testFailoverCleanup": "TestFailoverCleanup",
    "plannedFailover": "PlannedFailover",
    "unplannedFailover": "UnplannedFailover",
    "failoverCommit": "Commit",
    "failoverCancel": "CancelFailover",
    "reProtect": "ReverseReplicate",
}
ACTIONS = {seg.lower(): op for seg, op in FAILOVER_ACTIONS.items()}  # lower-cased segment -> operation

# phase reached when the job of `operation` succeeds, given the current phase
def next_phase(operation: str, phase: str) -> str:
    if operation == "PlannedFailover":
        return "PlannedFailedOver"
    if operation == "UnplannedFailover":
        return "UnplannedFailedOver"
    if operation == "Commit":
        if phase == "PlannedFailedOver":
            return "PlannedFailoverCommitted"
        if phase == "UnplannedFailedOver":
            return "UnplannedFailoverCommitted"
        if phase == "FailedBack":
            return "FailbackCommitted"
        return phase
    if operation == "CancelFailover":
        return "Protected"
    if operation == "Failback":
        return "FailedBack"
    if operation == "ReverseReplicate":
        return "Resync"
    return phase


# The recovery plan's allowedOperations, in Azure's order, from its items' operations.
RECOVERY_PLAN_OPS = ["PlannedFailover", "UnplannedFailover", "TestFailover", "TestFailoverCleanup", "Commit",
                     "CancelFailover", "ReverseReplicate"]


def allowed(phase: str, tfo: str | None, busy: bool) -> list[str]:
    if busy:
        return []
    over = TFO[tfo][2]
    if over is not None:
        return list(over)
    return list(PHASES[phase][3])

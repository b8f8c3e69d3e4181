"""Repair (resynchronise) replication and resolve health errors of a replicated item
(docs/fidelity.md J-009):

- `POST replicationProtectedItems/{item}/repairReplication` (ex:ReplicationProtectedItems_RepairReplication):
  allowed where the item's `allowedOperations` list `RepairReplication`. The recorded item
  (ex:ReplicationProtectedItems_ResolveHealthErrors, an A2A item) lists it while Protected;
  the emulator lists it only for a Protected item whose replication is not healthy (guess), so
  the recorded lists of healthy items stay as they are. The job (scenario `RepairReplication`,
  friendly name "Resynchronize": guess) restarts replication as a resynchronisation and the
  item is healthy again.
- `POST .../resolveHealthErrors` with `{properties: {healthErrors: [{healthErrorId}]}}`
  (ex:ReplicationProtectedItems_ResolveHealthErrors): answers 202 (Azure-AsyncOperation) and the
  item reads back with `healthErrors: []` once every error named is resolved; an id the item
  does not have is 400 (guess).

The route handlers are `handlers.repair_handlers`; this module holds the rules (model.py calls
them) and imports nothing of handlers.py, service.py or model.py at run time.
"""

from __future__ import annotations

from typing import Any

REPAIR_TASKS = [("RepairReplicationPrerequisitesCheck", "Prerequisites check", 10),
                ("ResynchronizeReplication", "Resynchronize replication", 60)]


def can_repair(item: Any) -> bool:
    return item.phase == "Protected" and item.vm.health != "Normal" and not item.busy() and item.tfo in (None, "None", "MarkedForDeletion")


def health_error_id(code: str) -> str:
    """HealthError.errorId of the emulator's replication health errors (format as recorded: "3:8020")."""
    return f"3:{code}"

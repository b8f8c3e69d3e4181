"""Recovery points of a replicated item (`replicationProtectedItems/{item}/recoveryPoints`,
docs/fidelity.md J-006..J-008), computed from the item's replication and its policy, so a
read never mutates anything:

- one crash-consistent point an hour from the end of initial replication (the recorded
  list, ex:RecoveryPoints_ListByReplicationProtectedItems, shows two points 59m40s apart);
- every `applicationConsistentSnapshotFrequencyInHours`-th of them is app-consistent
  (`recoveryPointType: AppConsistent`: the value is a guess; the recording shows only
  `CrashConsistent`);
- points older than `recoveryPointHistoryDuration` hours before the latest are gone
  (retention 0: only the latest point);
- a failed-over item keeps the points it had when replication stopped.

The route handlers are `handlers.recovery_point_handlers`; this module imports nothing of
handlers.py or service.py at run time (service.py calls it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reconciler.emulator.framework import ArmError
from reconciler.emulator.siterecovery.ids import guid
from reconciler.emulator.siterecovery.jobs import iso

if TYPE_CHECKING:
    from reconciler.emulator.siterecovery.model import ProtectedItem

EVERY = 3600.0  # simulated seconds between two recovery points
MAX_POINTS = 24 * 90  # bound on what one list computes
CRASH, APP = "CrashConsistent", "AppConsistent"


def points(item: ProtectedItem, now: float) -> list[tuple[str, float, str]]:
    """(name, time, type), newest first."""
    since = item.protected_since
    if since is None:
        return []
    end = item.frozen_replicated if item.frozen_replicated is not None else now
    if item.phase in ("Enabling", "InitialReplication") or end < since + EVERY:
        return []
    pol = item.policy_obj()
    retention = float(pol.retention) if pol is not None else 24.0
    app = int(pol.app_consistent) if pol is not None else 0
    last_k = int((end - since) // EVERY)
    first_k = 1 if retention <= 0 else max(1, last_k - int(retention * 3600 // EVERY))
    if retention <= 0:
        first_k = last_k
    first_k = max(first_k, last_k - MAX_POINTS + 1)
    out = []
    for k in range(last_k, first_k - 1, -1):
        t = since + k * EVERY
        kind = APP if app > 0 and k % app == 0 else CRASH
        out.append((guid(item.id, "rp", f"{t:.3f}"), t, kind))
    return out


def point_json(item: ProtectedItem, name: str, t: float, kind: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/"
                "replicationProtectedItems/recoveryPoints",
        "id": f"{item.id}/recoveryPoints/{name}",
        "properties": {"recoveryPointTime": iso(t), "recoveryPointType": kind},
    }


def find(item: ProtectedItem, now: float, ref: str) -> tuple[str, float, str] | None:
    """A point of `item` by name or ARM id."""
    name = str(ref or "").rstrip("/").rsplit("/", 1)[-1].lower()
    return next((p for p in points(item, now) if p[0].lower() == name), None)


def latest(item: ProtectedItem, now: float, kind: str) -> tuple[str, float, str] | None:
    """The point a recovery plan's recoveryPointType picks: LatestApplicationConsistent -> the
    newest app-consistent point; Latest / LatestProcessed -> None (the latest data)."""
    if kind.lower() != "latestapplicationconsistent":
        return None
    return next((p for p in points(item, now) if p[2] == APP), None)


def chosen(item: ProtectedItem, now: float, body: Any) -> str | None:
    """The point an item failover names (`providerSpecificDetails.recoveryPointId` of
    HyperVReplicaAzureFailoverProviderInput); None: the latest. A point the item does not have:
    400 (code: guess)."""
    props: dict[str, Any] = body["properties"] if isinstance(body, dict) and isinstance(body.get("properties"), dict) else {}
    psd = props.get("providerSpecificDetails")
    ref = psd.get("recoveryPointId") if isinstance(psd, dict) else None
    if not ref:
        return None
    p = find(item, now, str(ref))
    if p is None:
        raise ArmError(400, "InvalidRecoveryPoint", f"The recovery point '{ref}' is not a recovery point of the "
                       f"replicated item '{item.vm.friendly}'.", target="properties.providerSpecificDetails.recoveryPointId")
    return p[0]


def plan_type(body: Any) -> str:
    """recoveryPointType of a plan failover's HyperVReplicaAzure input (default Latest)."""
    props: dict[str, Any] = body["properties"] if isinstance(body, dict) and isinstance(body.get("properties"), dict) else {}
    for e in props.get("providerSpecificDetails") or []:
        if isinstance(e, dict) and e.get("instanceType") == "HyperVReplicaAzure" and e.get("recoveryPointType"):
            return str(e["recoveryPointType"])
    return "Latest"


def record(item: ProtectedItem, name: str | None) -> None:
    """The point a failover used: the item's failoverRecoveryPointId (None: the latest)."""
    if name is None:
        item.settings.pop("_failoverPoint", None)
    else:
        item.settings["_failoverPoint"] = name
    item.rev += 1


APPLY_TASKS = [("ChangeRecoveryPointTask", "Change recovery point", 30)]


def apply_target(item: ProtectedItem, now: float, body: Any, state: str) -> str:
    """The point `POST replicationProtectedItems/{item}/applyRecoveryPoint` moves the item to
    (docs/fidelity.md J-010): body ApplyRecoveryPointInput `{properties: {recoveryPointId,
    providerSpecificDetails: {instanceType: HyperVReplicaAzure}}}` (sdk). Allowed while the item's
    allowedOperations list `ChangePit` (a failover awaiting its commit: L-010, L-013); otherwise 409
    (code: guess); a point the item does not have: 400 (code: guess). The job (APPLY_TASKS, scenario
    `ApplyRecoveryPoint`: guess) then records the point (`record`)."""
    body = body if isinstance(body, dict) else {}
    props = body.get("properties") if isinstance(body.get("properties"), dict) else None
    ref = props.get("recoveryPointId") if props is not None else None
    if not ref:
        raise ArmError(400, "InvalidRequestContent", "properties.recoveryPointId is required.",
                       target="properties.recoveryPointId")
    psd = props.get("providerSpecificDetails") if props is not None else None
    if not isinstance(psd, dict) or psd.get("instanceType") != "HyperVReplicaAzure":
        raise ArmError(400, "InvalidRequestContent", "properties.providerSpecificDetails.instanceType must be "
                       "HyperVReplicaAzure for this item.", target="properties.providerSpecificDetails")
    allowed = item.allowed_operations()
    if "ChangePit" not in allowed:
        raise ArmError(409, "OperationNotAllowed",
                       f"Changing the recovery point is not allowed for '{item.vm.friendly}' in state {state} "
                       f"(allowed: {', '.join(allowed) or 'none'}).")
    p = find(item, now, str(ref))
    if p is None:
        raise ArmError(400, "InvalidRecoveryPoint", f"The recovery point '{ref}' is not a recovery point of the "
                       f"replicated item '{item.vm.friendly}'.", target="properties.recoveryPointId")
    return p[0]

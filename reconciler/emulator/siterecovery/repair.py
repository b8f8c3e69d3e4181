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
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.framework import ArmError, Ctx, Reply, accepted

REPAIR_TASKS = [("RepairReplicationPrerequisitesCheck", "Prerequisites check", 10),
                ("ResynchronizeReplication", "Resynchronize replication", 60)]


def can_repair(item: Any) -> bool:
    return item.phase == "Protected" and item.vm.health != "Normal" and not item.busy() and item.tfo in (None, "None", "MarkedForDeletion")


def health_error_id(code: str) -> str:
    """HealthError.errorId of the emulator's replication health errors (format as recorded: "3:8020")."""
    return f"3:{code}"


def handlers() -> tuple[Any, Any]:
    from reconciler.emulator.siterecovery.handlers import API, _item_args, crid, started, vault_of

    def repair(ctx: Ctx) -> Reply:
        sr, v = vault_of(ctx)
        item = sr.item(v, *_item_args(ctx))
        if not can_repair(item):
            raise ArmError(409, "OperationNotAllowed",
                           f"Repair replication is not allowed for '{item.vm.friendly}' now (allowed: "
                           f"{', '.join(item.allowed_operations()) or 'none'}).")

        def done(at: float) -> None:
            item.vm.health = "Normal"
            item.start_replication(at, "Resync")
            sr._schedule_replication_end(item)
            item.rev += 1

        fabric = item.container.fabric
        job = sr.start_job(v, "RepairReplication", "Resynchronize", target_id=item.name, target_name=item.vm.friendly,
                           target_type="ProtectionEntity", tasks=REPAIR_TASKS, on_success=done,
                           client_request_id=crid(ctx), fabric_id=fabric.id)
        item.job = job
        args = _item_args(ctx)
        return started(ctx, sr, v, job, lambda: sr.item(v, *args).to_json(sr.now()))

    def resolve(ctx: Ctx) -> Reply:
        sr, v = vault_of(ctx)
        item = sr.item(v, *_item_args(ctx))
        body = ctx.body if isinstance(ctx.body, dict) else {}
        props = body.get("properties") if isinstance(body.get("properties"), dict) else None
        errs = props.get("healthErrors") if props is not None else None
        if not isinstance(errs, list) or not errs:
            raise ArmError(400, "InvalidRequestContent", "properties.healthErrors is required (a list of {healthErrorId}).",
                           target="properties.healthErrors")
        have = {e.get("errorId") for e in item._health_errors()}
        for i, e in enumerate(errs):
            hid = e.get("healthErrorId") if isinstance(e, dict) else None
            if hid not in have:
                raise ArmError(400, "InvalidParameter", f"The health error '{hid}' is not a health error of "
                               f"'{item.vm.friendly}'.", target=f"properties.healthErrors[{i}].healthErrorId")
        item.vm.health = "Normal"
        item.rev += 1
        args = _item_args(ctx)
        op = sr.state.new_operation("siterecovery/resolveHealthErrors", done_in=0.0,
                                    result=lambda: sr.item(v, *args).to_json(sr.now()))
        status = ctx.url(f"{v.id}/replicationOperationStatus/{op.id}", **{"api-version": API[0]})
        return accepted(ctx, op, location=False, async_operation=status)

    return repair, resolve

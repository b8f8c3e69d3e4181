"""Recovery points of a VM (`asr recovery-points`) and the point a failover asks for
(`asr failover ... --recovery-point latest|latest-app-consistent|latest-processed|ID`).

    rows = list_points(ctx, inv.item_for("sql01"))      # newest first
    choice = resolve(ctx, "latest-app-consistent", items, plan=None)

A VM failover takes a point by id (`recoveryPointId` of HyperVReplicaAzureFailoverProviderInput):
`latest-app-consistent` is the newest point of type AppConsistent in the VM's list, `latest`
and `latest-processed` send no id (the latest data). A recovery plan failover takes a type
(`recoveryPointType` Latest / LatestApplicationConsistent / LatestProcessed), never an id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from reconciler.azure.errors import azure_errors
from reconciler.errors import UsageError
from reconciler.ops.inventory import as_json

CHOICES = ("latest", "latest-app-consistent", "latest-processed")
PLAN_TYPES = {"latest": "Latest", "latest-app-consistent": "LatestApplicationConsistent",
              "latest-processed": "LatestProcessed"}
APP_TYPES = {"appconsistent", "applicationconsistent"}


@dataclass
class Choice:
    """What a failover sends: per VM a point id (None: the latest), or a plan's point type."""

    asked: str = "latest"
    ids: dict[str, str] = field(default_factory=dict)  # VM name -> recovery point ARM id
    points: dict[str, dict[str, Any]] = field(default_factory=dict)  # VM name -> the point's row
    plan_type: str = "Latest"


def _item_path(item: Any) -> tuple[str, str, str]:
    parts = item.id.split("/")
    low = [p.lower() for p in parts]
    return parts[low.index("replicationfabrics") + 1], parts[low.index("replicationprotectioncontainers") + 1], item.name


def list_points(ctx: Any, item: Any) -> list[dict[str, Any]]:
    """The VM's recovery points, newest first: {name, id, time, type}. One paged list."""
    sr = ctx.clients.site_recovery()
    f, c, name = _item_path(item)
    with azure_errors(f"list recovery points of {item.vm_name}"):
        raw = [as_json(p) for p in sr.recovery_points.list_by_replication_protected_items(
            ctx.resource_group, ctx.vault, f, c, name)]
    rows = [{"name": p.get("name"), "id": p.get("id"),
             "time": (p.get("properties") or {}).get("recoveryPointTime"),
             "type": (p.get("properties") or {}).get("recoveryPointType")} for p in raw]
    rows.sort(key=lambda r: r["time"] or "", reverse=True)
    return rows


def resolve(ctx: Any, asked: str | None, items: list[Any], *, plan: bool) -> Choice:
    """--recovery-point -> what to send. UsageError for a choice that cannot apply."""
    asked = (asked or "latest").strip()
    key = asked.lower()
    if plan:
        if key not in PLAN_TYPES:
            raise UsageError(f"--recovery-point {asked}: a recovery plan fails over to one of "
                             f"{', '.join(CHOICES)} (a point id is for one --vm)")
        return Choice(asked=key, plan_type=PLAN_TYPES[key])
    ch = Choice(asked=key if key in CHOICES else asked)
    if key in ("latest", "latest-processed"):
        return ch
    if key == "latest-app-consistent":
        for it in items:
            rows = list_points(ctx, it)
            app = next((r for r in rows if str(r["type"] or "").lower() in APP_TYPES), None)
            if app is None:
                raise UsageError(f"--recovery-point latest-app-consistent: {it.vm_name} has no app-consistent "
                                 "recovery point (its policy's appConsistentSnapshotFrequencyHours may be 0)",
                                 hint=f"see them with `asr recovery-points {ctx.file} --vm {it.vm_name}`")
            ch.ids[it.vm_name], ch.points[it.vm_name] = app["id"], app
        return ch
    if len(items) != 1:
        raise UsageError(f"--recovery-point {asked}: a recovery point id belongs to one VM; give one --vm")
    it = items[0]
    rows = list_points(ctx, it)
    want = asked.rstrip("/").rsplit("/", 1)[-1].lower()
    hit = next((r for r in rows if (r["name"] or "").lower() == want), None)
    if hit is None:
        raise UsageError(f"--recovery-point {asked}: not a recovery point of {it.vm_name}",
                         hint=f"see them with `asr recovery-points {ctx.file} --vm {it.vm_name}`")
    ch.ids[it.vm_name], ch.points[it.vm_name] = hit["id"], hit
    return ch


def render_text(vm: str, rows: list[dict[str, Any]]) -> str:
    if not rows:
        return f"{vm}: no recovery points yet (initial replication not finished, or less than an hour ago)"
    lines = [f"{vm}: {len(rows)} recovery point(s), newest first", f"{'TIME':<28}  {'TYPE':<16}  NAME"]
    for r in rows:
        lines.append(f"{(r['time'] or '-'):<28}  {(r['type'] or '-'):<16}  {r['name']}")
    return "\n".join(lines)


def pick_point(ctx: Any, item: Any, asked: str) -> dict[str, Any]:
    """The point `asr failover change-point --recovery-point` names: an id/name of the VM's, or
    latest / latest-processed (the newest point in the list) / latest-app-consistent. applyRecoveryPoint
    always takes an id, so every choice resolves to one of the VM's points."""
    key = asked.strip().lower()
    rows = list_points(ctx, item)
    hint = f"see them with `asr recovery-points {ctx.file} --vm {item.vm_name}`"
    if key in ("latest", "latest-processed"):
        if not rows:
            raise UsageError(f"--recovery-point {asked}: {item.vm_name} has no recovery points", hint=hint)
        return rows[0]
    if key == "latest-app-consistent":
        app = next((r for r in rows if str(r["type"] or "").lower() in APP_TYPES), None)
        if app is None:
            raise UsageError(f"--recovery-point latest-app-consistent: {item.vm_name} has no app-consistent "
                             "recovery point", hint=hint)
        return app
    want = asked.strip().rstrip("/").rsplit("/", 1)[-1].lower()
    hit = next((r for r in rows if (r["name"] or "").lower() == want), None)
    if hit is None:
        raise UsageError(f"--recovery-point {asked}: not a recovery point of {item.vm_name}", hint=hint)
    return hit


def run_change_point(ctx: Any, vms: list[str], asked: str | None, *, yes: bool, ask: Any = None,
                     sleep: Any = None, interval: float | None = None) -> list[dict[str, Any]]:
    """Change the recovery point of a failover that awaits its commit (`applyRecoveryPoint`,
    allowed where the item's allowedOperations list `ChangePit`), follow the job, report the point
    the item names afterwards (failoverRecoveryPointId)."""
    from reconciler.azure.jobs import send_write
    from reconciler.errors import OperationFailedError
    from reconciler.ops.context import confirm
    from reconciler.ops.inventory import items_or_refuse, read_inventory
    from reconciler.ops.jobs import JobFollower, utcnow

    if not asked:
        raise UsageError("failover change-point needs --recovery-point latest|latest-app-consistent|latest-processed|ID")
    if len(vms) != 1 and asked.strip().lower() not in CHOICES:
        raise UsageError(f"--recovery-point {asked}: a recovery point id belongs to one VM; give one --vm")
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))
    items = items_or_refuse(
        inv, vms, lambda it: None if it.allows("ChangePit") else
        "the recovery point can only be changed after a failover and before its commit "
        f"(state {it.protection_state or '?'}; allowed: {', '.join(it.allowed_operations) or 'none'})",
        vault=ctx.vault, hint=f"`asr status {ctx.file}` shows each VM's state")
    chosen = {it.vm_name: pick_point(ctx, it, asked) for it in items}
    for it in items:
        p = chosen[it.vm_name]
        ctx.say(f"This will move the failed-over VM {it.vm_name} to recovery point {p['name']} ({p['type']}, {p['time']}); "
                "the recovered VM is recreated from it.")
    (ask or confirm)("Continue?", yes=yes)
    sr = ctx.clients.site_recovery()
    follower = JobFollower(ctx.clients, ctx.resource_group, ctx.vault, interval=interval, sleep=sleep)
    for it in items:
        body = {"properties": {"recoveryPointId": chosen[it.vm_name]["id"],
                               "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}
        with azure_errors(f"change the recovery point of {it.vm_name}"):
            sent = send_write(sr.replication_protected_items.begin_apply_recovery_point, ctx.resource_group, ctx.vault,
                              *_item_path(it), body, counter=getattr(ctx.clients, "counter", None))
        follower.watch(it.vm_name, request_id=sent.request_id, target_id=it.id, target_name=it.name,
                       started=utcnow(), scenarios=("ApplyRecoveryPoint", "ChangePit"))
        ctx.say(f"Started changing the recovery point of {it.vm_name}; following its job...")
    watches = follower.wait()
    after = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))
    out, failed = [], []
    for it in items:
        job = watches[it.vm_name].job
        ok = job is not None and job.succeeded
        now = after.item_for(it.vm_name)
        applied = getattr(now, "failover_recovery_point_id", None) if now is not None else None
        out.append({"vm": it.vm_name, "operation": "applyRecoveryPoint", "ok": ok, "asked": chosen[it.vm_name],
                    "recovery_point_id": applied, "job": job.name if job else None,
                    "job_state": job.state if job else None})
        if not ok:
            failed.append(f"{it.vm_name}: job {job.name if job else '?'} {job.state if job else 'not found'}")
    if failed:
        raise OperationFailedError("change of recovery point failed: " + "; ".join(failed))
    return out

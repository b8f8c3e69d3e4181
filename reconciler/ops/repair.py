"""`asr repair`: resynchronise the replication of VMs whose replication is unhealthy
(`repairReplication`), or resolve their current health errors (`resolveHealthErrors`).

    run_repair(ctx, ["sql01"], yes=True)                   # resync, followed to the job's end
    run_repair(ctx, ["sql01"], yes=True, health_errors=True)

Each VM is checked first: a resync needs `RepairReplication` in the item's
allowedOperations (Azure offers it for an unhealthy item), resolving needs health errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from reconciler.azure.errors import azure_errors
from reconciler.errors import OperationFailedError
from reconciler.ops.context import OpsContext, confirm
from reconciler.ops.inventory import items_or_refuse, read_inventory
from reconciler.ops.states import ItemState


def run_repair(ctx: OpsContext, vms: list[str], *, yes: bool, health_errors: bool = False,
               ask: Callable[..., None] = confirm, sleep: Callable[[float], None] | None = None,
               interval: float | None = None) -> list[dict[str, Any]]:
    from reconciler.azure.jobs import send_write
    from reconciler.ops.failover import _item_path
    from reconciler.ops.jobs import JobFollower, utcnow

    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))

    def refusal(it: ItemState) -> str | None:
        if health_errors and not it.health_errors:
            return f"has no health errors to resolve (replication health {it.replication_health or '?'})"
        if not health_errors and not it.allows("RepairReplication"):
            return (f"Azure does not offer a resync now (replication health {it.replication_health or '?'}; "
                    f"allowed: {', '.join(it.allowed_operations) or 'none'})")
        return None

    items = items_or_refuse(inv, vms, refusal, vault=ctx.vault,
                            hint=f"`asr status {ctx.file}` shows each VM's health and state")
    what = "resolve the health errors of" if health_errors else "resynchronise the replication of"
    ctx.say(f"This will {what}: {', '.join(i.vm_name for i in items)}.")
    if not health_errors:
        ctx.say("A resync copies the changed data again; replication runs as Resynchronization until it ends.")
    ask("Continue?", yes=yes)
    sr = ctx.clients.site_recovery()
    out = []
    if health_errors:
        for it in items:
            ids = [str(e["errorId"]) for e in it.health_errors if e.get("errorId")]
            with azure_errors(f"resolve health errors of {it.vm_name}"):
                send_write(sr.replication_protected_items.begin_resolve_health_errors, ctx.resource_group, ctx.vault,
                           *_item_path(it).values(), {"properties": {"healthErrors": [{"healthErrorId": i} for i in ids]}},
                           counter=getattr(ctx.clients, "counter", None))
            ctx.say(f"{it.vm_name}: asked Azure to resolve {len(ids)} health error(s): {', '.join(ids)}")
            out.append({"vm": it.vm_name, "operation": "resolveHealthErrors", "ok": True, "healthErrors": ids})
        return out
    follower = JobFollower(ctx.clients, ctx.resource_group, ctx.vault, interval=interval, sleep=sleep)
    for it in items:
        with azure_errors(f"repair replication of {it.vm_name}"):
            sent = send_write(sr.replication_protected_items.begin_repair_replication, ctx.resource_group, ctx.vault,
                              *_item_path(it).values(), counter=getattr(ctx.clients, "counter", None))
        follower.watch(it.vm_name, request_id=sent.request_id, target_id=it.id, target_name=it.name,
                       started=utcnow(), scenarios=("RepairReplication", "Resync", "Resynchronize"))
        ctx.say(f"Started resync of {it.vm_name}; following its job...")
    watches = follower.wait()
    failed = []
    for it in items:
        job = watches[it.vm_name].job
        ok = job is not None and job.succeeded
        out.append({"vm": it.vm_name, "operation": "repairReplication", "ok": ok,
                    "job": job.name if job else None, "job_state": job.state if job else None})
        if not ok:
            failed.append(f"{it.vm_name}: job {job.name if job else '?'} {job.state if job else 'not found'}")
    if failed:
        raise OperationFailedError("resync failed: " + "; ".join(failed))
    return out

"""HTTP handlers of the Site Recovery tree (api-version 2025-08-01).

Every write answers 202 with `Location` (<resource>/operationresults/{job}),
`Azure-AsyncOperation` (.../replicationOperationStatus/{id}) and `Retry-After`;
both URLs follow the replication job the write started: InProgress while it runs,
then the final resource (200), nothing (204, deletes) or the job's error.
An idempotent PUT of an object that already exists as asked answers 200 with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.emulator.framework import ArmError, Ctx, Reply, RouteTable, accepted, operation_result, operation_status, paged
from reconciler.emulator.siterecovery import jobcontrol, recoverypoints, repair
from reconciler.emulator.siterecovery import statemachine as sm
from reconciler.emulator.siterecovery.jobs import FilterError, Job, job_matches, parse_job_filter
from reconciler.emulator.siterecovery.model import Vault
from reconciler.emulator.siterecovery.service import SiteRecovery, get_sr

API = ("2025-08-01",)
V = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.RecoveryServices/vaults/{resourceName}"
F = V + "/replicationFabrics/{fabricName}"
C = F + "/replicationProtectionContainers/{protectionContainerName}"
I = C + "/replicationProtectedItems/{replicatedProtectedItemName}"  # noqa: E741  # the item template, named like V, F, C
M = C + "/replicationProtectionContainerMappings/{mappingName}"
N = F + "/replicationNetworks/{networkName}"
NM = N + "/replicationNetworkMappings/{networkMappingName}"
P = V + "/replicationPolicies/{policyName}"
RP = V + "/replicationRecoveryPlans/{recoveryPlanName}"

RETRY_AFTER = 30.0  # simulated seconds, as Azure's examples answer


# ---------------------------------------------------------------------------- helpers


def sr_of(ctx: Ctx) -> SiteRecovery:
    return get_sr(ctx.state)


def vault_of(ctx: Ctx) -> tuple[SiteRecovery, Vault]:
    sr = sr_of(ctx)
    return sr, sr.vault(ctx.subscription_id, ctx.params["resourceGroupName"], ctx.params["resourceName"])


class LazyPage(list):
    """A list whose items are rendered only when a page is sliced out of it."""

    def __init__(self, objs: list, render: Callable[[Any], dict]) -> None:
        super().__init__()
        self._objs = objs
        self._render = render

    def __len__(self) -> int:
        return len(self._objs)

    def __bool__(self) -> bool:
        return bool(self._objs)

    def __getitem__(self, key: Any) -> Any:  # type: ignore[override]
        if isinstance(key, slice):
            return [self._render(o) for o in self._objs[key]]
        return self._render(self._objs[key])

    def __iter__(self):  # type: ignore[override]
        return (self._render(o) for o in self._objs)


def listing(ctx: Ctx, objs: list, now: float) -> dict:
    return paged(ctx, LazyPage(objs, lambda o: o.to_json(now)))


def started(ctx: Ctx, sr: SiteRecovery, vault: Vault, job: Job | None, result: Callable[[], Any] | None,
            existing: Callable[[], Any] | None = None) -> Reply:
    """202 + Location + Azure-AsyncOperation + Retry-After, following `job`."""
    if job is None:
        return Reply(200, existing() if existing else None)
    state = ctx.state
    op = state.get_operation(job.name)
    if op is None:
        op = state.new_operation("siterecovery/" + job.scenario, result=result, retry_after=RETRY_AFTER, op_id=job.name,
                                 data={"job": job.name})
        op.eta = job.end
        job._operation = op  # type: ignore[attr-defined]
        if job.final is not None:  # finished already (zero-length job)
            sr._finish(job, job.final_at or state.now())
    # As recorded (PowerShell TestEnableDR.json, 202 of an enable PUT): Location at the written
    # resource's `/operationresults/{job}`, Azure-AsyncOperation at the vault's
    # `replicationOperationStatus/{job}` (ReplicationFabrics_Create.json and the other examples),
    # both named by the job's GUID, and x-ms-request-id = the job's ARM id (docs/fidelity.md F-050).
    loc = ctx.url(f"{_resource_path(ctx)}/operationresults/{op.id}", **{"api-version": API[0]})
    status = ctx.url(f"{vault.id}/replicationOperationStatus/{op.id}", **{"api-version": API[0]})
    reply = accepted(ctx, op, location=loc, async_operation=status)
    reply.headers["x-ms-request-id"] = job.id
    return reply


def _resource_path(ctx: Ctx) -> str:
    """The path of the resource a write acts on: the request path, less the action
    segment of a POST (`.../replicationProtectedItems/{i}/testFailover` -> the item)."""
    path = ctx.path.split("?", 1)[0].rstrip("/")
    if ctx.method == "POST":
        path = path.rsplit("/", 1)[0]
    if path.lower().startswith("/subscriptions/"):
        path = "/Subscriptions/" + path[len("/subscriptions/"):]
    return path


def replayed(handler: Callable[[Ctx], Reply]) -> Callable[[Ctx], Reply]:
    """A retried write (same x-ms-client-request-id, method and path: azure-core resends
    the request with the same id after a 5xx or a dropped connection) gets the answer
    the first attempt got, not a 409 against the job that attempt started."""

    def wrapper(ctx: Ctx) -> Reply:
        rid = ctx.client_request_id
        if not rid:
            return handler(ctx)
        sr, v = vault_of(ctx)
        key = (rid, ctx.method, ctx.path.rstrip("/").lower())
        replies = v.__dict__.setdefault("_replies", {})
        prev = replies.get(key)
        if prev is not None:
            return prev
        reply = handler(ctx)
        if isinstance(reply, Reply) and reply.status < 300:
            replies[key] = reply
        return reply

    wrapper.__name__ = handler.__name__
    return wrapper


def crid(ctx: Ctx) -> str | None:
    return ctx.client_request_id


def body(ctx: Ctx) -> Any:
    if ctx.body is None:
        return {}
    if not isinstance(ctx.body, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid and could not be deserialized: the body must be a JSON object.")
    return ctx.body


# ---------------------------------------------------------------------------- fabrics & discovered objects


def list_fabrics(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, list(v.fabrics.values()), sr.now())


def get_fabric(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.fabric(v, ctx.params["fabricName"]).to_json(sr.now())


def create_fabric(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    name = ctx.params["fabricName"]
    job = sr.create_site(v, name, body(ctx), crid(ctx))
    return started(ctx, sr, v, job, lambda: sr.fabric(v, name).to_json(sr.now()),
                   existing=lambda: next(f for f in v.fabrics.values() if f.name.lower() == name.lower() or f.friendly.lower() == name.lower()).to_json(sr.now()))


def remove_fabric(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.delete_fabric(v, ctx.params["fabricName"], crid(ctx))
    return started(ctx, sr, v, job, None)


def purge_fabric(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.delete_fabric(v, ctx.params["fabricName"], crid(ctx), purge=True)
    return started(ctx, sr, v, job, None)


def list_providers(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    f = sr.fabric(v, ctx.params["fabricName"])
    return listing(ctx, list(f.providers.values()), sr.now())


def list_providers_vault(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, [p for f in v.fabrics.values() for p in f.providers.values()], sr.now())


def get_provider(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    f = sr.fabric(v, ctx.params["fabricName"])
    p = f.providers.get(ctx.params["providerName"].lower())
    if p is None:
        raise ArmError(404, "NotFound", f"The recovery services provider '{ctx.params['providerName']}' was not found.")
    return p.to_json(sr.now())


def list_containers(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    f = sr.fabric(v, ctx.params["fabricName"])
    return listing(ctx, list(f.containers.values()), sr.now())


def list_containers_vault(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, [c for f in v.fabrics.values() for c in f.containers.values()], sr.now())


def get_container(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.container(v, ctx.params["fabricName"], ctx.params["protectionContainerName"]).to_json(sr.now())


def create_container(ctx: Ctx) -> Reply:
    raise ArmError(400, "OperationNotSupported",
                   "Protection containers of VMM clouds and Hyper-V sites are discovered, not created: register the "
                   "VMM server or create the Hyper-V site.")


def list_protectable(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    c = sr.container(v, ctx.params["fabricName"], ctx.params["protectionContainerName"])
    vms = list(c.vms.values())
    flt = (ctx.q("$filter") or "").strip()
    if flt:
        import re

        m = re.match(r"^\s*(state|protectionStatus)\s+eq\s+'(\w+)'\s*$", flt, re.I)
        if not m:
            raise ArmError(400, "InvalidQueryParameterValue", f"The $filter '{flt}' is not supported; use state eq 'Unprotected'.")
        want = m.group(2).lower()
        vms = [vm for vm in vms if (("protected" if vm.name.lower() in v.items_by_vm else "unprotected") == want)]
    return listing(ctx, vms, sr.now())


def get_protectable(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.protectable(v, ctx.params["fabricName"], ctx.params["protectionContainerName"],
                          ctx.params["protectableItemName"]).to_json(sr.now())


def list_networks(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    f = sr.fabric(v, ctx.params["fabricName"])
    return listing(ctx, list(f.networks.values()), sr.now())


def list_networks_vault(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, [n for f in v.fabrics.values() for n in f.networks.values()], sr.now())


def get_network(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.network(v, ctx.params["fabricName"], ctx.params["networkName"]).to_json(sr.now())


# ---------------------------------------------------------------------------- policies


def list_policies(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, list(v.policies.values()), sr.now())


def get_policy(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.policy(v, ctx.params["policyName"]).to_json(sr.now())


def create_policy(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    name = ctx.params["policyName"]
    job = sr.create_policy(v, name, body(ctx), crid(ctx))
    return started(ctx, sr, v, job, lambda: sr.policy(v, name).to_json(sr.now()))


def update_policy(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    name = ctx.params["policyName"]
    job = sr.update_policy(v, name, body(ctx), crid(ctx))
    return started(ctx, sr, v, job, lambda: sr.policy(v, name).to_json(sr.now()))


def delete_policy(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.delete_policy(v, ctx.params["policyName"], crid(ctx))
    return started(ctx, sr, v, job, None)


# ---------------------------------------------------------------------------- container mappings


def _mapping(sr: SiteRecovery, v: Vault, ctx: Ctx):
    c = sr.container(v, ctx.params["fabricName"], ctx.params["protectionContainerName"])
    m = c.mappings.get(ctx.params["mappingName"].lower())
    if m is None:
        raise ArmError(404, "NotFound", f"The protection container mapping '{ctx.params['mappingName']}' was not found.")
    return m


def list_mappings(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    c = sr.container(v, ctx.params["fabricName"], ctx.params["protectionContainerName"])
    return listing(ctx, list(c.mappings.values()), sr.now())


def list_mappings_vault(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, [m for f in v.fabrics.values() for c in f.containers.values() for m in c.mappings.values()], sr.now())


def get_mapping(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return _mapping(sr, v, ctx).to_json(sr.now())


def create_mapping(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.create_mapping(v, ctx.params["fabricName"], ctx.params["protectionContainerName"], ctx.params["mappingName"],
                            body(ctx), crid(ctx))
    return started(ctx, sr, v, job, lambda: _mapping(sr, v, ctx).to_json(sr.now()),
                   existing=lambda: _mapping(sr, v, ctx).to_json(sr.now()))


def update_mapping(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    m = _mapping(sr, v, ctx)
    inst = ((body(ctx).get("properties") or {}).get("providerSpecificInput") or {}).get("instanceType")
    raise ArmError(400, "OperationNotSupported",
                   f"The association '{m.name}' replicates Hyper-V VMs to Azure (HyperVReplicaAzure) and has no settings "
                   f"to update{f' with {inst!r} input' if inst else ''}; to change its policy, remove it and associate the new policy.")


def remove_mapping(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.delete_mapping(v, ctx.params["fabricName"], ctx.params["protectionContainerName"], ctx.params["mappingName"], crid(ctx))
    return started(ctx, sr, v, job, None)


def purge_mapping(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.delete_mapping(v, ctx.params["fabricName"], ctx.params["protectionContainerName"], ctx.params["mappingName"],
                            crid(ctx), purge=True)
    return started(ctx, sr, v, job, None)


# ---------------------------------------------------------------------------- network mappings


def _nmapping(sr: SiteRecovery, v: Vault, ctx: Ctx):
    n = sr.network(v, ctx.params["fabricName"], ctx.params["networkName"])
    m = n.mappings.get(ctx.params["networkMappingName"].lower())
    if m is None:
        raise ArmError(404, "NotFound", f"The network mapping '{ctx.params['networkMappingName']}' was not found.")
    return m


def list_nmappings(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    n = sr.network(v, ctx.params["fabricName"], ctx.params["networkName"])
    return listing(ctx, list(n.mappings.values()), sr.now())


def list_nmappings_vault(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, [m for f in v.fabrics.values() for n in f.networks.values() for m in n.mappings.values()], sr.now())


def get_nmapping(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return _nmapping(sr, v, ctx).to_json(sr.now())


def create_nmapping(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.create_network_mapping(v, ctx.params["fabricName"], ctx.params["networkName"], ctx.params["networkMappingName"],
                                    body(ctx), crid(ctx))
    return started(ctx, sr, v, job, lambda: _nmapping(sr, v, ctx).to_json(sr.now()),
                   existing=lambda: _nmapping(sr, v, ctx).to_json(sr.now()))


def update_nmapping(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.update_network_mapping(v, ctx.params["fabricName"], ctx.params["networkName"], ctx.params["networkMappingName"],
                                    body(ctx), crid(ctx))
    return started(ctx, sr, v, job, lambda: _nmapping(sr, v, ctx).to_json(sr.now()))


def delete_nmapping(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.delete_network_mapping(v, ctx.params["fabricName"], ctx.params["networkName"], ctx.params["networkMappingName"], crid(ctx))
    return started(ctx, sr, v, job, None)


# ---------------------------------------------------------------------------- protected items


def _item_args(ctx: Ctx) -> tuple[str, str, str]:
    return ctx.params["fabricName"], ctx.params["protectionContainerName"], ctx.params["replicatedProtectedItemName"]


def item_listing(ctx: Ctx, items: list, now: float) -> Reply:
    """A page of replicated items, serialized from each item's cached JSON text
    (same bytes as the generic path; 5,000 items answer in a fraction of a second)."""
    page = paged(ctx, LazyPage(items, lambda o: o))
    parts = ['{"value":[', ",".join(it.to_json_text(now) for it in page["value"]), "]"]
    if page.get("nextLink"):
        parts.append(',"nextLink":' + json.dumps(page["nextLink"]))
    parts.append("}")
    return Reply(200, "".join(parts).encode(), {"Content-Type": "application/json; charset=utf-8"})


def list_items(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    c = sr.container(v, ctx.params["fabricName"], ctx.params["protectionContainerName"])
    return item_listing(ctx, list(c.items.values()), sr.now())


def list_items_vault(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    return item_listing(ctx, v.protected_items(), sr.now())


def get_item(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.item(v, *_item_args(ctx)).to_json(sr.now())


def _item_result(sr: SiteRecovery, v: Vault, ctx: Ctx) -> Callable[[], Any]:
    args = _item_args(ctx)
    return lambda: sr.item(v, *args).to_json(sr.now())


def create_item(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.enable_protection(v, *_item_args(ctx), body(ctx), crid(ctx))
    return started(ctx, sr, v, job, _item_result(sr, v, ctx), existing=_item_result(sr, v, ctx))


def update_item(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.update_protection(v, *_item_args(ctx), body(ctx), crid(ctx))
    return started(ctx, sr, v, job, _item_result(sr, v, ctx))


def remove_item(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.disable_protection(v, *_item_args(ctx), body(ctx), crid(ctx))
    return started(ctx, sr, v, job, None)


def purge_item(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.purge_protection(v, *_item_args(ctx), crid(ctx))
    return started(ctx, sr, v, job, None)


# ---------------------------------------------------------------------------- recovery plans


def list_plans(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return listing(ctx, list(v.plans.values()), sr.now())


def get_plan(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.plan(v, ctx.params["recoveryPlanName"]).to_json(sr.now())


def _plan_result(sr: SiteRecovery, v: Vault, ctx: Ctx) -> Callable[[], Any]:
    name = ctx.params["recoveryPlanName"]
    return lambda: sr.plan(v, name).to_json(sr.now())


def create_plan(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.create_plan(v, ctx.params["recoveryPlanName"], body(ctx), crid(ctx))
    return started(ctx, sr, v, job, _plan_result(sr, v, ctx))


def update_plan(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.update_plan(v, ctx.params["recoveryPlanName"], body(ctx), crid(ctx))
    return started(ctx, sr, v, job, _plan_result(sr, v, ctx))


def delete_plan(ctx: Ctx) -> Reply:
    sr, v = vault_of(ctx)
    job = sr.delete_plan(v, ctx.params["recoveryPlanName"], crid(ctx))
    return started(ctx, sr, v, job, None)


def failover_action(segment: str, target: str) -> Callable[[Ctx], Reply]:
    """The POST handler of one row of statemachine.FAILOVER_ACTIONS, for a replicated item
    (`target` "item") or a recovery plan ("plan"): validate, start the job, answer 202."""

    def handler(ctx: Ctx) -> Reply:
        sr, v = vault_of(ctx)
        if target == "item":
            job = sr.failover_op(v, *_item_args(ctx), segment, ctx.body, crid(ctx))
            return started(ctx, sr, v, job, _item_result(sr, v, ctx))
        job = sr.plan_failover_op(v, ctx.params["recoveryPlanName"], segment, ctx.body, crid(ctx))
        return started(ctx, sr, v, job, _plan_result(sr, v, ctx))

    handler.__name__ = f"{target}_{segment}"
    return handler


# ---------------------------------------------------------------------------- jobs & operations


def list_jobs(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    now = sr.now()
    try:
        clauses = parse_job_filter(ctx.q("$filter"))
    except FilterError as exc:
        raise ArmError(400, "InvalidQueryParameterValue", str(exc)) from None
    jobs = [j for j in v.jobs if job_matches(j, clauses, now)] if clauses else list(v.jobs)
    return paged(ctx, LazyPage(jobs, lambda j: j.to_json(now)))


def get_job(ctx: Ctx) -> dict:
    sr, v = vault_of(ctx)
    return sr.job(v, ctx.params["jobName"]).to_json(sr.now())


def op_results(ctx: Ctx) -> Reply:
    vault_of(ctx)
    return operation_result(ctx, ctx.params["operationId"])


def op_status(ctx: Ctx) -> Reply:
    vault_of(ctx)
    return operation_status(ctx, ctx.params["operationId"])


# ---------------------------------------------------------------------------- job control, recovery points, repair
# The HTTP side of jobcontrol.py, recoverypoints.py and repair.py; their rules stay there (service.py and
# model.py call them), so those modules import nothing of this one: no import cycle.


def job_control(action: str) -> Callable[[Ctx], Reply]:
    """The route handler of POST replicationJobs/{jobName}/{action} (rules: jobcontrol.py)."""

    def run(ctx: Ctx) -> Reply:
        sr, v = vault_of(ctx)
        job = sr.job(v, ctx.params["jobName"])
        answer: Job = job
        if action == "resume":
            body = ctx.body if isinstance(ctx.body, dict) else {}
            props: dict[str, Any] = body["properties"] if isinstance(body.get("properties"), dict) else {}
            comments = str(props["comments"]) if isinstance(props.get("comments"), str) else ""
            jobcontrol.resume(sr, v, job, comments)
        elif action == "cancel":
            jobcontrol.cancel(sr, v, job)
        else:
            answer = jobcontrol.restart(sr, v, job, ctx.client_request_id)
        op = sr.state.new_operation(f"siterecovery/job-{action}", done_in=0.0,
                                    result=lambda: answer.to_json(sr.now()), data={"job": answer.name})
        status = ctx.url(f"{v.id}/replicationOperationStatus/{op.id}", **{"api-version": API[0]})
        reply = accepted(ctx, op, location=False, async_operation=status)
        return reply

    run.__name__ = f"job_{action}"
    return run


def recovery_point_handlers() -> tuple[Callable[[Ctx], dict], Callable[[Ctx], dict]]:
    """GET .../recoveryPoints and .../recoveryPoints/{name} (rules: recoverypoints.py)."""

    def list_points(ctx: Ctx) -> dict:
        sr, v = vault_of(ctx)
        item = sr.item(v, *_item_args(ctx))
        now = sr.now()
        rows = [recoverypoints.point_json(item, *p) for p in recoverypoints.points(item, now)]
        return paged(ctx, rows)

    def get_point(ctx: Ctx) -> dict:
        sr, v = vault_of(ctx)
        item = sr.item(v, *_item_args(ctx))
        p = recoverypoints.find(item, sr.now(), ctx.params["recoveryPointName"])
        if p is None:
            raise ArmError(404, "NotFound", f"The recovery point '{ctx.params['recoveryPointName']}' was not found.")
        return recoverypoints.point_json(item, *p)

    return list_points, get_point


def apply_recovery_point(ctx: Ctx) -> Reply:
    """POST .../applyRecoveryPoint (rules: recoverypoints.apply_target, docs/fidelity.md J-010)."""
    sr, v = vault_of(ctx)
    item = sr.item(v, *_item_args(ctx))
    now = sr.now()
    name = recoverypoints.apply_target(item, now, ctx.body, item.to_json(now)["properties"]["protectionState"])

    def done(at: float) -> None:
        recoverypoints.record(item, name)

    job = sr.start_job(v, "ApplyRecoveryPoint", "Change recovery point", target_id=item.name,
                       target_name=item.vm.friendly, target_type="ProtectionEntity", tasks=recoverypoints.APPLY_TASKS,
                       on_success=done, client_request_id=crid(ctx), fabric_id=item.container.fabric.id)
    item.job = job
    args = _item_args(ctx)
    return started(ctx, sr, v, job, lambda: sr.item(v, *args).to_json(sr.now()))


def repair_handlers() -> tuple[Callable[[Ctx], Reply], Callable[[Ctx], Reply]]:
    """POST .../repairReplication and .../resolveHealthErrors (rules: repair.py)."""

    def repair_replication(ctx: Ctx) -> Reply:
        sr, v = vault_of(ctx)
        item = sr.item(v, *_item_args(ctx))
        if not repair.can_repair(item):
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
                           target_type="ProtectionEntity", tasks=repair.REPAIR_TASKS, on_success=done,
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

    return repair_replication, resolve


# ---------------------------------------------------------------------------- the table


def register(routes: RouteTable) -> None:
    a = API
    routes.add("GET", V + "/replicationFabrics", list_fabrics, api_versions=a)
    routes.add("GET", F, get_fabric, api_versions=a)
    routes.add("PUT", F, replayed(create_fabric), api_versions=a)
    routes.add("DELETE", F, replayed(purge_fabric), api_versions=a)
    routes.add("POST", F + "/remove", replayed(remove_fabric), api_versions=a)
    routes.add("GET", F + "/replicationRecoveryServicesProviders", list_providers, api_versions=a)
    routes.add("GET", F + "/replicationRecoveryServicesProviders/{providerName}", get_provider, api_versions=a)
    routes.add("GET", V + "/replicationRecoveryServicesProviders", list_providers_vault, api_versions=a)
    routes.add("GET", F + "/replicationProtectionContainers", list_containers, api_versions=a)
    routes.add("GET", C, get_container, api_versions=a)
    routes.add("PUT", C, replayed(create_container), api_versions=a)
    routes.add("GET", V + "/replicationProtectionContainers", list_containers_vault, api_versions=a)
    routes.add("GET", C + "/replicationProtectableItems", list_protectable, api_versions=a)
    routes.add("GET", C + "/replicationProtectableItems/{protectableItemName}", get_protectable, api_versions=a)
    routes.add("GET", F + "/replicationNetworks", list_networks, api_versions=a)
    routes.add("GET", N, get_network, api_versions=a)
    routes.add("GET", V + "/replicationNetworks", list_networks_vault, api_versions=a)
    # policies
    routes.add("GET", V + "/replicationPolicies", list_policies, api_versions=a)
    routes.add("GET", P, get_policy, api_versions=a)
    routes.add("PUT", P, replayed(create_policy), api_versions=a)
    routes.add("PATCH", P, replayed(update_policy), api_versions=a)
    routes.add("DELETE", P, replayed(delete_policy), api_versions=a)
    # container mappings
    routes.add("GET", C + "/replicationProtectionContainerMappings", list_mappings, api_versions=a)
    routes.add("GET", V + "/replicationProtectionContainerMappings", list_mappings_vault, api_versions=a)
    routes.add("GET", M, get_mapping, api_versions=a)
    routes.add("PUT", M, replayed(create_mapping), api_versions=a)
    routes.add("DELETE", M, replayed(purge_mapping), api_versions=a)
    routes.add("PATCH", M, replayed(update_mapping), api_versions=a)
    routes.add("POST", M + "/remove", replayed(remove_mapping), api_versions=a)
    # network mappings
    routes.add("GET", N + "/replicationNetworkMappings", list_nmappings, api_versions=a)
    routes.add("GET", V + "/replicationNetworkMappings", list_nmappings_vault, api_versions=a)
    routes.add("GET", NM, get_nmapping, api_versions=a)
    routes.add("PUT", NM, replayed(create_nmapping), api_versions=a)
    routes.add("PATCH", NM, replayed(update_nmapping), api_versions=a)
    routes.add("DELETE", NM, replayed(delete_nmapping), api_versions=a)
    # protected items
    routes.add("GET", C + "/replicationProtectedItems", list_items, api_versions=a)
    routes.add("GET", V + "/replicationProtectedItems", list_items_vault, api_versions=a)
    routes.add("GET", I, get_item, api_versions=a)
    routes.add("PUT", I, replayed(create_item), api_versions=a)
    routes.add("PATCH", I, replayed(update_item), api_versions=a)
    routes.add("DELETE", I, replayed(purge_item), api_versions=a)
    routes.add("POST", I + "/remove", replayed(remove_item), api_versions=a)
    list_points, get_point = recovery_point_handlers()  # recovery points (docs/fidelity.md J-006)
    routes.add("GET", I + "/recoveryPoints", list_points, api_versions=a)
    routes.add("GET", I + "/recoveryPoints/{recoveryPointName}", get_point, api_versions=a)
    routes.add("POST", I + "/applyRecoveryPoint", replayed(apply_recovery_point), api_versions=a)  # J-010
    repair_item, resolve = repair_handlers()  # docs/fidelity.md J-009
    routes.add("POST", I + "/repairReplication", replayed(repair_item), api_versions=a)
    routes.add("POST", I + "/resolveHealthErrors", replayed(resolve), api_versions=a)
    # recovery plans
    routes.add("GET", V + "/replicationRecoveryPlans", list_plans, api_versions=a)
    routes.add("GET", RP, get_plan, api_versions=a)
    routes.add("PUT", RP, replayed(create_plan), api_versions=a)
    routes.add("PATCH", RP, replayed(update_plan), api_versions=a)
    routes.add("DELETE", RP, replayed(delete_plan), api_versions=a)
    # the failover family (one table, statemachine.FAILOVER_ACTIONS), on items and on recovery plans
    for seg in sm.FAILOVER_ACTIONS:
        routes.add("POST", I + "/" + seg, replayed(failover_action(seg, "item")), api_versions=a)
        routes.add("POST", RP + "/" + seg, replayed(failover_action(seg, "plan")), api_versions=a)
    # jobs and operations
    routes.add("GET", V + "/replicationJobs", list_jobs, api_versions=a)
    routes.add("GET", V + "/replicationJobs/{jobName}", get_job, api_versions=a)
    for seg in ("resume", "restart", "cancel"):  # job control (docs/fidelity.md J-001..)
        routes.add("POST", V + "/replicationJobs/{jobName}/" + seg, replayed(job_control(seg)), api_versions=a)
    routes.add("GET", V + "/replicationOperationResults/{operationId}", op_results, api_versions=a,
               action="Microsoft.RecoveryServices/vaults/replicationOperationResults/read")
    # Location URLs: {resource}/operationresults/{job} (see `started`)
    for base in (F, P, M, NM, I, RP):
        routes.add("GET", base + "/operationresults/{operationId}", op_results, api_versions=a,
                   action="Microsoft.RecoveryServices/vaults/replicationOperationResults/read")
    routes.add("GET", V + "/replicationOperationStatus/{operationId}", op_status, api_versions=a,
               action="Microsoft.RecoveryServices/vaults/replicationOperationStatus/read")

"""`make_plan(manifest, live, manifest_path) -> Plan`: desired vs live, per address.

Per object: normalize both sides (normalize.py, desired.py), compare with
`comparable()` (case-insensitive ids and names), diff with deepdiff to name the
changed attributes, then pick the action:

- missing in Azure -> create (or manual, for what only on-premises registration
  can bring: a VMM server or Hyper-V host; or blocked, when what it needs is manual)
- differs in updatable fields -> update; in a field that cannot change -> replace
  (`replace_fields`; for a protected VM the note says initial replication restarts)
- a protected VM failed over / in test failover -> noop, reason in_failover
- a protected VM with a job running (enable in progress...) -> await, reason
  operation_in_progress, its request `replication_jobs.get(job_name=...)`: apply
  awaits that job (by the action, never by the reason)
- in Azure but not declared -> unmanaged, or delete where `prune:` opts in
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from deepdiff import DeepDiff

from reconciler.kinds import protected_vm as pvm
from reconciler.kinds import subnet as subnet_kind
from reconciler.live.ids import norm_id, parse_id
from reconciler.live.state import LiveState, friendly_name, props
from reconciler.plan import requests as rq
from reconciler.plan.desired import Desired, desired_objects, mapping_name, network_mapping_name
from reconciler.plan.fingerprint import live_fingerprint, live_fingerprints, manifest_fingerprint
from reconciler.plan.graph import order
from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Unmanaged
from reconciler.plan.normalize import comparable, in_failover, live_rp_actions, normalize_live, scenario_in_progress, vm_status
from reconciler.plan.support import prerequisite_problems

__all__ = ["make_plan", "manifest_fingerprint", "changed_fields"]


def _same_scalar(a: Any, b: Any) -> bool:
    if a == b:
        return True
    if isinstance(a, str) and isinstance(b, str):
        return a.rstrip("/").lower() == b.rstrip("/").lower()
    return False


def changed_fields(before: dict[str, Any], after: dict[str, Any], skip: tuple[str, ...] = ()) -> list[str]:
    """Top-level attributes whose comparable values differ (skip: left to Azure)."""
    # fast path: flat values equal up to case (the common case: nothing drifted)
    if all(k in skip or _same_scalar(v, before.get(k)) for k, v in after.items()) and all(
            k in skip or k in after or v is None for k, v in before.items()):
        return []
    b = {k: v for k, v in before.items() if k not in skip}
    a = {k: v for k, v in after.items() if k not in skip}
    cb, ca = comparable(b), comparable(a)
    if cb == ca:
        return []
    diff = DeepDiff(cb, ca, verbose_level=0)
    return sorted(str(k) for k in diff.affected_root_keys)


def _vm_disk_gb(pitem: dict | None, item: dict | None) -> int:
    mb = 0
    for d in (props(pitem).get("customDetails") or {}).get("diskDetails") or []:
        mb += int(d.get("maxSizeMB") or 0)
    if not mb and item:
        for d in (props(item).get("providerSpecificDetails") or {}).get("azureVmDiskDetails") or []:
            mb += int(d.get("maxSizeMB") or 0)
    return round(mb / 1024)


class _Planner:
    def __init__(self, manifest: Any, live: LiveState, manifest_path: str) -> None:
        self.m = manifest
        self.live = live
        self.path = manifest_path
        self.changes: list[Change] = []
        self.unmanaged: list[Unmanaged] = []
        self.warnings: list[str] = []
        self.norm = normalize_live(live)
        self.norm_lower = {a.lower(): o for a, o in self.norm.items()}
        self.desired = desired_objects(manifest, live)
        self.replaced_containers: dict[str, str] = {}  # norm container id -> association address being replaced

    # --- helpers ---------------------------------------------------------
    def live_obj(self, address: str) -> dict | None:
        return self.norm_lower.get(address.lower())

    def add(self, d: Desired, action: Action, reason: Reason, before: dict | None, after: dict | None, **kw: Any) -> Change:
        c = Change(address=d.address, kind=d.kind, action=action, reason=reason, before=before, after=after,
                   depends_on=list(d.depends_on), arm_id=kw.pop("arm_id", d.arm_id), **kw)
        self.changes.append(c)
        return c

    def registration_note(self, what: str, server: str, extra: str = "") -> str:
        return (f"register {what} {server} with vault {self.m.vault.name}: run `asr vault-credentials {self.path}` "
                f"to get the vault registration key, then on {server} install the Azure Site Recovery Provider "
                f"and register it with that key{extra}; re-run `asr plan` once it shows as connected")

    # --- per kind ----------------------------------------------------------
    def plan_generic(self, d: Desired, create: list, update_fn: Any = None, existing: bool = False) -> Change:
        lo = self.live_obj(d.address)
        if lo is None:
            if existing:
                return self.add(d, Action.MANUAL, Reason.EXISTING_REQUIRED, None, d.attrs,
                                note=f"{d.address} is declared `existing: true` but was not found in "
                                     f"{self.m.target.resource_group}; create it or fix the manifest")
            return self.add(d, Action.CREATE, Reason.MISSING, None, d.attrs, requests=create)
        before = lo["attrs"]
        changed = changed_fields(before, d.attrs, d.skip_compare)
        after = {**before, **{k: v for k, v in d.attrs.items() if k not in d.skip_compare}}
        if not changed or existing:
            if changed and existing:
                self.warnings.append(f"{d.address} is `existing: true` and differs in {', '.join(changed)}; left unchanged")
            return self.add(d, Action.NOOP, Reason.NONE, before, before, arm_id=lo["id"])
        forced = [f for f in changed if f in d.replace_fields]
        if forced:
            return self.add(d, Action.REPLACE, Reason.CANNOT_UPDATE, before, after, arm_id=lo["id"],
                            replace_fields=forced, requests=list(update_fn("replace", changed) if update_fn else []),
                            note=f"{', '.join(forced)} cannot be changed in place")
        return self.add(d, Action.UPDATE, Reason.DRIFTED, before, after, arm_id=lo["id"],
                        requests=list(update_fn("update", changed) if update_fn else []),
                        note=f"changed: {', '.join(changed)}")

    def plan_rg(self, d: Desired) -> None:
        name, loc = d.ctx["name"], d.ctx["location"]
        self.plan_generic(d, [rq.resource_group_create(name, loc)],
                          lambda mode, ch: [rq.resource_group_delete(name), rq.resource_group_create(name, loc)])

    def plan_vault(self, d: Desired) -> None:
        m = self.m

        def upd(mode: str, changed: list[str]) -> list:
            if mode == "replace":
                return [rq.vault_delete(m), rq.vault_create(m, d.ctx["tags"])]
            return security_split(m, self.live, set(changed), d.ctx["tags"])

        lo = self.live_obj(d.address)
        if lo is not None and not m.prune.tags:  # undeclared tags: kept, listed as unmanaged
            declared = {k.lower() for k in m.vault.tags}
            for k in sorted(lo["attrs"].get("tags") or {}, key=str.lower):
                if k.lower() not in declared:
                    self.unmanaged.append(Unmanaged(Kind.VAULT, d.address.split(".", 1)[1], lo["id"], part=f"tags.{k}"))
        if lo is not None and lo["attrs"].get("storageRedundancy") is None:
            d.skip_compare = d.skip_compare + ("storageRedundancy",)  # not reported: nothing to compare
        c = self.plan_generic(d, [rq.vault_create(m)], upd)
        if lo is not None and m.prune.tags and c.action in (Action.UPDATE, Action.REPLACE):
            declared_tags = {k.lower() for k in m.vault.tags}
            c.removes = [f"tags.{k}" for k in sorted(lo["attrs"].get("tags") or {}, key=str.lower)
                         if k.lower() not in declared_tags]
        if c.action == Action.UPDATE and str((c.before or {}).get("publicNetworkAccess")).lower() == "disabled" \
                and str((c.after or {}).get("publicNetworkAccess")).lower() == "enabled":
            c.note = (c.note or "") + "; public network access is turned back on: the vault accepts traffic from public networks again"
        if c.action == Action.UPDATE and str((c.before or {}).get("publicNetworkAccess")).lower() != "disabled" and \
                str((c.after or {}).get("publicNetworkAccess")).lower() == "disabled" and not m.vault.private_endpoints \
                and not self.live.private_endpoints and self.live.providers:
            servers = sorted({friendly_name(p) for p in self.live.providers})
            self.warnings.append(f"{d.address}: public network access is turned off and the vault has no Site Recovery "
                                 f"private endpoint: {', '.join(servers)} can no longer reach it (replication stops)")

    def plan_storage(self, d: Desired) -> None:
        m, name = self.m, d.ctx["name"]
        self.plan_generic(d, [rq.storage_create(m, name, d.attrs)],
                          lambda mode, ch: [rq.storage_delete(m, name), rq.storage_create(m, name, d.attrs)]
                          if mode == "replace" else [rq.storage_update(m, name, d.attrs, ch)],
                          existing=d.ctx["existing"])

    def plan_vnet(self, d: Desired) -> None:
        m = self.m
        net = next(n for n in m.target.networks if n.name == d.ctx["name"])
        c = self.plan_generic(d, [rq.vnet_put(m, net.name, d.attrs)],
                              lambda mode, ch: [rq.vnet_delete(m, net.name), rq.vnet_put(m, net.name, d.attrs)]
                              if mode == "replace" else [rq.vnet_update(m, net.name, d.attrs, d.ctx["live"])],
                              existing=d.ctx["existing"])
        if c.action == Action.UPDATE:
            c.note = (f"{c.note}; the vnet is sent back as read with only declared fields changed: tags, DNS servers, "
                      "subnet settings (NSG, route table, ...) and subnets not in the manifest are kept")
        # subnets in Azure the manifest does not list: unmanaged (the update above keeps them), or,
        # under `prune: {subnets: true}`, a destroy of their own (never an update that drops them)
        live_subnets = {str(sn.get("name") or "").lower(): sn for sn in props(d.ctx["live"]).get("subnets") or []}
        for name in d.ctx["unmanaged_subnets"]:
            sn = live_subnets.get(name.lower()) or {}
            addr = f"{net.name}/{name}"
            if not (m.prune.subnets and not d.ctx["existing"]):
                self.unmanaged.append(Unmanaged(Kind.SUBNET, addr, sn.get("id")))
            elif c.action != Action.REPLACE:  # a replaced vnet loses its subnets anyway (shown as replace)
                self.changes.append(Change(
                    f"subnet.{addr}", Kind.SUBNET, Action.DELETE, Reason.NOT_IN_MANIFEST,
                    before=subnet_kind.live_attrs(sn), arm_id=sn.get("id"),
                    depends_on=[d.address], requests=[rq.subnet_delete(m, net.name, name)],
                    note=f"subnet {name} of {net.name} is not in the manifest and `prune: subnets` is on"))

    def plan_private_endpoint(self, d: Desired) -> None:
        m, name = self.m, d.ctx["name"]
        create = [rq.private_endpoint_put(m, name, d.ctx["subnet_id"], d.ctx["vault_id"])]
        c = self.plan_generic(d, create, lambda mode, ch: [rq.private_endpoint_delete(m, name)] + create)
        if c.action == Action.REPLACE:
            c.note = (f"{', '.join(c.replace_fields)} of a private endpoint cannot change in place: it is deleted and "
                      "created again; " + PE_REMOVAL_NOTE)
        if c.action in (Action.CREATE, Action.REPLACE):
            c.note = ((c.note + "; ") if c.note and c.action == Action.REPLACE else "") + dns_note(m)
            registered = sorted({friendly_name(p) for p in self.live.providers})
            if registered:
                self.warnings.append(registered_before_endpoint(d.address, registered, self.path))

    def plan_alert_settings(self, d: Desired) -> None:
        held = self.live.alert_settings[0] if self.live.alert_settings else None
        lo = self.live_obj(d.address)
        put = [rq.alert_settings_put(self.m, held)]
        if lo is None and self.live.vault is not None:
            # never configured: Azure answers its default setting, which the list may omit
            self.add(d, Action.UPDATE, Reason.DRIFTED, None, d.attrs, requests=put, note="email notifications configured")
            return
        self.plan_generic(d, put, lambda mode, ch: put)

    def plan_vmm(self, d: Desired) -> None:
        lo = self.live_obj(d.address)
        # registered (reconciler/kinds/vmm_server.py): wanted True; asr cannot register, so no update
        if lo is not None and lo["attrs"].get("registered") == d.attrs.get("registered"):
            self.add(d, Action.NOOP, Reason.NONE, lo["attrs"], lo["attrs"], arm_id=lo["id"])
            return
        self.add(d, Action.MANUAL, Reason.NOT_REGISTERED, lo["attrs"] if lo else None, d.attrs,
                 note=self.registration_note("VMM server", d.ctx["name"], f" under the friendly name {d.ctx['name']}"))

    def plan_site(self, d: Desired) -> None:
        self.plan_generic(d, [rq.site_create(self.m, d.ctx["name"])])

    def plan_host(self, d: Desired) -> None:
        lo = self.live_obj(d.address)
        # registered (reconciler/kinds/hyperv_host.py): a provider of the site is a registered host
        if lo is not None and lo["attrs"].get("registered") == d.attrs.get("registered"):
            self.add(d, Action.NOOP, Reason.NONE, lo["attrs"], lo["attrs"], arm_id=lo["id"])
            return
        self.add(d, Action.MANUAL, Reason.NOT_REGISTERED, lo["attrs"] if lo else None, d.attrs,
                 note=self.registration_note("Hyper-V host", d.ctx["host"],
                                             f" into Hyper-V site {d.ctx['site']}"))

    def plan_policy(self, d: Desired) -> None:
        m, p = self.m, d.ctx["policy"]
        if p.encrypt_at_rest is not None:
            self.warnings.append(f"policy.{p.name}: encryptAtRest is deprecated and ignored (W5001): Microsoft retired it "
                                 "in April 2022 and server-side encryption now applies to replicated data automatically")
        self.plan_generic(d, [rq.policy_create(m, p)], lambda mode, ch: [rq.policy_update(m, p)])

    def _policy_id(self, name: str) -> str:
        lp = self.live.policy(name)
        if lp is not None:
            return lp["id"]
        from reconciler.live.ids import vault_id

        return f"{vault_id(self.m.subscription, self.m.vault.resource_group, self.m.vault.name)}/replicationPolicies/{name}"

    def plan_association(self, d: Desired) -> None:
        cont = d.ctx["container"]
        fabric = d.ctx["fabric"]
        lo = self.live_obj(d.address)
        if cont is None:
            registered = fabric is not None and (
                d.ctx.get("site") or self.live.providers_of(d.address.split(".", 1)[1].split("/")[0]))
            if registered and d.ctx.get("cloud"):
                self.add(d, Action.MANUAL, Reason.NOT_DISCOVERED, None, d.attrs,
                         note=f"cloud {d.ctx['cloud']} was not found on VMM server {d.ctx['source'].split('/')[0]}: "
                              "check its name in VMM, or refresh the server in the vault")
            else:
                self.add(d, Action.CREATE, Reason.MISSING, None, d.attrs)  # blocked: container not known yet
            return
        pid = self._policy_id(d.ctx["policy"])
        cfriendly = props(cont).get("friendlyName") or cont.get("name")
        create = [rq.association_create(self.m, cont["id"], mapping_name(d.ctx["policy"], cfriendly), pid)]
        if lo is None:
            self.add(d, Action.CREATE, Reason.MISSING, None, d.attrs, requests=create)
            return
        self.plan_generic(d, create, lambda mode, ch: [rq.association_delete(self.m, lo["id"])] + create)
        c = self.changes[-1]
        if c.action != Action.REPLACE:
            return
        # the mapping cannot be removed while VMs are protected through it: this change disables
        # them first; each declared VM's own change re-enables it afterwards (see plan_vm)
        cid = norm_id(cont["id"])
        items = [it for it in self.live.protected_items if norm_id(it.get("id", "")).startswith(cid + "/")]
        for it in items:
            st = vm_status(it)
            busy = in_failover(st) or (scenario_in_progress(st) and st["currentScenario"])
            if busy:
                name = props(it).get("friendlyName")
                c.action = Action.NOOP
                c.reason = Reason.IN_FAILOVER if in_failover(st) else Reason.OPERATION_IN_PROGRESS
                c.after, c.requests, c.replace_fields = c.before, [], []
                c.note = f"policy change of this container waits: {name} is {busy}"
                return
        names = sorted(friendly_name(it) for it in items)
        declared = {vm.name.lower() for vm in self.m.protected_vms}
        dropped = [n for n in names if n.lower() not in declared]
        c.requests = [rq.vm_disable(self.m, it["id"]) for it in items] + c.requests
        self.replaced_containers[cid] = d.address
        c.note = (f"the policy of a protection container cannot change in place: protection of {len(items)} VM(s)"
                  + (f" ({', '.join(names)})" if names else "") + " is disabled, the association removed and re-created"
                  " with policy " + d.ctx["policy"] + "; the declared VMs are then re-enabled (initial replication restarts)"
                  + (f"; not in the manifest, so left unprotected: {', '.join(dropped)}" if dropped else ""))

    def plan_network_mapping(self, d: Desired) -> None:
        net = d.ctx["network"]
        fabric = d.ctx["fabric"]
        lo = self.live_obj(d.address)
        if lo is not None:
            self.plan_generic(d, [], lambda mode, ch: [rq.network_mapping_update(self.m, lo["id"], d.attrs)])
            return
        if net is None:
            server = d.address.split(".", 1)[1].split("/")[0]
            if fabric is not None and self.live.providers_of(server):
                self.add(d, Action.MANUAL, Reason.NOT_DISCOVERED, None, d.attrs,
                         note=f"VM network {d.ctx['vm_network']} was not found on VMM server {server}")
            else:
                self.add(d, Action.CREATE, Reason.MISSING, None, d.attrs)
            return
        self.add(d, Action.CREATE, Reason.MISSING, None, d.attrs, requests=[rq.network_mapping_create(
            self.m, net["id"], network_mapping_name(d.ctx["vm_network"], d.ctx["target"]), d.attrs)])

    def plan_vm(self, d: Desired) -> None:
        ctx = dict(d.ctx)
        vm = ctx["vm"]
        ctx["attrs"] = d.attrs
        if ctx.get("policy_id"):
            ctx["policy_id"] = self._policy_id(d.attrs["policy"])
        item = self.live.protected_item(vm.name)
        pitem = ctx["protectable"]
        if item is None:
            jobs = self.live.running_jobs_for(object_name=vm.name)
            if jobs:
                job = jobs[0]
                jp = props(job)
                self.add(d, Action.AWAIT, Reason.OPERATION_IN_PROGRESS, None, {**d.attrs, "jobId": job.get("id")},
                         requests=[rq.job_await(self.m, str(job.get("name") or job.get("id")))], note=f"{jp.get('scenarioName') or 'a job'} is already running for {vm.name} "
                              f"(job {job.get('name')}); apply waits for it")
                return
            if pitem is not None:
                if rq.os_disk_id(pitem) is None:
                    n = len((props(pitem).get("customDetails") or {}).get("diskDetails") or [])
                    self.add(d, Action.MANUAL, Reason.NOT_DISCOVERED, None, d.attrs,
                             note=f"Azure marks none of the {n} disks of VM {vm.name} as its OS disk (vhdType "
                                  "OperatingSystem), so asr cannot tell which one to send; check that Site Recovery "
                                  "discovered the VM's operating system (integration services), then plan again")
                    return
                refused = pvm.enable_problems(vm.target, pitem)
                if refused:  # Azure would refuse the enable: shown, not sent
                    self.add(d, Action.MANUAL, Reason.INVALID_TARGET, None, d.attrs,
                             note=f"VM {vm.name}: " + "; ".join(refused) + "; fix protectedVMs[].target, then plan again")
                    return
                problems = prerequisite_problems(pitem, vm.target.vm_name or vm.name)
                if problems:
                    self.warnings.append(f"{d.address}: Azure's enable prerequisites check will fail: "
                                         + "; ".join(problems))
                self.add(d, Action.CREATE, Reason.MISSING, None, d.attrs, requests=rq.vm_enable_steps(self.m, ctx))
                return
            cont = ctx["container"]
            hosts_pending = [h for h in ctx["hosts"] if self.live_obj(h) is None]
            if cont is not None and not hosts_pending:
                where = f"cloud {ctx['cloud']} of VMM server {ctx['fabric_friendly']}" if ctx["cloud"] else \
                    f"Hyper-V site {ctx['fabric_friendly']}"
                self.add(d, Action.MANUAL, Reason.NOT_DISCOVERED, None, d.attrs,
                         note=f"VM {vm.name} was not found in {where}; check the name, or that it runs there")
                return
            c = self.add(d, Action.CREATE, Reason.MISSING, None, d.attrs)  # blocked until registration
            c.depends_on += hosts_pending
            return
        st = vm_status(item)
        lo = self.live_obj(d.address) or {"attrs": {}, "id": item.get("id")}
        before = lo["attrs"]
        fo = in_failover(st)
        if fo:
            self.add(d, Action.NOOP, Reason.IN_FAILOVER, before, before, arm_id=item.get("id"),
                     note=f"{vm.name} is {fo}; left alone (finish with `asr failover commit` / `cleanup` / `reprotect`)")
            return
        if scenario_in_progress(st):
            self.add(d, Action.AWAIT, Reason.OPERATION_IN_PROGRESS, before, {**before, "jobId": st["jobId"]},
                     arm_id=item.get("id"), requests=[rq.job_await(self.m, st["jobId"])],
                     note=f"{st['currentScenario']} in progress for {vm.name} (job {parse_id(st['jobId']).get('replicationjobs', st['jobId'])}); "
                          "apply waits for it instead of repeating it")
            return
        refused = pvm.update_problems(vm.target, props(item).get("providerSpecificDetails") or {})
        if refused:  # the update could never bring it about: shown, not sent
            self.add(d, Action.MANUAL, Reason.INVALID_TARGET, before, d.attrs, arm_id=item.get("id"),
                     note=f"VM {vm.name}: " + "; ".join(refused) + "; fix protectedVMs[].target, then plan again")
            return
        changed = changed_fields(before, d.attrs, d.skip_compare)
        after = {**before, **{k: v for k, v in d.attrs.items() if k not in d.skip_compare}}
        item_cid = norm_id(item["id"]).split("/replicationprotecteditems/")[0]
        assoc = self.replaced_containers.get(item_cid)
        if assoc is None and "policy" in changed and "source" not in changed:
            # a VM's policy is its container's: it changes with the association (replaced, or
            # waiting: then the association's note says why), never VM by VM
            changed = [f for f in changed if f != "policy"]
            after["policy"] = before.get("policy")
        if assoc is not None:
            if pitem is None and ctx["container"] is not None and norm_id(ctx["container"]["id"]) == item_cid:
                pitem = ctx["protectable"] = rq.protectable_from_item(item)
            c = self.add(d, Action.REPLACE, Reason.CANNOT_UPDATE, before, after, arm_id=item.get("id"),
                         replace_fields=[f for f in changed if f in d.replace_fields] or ["policy"],
                         requests=rq.vm_enable_steps(self.m, ctx) if pitem is not None and ctx["container"] is not None else [],
                         note=f"protection is disabled by {assoc} (policy change) and re-enabled here: "
                              f"re-enabling restarts initial replication of {_vm_disk_gb(pitem, item)} GB")
            c.depends_on.append(assoc)
            return
        if not changed:
            self.add(d, Action.NOOP, Reason.NONE, before, before, arm_id=item.get("id"))
            return
        forced = [f for f in changed if f in d.replace_fields]
        if forced:
            reqs = [rq.vm_disable(self.m, item["id"])]
            if pitem is None and ctx["container"] is not None and norm_id(item["id"]).startswith(
                    norm_id(ctx["container"]["id"]) + "/"):
                pitem = ctx["protectable"] = rq.protectable_from_item(item)  # same container: from what was read
            if pitem is not None and ctx["container"] is not None:
                reqs += rq.vm_enable_steps(self.m, ctx)
            gb = _vm_disk_gb(pitem, item)
            self.add(d, Action.REPLACE, Reason.CANNOT_UPDATE, before, after, arm_id=item.get("id"),
                     replace_fields=forced, requests=reqs,
                     note=f"{', '.join(forced)} cannot change in place: protection is disabled and re-enabled; "
                          f"re-enabling restarts initial replication of {gb} GB")
            return
        self.add(d, Action.UPDATE, Reason.DRIFTED, before, after, arm_id=item.get("id"),
                 requests=[rq.vm_update(self.m, item, ctx)], note=f"changed: {', '.join(changed)}")

    def plan_rp(self, d: Desired) -> None:
        names = [n for g in d.ctx["groups"] for n in g]
        ids: dict[str, tuple[str, str]] = {}
        fabric_id: str | None = None
        for n in names:
            item = self.live.protected_item(n)
            vd = self.desired.get(f"protected_vm.{n}")
            iid = item.get("id") if item else (vd.arm_id if vd else None)
            if iid:
                ids[n] = (iid, parse_id(iid).get("replicationprotecteditems", ""))
                if fabric_id is None:
                    fabric_id = iid.split("/replicationProtectionContainers/")[0] if "/replicationProtectionContainers/" in iid \
                        else None
        groups = [[ids[n] for n in g if n in ids] for g in d.ctx["groups"]]
        complete = len(ids) == len(names) and fabric_id is not None
        from reconciler.plan import rpactions

        plan_m = next(p for p in self.m.recovery_plans if p.name == d.ctx["name"])
        declared = rpactions.declared(plan_m)
        create = [rq.rp_create(self.m, d.ctx["name"], fabric_id, groups, declared)] if complete and fabric_id is not None else []
        live_rp = self.live.recovery_plan(d.ctx["name"])
        prune_actions = self.m.prune.recovery_plan_actions
        c = self.plan_generic(d, create, lambda mode, ch: [rq.rp_update(self.m, d.ctx["name"], groups, live_rp,
                                                                        prune_actions, declared)]
                              if complete else [])
        declared_names = rpactions.declared_names(plan_m)
        if live_rp is not None and prune_actions and c.action == Action.UPDATE:  # actions set in Azure: removed
            c.removes = [a["part"] for a in live_rp_actions(live_rp) if a["name"].lower() not in declared_names]
        if live_rp is not None and not prune_actions:  # actions set in Azure: kept, listed as unmanaged
            kept = [a for a in live_rp_actions(live_rp) if a["name"].lower() not in declared_names]
            if kept and c.action == Action.UPDATE:
                c.note = f"{c.note}; keeps the {len(kept)} group action(s) set in Azure (listed as unmanaged)"
            for a in kept:
                self.unmanaged.append(Unmanaged(Kind.RECOVERY_PLAN, d.ctx["name"], live_rp.get("id"),
                                                part=a["part"], note=a["type"] or None))

    # --- undeclared objects ----------------------------------------------
    def plan_undeclared(self) -> None:
        declared = {a.lower() for a in self.desired}
        prune = self.m.prune
        vm_deletes: dict[str, list[str]] = {}  # container id -> addresses
        rp_changes = [c.address for c in self.changes if c.kind == Kind.RECOVERY_PLAN and c.action != Action.NOOP]
        deleted_policies: set[str] = set()
        for addr, o in self.norm.items():
            if addr.lower() in declared:
                continue
            kind = Kind(o["kind"])
            name = addr.split(".", 1)[1]
            if kind in (Kind.RESOURCE_GROUP,):
                continue
            if kind == Kind.PROTECTED_VM and prune.protected_vms:
                fo = in_failover({**o["status"], "protectionState": ""})
                if fo:
                    self.warnings.append(f"{addr} is not in the manifest but is {fo}; not pruned")
                    self.unmanaged.append(Unmanaged(kind, name, o["id"]))
                    continue
                c = Change(addr, kind, Action.DELETE, Reason.NOT_IN_MANIFEST, before=o["attrs"], after=None,
                           arm_id=o["id"], requests=[rq.vm_disable(self.m, o["id"])], depends_on=rp_changes,
                           note="replication is disabled; the VM keeps running on-premises")
                self.changes.append(c)
                vm_deletes.setdefault(norm_id(o["id"]).split("/replicationprotecteditems/")[0], []).append(addr)
            elif kind == Kind.RECOVERY_PLAN and prune.recovery_plans:
                self.changes.append(Change(addr, kind, Action.DELETE, Reason.NOT_IN_MANIFEST, before=o["attrs"],
                                           arm_id=o["id"], requests=[rq.rp_delete(self.m, name)]))
                rp_changes.append(addr)
            elif kind == Kind.NETWORK_MAPPING and prune.network_mappings:
                self.changes.append(Change(addr, kind, Action.DELETE, Reason.NOT_IN_MANIFEST, before=o["attrs"],
                                           arm_id=o["id"], requests=[rq.network_mapping_delete(self.m, o["id"])]))
            elif kind == Kind.POLICY and prune.policies:
                deleted_policies.add(name.lower())
            elif kind == Kind.PRIVATE_ENDPOINT and "private_endpoints" in self.m.vault.model_fields_set:
                self.changes.append(private_endpoint_removal(self.m, addr, o))
            else:
                self.unmanaged.append(Unmanaged(kind, name, o["id"]))
        # policies last: their associations (declared or not) go first
        for addr, o in self.norm.items():
            if Kind(o["kind"]) != Kind.POLICY or addr.split(".", 1)[1].lower() not in deleted_policies:
                continue
            deps = []
            for m in self.live.container_mappings:
                mp = props(m)
                pol = (mp.get("policyFriendlyName") or parse_id(mp.get("policyId")).get("replicationpolicies") or "").lower()
                if pol != addr.split(".", 1)[1].lower():
                    continue
                maddr = next((a for a, x in self.norm.items() if x["id"] == m.get("id")), None)
                if maddr is None:
                    continue
                if maddr.lower() in declared:
                    continue  # declared with another policy: it is replaced, not deleted
                cont_id = norm_id(m["id"]).split("/replicationprotectioncontainermappings/")[0]
                self.unmanaged = [u for u in self.unmanaged if u.arm_id != m.get("id")]
                self.changes.append(Change(maddr, Kind.POLICY_ASSOCIATION, Action.DELETE, Reason.NOT_IN_MANIFEST,
                                           before=self.norm[maddr]["attrs"], arm_id=m.get("id"),
                                           depends_on=list(vm_deletes.get(cont_id, [])),
                                           requests=[rq.association_delete(self.m, m["id"])]))
                deps.append(maddr)
            self.changes.append(Change(addr, Kind.POLICY, Action.DELETE, Reason.NOT_IN_MANIFEST, before=o["attrs"],
                                       arm_id=o["id"], depends_on=deps,
                                       requests=[rq.policy_delete(self.m, addr.split(".", 1)[1])]))

    def run(self) -> Plan:
        handlers = {
            Kind.RESOURCE_GROUP: self.plan_rg, Kind.VAULT: self.plan_vault, Kind.STORAGE_ACCOUNT: self.plan_storage,
            Kind.VIRTUAL_NETWORK: self.plan_vnet, Kind.VMM_SERVER: self.plan_vmm, Kind.HYPERV_SITE: self.plan_site,
            Kind.HYPERV_HOST: self.plan_host, Kind.POLICY: self.plan_policy,
            Kind.POLICY_ASSOCIATION: self.plan_association, Kind.NETWORK_MAPPING: self.plan_network_mapping,
            Kind.PROTECTED_VM: self.plan_vm, Kind.RECOVERY_PLAN: self.plan_rp,
            Kind.PRIVATE_ENDPOINT: self.plan_private_endpoint, Kind.ALERT_SETTINGS: self.plan_alert_settings,
        }
        for d in self.desired.values():
            handlers[d.kind](d)
        self.plan_undeclared()
        changes = order(self.changes)
        for c in changes:
            if c.blocked_by and c.action not in (Action.NOOP, Action.DELETE):
                waits = ", ".join(c.blocked_by)
                c.note = f"blocked: waits for {waits}" + (f"; {c.note}" if c.note else "")
        fps = live_fingerprints(self.live, self.norm)
        return Plan(
            manifest_path=self.path,
            subscription=self.m.subscription,
            vault=self.m.vault.name,
            resource_group=self.m.vault.resource_group,
            changes=changes,
            unmanaged=sorted(self.unmanaged, key=lambda u: (u.kind.value, u.name.lower(), u.part or "")),
            manifest_fingerprint=manifest_fingerprint(self.m),
            live_fingerprint=live_fingerprint(self.live, fps),
            live_fingerprints=fps,
            created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            requests_made=self.live.requests_made,
            warnings=self.warnings,
        )


def make_plan(manifest: Any, live: LiveState, manifest_path: str = "") -> Plan:
    """The ordered actions that bring `live` to what `manifest` declares."""
    return _Planner(manifest, live, manifest_path).run()


# ---------------------------------------------------------------- vault security

LEARN_PE = "https://learn.microsoft.com/azure/site-recovery/hybrid-how-to-enable-replication-private-endpoints"
PE_REMOVAL_NOTE = ("servers registered through it lose their private path to the vault (with public network access "
                   "Disabled they cannot reach it at all) until another endpoint exists")


def security_split(m: Any, live: LiveState, changed: set[str], tags: dict[str, str] | None = None) -> list:
    """A vault update: tags (merged: undeclared ones kept) / redundancy as before, security settings in
    their own read-modify-write PATCH."""
    sec = changed & set(rq.SECURITY_ATTRS)
    rest = changed - sec
    out = [rq.vault_update(m, rest, tags)] if rest else []
    if sec:
        out.append(rq.vault_security_update(m, live.vault, sec))
    return out


def dns_note(m: Any) -> str:
    return ("DNS: the endpoint's Site Recovery names (<id>-asr-pod01-{id1,prot2,rcm1,srs1,tel1}.<geo>."
            "privatelink.siterecovery.windowsazure.com) must resolve to its private IPs on-premises: link the private DNS "
            "zone privatelink.siterecovery.windowsazure.com to the endpoint's network with an A record per name, or "
            "add them to the DNS servers on-premises use (docs/security.md); created before any server registers")


def registered_before_endpoint(address: str, servers: list[str], path: str) -> str:
    return (f"{address}: {', '.join(servers)} registered with the vault before it had a private endpoint. Azure "
            f"creates Site Recovery private endpoints only for vaults with no registered items ({LEARN_PE}), so this "
            "create is expected to be refused. Re-registering through the endpoint takes: disable replication of the "
            "VMs, remove the policy associations, unregister each VMM server / Hyper-V host (or start from a new "
            f"vault), apply again so the endpoint is created, then `asr vault-credentials {path or 'FILE'}` for fresh "
            "credentials and re-run the provider registration on every server; initial replication starts over")


def private_endpoint_removal(m: Any, addr: str, o: dict) -> Change:
    name = addr.split(".", 1)[1]
    public = str(m.vault.public_network_access.value if m.vault.public_network_access else "").lower()
    note = "not in vault.privateEndpoints: deleted; " + PE_REMOVAL_NOTE
    if public == "disabled":
        note += "; public network access stays Disabled"
    return Change(addr, Kind.PRIVATE_ENDPOINT, Action.DELETE, Reason.NOT_IN_MANIFEST, before=o["attrs"], after=None,
                  arm_id=o["id"], requests=[rq.private_endpoint_delete(m, name)], note=note)

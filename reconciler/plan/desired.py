"""Manifest -> desired objects in the normalized shape of `normalize.py`.

Names are resolved to ARM ids with the live state: VMM server friendly name ->
fabric (a GUID-like name), cloud -> protection container, VM name -> protectable
item. What cannot be resolved yet (a server that has not registered, a VM not
discovered) is recorded in `missing` so the planner can show a manual step or a
blocked change instead of failing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reconciler.kinds import alert_settings as alert_kind
from reconciler.kinds import hyperv_host as hyperv_host_kind
from reconciler.kinds import hyperv_site as hyperv_site_kind
from reconciler.kinds import network_mapping as nm_kind
from reconciler.kinds import policy as policy_kind
from reconciler.kinds import policy_association as association_kind
from reconciler.kinds import private_endpoint as pe_kind
from reconciler.kinds import protected_vm as pvm
from reconciler.kinds import recovery_plan as rp_kind
from reconciler.kinds import resource_group as rg_kind
from reconciler.kinds import storage_account as storage_kind
from reconciler.kinds import vault as vault_kind
from reconciler.kinds import virtual_network as vnet_kind
from reconciler.kinds import vmm_server as vmm_server_kind
from reconciler.live.ids import rg_id, storage_id, subnet_id, vault_id, vnet_id
from reconciler.live.state import LiveState, props
from reconciler.plan.model import Kind

__all__ = ["Desired", "desired_objects", "VM_UPDATABLE", "VM_REPLACE_FIELDS", "mapping_name", "network_mapping_name"]

# What a protected VM's update (PATCH) changes in place and what needs disable + re-enable: declared once,
# in the field table of reconciler/kinds/protected_vm.py
VM_UPDATABLE = pvm.UPDATABLE
VM_REPLACE_FIELDS = pvm.REPLACE_FIELDS


@dataclass
class Desired:
    kind: Kind
    address: str
    attrs: dict[str, Any]
    arm_id: str | None = None
    depends_on: list[str] = field(default_factory=list)
    ctx: dict[str, Any] = field(default_factory=dict)  # what request builders need
    replace_fields: tuple[str, ...] = ()  # attrs that cannot change in place
    skip_compare: tuple[str, ...] = ()  # attrs the manifest leaves to Azure (None)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]", "-", name)


def mapping_name(policy: str, container_friendly: str) -> str:
    return _safe(f"{container_friendly}-{policy}")[:80]


def network_mapping_name(vm_network: str, target_network: str) -> str:
    return _safe(f"{vm_network}-{target_network}")[:80]


def desired_objects(manifest: Any, live: LiveState) -> dict[str, Desired]:
    sub = manifest.subscription
    v = manifest.vault
    t = manifest.target
    out: dict[str, Desired] = {}
    vault_addr = f"vault.{v.name}"
    vid = vault_id(sub, v.resource_group, v.name)

    def add(d: Desired) -> None:
        out[d.address] = d

    # resource groups
    add(Desired(Kind.RESOURCE_GROUP, f"resource_group.{v.resource_group}", rg_kind.desired_attrs(v.location),
                rg_id(sub, v.resource_group), ctx={"name": v.resource_group, "location": v.location},
                replace_fields=rg_kind.REPLACE_FIELDS))
    if f"resource_group.{t.resource_group}".lower() not in {a.lower() for a in out}:
        add(Desired(Kind.RESOURCE_GROUP, f"resource_group.{t.resource_group}", rg_kind.desired_attrs(v.location),
                    rg_id(sub, t.resource_group), ctx={"name": t.resource_group, "location": v.location},
                    replace_fields=rg_kind.REPLACE_FIELDS))
    rg_addr = {v.resource_group.lower(): f"resource_group.{v.resource_group}",
               t.resource_group.lower(): next(a for a in out if a.lower() == f"resource_group.{t.resource_group}".lower())}

    # tags asr does not declare are kept (read-modify-write), unless `prune: {tags: true}`; security settings
    # the manifest leaves out are left to Azure (reconciler/kinds/vault.py)
    prune = manifest.prune
    vault_attrs, vault_skip = vault_kind.desired_attrs(manifest, live.vault)
    add(Desired(Kind.VAULT, vault_addr, vault_attrs, vid, depends_on=[rg_addr[v.resource_group.lower()]],
                ctx={"location": v.location, "tags": vault_attrs["tags"], "redundancy": v.storage_redundancy.value},
                replace_fields=vault_kind.REPLACE_FIELDS, skip_compare=vault_skip))

    for sa in t.storage_accounts:
        add(Desired(Kind.STORAGE_ACCOUNT, f"storage_account.{sa.name}", storage_kind.desired_attrs(sa, v.location),
                    storage_id(sub, t.resource_group, sa.name), depends_on=[rg_addr[t.resource_group.lower()]],
                    ctx={"existing": sa.existing, "name": sa.name}, replace_fields=storage_kind.REPLACE_FIELDS))
    for net in t.networks:
        # subnets in Azure the manifest does not list are unmanaged: kept by updates (so they are part
        # of the desired state), deleted only by a destroy of their own under `prune: {subnets: true}`
        live_net = live.virtual_networks.get(net.name.lower())
        net_attrs, unmanaged = vnet_kind.desired_attrs(net, v.location, live_net)
        add(Desired(Kind.VIRTUAL_NETWORK, f"virtual_network.{net.name}", net_attrs,
                    vnet_id(sub, t.resource_group, net.name), depends_on=[rg_addr[t.resource_group.lower()]],
                    ctx={"existing": net.existing, "name": net.name, "live": live_net, "unmanaged_subnets": unmanaged},
                    replace_fields=vnet_kind.REPLACE_FIELDS))

    policy_addr = {p.name: f"policy.{p.name}" for p in manifest.policies}
    for p in manifest.policies:
        add(Desired(Kind.POLICY, f"policy.{p.name}", policy_kind.desired_attrs(p), f"{vid}/replicationPolicies/{p.name}", depends_on=[vault_addr], ctx={"name": p.name, "policy": p}))

    # where each container lives: (fabric friendly, container friendly or None for a site)
    container_policy: dict[str, str] = {}
    for s in manifest.source.vmm_servers:
        fabric = live.fabric(s.name)
        add(Desired(Kind.VMM_SERVER, f"vmm_server.{s.name}", vmm_server_kind.desired_attrs(s),
                    fabric.get("id") if fabric else None, depends_on=[vault_addr], ctx={"name": s.name}))
        for c in s.clouds:
            addr = f"policy_association.{s.name}/{c.name}"
            cont = live.container(s.name, c.name)
            container_policy[f"{s.name}/{c.name}".lower()] = c.policy
            add(Desired(Kind.POLICY_ASSOCIATION, addr, association_kind.desired_attrs(c), None,
                        depends_on=[f"vmm_server.{s.name}", policy_addr.get(c.policy, f"policy.{c.policy}")],
                        ctx={"fabric": fabric, "container": cont, "policy": c.policy, "source": f"{s.name}/{c.name}",
                             "cloud": c.name},
                        replace_fields=association_kind.REPLACE_FIELDS))
        for nm in s.network_mappings:
            net = live.replication_network(s.name, nm.vm_network)
            add(Desired(Kind.NETWORK_MAPPING, f"network_mapping.{s.name}/{nm.vm_network}",
                        nm_kind.desired_attrs(nm, subscription=sub, target_rg=t.resource_group),
                        None, depends_on=[f"vmm_server.{s.name}", f"virtual_network.{nm.target_network}"],
                        ctx={"fabric": fabric, "network": net, "vm_network": nm.vm_network, "target": nm.target_network},
                        replace_fields=nm_kind.REPLACE_FIELDS))
    for site in manifest.source.hyperv_sites:
        fabric = live.fabric(site.name)
        add(Desired(Kind.HYPERV_SITE, f"hyperv_site.{site.name}", hyperv_site_kind.desired_attrs(site),
                    fabric.get("id") if fabric else f"{vid}/replicationFabrics/{site.name}",
                    depends_on=[vault_addr], ctx={"name": site.name}, replace_fields=hyperv_site_kind.REPLACE_FIELDS))
        for h in site.hosts:
            prov = live.provider(site.name, h)
            add(Desired(Kind.HYPERV_HOST, f"hyperv_host.{site.name}/{h}", hyperv_host_kind.desired_attrs(h),
                        prov.get("id") if prov else None, depends_on=[f"hyperv_site.{site.name}"],
                        ctx={"site": site.name, "host": h}))
        cont = live.container(site.name)
        cfriendly = (props(cont).get("friendlyName") if cont else None) or site.name
        container_policy[site.name.lower()] = site.policy
        add(Desired(Kind.POLICY_ASSOCIATION, f"policy_association.{site.name}/{cfriendly}", association_kind.desired_attrs(site),
                    None, depends_on=[f"hyperv_site.{site.name}", policy_addr.get(site.policy, f"policy.{site.policy}")]
                    + [f"hyperv_host.{site.name}/{h}" for h in site.hosts] if cont is None else
                    [f"hyperv_site.{site.name}", policy_addr.get(site.policy, f"policy.{site.policy}")],
                    ctx={"fabric": fabric, "container": cont, "policy": site.policy, "source": site.name,
                         "site": site.name},
                    replace_fields=association_kind.REPLACE_FIELDS))

    # network mappings by (vmm server, target network), for VM ordering
    nm_by_target: dict[tuple[str, str], list[str]] = {}
    for s in manifest.source.vmm_servers:
        for nm in s.network_mappings:
            nm_by_target.setdefault((s.name.lower(), nm.target_network.lower()), []).append(
                f"network_mapping.{s.name}/{nm.vm_network}")

    source_cache: dict[tuple, tuple] = {}
    id_cache: dict[tuple, str] = {}

    id_makers: dict[str, Callable[..., str]] = {"vnet": vnet_id, "storage": storage_id, "subnet": subnet_id}

    def cached_id(kind: str, *parts: str) -> str:
        key = (kind, *parts)
        val = id_cache.get(key)
        if val is None:
            val = id_makers[kind](sub, t.resource_group, *parts)
            id_cache[key] = val
        return val

    sites = {s.name: s for s in manifest.source.hyperv_sites}
    for vm in manifest.protected_vms:
        src = vm.source
        skey = (src.vmm_server, src.cloud) if hasattr(src, "vmm_server") else (src.hyperv_site,)
        cached = source_cache.get(skey)
        if cached is None:
            if len(skey) == 2:
                source = f"{src.vmm_server}/{src.cloud}"
                fabric_friendly, cloud = src.vmm_server, src.cloud
                cont = live.container(src.vmm_server, src.cloud)
                assoc = f"policy_association.{src.vmm_server}/{src.cloud}"
                prereq = [f"vmm_server.{src.vmm_server}"]
                hosts: list[str] = []
            else:
                source = src.hyperv_site
                fabric_friendly, cloud = src.hyperv_site, None
                cont = live.container(src.hyperv_site)
                cfriendly = (props(cont).get("friendlyName") if cont else None) or src.hyperv_site
                assoc = f"policy_association.{src.hyperv_site}/{cfriendly}"
                site = sites.get(src.hyperv_site)
                hosts = [f"hyperv_host.{src.hyperv_site}/{h}" for h in (site.hosts if site else [])]
                prereq = [f"hyperv_site.{src.hyperv_site}"]
            policy = container_policy.get(source.lower())
            cached = (source, fabric_friendly, cloud, cont, assoc, prereq, hosts, policy,
                      f"{vid}/replicationPolicies/{policy}" if policy else None)
            source_cache[skey] = cached
        source, fabric_friendly, cloud, cont, assoc, prereq, hosts, policy, policy_id = cached
        tg = vm.target
        deps = prereq + [assoc, f"virtual_network.{tg.network}"]
        if tg.resource_group and tg.resource_group.lower() != t.resource_group.lower():
            # the failed-over VM's own resource group: created like target.resourceGroup
            vm_rg = rg_addr.get(tg.resource_group.lower())
            if vm_rg is None:
                vm_rg = rg_addr[tg.resource_group.lower()] = f"resource_group.{tg.resource_group}"
                add(Desired(Kind.RESOURCE_GROUP, vm_rg, rg_kind.desired_attrs(v.location),
                            rg_id(sub, tg.resource_group), ctx={"name": tg.resource_group, "location": v.location},
                            replace_fields=rg_kind.REPLACE_FIELDS))
            deps.append(vm_rg)
        if tg.log_storage_account:
            deps.append(f"storage_account.{tg.log_storage_account}")
        if cloud is not None:
            deps += nm_by_target.get((fabric_friendly.lower(), tg.network.lower()), [])
        pitem = live.protectable_item(cont["id"], vm.name) if cont else None
        item = live.protected_item(vm.name)
        held = pvm.live_attrs(props(item).get("providerSpecificDetails") or {}) if item is not None else None
        disk_names = [str(d.get("vhdName")) for d in (props(pitem).get("customDetails") or {}).get("diskDetails") or []
                      if d.get("vhdName")] if pitem is not None and item is None else []
        attrs, skips = pvm.desired_attrs(vm, sub=sub, target_rg=t.resource_group, held=held, disk_names=disk_names,
                                         test_network_id=cached_id("vnet", t.test_network) if t.test_network else None)
        attrs = {"source": source, "policy": policy, **attrs}
        if policy is None:
            skips = ("policy", *skips)
        arm_id = f"{cont['id']}/replicationProtectedItems/{pitem['name']}" if (cont and pitem) else None
        add(Desired(Kind.PROTECTED_VM, f"protected_vm.{vm.name}", attrs, arm_id, depends_on=deps,
                    ctx={"vm": vm, "container": cont, "protectable": pitem, "hosts": hosts,
                         "fabric_friendly": fabric_friendly, "cloud": cloud, "policy_id": policy_id,
                         "subnet_id": cached_id("subnet", tg.network, tg.subnet), "target_rg_id": attrs["targetResourceGroup"]},
                    replace_fields=VM_REPLACE_FIELDS, skip_compare=skips))

    for rp in manifest.recovery_plans:
        # the actions an apply leaves: declared ones, and those set in Azure (kept unless prune)
        rp_attrs = rp_kind.desired_attrs(rp, live.recovery_plan(rp.name), prune.recovery_plan_actions)
        add(Desired(Kind.RECOVERY_PLAN, f"recovery_plan.{rp.name}", rp_attrs,
                    f"{vid}/replicationRecoveryPlans/{rp.name}",
                    depends_on=[f"protected_vm.{n}" for g in rp.groups for n in g.vms],
                    ctx={"name": rp.name, "groups": [list(g.vms) for g in rp.groups]},
                    replace_fields=rp_kind.REPLACE_FIELDS))
    add_security_objects(out, manifest, live)
    return out


# ---------------------------------------------------------------- vault security

pe_subnet_id = pe_kind.subnet_of  # the ARM id of a private endpoint's subnet (reconciler/kinds/private_endpoint.py)


def add_security_objects(out: dict[str, Desired], manifest: Any, live: LiveState) -> None:
    """Private endpoints (before any server registers) and the email alert setting."""
    v = manifest.vault
    sub = manifest.subscription
    vault_addr = f"vault.{v.name}"
    vid = vault_id(sub, v.resource_group, v.name)
    pe_addrs = []
    for pe in v.private_endpoints:
        addr = f"private_endpoint.{pe.name}"
        deps = [vault_addr] + ([] if pe.network.startswith("/") else [f"virtual_network.{pe.network}"])
        pe_attrs = pe_kind.desired_attrs(manifest, pe, vid)
        sid = pe_attrs["subnet"]
        out[addr] = Desired(Kind.PRIVATE_ENDPOINT, addr, pe_attrs,
                            f"/subscriptions/{sub}/resourceGroups/{v.resource_group}/providers/Microsoft.Network/privateEndpoints/{pe.name}",
                            depends_on=deps, ctx={"name": pe.name, "subnet_id": sid, "vault_id": vid},
                            replace_fields=pe_kind.REPLACE_FIELDS)
        pe_addrs.append(addr)
    # Learn ("Replicate on-premises machines by using private endpoints"): private endpoints are created
    # before any VMM server or Hyper-V host registers, so registration (and the Hyper-V sites hosts register
    # into) waits for them
    for d in out.values():
        if d.kind in (Kind.VMM_SERVER, Kind.HYPERV_SITE, Kind.HYPERV_HOST):
            d.depends_on = d.depends_on + pe_addrs
    email = v.alerts.email if v.alerts is not None else None
    if email is not None:
        addr = f"alert_settings.{v.name}"
        out[addr] = Desired(Kind.ALERT_SETTINGS, addr, alert_kind.desired_attrs(email),
                            f"{vid}/replicationAlertSettings/{alert_kind.NAME}", depends_on=[vault_addr],
                            replace_fields=alert_kind.REPLACE_FIELDS)

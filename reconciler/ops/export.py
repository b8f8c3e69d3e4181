"""`asr export`: a manifest for an existing vault, such that `asr plan` of it right away
shows no changes.

The live state is read with the planner's own reader (`reconciler.live.read_live_state`)
and normalized with the planner's own normalizer (`reconciler.plan.normalize.normalize_live`),
so export and plan agree on what every live object means. The target resource group
is learned from the protected items / network mappings, then its storage accounts and
virtual networks are read (two more lists).

Choices (documented in docs/operations.md):
- every storage account and virtual network of the target resource group is declared;
- `target.testNetwork`: the test failover network (vmNics[].tfoVMNetworkId) of the VMs whose
  NICs have test failover settings, the most common one; else the one virtual network of the
  target resource group that no network mapping and no VM uses, if there is exactly one. A VM
  whose test failover network is another one is written without its NIC test settings (they
  stay as Azure holds them: the plan leaves undeclared settings alone);
- `vmName` is written only when it differs from the VM name.

Anything live that the manifest cannot express is left out of the declarations (so it
stays unmanaged: `asr plan` leaves undeclared objects alone) and written as a YAML
comment at the end of the file, with a warning on stderr:
- a Hyper-V site without a replication policy association yet (VMM clouds without one
  are simply not listed: a VMM server often has clouds nobody protects);
- a VM whose target resource group, network or log storage account is in another
  resource group than `target.resourceGroup`, or whose policy is not its cloud's/site's;
- then, as a safety net, whatever `validate_text` (the same checks as `asr validate`)
  still rejects: the offending VM, recovery plan, site, cloud, mapping, network, storage
  account or policy is moved to the comments, and what referred to it follows (a recovery
  plan naming a VM left out is left out whole, never trimmed: trimming would be a change).
Strings holding `${` are written as `$${` (the manifest's literal form).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import yaml

from reconciler.azure.errors import azure_errors, is_not_found
from reconciler.errors import NotFoundError
from reconciler.kinds import alert_settings as alert_kind
from reconciler.kinds import hyperv_host as host_kind
from reconciler.kinds import hyperv_site as site_kind
from reconciler.kinds import network_mapping as nm_kind
from reconciler.kinds import policy as policy_kind
from reconciler.kinds import policy_association as association_kind
from reconciler.kinds import private_endpoint as pe_kind
from reconciler.kinds import protected_vm as pvm
from reconciler.kinds import recovery_plan as rp_kind
from reconciler.kinds import storage_account as storage_kind
from reconciler.kinds import vault as vault_kind
from reconciler.kinds import virtual_network as vnet_kind
from reconciler.kinds import vmm_server as vmm_kind
from reconciler.ops.inventory import as_json


def _last(arm_id: str | None) -> str | None:
    return arm_id.rstrip("/").split("/")[-1] if arm_id else None


def _rg_of(arm_id: str | None) -> str | None:
    if not arm_id:
        return None
    parts = arm_id.split("/")
    low = [p.lower() for p in parts]
    if "resourcegroups" in low:
        return parts[low.index("resourcegroups") + 1]
    return None


def read_export_state(clients: Any, subscription: str, resource_group: str, vault: str) -> Any:
    from reconciler.live import reader as live_reader

    stub = SimpleNamespace(subscription=subscription, vault=SimpleNamespace(name=vault, resource_group=resource_group),
                           target=SimpleNamespace(resource_group=resource_group), protected_vms=[])
    live = live_reader.read_live_state(clients, stub)
    if live.vault is None:
        raise NotFoundError(f"vault {vault} not found in resource group {resource_group} of subscription {subscription}",
                            hint="check --subscription, --resource-group and --vault")
    # target.resourceGroup holds the networks and storage accounts; a VM may fail over into a resource group of
    # its own (protectedVMs[].target.resourceGroup): the networks' group, the most common one, decides
    seen: dict[str, int] = {}
    for it in live.protected_items:
        psd = (it.get("properties") or {}).get("providerSpecificDetails") or {}
        rg = _rg_of(psd.get("selectedRecoveryAzureNetworkId")) or _last(psd.get("recoveryAzureResourceGroupId"))
        if rg:
            seen[rg] = seen.get(rg, 0) + 1
    target_rg = sorted(seen, key=lambda r: (-seen[r], r.lower()))[0] if seen else None
    if not target_rg:
        for m in live.network_mappings:
            target_rg = _rg_of((m.get("properties") or {}).get("recoveryNetworkId"))
            if target_rg:
                break
    live.target_resource_group = target_rg or resource_group
    _read_security(clients, live)
    trg = live.target_resource_group
    if trg.lower() != resource_group.lower():
        with azure_errors(f"list storage accounts and virtual networks in {trg}"):
            try:
                live.storage_accounts = {a["name"].lower(): a for a in
                                         (as_json(x) for x in clients.storage.storage_accounts.list_by_resource_group(trg))}
                live.virtual_networks = {n["name"].lower(): n for n in
                                         (as_json(x) for x in clients.network.virtual_networks.list(trg))}
            except Exception as exc:
                if not is_not_found(exc):
                    raise
    return live


@dataclass
class Omitted:
    """A live object the manifest cannot express: written as a comment, warned about."""
    what: str  # "Hyper-V site 'branch-site'"
    reason: str
    section: str  # where it would go: "source.hypervSites", "protectedVMs", ...
    data: Any = None  # what it would look like, for the comment


@dataclass
class Export:
    text: str
    warnings: list[str] = field(default_factory=list)


_TEST_NIC_KEYS = ("testSubnet", "testStaticIp")


def _tests_nics(entry: dict[str, Any]) -> bool:
    return any(n.get(k) for n in entry["target"].get("nics") or [] for k in _TEST_NIC_KEYS)


def _test_network(vms: list[dict[str, Any]], tfo_nets: dict[str, str | None], networks: list[dict[str, Any]],
                  target_rg: str) -> str | None:
    """target.testNetwork: the test failover network the VMs with NIC test settings have, the most common one (a
    declared network of the target resource group); None when no such VM."""
    names = {n["name"].lower(): n["name"] for n in networks}
    seen: dict[str, int] = {}
    for e in vms:
        net = tfo_nets.get(e["name"])
        if _tests_nics(e) and net and _same_rg(net, target_rg) and (_last(net) or "").lower() in names:
            key = names[(_last(net) or "").lower()]
            seen[key] = seen.get(key, 0) + 1
    return sorted(seen, key=lambda k: (-seen[k], k.lower()))[0] if seen else None


def _keep_test_settings_of(vms: list[dict[str, Any]], tfo_nets: dict[str, str | None], test_net: str | None) -> None:
    """A VM's NIC test settings go with target.testNetwork (its test failover network, compared by the plan): a VM
    whose test failover network is another one keeps them in Azure but not in the manifest (left as found)."""
    for e in vms:
        net = _last(tfo_nets.get(e["name"])) or ""
        if not _tests_nics(e) or (test_net and net.lower() == test_net.lower()):
            continue
        for n in e["target"].get("nics") or []:
            for k in _TEST_NIC_KEYS:
                n.pop(k, None)
        while e["target"]["nics"] and not e["target"]["nics"][-1]:
            e["target"]["nics"].pop()
        if not e["target"]["nics"]:
            del e["target"]["nics"]


def _same_rg(arm_id: str | None, rg: str) -> bool:
    return not arm_id or (_rg_of(arm_id) or rg).lower() == rg.lower()


def build_manifest(live: Any, omitted: list[Omitted] | None = None) -> dict[str, Any]:
    """Manifest (as plain data, camelCase keys, in the documented key order) from live state;
    what it cannot express goes to `omitted`."""
    from reconciler.plan.normalize import normalize_live

    if omitted is None:
        omitted = []

    objs = normalize_live(live)

    def of(kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(addr.split(".", 1)[1], o) for addr, o in objs.items() if o["kind"] == kind]

    v = live.vault
    vattrs = next(o for _, o in of("vault"))["attrs"]
    vault = vault_security(v.get("name"), vattrs, objs, live)


    assoc_attrs = {name: o["attrs"] for name, o in of("policy_association")}
    assoc = {name: a.get("policy") for name, a in assoc_attrs.items()}
    netmaps = {name: o["attrs"] for name, o in of("network_mapping")}
    used_vnets: set[str] = set()
    tfo_nets: dict[str, str | None] = {}  # VM name -> its test failover network (vmNics[].tfoVMNetworkId)

    vmm_servers = []
    for name, server_obj in sorted(of("vmm_server")):
        clouds = [association_kind.export_entry(key.split("/", 1)[1], assoc_attrs[key]) for key, pol in sorted(assoc.items())
                  if key.split("/", 1)[0] == name and pol]
        maps = []
        for key, nm_attrs in sorted(netmaps.items()):
            if key.split("/", 1)[0] == name and nm_attrs.get("targetNetwork"):
                maps.append(nm_kind.export_entry(key.split("/", 1)[1], nm_attrs))
                used_vnets.add(str(maps[-1]["targetNetwork"]).lower())
        vmm_servers.append(vmm_kind.export_entry(name, server_obj["attrs"], clouds, maps))
    sites = []
    for name, site in sorted(of("hyperv_site")):
        hosts = sorted(host_kind.export_entry(addr.split("/", 1)[1], h["attrs"]) for addr, h in of("hyperv_host")
                       if addr.split("/", 1)[0] == name)
        pol = next((p for key, p in assoc.items() if key.split("/", 1)[0] == name and p), None)
        entry = site_kind.export_entry(name, site["attrs"], hosts, pol)
        if not pol:
            omitted.append(Omitted(f"Hyper-V site '{name}'", "it has no replication policy association yet, and a manifest "
                                   "gives every Hyper-V site its policy; add `policy: NAME` (one of `policies`) to declare "
                                   "it, and `asr apply` associates it", "source.hypervSites", entry))
            continue
        sites.append(entry)
    declared_policy = {f"{s['name']}".lower(): s["policy"] for s in sites}
    for srv in vmm_servers:
        for cl in srv["clouds"]:
            declared_policy[f"{srv['name']}/{cl['name']}".lower()] = cl["policy"]

    vms = []
    for name, o in sorted(of("protected_vm"), key=lambda x: x[0].lower()):
        a = o["attrs"]
        src = a.get("source") or ""
        if "/" in src:
            server, cloud = src.split("/", 1)
            vm_source: dict[str, Any] = {"vmmServer": server, "cloud": cloud}
        else:
            vm_source = {"hypervSite": src}
        target = pvm.export_target(name, a, live.target_resource_group)
        net = _last(a.get("targetNetwork"))
        if net:
            used_vnets.add(net.lower())
        entry = {"name": name, "source": vm_source, "target": target}
        trg = live.target_resource_group
        elsewhere = [what for what, arm_id in (("network", a.get("targetNetwork")),
                                               ("log storage account", a.get("logStorageAccount")))
                     if arm_id and not _same_rg(arm_id, trg)]
        pol, want = a.get("policy"), declared_policy.get(src.lower())
        if elsewhere:
            omitted.append(Omitted(f"VM '{name}'", f"its {' and '.join(elsewhere)} "
                                   f"{'is' if len(elsewhere) == 1 else 'are'} outside resource group {trg}, and a "
                                   "manifest has one target.resourceGroup for VMs, networks and storage", "protectedVMs",
                                   entry))
            continue
        if pol and want and pol.lower() != want.lower():
            omitted.append(Omitted(f"VM '{name}'", f"it replicates with policy '{pol}', but its "
                                   f"{'cloud' if '/' in src else 'site'} is associated with '{want}', and a manifest "
                                   "gives a VM the policy of its cloud or site", "protectedVMs", entry))
            continue
        vms.append(entry)
        tfo_nets[name] = a.get("testNetwork")

    storage = [storage_kind.export_entry(name, o["attrs"]) for name, o in sorted(of("storage_account"))]
    networks = [vnet_kind.export_entry(name, o["attrs"]) for name, o in sorted(of("virtual_network"))]
    target_block: dict[str, Any] = {"resourceGroup": live.target_resource_group}
    if storage:
        target_block["storageAccounts"] = storage
    if networks:
        target_block["networks"] = networks
    test_net = _test_network(vms, tfo_nets, networks, live.target_resource_group)
    unused = [n["name"] for n in networks if n["name"].lower() not in used_vnets]
    if test_net is None and len(unused) == 1:
        test_net = unused[0]
    if test_net is not None:
        target_block["testNetwork"] = test_net
    _keep_test_settings_of(vms, tfo_nets, test_net)


    policies = [policy_kind.export_entry(name, o["attrs"]) for name, o in sorted(of("policy"))]
    plans = [rp_kind.export_entry(name, o["attrs"], live.recovery_plan(name) if hasattr(live, "recovery_plan") else None)
             for name, o in sorted(of("recovery_plan"))]

    source: dict[str, Any] = {}
    if vmm_servers:
        source["vmmServers"] = vmm_servers
    if sites:
        source["hypervSites"] = sites
    doc: dict[str, Any] = {"apiVersion": "asr/v1", "kind": "SiteRecovery", "subscription": live.subscription,
                           "vault": vault, "source": source, "target": target_block, "policies": policies,
                           "protectedVMs": vms}
    if plans:
        doc["recoveryPlans"] = [p for p in plans if p["groups"]]
    return doc


def _read_security(clients: Any, live: Any) -> None:
    """The vault's Site Recovery private endpoints and email alert setting (two more lists)."""
    from reconciler.live.reader import site_recovery_endpoints

    rg, name = live.resource_group, live.vault_name
    with azure_errors(f"list private endpoints in {rg}"):
        try:
            live.private_endpoints = site_recovery_endpoints(
                [as_json(x) for x in clients.network.private_endpoints.list(rg)], live)
        except Exception as exc:
            if not is_not_found(exc):
                raise
    with azure_errors("list alert settings"):
        live.alert_settings = [as_json(x) for x in clients.site_recovery().replication_alert_settings.list(rg, name)]


def vault_security(name: str, vattrs: dict[str, Any], objs: dict[str, dict], live: Any) -> dict[str, Any]:
    """The `vault` entry: its rows (reconciler/kinds/vault.py: location, redundancy, tags, identity,
    publicNetworkAccess, alerts), its private endpoints and its email alert setting (kinds/private_endpoint.py,
    kinds/alert_settings.py) as Azure holds them."""

    pes = [pe_kind.export_entry(addr.split(".", 1)[1], o["attrs"], target_resource_group=live.target_resource_group,
                                networks=live.virtual_networks)
           for addr, o in sorted(objs.items()) if o["kind"] == "private_endpoint"]
    setting = next((o["attrs"] for o in objs.values() if o["kind"] == "alert_settings"), None)
    return vault_kind.export_entry(name, live.resource_group, vattrs, private_endpoints=pes,
                                   email=alert_kind.export_entry(setting) if setting else None)


_UNITS = {  # path prefix (as key names; ints are list indices) -> what is left out whole
    ("protectedVMs",): ("VM", "protectedVMs"),
    ("recoveryPlans",): ("recovery plan", "recoveryPlans"),
    ("source", "hypervSites"): ("Hyper-V site", "source.hypervSites"),
    ("target", "networks"): ("virtual network", "target.networks"),
    ("target", "storageAccounts"): ("storage account", "target.storageAccounts"),
    ("policies",): ("policy", "policies"),
}


def _container(doc: dict[str, Any], keys: tuple) -> Any:
    cur: Any = doc
    for k in keys:
        cur = cur.get(k) if isinstance(cur, dict) else None
    return cur


def _unit_of(path: tuple) -> tuple[tuple, int, str, str] | None:
    """(list path, index, kind, section) of the element of the manifest an error lies in."""
    if len(path) >= 5 and path[:2] == ("source", "vmmServers") and isinstance(path[2], int) \
            and path[3] in ("clouds", "networkMappings") and isinstance(path[4], int):
        kind = "VMM cloud" if path[3] == "clouds" else "network mapping"
        return path[:4], path[4], kind, f"source.vmmServers[{path[2]}].{path[3]}"
    for prefix, (kind, section) in _UNITS.items():
        n = len(prefix)
        if path[:n] == prefix and len(path) > n and isinstance(path[n], int):
            return prefix, path[n], kind, section
    return None


def _escape_env(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, list):
        return [_escape_env(v) for v in value]
    if isinstance(value, dict):
        return {k: _escape_env(v) for k, v in value.items()}
    return value


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)


def make_valid(doc: dict[str, Any], omitted: list[Omitted], *, rounds: int = 10) -> dict[str, Any]:
    """Move whatever `asr validate` rejects out of `doc` (into `omitted`), until it validates."""
    from reconciler.manifest import validate_text

    doc = copy.deepcopy(doc)
    for _ in range(rounds):
        _, diags = validate_text(_dump(doc), "export")
        errors = [d for d in diags if d.is_error]
        if not errors:
            return doc
        drop: dict[tuple, dict[int, list[str]]] = {}
        for d in errors:
            unit = _unit_of(tuple(d.path))
            if unit is None:
                continue
            lpath, idx, _kind, _section = unit
            drop.setdefault(lpath, {}).setdefault(idx, []).append(d.message)
        if not drop:
            break
        for lpath, by_index in drop.items():
            items = _container(doc, lpath)
            if not isinstance(items, list):
                continue
            kind, section = _unit_of(lpath + (0,))[2:]  # type: ignore[index]
            for idx in sorted(by_index, reverse=True):
                item = items.pop(idx)
                label = item.get("name") or item.get("vmNetwork") if isinstance(item, dict) else item
                omitted.append(Omitted(f"{kind} '{label}'", "; ".join(dict.fromkeys(by_index[idx])), section, item))
    _, diags = validate_text(_dump(doc), "export")
    left = [d for d in diags if d.is_error]
    if left:  # nothing asr knows how to leave out: say so rather than write an invalid file silently
        from reconciler.errors import OperationFailedError

        raise OperationFailedError("asr export could not produce a valid manifest: "
                                   + "; ".join(f"{'.'.join(map(str, d.path))}: {d.message}" for d in left[:5]),
                                   hint="please report this with the vault's shape (no names needed)")
    return doc


def _comment(omitted: list[Omitted]) -> str:
    if not omitted:
        return ""
    lines = ["", "# Not declared: `asr export` cannot express these in a manifest. They stay as they are in",
             "# Azure (asr leaves undeclared objects alone); declare them by hand to manage them."]
    for o in omitted:
        lines.append("#")
        lines.append(f"# {o.section}: {o.what}: {o.reason}")
        if o.data is not None:
            snippet = _dump([o.data]).rstrip("\n").splitlines()
            lines += [f"#   {ln}" for ln in snippet]
    return "\n".join(lines) + "\n"


def export(clients: Any, subscription: str, resource_group: str, vault: str) -> Export:
    """The manifest YAML for an existing vault, and a warning for everything it leaves out."""
    live = read_export_state(clients, subscription, resource_group, vault)
    omitted: list[Omitted] = []
    doc = build_manifest(live, omitted)
    for o in omitted:  # commented entries are written as they would be declared
        o.data = _escape_env(o.data)
    doc = make_valid(_escape_env(doc), omitted)
    head = (f"# Exported by `asr export` from vault {vault} (resource group {resource_group}).\n"
            "# Check it with `asr validate`, then `asr plan` should show no changes.\n")
    if omitted:
        head += f"# {len(omitted)} object(s) could not be declared: see the comments at the end.\n"
    text = head + _dump(doc) + _comment(omitted)
    warnings = [f"not exported: {o.what}: {o.reason}" for o in omitted]
    return Export(text=text, warnings=warnings)


def export_manifest(clients: Any, subscription: str, resource_group: str, vault: str) -> str:
    """The manifest YAML for an existing vault (see `export` for the warnings)."""
    return export(clients, subscription, resource_group, vault).text

"""`asr export`: a manifest for an existing vault, such that `asr plan` of it right away
shows no changes.

The live state is read with the planner's own reader (`reconciler.live.read_live_state`)
and normalized with the planner's own normalizer (`reconciler.plan.normalize.normalize_live`),
so export and plan agree on what every live object means. The target resource group
is learned from the protected items / network mappings, then its storage accounts and
virtual networks are read (two more lists).

Choices (documented in docs/operations.md):
- every storage account and virtual network of the target resource group is declared;
- `target.testNetwork`: the one virtual network of the target resource group that no
  network mapping and no VM uses, if there is exactly one;
- `vmName` is written only when it differs from the VM name.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import yaml

from reconciler.azure.errors import azure_errors, is_not_found
from reconciler.errors import NotFoundError
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
    target_rg = None
    for it in live.protected_items:
        psd = (it.get("properties") or {}).get("providerSpecificDetails") or {}
        target_rg = _last(psd.get("recoveryAzureResourceGroupId")) or _rg_of(psd.get("selectedRecoveryAzureNetworkId"))
        if target_rg:
            break
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


def build_manifest(live: Any) -> dict[str, Any]:
    """Manifest (as plain data, camelCase keys, in the documented key order) from live state."""
    from reconciler.plan.normalize import normalize_live

    objs = normalize_live(live)

    def of(kind: str) -> list[tuple[str, dict[str, Any]]]:
        return [(addr.split(".", 1)[1], o) for addr, o in objs.items() if o["kind"] == kind]

    v = live.vault
    vattrs = next(o for _, o in of("vault"))["attrs"]
    vault: dict[str, Any] = {"name": v.get("name"), "resourceGroup": live.resource_group,
                             "location": vattrs.get("location") or v.get("location")}
    if vattrs.get("storageRedundancy"):
        vault["storageRedundancy"] = vattrs["storageRedundancy"]
    if vattrs.get("tags"):
        vault["tags"] = vattrs["tags"]
    vault.update(vault_security(vattrs, objs, live))

    assoc = {name: o["attrs"].get("policy") for name, o in of("policy_association")}
    netmaps = {name: o["attrs"].get("targetNetwork") for name, o in of("network_mapping")}
    used_vnets: set[str] = set()

    vmm_servers = []
    for name, _ in sorted(of("vmm_server")):
        clouds = [{"name": key.split("/", 1)[1], "policy": pol} for key, pol in sorted(assoc.items())
                  if key.split("/", 1)[0] == name and pol]
        maps = []
        for key, vnet in sorted(netmaps.items()):
            if key.split("/", 1)[0] == name and vnet:
                maps.append({"vmNetwork": key.split("/", 1)[1], "targetNetwork": _last(vnet)})
                used_vnets.add(_last(vnet).lower())
        entry: dict[str, Any] = {"name": name, "clouds": clouds}
        if maps:
            entry["networkMappings"] = maps
        vmm_servers.append(entry)
    sites = []
    for name, _ in sorted(of("hyperv_site")):
        hosts = sorted(addr.split("/", 1)[1] for addr, _ in of("hyperv_host") if addr.split("/", 1)[0] == name)
        pol = next((p for key, p in assoc.items() if key.split("/", 1)[0] == name and p), None)
        entry = {"name": name, "hosts": hosts}
        if pol:
            entry["policy"] = pol
        sites.append(entry)

    vms = []
    for name, o in sorted(of("protected_vm"), key=lambda x: x[0].lower()):
        a = o["attrs"]
        src = a.get("source") or ""
        if "/" in src:
            server, cloud = src.split("/", 1)
            source: dict[str, Any] = {"vmmServer": server, "cloud": cloud}
        else:
            source = {"hypervSite": src}
        target: dict[str, Any] = {}
        if a.get("targetVmName") and a["targetVmName"] != name:
            target["vmName"] = a["targetVmName"]
        if a.get("size"):
            target["size"] = a["size"]
        net = _last(a.get("targetNetwork"))
        if net:
            target["network"] = net
            used_vnets.add(net.lower())
        if a.get("subnet"):
            target["subnet"] = a["subnet"]
        if isinstance(a.get("diskType"), str):
            target["diskType"] = a["diskType"]
        if a.get("logStorageAccount"):
            target["logStorageAccount"] = _last(a["logStorageAccount"])
        vms.append({"name": name, "source": source, "target": target})

    storage = [{"name": name, "sku": o["attrs"].get("sku") or "Standard_LRS"} for name, o in sorted(of("storage_account"))]
    networks = []
    for name, o in sorted(of("virtual_network")):
        a = o["attrs"]
        networks.append({"name": name, "addressSpace": list(a.get("addressSpace") or []),
                         "subnets": [{"name": s, "addressPrefix": p} for s, p in (a.get("subnets") or {}).items()]})
    target_block: dict[str, Any] = {"resourceGroup": live.target_resource_group}
    if storage:
        target_block["storageAccounts"] = storage
    if networks:
        target_block["networks"] = networks
    unused = [n["name"] for n in networks if n["name"].lower() not in used_vnets]
    if len(unused) == 1:
        target_block["testNetwork"] = unused[0]

    policies = []
    for name, o in sorted(of("policy")):
        a = o["attrs"]
        policies.append({"name": name,
                          "replicationFrequencySeconds": a.get("replicationFrequencySeconds"),
                          "recoveryPointRetentionHours": a.get("recoveryPointRetentionHours"),
                          "appConsistentSnapshotFrequencyHours": a.get("appConsistentSnapshotFrequencyHours"),
                          "initialReplicationStart": a.get("initialReplicationStart") or "immediately"})
    plans = [{"name": name, "groups": [{"vms": list(g)} for g in o["attrs"].get("groups") or []]}
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


def vault_security(vattrs: dict[str, Any], objs: dict[str, dict], live: Any) -> dict[str, Any]:
    """identity, publicNetworkAccess, privateEndpoints and alerts as the vault holds them."""
    out: dict[str, Any] = {}
    if vattrs.get("identity") == "SystemAssigned":
        out["identity"] = "SystemAssigned"
    if vattrs.get("publicNetworkAccess"):
        out["publicNetworkAccess"] = vattrs["publicNetworkAccess"]
    pes = []
    for addr, o in sorted(objs.items()):
        if o["kind"] != "private_endpoint":
            continue
        sid = o["attrs"].get("subnet") or ""
        vnet_id, _, subnet = sid.partition("/subnets/")
        declared = _rg_of(vnet_id) and _rg_of(vnet_id).lower() == live.target_resource_group.lower() \
            and (_last(vnet_id) or "").lower() in live.virtual_networks
        pes.append({"name": addr.split(".", 1)[1], "network": _last(vnet_id) if declared else vnet_id, "subnet": subnet})
    if pes:
        out["privateEndpoints"] = pes
    alerts: dict[str, Any] = {}
    mon = {k: vattrs[a] for k, a in (("replicationIssues", "replicationIssueAlerts"), ("failoverIssues", "failoverIssueAlerts"))
           if vattrs.get(a) is not None}
    if mon:
        alerts["azureMonitor"] = mon
    setting = next((o["attrs"] for o in objs.values() if o["kind"] == "alert_settings"), None)
    if setting and (setting.get("sendToOwners") or setting.get("recipients")):
        alerts["email"] = {"sendToOwners": bool(setting.get("sendToOwners")), "recipients": list(setting.get("recipients") or [])}
    if alerts:
        out["alerts"] = alerts
    return out


def export_manifest(clients: Any, subscription: str, resource_group: str, vault: str) -> str:
    """The manifest YAML for an existing vault."""
    live = read_export_state(clients, subscription, resource_group, vault)
    doc = build_manifest(live)
    head = (f"# Exported by `asr export` from vault {vault} (resource group {resource_group}).\n"
            "# Check it with `asr validate`, then `asr plan` should show no changes.\n")
    return head + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=120)

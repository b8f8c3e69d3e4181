"""The estate's `seed:` block: the emulator put into the state a manifest's apply would
have left.

It sends the same ARM writes asr would, through the emulator's own route table and
handlers, in process (`InProcess`, no second code path), backdated by SEED_BACKDATE
simulated seconds, and lets every job and initial replication finish before the clock
reaches the present. The app calls `apply_seed` from `install_estate`.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator.estate import Estate, EstateError
from reconciler.emulator.framework import ArmError, Ctx, Reply, RouteTable
from reconciler.emulator.siterecovery.ids import AZURE_FABRIC
from reconciler.emulator.state import EmulatorState, SimClock

SEED_BACKDATE = 14 * 24 * 3600.0


class InProcess:
    """Sends ARM requests through a route table's handlers, in process (no HTTP, no
    authentication: the caller is the emulator itself). An ArmError becomes an
    EstateError naming `what` (the estate path that asked for the write)."""

    def __init__(self, state: EmulatorState, routes: RouteTable) -> None:
        self.state = state
        self.routes = routes

    def call(self, method: str, path: str, body: Any = None, what: str = "") -> Any:
        route, params = self.routes.match(method, path)
        api = route.api_versions[0] if route.api_versions else ""
        ctx = Ctx(state=self.state, method=method, path=path, params=params, query={"api-version": api},
                  headers={}, body=body, raw_body=b"", principal=None, base_url="https://seed.invalid", route=route)
        try:
            with self.state.lock:
                self.state.run_due()
                result = route.handler(ctx)
        except ArmError as exc:
            raise EstateError([f"<estate>: error: {what}: {exc.code}: {exc.message}"]) from None
        body = result.body if isinstance(result, Reply) else result
        if isinstance(body, (bytes, str)):
            return json.loads(body)
        return body


def apply_seed(sr: Any, seed: dict[str, Any], routes: RouteTable) -> None:
    """Bring the emulator into the state a manifest's apply would have left (see
    docs/emulator.md for the block's keys), sending the writes through `routes`."""
    state = sr.state
    present = state.now()
    state.clock = SimClock(state.clock.scale, start=present - SEED_BACKDATE)
    jobfail = state.config.faults.jobfail
    state.config.faults.jobfail = 0.0  # what the seed describes did succeed; faults apply from now on
    try:
        _apply_seed(sr, seed, present, routes)
    finally:
        state.config.faults.jobfail = jobfail


def _apply_seed(sr: Any, seed: dict[str, Any], present: float, routes: RouteTable) -> None:
    state = sr.state
    est: Estate = sr.estate
    sub = est.subscription
    arm = InProcess(state, routes)
    rp = "providers/Microsoft.RecoveryServices/vaults"
    vaults: dict[str, tuple[str, str]] = {}  # name -> (rg, location)

    def vault_of(entry: dict[str, Any], path: str) -> tuple[str, str]:
        name = entry.get("vault")
        if name is None:
            if len(vaults) != 1:
                raise EstateError([f"<estate>: error: {path}.vault: is required when the seed has several vaults"])
            name = next(iter(vaults))
        if name not in vaults:
            raise EstateError([f"<estate>: error: {path}.vault: {name!r} is not a vault of seed.vaults"])
        return name, vaults[name][0]

    for i, g in enumerate(seed.get("resourceGroups") or []):
        arm.call("PUT", f"/subscriptions/{sub}/resourcegroups/{g['name']}", {"location": g.get("location", "westeurope")},
                 f"seed.resourceGroups[{i}]")
    for i, v in enumerate(seed.get("vaults") or []):
        vaults[v["name"]] = (v["resourceGroup"], v.get("location", "westeurope"))
        body = {"location": v.get("location", "westeurope"), "sku": {"name": "Standard"}, "properties": {
            "redundancySettings": {"standardTierStorageRedundancy": v.get("storageRedundancy", "GeoRedundant")}}}
        arm.call("PUT", f"/subscriptions/{sub}/resourceGroups/{v['resourceGroup']}/{rp}/{v['name']}", body, f"seed.vaults[{i}]")
    for i, a in enumerate(seed.get("storageAccounts") or []):
        arm.call("PUT", f"/subscriptions/{sub}/resourceGroups/{a['resourceGroup']}/providers/Microsoft.Storage/storageAccounts/{a['name']}",
                 {"location": a.get("location", "westeurope"), "sku": {"name": a.get("sku", "Standard_LRS")}, "kind": "StorageV2"},
                 f"seed.storageAccounts[{i}]")
    for i, n in enumerate(seed.get("virtualNetworks") or []):
        arm.call("PUT", f"/subscriptions/{sub}/resourceGroups/{n['resourceGroup']}/providers/Microsoft.Network/virtualNetworks/{n['name']}",
                 {"location": n.get("location", "westeurope"), "properties": {
                     "addressSpace": {"addressPrefixes": list(n.get("addressSpace") or [])},
                     "subnets": [{"name": s["name"], "properties": {"addressPrefix": s["addressPrefix"]}} for s in n.get("subnets") or []]}},
                 f"seed.virtualNetworks[{i}]")
    _settle(sr)

    def vpath(name: str) -> str:
        return f"/subscriptions/{sub}/resourceGroups/{vaults[name][0]}/{rp}/{name}"

    def vobj(name: str) -> Any:
        return sr.vault(sub, vaults[name][0], name)

    for i, s in enumerate(seed.get("sites") or []):
        vname, _ = vault_of(s, f"seed.sites[{i}]")
        arm.call("PUT", f"{vpath(vname)}/replicationFabrics/{s['name']}",
                 {"properties": {"customDetails": {"instanceType": "FabricSpecificCreationInput"}}}, f"seed.sites[{i}]")
    for i, p in enumerate(seed.get("policies") or []):
        vname, _ = vault_of(p, f"seed.policies[{i}]")
        start = p.get("initialReplicationStart", "immediately")
        arm.call("PUT", f"{vpath(vname)}/replicationPolicies/{p['name']}", {"properties": {"providerSpecificInput": {
            "instanceType": "HyperVReplicaAzure",
            "recoveryPointHistoryDuration": p.get("recoveryPointRetentionHours", 24),
            "applicationConsistentSnapshotFrequencyInHours": p.get("appConsistentSnapshotFrequencyHours", 4),
            "replicationInterval": p.get("replicationFrequencySeconds", 300),
            "onlineReplicationStartTime": None if start == "immediately" else start,
        }}}, f"seed.policies[{i}]")
    _settle(sr)

    def container_of(vname: str, entry: dict[str, Any], path: str) -> tuple[str, str]:
        v = vobj(vname)
        if entry.get("vmmServer"):
            for f in v.fabrics.values():
                if f.kind == "VMM" and f.friendly.lower() == entry["vmmServer"].lower():
                    for c in f.containers.values():
                        if c.friendly.lower() == str(entry.get("cloud", "")).lower():
                            return f.name, c.name
            raise EstateError([f"<estate>: error: {path}: no registered VMM server {entry['vmmServer']!r} with cloud {entry.get('cloud')!r}"])
        if entry.get("hypervSite"):
            for f in v.fabrics.values():
                if f.kind == "HyperVSite" and f.friendly.lower() == entry["hypervSite"].lower():
                    return f.name, next(iter(f.containers.values())).name
            raise EstateError([f"<estate>: error: {path}: no Hyper-V site {entry['hypervSite']!r} in the vault"])
        raise EstateError([f"<estate>: error: {path}: give vmmServer + cloud or hypervSite"])

    for i, a in enumerate(seed.get("associations") or []):
        path = f"seed.associations[{i}]"
        vname, _ = vault_of(a, path)
        fab, cont = container_of(vname, a, path)
        mname = a.get("name") or f"{a['policy']}-{(a.get('cloud') or a.get('hypervSite'))}".lower()
        arm.call("PUT", f"{vpath(vname)}/replicationFabrics/{fab}/replicationProtectionContainers/{cont}"
                        f"/replicationProtectionContainerMappings/{mname}",
                 {"properties": {"targetProtectionContainerId": AZURE_FABRIC, "policyId": f"{vobj(vname).id}/replicationPolicies/{a['policy']}",
                                 "providerSpecificInput": {"instanceType": "ReplicationProviderSpecificContainerMappingInput"}}}, path)
    for i, m in enumerate(seed.get("networkMappings") or []):
        path = f"seed.networkMappings[{i}]"
        vname, _ = vault_of(m, path)
        v = vobj(vname)
        net: str | None = None
        for f in v.fabrics.values():
            if f.kind == "VMM" and f.friendly.lower() == str(m.get("vmmServer", "")).lower():
                for n in f.networks.values():
                    if n.friendly.lower() == str(m.get("vmNetwork", "")).lower():
                        fab, net = f.name, n.name
        if net is None:
            raise EstateError([f"<estate>: error: {path}: no VM network {m.get('vmNetwork')!r} on a registered VMM server {m.get('vmmServer')!r}"])
        rg = m.get("resourceGroup") or vaults[vname][0]
        arm.call("PUT", f"{vpath(vname)}/replicationFabrics/{fab}/replicationNetworks/{net}/replicationNetworkMappings/"
                        f"{m.get('name') or (m['vmNetwork'] + '-' + m['network']).lower()}",
                 {"properties": {"recoveryFabricName": AZURE_FABRIC,
                                 "recoveryNetworkId": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{m['network']}",
                                 "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}, path)
    _settle(sr)
    plans = seed.get("recoveryPlans") or []
    items_by_vm: dict[tuple[str, str], str] = {}
    vm_index: dict[int, dict[str, Any]] = {}
    nic_updates: list[tuple[str, dict[str, Any], str]] = []
    for i, pv in enumerate(seed.get("protectedVMs") or []):
        path = f"seed.protectedVMs[{i}]"
        vname, _ = vault_of(pv, path)
        v = vobj(vname)
        fab, cont = container_of(vname, pv, path)
        container = v.fabrics[fab.lower()].containers[cont.lower()]
        index = vm_index.get(id(container))
        if index is None:
            index = vm_index[id(container)] = {x.friendly.lower(): x for x in container.vms.values()}
        vm = index.get(str(pv["name"]).lower())
        if vm is None:
            raise EstateError([f"<estate>: error: {path}.name: no VM {pv['name']!r} in {container.friendly!r}"])
        t = pv.get("target") or {}
        trg = t.get("resourceGroup") or pv.get("targetResourceGroup")
        nrg = t.get("networkResourceGroup") or trg
        psd: dict[str, Any] = {
            "instanceType": "HyperVReplicaAzure",
            "hvHostVmId": vm.name,
            "vmName": vm.friendly,
            "osType": vm.os_type,
            "vhdId": vm.disk_ids[vm.os_disk],
            "targetAzureVmName": t.get("vmName") or vm.friendly,
            "targetAzureV2ResourceGroupId": f"/subscriptions/{sub}/resourceGroups/{trg}",
            "useManagedDisks": "true",
            "diskType": t.get("diskType", "Standard_LRS"),
            "disksToInclude": list(vm.disk_ids),
        }
        if t.get("size"):
            psd["targetVmSize"] = t["size"]
        if t.get("network"):
            psd["targetAzureNetworkId"] = f"/subscriptions/{sub}/resourceGroups/{nrg}/providers/Microsoft.Network/virtualNetworks/{t['network']}"
            if t.get("subnet"):
                psd["targetAzureSubnetId"] = psd["targetAzureNetworkId"] + f"/subnets/{t['subnet']}"
        if t.get("logStorageAccount"):
            srg = t.get("storageResourceGroup") or trg
            psd["logStorageAccountId"] = f"/subscriptions/{sub}/resourceGroups/{srg}/providers/Microsoft.Storage/storageAccounts/{t['logStorageAccount']}"
        psd.update(_seed_vm_settings(t, sub, trg, vm))
        arm.call("PUT", f"{vpath(vname)}/replicationFabrics/{fab}/replicationProtectionContainers/{cont}/replicationProtectedItems/{vm.name}",
                 {"properties": {"policyId": f"{v.id}/replicationPolicies/{pv['policy']}", "protectableItemId": vm.id,
                                 "providerSpecificDetails": psd}}, path)
        items_by_vm[(vname, str(pv["name"]).lower())] = f"{container.id}/replicationProtectedItems/{vm.name}"
        if t.get("nics"):
            nic_updates.append((f"{vpath(vname)}/replicationFabrics/{fab}/replicationProtectionContainers/{cont}/"
                                f"replicationProtectedItems/{vm.name}", _seed_nics(t, sub, trg, vm), path))
    _settle(sr)
    for item_path, body, npath in nic_updates:  # NIC settings are not in the enable input: an update, as asr does
        arm.call("PATCH", item_path, body, npath)
    _settle(sr)
    for i, rpn in enumerate(plans):
        path = f"seed.recoveryPlans[{i}]"
        vname, _ = vault_of(rpn, path)
        v = vobj(vname)
        groups = []
        fabric_id = None
        for gi, grp in enumerate(rpn.get("groups") or []):
            members = []
            for n in (grp.get("vms") if isinstance(grp, dict) else grp) or []:
                iid = items_by_vm.get((vname, str(n).lower()))
                if iid is None:
                    raise EstateError([f"<estate>: error: {path}.groups[{gi}]: {n!r} is not a seeded protected VM"])
                members.append({"id": iid, "virtualMachineId": iid.rsplit("/", 1)[-1]})
                fabric_id = fabric_id or iid.split("/replicationProtectionContainers/")[0]
            groups.append({"groupType": "Boot", "replicationProtectedItems": members, "startGroupActions": [], "endGroupActions": []})
        arm.call("PUT", f"{vpath(vname)}/replicationRecoveryPlans/{rpn['name']}", {"properties": {
            "primaryFabricId": fabric_id, "recoveryFabricId": AZURE_FABRIC, "failoverDeploymentModel": "ResourceManager",
            "groups": groups}}, path)
    _settle(sr)
    # every job and initial replication is done; bring the clock back to the present
    nxt = state.next_due()
    while nxt is not None and nxt <= present:
        _settle(sr, until=present)
        nxt = state.next_due()
    _move_to(state, present)


def _move_to(state: Any, t: float) -> None:
    delta = t - state.now()
    if delta > 0:
        state.clock.advance(delta)


def _settle(sr: Any, until: float | None = None) -> None:
    """Run every scheduled event (jobs, replication, registration) in time order."""
    state = sr.state
    limit = until if until is not None else float("inf")
    while True:
        nxt = state.next_due()
        if nxt is None or nxt > limit:
            return
        _move_to(state, nxt)
        state.run_due()
        sr.sync()


def _seed_ref(value: str, sub: str, rg: str, provider: str) -> str:
    return value if value.startswith("/") else f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{value}"


def _seed_vm_settings(t: dict[str, Any], sub: str, rg: str, vm: Any) -> dict[str, Any]:
    """A seeded VM's target settings in the manifest's keys, as the enable input carries them
    (docs/fidelity.md T-001, T-005)."""
    out: dict[str, Any] = {}
    for key, dst in (("availabilityZone", "targetAvailabilityZone"), ("licenseType", "licenseType"),
                     ("sqlServerLicenseType", "sqlServerLicenseType"), ("tags", "targetVmTags"),
                     ("diskTags", "targetManagedDiskTags"), ("nicTags", "targetNicTags")):
        if t.get(key) is not None:
            out[dst] = t[key]
    for key, dst, provider in (("availabilitySet", "targetAvailabilitySetId", "Microsoft.Compute/availabilitySets"),
                               ("proximityPlacementGroup", "targetProximityPlacementGroupId",
                                "Microsoft.Compute/proximityPlacementGroups"),
                               ("diskEncryptionSet", "diskEncryptionSetId", "Microsoft.Compute/diskEncryptionSets")):
        if t.get(key):
            out[dst] = _seed_ref(str(t[key]), sub, rg, provider)
    if t.get("disks"):
        declared = {str(d.get("name")).lower(): d for d in t["disks"]}
        per_disk = []
        for i, disk_id in enumerate(vm.disk_ids):
            d = declared.get(vm.disk_name(i).lower()) or {}
            if d.get("exclude"):
                continue
            per_disk.append({"diskId": disk_id, "diskType": d.get("type") or t.get("diskType", "Standard_LRS")})
        out["disksToIncludeForManagedDisks"] = per_disk
        out["disksToInclude"] = None
    return out


def _seed_nics(t: dict[str, Any], sub: str, rg: str, vm: Any) -> dict[str, Any]:
    """The update that sets a seeded VM's NIC settings (manifest keys), docs/fidelity.md T-002, T-003."""
    nics = []
    for i, n in enumerate(t.get("nics") or []):
        if i >= len(vm.nics):
            break
        cfg: dict[str, Any] = {"ipConfigName": "ipconfig1", "isPrimary": True,
                               "recoverySubnetName": n.get("subnet") or t.get("subnet")}
        for key, dst in (("staticIp", "recoveryStaticIPAddress"), ("testStaticIp", "tfoStaticIPAddress"),
                         ("testSubnet", "tfoSubnetName")):
            if n.get(key):
                cfg[dst] = n[key]
        entry: dict[str, Any] = {"nicId": vm.nics[i][0], "selectionType": "SelectedByUser", "ipConfigs": [cfg]}
        if n.get("networkSecurityGroup"):
            entry["recoveryNetworkSecurityGroupId"] = _seed_ref(n["networkSecurityGroup"], sub, rg,
                                                                "Microsoft.Network/networkSecurityGroups")
        nics.append(entry)
    return {"properties": {"vmNics": nics, "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}

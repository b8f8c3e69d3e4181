"""Test setup through the SDK (the product's own `Clients`, real HTTPS against the
emulator), for day-2 tests that need a vault or protected VMs independently of
`asr apply`: writes are sent with polling=False and simulated time is advanced
until their jobs are done."""

from __future__ import annotations

from typing import Any

from reconciler.azure.clients import Clients

JOB_SLACK = 900  # simulated seconds that let any setup job finish
REPLICATION = 7 * 24 * 3600  # simulated seconds that let initial replication of any estate VM finish


def _sub(manifest: Any) -> str:
    return manifest.subscription


def make_vault(manifest: Any, emulator: Any = None) -> Clients:
    """Resource groups and the vault of `manifest`, created directly through the SDK
    (with `emulator`: simulated time is advanced until the vault exists)."""
    c = Clients(_sub(manifest))
    v = manifest.vault
    c.resources.resource_groups.create_or_update(v.resource_group, {"location": v.location})
    c.resources.resource_groups.create_or_update(manifest.target.resource_group, {"location": v.location})
    c.vaults.vaults.begin_create_or_update(v.resource_group, v.name, {
        "location": v.location, "sku": {"name": "Standard"},
        "properties": {"publicNetworkAccess": "Enabled",
                       "redundancySettings": {"standardTierStorageRedundancy": v.storage_redundancy.value}}},
        polling=False)
    if emulator is not None:
        emulator.advance(60)
    return c


def _js(x: Any) -> dict:
    return x.as_dict() if hasattr(x, "as_dict") else dict(x)


def _friendly(x: dict) -> str:
    return (x.get("properties") or {}).get("friendlyName") or x.get("name")


def _fc(arm_id: str) -> tuple[str, str]:
    parts = arm_id.split("/")
    low = [p.lower() for p in parts]
    return parts[low.index("replicationfabrics") + 1], parts[low.index("replicationprotectioncontainers") + 1]


def protect(emulator: Any, manifest: Any, *, wait_protected: bool = True) -> Clients:
    """Everything the manifest declares, through the SDK: vault, target storage and
    networks, Hyper-V sites, policies and their associations, network mappings,
    protection of every VM, recovery plans; then simulated time until Protected."""
    c = make_vault(manifest, emulator)  # VMM servers register once the vault exists
    m = manifest
    rg, vault, trg, loc = m.vault.resource_group, m.vault.name, m.target.resource_group, m.vault.location
    sub = _sub(m)
    sr = c.site_recovery()
    for sa in m.target.storage_accounts:
        c.storage.storage_accounts.begin_create(trg, sa.name, {
            "location": loc, "sku": {"name": sa.sku.value}, "kind": "StorageV2"}, polling=False)
    for n in m.target.networks:
        c.network.virtual_networks.begin_create_or_update(trg, n.name, {
            "location": loc, "properties": {
                "addressSpace": {"addressPrefixes": list(n.address_space)},
                "subnets": [{"name": s.name, "properties": {"addressPrefix": s.address_prefix}} for s in n.subnets]}},
            polling=False)
    emulator.advance(JOB_SLACK)  # storage accounts and networks provisioned
    for site in m.source.hyperv_sites:
        sr.replication_fabrics.begin_create(rg, vault, site.name, {
            "properties": {"customDetails": {"instanceType": "HyperVSite"}}}, polling=False)
    emulator.advance(JOB_SLACK)  # sites created, hosts register
    for p in m.policies:
        sr.replication_policies.begin_create(rg, vault, p.name, {"properties": {"providerSpecificInput": {
            "instanceType": "HyperVReplicaAzure",
            "recoveryPointHistoryDuration": p.recovery_point_retention_hours,
            "applicationConsistentSnapshotFrequencyInHours": p.app_consistent_snapshot_frequency_hours,
            "replicationInterval": p.replication_frequency_seconds,
            "onlineReplicationStartTime": None}}}, polling=False)
    emulator.advance(JOB_SLACK)
    policies = {_js(p)["name"].lower(): _js(p) for p in sr.replication_policies.list(rg, vault)}
    fabrics = [_js(f) for f in sr.replication_fabrics.list(rg, vault)]
    containers = [_js(x) for x in sr.replication_protection_containers.list(rg, vault)]

    def fabric_named(name: str) -> dict:
        return next(f for f in fabrics if _friendly(f).lower() == name.lower() or f["name"].lower() == name.lower())

    def containers_of(fabric: dict) -> list[dict]:
        return [x for x in containers if f"/replicationfabrics/{fabric['name'].lower()}/" in x["id"].lower()]

    # (server or site, cloud or None) -> container
    where: dict[tuple[str, str | None], dict] = {}
    for s in m.source.vmm_servers:
        f = fabric_named(s.name)
        for cl in s.clouds:
            cont = next(x for x in containers_of(f) if _friendly(x).lower() == cl.name.lower())
            where[(s.name, cl.name)] = cont
            _associate(sr, rg, vault, cont, policies[cl.policy.lower()]["id"])
    for site in m.source.hyperv_sites:
        cont = containers_of(fabric_named(site.name))[0]
        where[(site.name, None)] = cont
        _associate(sr, rg, vault, cont, policies[site.policy.lower()]["id"])
    emulator.advance(JOB_SLACK)

    def vnet_id(name: str) -> str:
        return f"/subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Network/virtualNetworks/{name}"

    nets = [_js(n) for n in sr.replication_networks.list(rg, vault)]
    for s in m.source.vmm_servers:
        f = fabric_named(s.name)
        for nm in s.network_mappings:
            net = next(n for n in nets if f"/replicationfabrics/{f['name'].lower()}/" in n["id"].lower()
                       and _friendly(n).lower() == nm.vm_network.lower())
            sr.replication_network_mappings.begin_create(rg, vault, f["name"], net["name"], f"{nm.vm_network}-map", {
                "properties": {"recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": vnet_id(nm.target_network),
                               "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}, polling=False)
    emulator.advance(JOB_SLACK)

    nic_settings: list[tuple[str, str, str, Any]] = []
    for vm in m.protected_vms:
        src = vm.source
        cont = where[(src.vmm_server, src.cloud)] if hasattr(src, "vmm_server") else where[(src.hyperv_site, None)]
        fab, cname = _fc(cont["id"])
        pis = [_js(p) for p in sr.replication_protectable_items.list_by_replication_protection_containers(rg, vault, fab, cname)]
        pi = next(p for p in pis if _friendly(p).lower() == vm.name.lower())
        cd = (pi.get("properties") or {}).get("customDetails") or {}
        t = vm.target
        excluded = {d.name.lower() for d in t.disks if d.exclude}
        disks = [d.get("vhdId") for d in cd.get("diskDetails") or []
                 if d.get("vhdId") and str(d.get("vhdName") or "").lower() not in excluded]
        policy_name = _policy_of(m, vm)
        psd = {
            "instanceType": "HyperVReplicaAzure", "hvHostVmId": cd.get("sourceItemId") or pi["name"], "vmName": vm.name,
            "osType": (cd.get("osDetails") or {}).get("osType") or cd.get("osType"),
            "vhdId": disks[0] if disks else None, "disksToInclude": disks or None,
            "targetAzureVmName": t.vm_name or vm.name, "targetAzureNetworkId": vnet_id(t.network),
            "targetAzureSubnetId": f"{vnet_id(t.network)}/subnets/{t.subnet}",
            "targetAzureV2ResourceGroupId": f"/subscriptions/{sub}/resourceGroups/{trg}",
            "useManagedDisks": "true", "diskType": t.disk_type.value, "targetVmSize": t.size,
            "logStorageAccountId": (f"/subscriptions/{sub}/resourceGroups/{trg}/providers/Microsoft.Storage/"
                                    f"storageAccounts/{t.log_storage_account}") if t.log_storage_account else None,
        }
        # the target settings the manifest declares (HyperVReplicaAzureEnableProtectionInput keys)
        psd.update({"targetAvailabilityZone": t.availability_zone,
                    "licenseType": t.license_type.value if t.license_type else None,
                    "sqlServerLicenseType": t.sql_server_license_type.value if t.sql_server_license_type else None,
                    "targetVmTags": dict(t.tags) or None, "targetManagedDiskTags": dict(t.disk_tags) or None,
                    "targetNicTags": dict(t.nic_tags) or None})
        if t.nics:
            nic_settings.append((fab, cname, pi["name"], t))
        psd = {k: v for k, v in psd.items() if v is not None}
        sr.replication_protected_items.begin_create(rg, vault, fab, cname, pi["name"], {"properties": {
            "policyId": policies[policy_name.lower()]["id"], "protectableItemId": pi["id"],
            "providerSpecificDetails": psd}}, polling=False)
    emulator.advance(JOB_SLACK)
    for fab, cname, name, t in nic_settings:  # NIC settings: an update once protection is enabled
        item = _js(sr.replication_protected_items.get(rg, vault, fab, cname, name))
        vm_nics = ((item.get("properties") or {}).get("providerSpecificDetails") or {}).get("vmNics") or []
        body = [{"nicId": n["nicId"], "selectionType": "SelectedByUser", "ipConfigs": [{
            "ipConfigName": "ipconfig1", "isPrimary": True, "recoverySubnetName": want.subnet or t.subnet,
            **({"recoveryStaticIPAddress": want.static_ip} if want.static_ip else {}),
            **({"tfoStaticIPAddress": want.test_static_ip} if want.test_static_ip else {})}]}
            for n, want in zip(vm_nics, t.nics, strict=False)]
        body_props: dict[str, Any] = {"vmNics": body}
        if any(w.test_static_ip or w.test_subnet for w in t.nics) and m.target.test_network:
            body_props["selectedTfoAzureNetworkId"] = vnet_id(m.target.test_network)
        sr.replication_protected_items.begin_update(rg, vault, fab, cname, name,
                                                    {"properties": body_props}, polling=False)
    emulator.advance(JOB_SLACK)
    if wait_protected:
        emulator.advance(REPLICATION)
    items = {_friendly(_js(i)).lower(): _js(i) for i in sr.replication_protected_items.list(rg, vault)}
    for rp in m.recovery_plans:
        first = items[rp.groups[0].vms[0].lower()]
        fab_id = first["id"].split("/replicationProtectionContainers/")[0]
        groups = [{"groupType": "Boot", "replicationProtectedItems": [
            {"id": items[n.lower()]["id"], "virtualMachineId": items[n.lower()]["name"]} for n in g.vms],
            "startGroupActions": [], "endGroupActions": []} for g in rp.groups]
        sr.replication_recovery_plans.begin_create(rg, vault, rp.name, {"properties": {
            "primaryFabricId": fab_id, "recoveryFabricId": "Microsoft Azure",
            "failoverDeploymentModel": "ResourceManager", "groups": groups}}, polling=False)
    emulator.advance(JOB_SLACK)
    return c


def _associate(sr: Any, rg: str, vault: str, cont: dict, policy_id: str) -> None:
    fab, cname = _fc(cont["id"])
    sr.replication_protection_container_mappings.begin_create(rg, vault, fab, cname, f"{cname}-map", {"properties": {
        "targetProtectionContainerId": "Microsoft Azure", "policyId": policy_id,
        "providerSpecificInput": {"instanceType": "ReplicationProviderSpecificContainerMappingInput"}}}, polling=False)


def _policy_of(m: Any, vm: Any) -> str:
    src = vm.source
    if hasattr(src, "vmm_server"):
        s = next(s for s in m.source.vmm_servers if s.name == src.vmm_server)
        return next(c.policy for c in s.clouds if c.name == src.cloud)
    return next(s.policy for s in m.source.hyperv_sites if s.name == src.hyperv_site)


def asr(capsys: Any, *argv: str) -> tuple[int, str, str]:
    """`asr ARGV` in this process: (exit code, stdout, stderr), never a traceback."""
    from reconciler.cli.main import main

    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err

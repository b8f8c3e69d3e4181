"""Fabrics, Hyper-V sites, providers, containers, replication networks and protectable
items as Azure's recordings show them (docs/fidelity.md F-001..F-019)."""

from __future__ import annotations

import re

from tests.fidelity.helpers import RG, SLACK, SUB, VAULT_PATH, V, get, protectables, raw, vmm_tree

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_vmm_fabric_and_its_discovered_tree(sr):
    """F-001 F-004 F-005 F-010 F-015 F-016"""
    fabric, container = vmm_tree(sr)
    # F-001: a VMM server's fabric: 64 hex digits, instanceType VMM, friendlyName the server
    assert re.fullmatch(r"[0-9a-f]{64}", fabric["name"])
    assert fabric["properties"]["customDetails"]["instanceType"] == "VMM"
    assert fabric["properties"]["friendlyName"] == "vmm01"
    # F-004: the fabric's fixed properties
    p = fabric["properties"]
    assert p["encryptionDetails"]["kekState"] == "None" and p["rolloverEncryptionDetails"]["kekState"] == "None"
    assert GUID.match(p["internalIdentifier"]) and p["bcdrState"] == "Valid"
    assert p["health"] == "Normal" and p["healthErrorDetails"] == []
    # F-005: ids come back with a capital S
    assert fabric["id"].startswith(f"/Subscriptions/{SUB}/resourceGroups/{RG}/")
    assert fabric["type"] == "Microsoft.RecoveryServices/vaults/replicationFabrics"
    # F-010: a registered provider, by GUID, named by the server
    (prov,) = get(sr, f"{fabric['id']}/replicationRecoveryServicesProviders")["value"]
    assert GUID.match(prov["name"]) and prov["properties"]["friendlyName"] == "vmm01"
    assert prov["properties"]["connectionStatus"] == "Connected" and prov["properties"]["fabricType"] == "VMM"
    # F-015: the cloud's container: cloud_<guid>, friendlyName the cloud
    assert container["name"].startswith("cloud_") and GUID.match(container["name"][len("cloud_"):])
    cp = container["properties"]
    assert (cp["friendlyName"], cp["fabricFriendlyName"], cp["fabricType"]) == ("Gold", "vmm01", "VMM")
    assert cp["protectedItemCount"] == 0
    # F-016: VM networks: GUID names, fabricType VMM, networkType NoIsolation, subnets []
    (net,) = get(sr, f"{fabric['id']}/replicationNetworks")["value"]
    assert GUID.match(net["name"]) and net["type"] == "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationNetworks"
    assert net["properties"] == {"fabricType": "VMM", "friendlyName": "Corp-VMNet", "networkType": "NoIsolation",
                                 "subnets": []}


def test_protectable_item_shape(sr):
    """F-011 F-012 F-010"""
    fabric, container = vmm_tree(sr)
    items = protectables(sr, fabric, container)
    sql = items["sql01"]
    (prov,) = get(sr, f"{fabric['id']}/replicationRecoveryServicesProviders")["value"]
    # F-011: named by the VM's GUID, HyperVVirtualMachine details, generation as a string
    assert GUID.match(sql["name"])
    assert sql["type"] == "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectableItems"
    p = sql["properties"]
    assert p["protectionStatus"] == "Unprotected" and p["replicationProtectedItemId"] is None
    assert p["protectionReadinessErrors"] == [] and p["supportedReplicationProviders"] == ["HyperVReplicaAzure"]
    assert p["recoveryServicesProviderId"] == prov["id"]
    cd = p["customDetails"]
    assert cd["instanceType"] == "HyperVVirtualMachine" and cd["sourceItemId"] == sql["name"]
    assert cd["generation"] == "2" and isinstance(items["web01"]["properties"]["customDetails"]["generation"], str)
    assert cd["hasPhysicalDisk"] == "NotPresent" and cd["hasFibreChannelAdapter"] == "NotPresent"
    assert set(cd["diskDetails"][0]) >= {"maxSizeMB", "vhdType", "vhdId", "vhdName"}
    # F-012: the OS disk is marked OperatingSystem, the other disks Data
    assert [(d["maxSizeMB"], d["vhdType"]) for d in cd["diskDetails"]] == [(127 * 1024, "OperatingSystem"),
                                                                           (512 * 1024, "Data")]


def test_os_disk_marking_follows_the_disk_not_its_position(emulator, clients):
    """F-012: an estate VM whose OS disk is listed second"""
    from tests.fidelity.helpers import estate

    emulator.reset(estate=estate(sql01={"disksGB": [512, 127], "osDisk": 1}), time_scale=1)
    emulator.advance(60)
    sr = clients.site_recovery()
    fabric, container = vmm_tree(sr)
    disks = protectables(sr, fabric, container)["sql01"]["properties"]["customDetails"]["diskDetails"]
    assert [(d["maxSizeMB"], d["vhdType"]) for d in disks] == [(512 * 1024, "Data"), (127 * 1024, "OperatingSystem")]


def test_hyperv_site_created_with_the_base_creation_input(sr, emulator):
    """F-002 F-003 F-006 F-040 F-050 F-051"""
    r = raw(sr, "PUT", f"{VAULT_PATH}/replicationFabrics/branch-site",
            {"properties": {"customDetails": {"instanceType": "FabricSpecificCreationInput"}}})
    # F-050 / F-051: 202, Location at the fabric's operationresults, Azure-AsyncOperation at the
    # vault's replicationOperationStatus, both named by the job; x-ms-request-id the job; Retry-After
    assert r.status_code == 202, r.text()
    job_id = r.headers["x-ms-request-id"]
    job_name = job_id.rsplit("/", 1)[1]
    assert re.search(rf"/replicationFabrics/branch-site/operationresults/{job_name}\?", r.headers["Location"])
    assert re.search(rf"/vaults/{V}/replicationOperationStatus/{job_name}\?", r.headers["Azure-AsyncOperation"])
    assert int(r.headers["Retry-After"]) >= 1
    job = get(sr, job_id)
    emulator.advance(SLACK)
    site = get(sr, f"{VAULT_PATH}/replicationFabrics/branch-site")
    # F-002: read back as a HyperVSite; F-003: with its (not yet registered) hosts
    assert site["properties"]["customDetails"] == {"instanceType": "HyperVSite", "hyperVHosts": []}
    assert site["properties"]["friendlyName"] == "branch-site"
    # F-040: the CreateSite job as PowerShell's CreateFabricTests.json recorded it
    jp = job["properties"]
    assert (jp["scenarioName"], jp["friendlyName"], jp["targetInstanceType"]) == ("CreateSite", "Create a site", "Server")
    assert jp["targetObjectId"] == site["properties"]["internalIdentifier"] and jp["targetObjectName"] == "branch-site"
    assert [(t["name"], t["friendlyName"]) for t in jp["tasks"]] == [("RegisterVmmTask", "Registering the server")]
    assert jp["customDetails"]["affectedObjectDetails"] == {
        "PrimaryVmmId": site["properties"]["internalIdentifier"], "PrimaryVmmName": "branch-site",
        "PrimaryFabricProviderId": "HyperVSite"}
    # F-006: the site's container: cloud_<internalIdentifier>, friendlyName the site
    (cont,) = get(sr, f"{site['id']}/replicationProtectionContainers")["value"]
    assert cont["name"] == "cloud_" + site["properties"]["internalIdentifier"]
    assert (cont["properties"]["friendlyName"], cont["properties"]["fabricType"]) == ("branch-site", "HyperVSite")
    assert cont["properties"]["fabricSpecificDetails"] is None and cont["properties"]["role"] == "Primary"


def test_site_create_also_takes_what_the_sdk_user_sends_and_refuses_other_types(sr, emulator):
    """F-007 F-008 (unconfirmed)"""
    from azure.core.exceptions import HttpResponseError

    sr.replication_fabrics.begin_create(RG, V, "site-b", {"properties": {"customDetails": {"instanceType": "HyperVSite"}}},
                                        polling=False)
    emulator.advance(SLACK)
    assert get(sr, f"{VAULT_PATH}/replicationFabrics/site-b")["properties"]["customDetails"]["instanceType"] == "HyperVSite"
    try:
        sr.replication_fabrics.begin_create(RG, V, "site-c", {"properties": {"customDetails": {"instanceType": "VMM"}}},
                                            polling=False)
    except HttpResponseError as e:
        assert e.status_code == 400 and e.error.code == "InvalidFabricType"
    else:
        raise AssertionError("a VMM fabric was created over ARM")


def test_reconciler_creates_sites_as_azures_own_clients_do():
    """F-002: the request asr plans for a Hyper-V site"""
    from types import SimpleNamespace

    from reconciler.plan import requests as rq

    m = SimpleNamespace(vault=SimpleNamespace(resource_group=RG, name=V))
    req = rq.site_create(m, "branch-site")
    assert req.args["input"] == {"properties": {"customDetails": {"instanceType": "FabricSpecificCreationInput"}}}


def test_lists_page_with_a_skiptoken_next_link(emulator, clients):
    """F-082: lists page with nextLink ($skipToken), as TestEnableDR.json's protectable items did"""
    from tests.fidelity.helpers import estate

    emulator.reset(estate=estate(), time_scale=1, page_size=2)
    emulator.advance(60)
    sr = clients.site_recovery()
    fabric, container = vmm_tree(sr)
    page = get(sr, f"{container['id']}/replicationProtectableItems")
    from urllib.parse import unquote

    assert len(page["value"]) == 2 and "$skiptoken=" in unquote(page["nextLink"]).lower()
    assert len(list(sr.replication_protectable_items.list_by_replication_protection_containers(
        RG, V, fabric["name"], container["name"]))) == 4


def test_reconciler_reads_placeholder_times_as_no_time():
    """F-044: 0001-01-01T00:00:00 (task not started/ended) and 1753-01-01T01:01:01Z (idle
    scenario) are not times: the reconciler's job reader takes them as none"""
    from reconciler.live.jobs import parse_time

    assert parse_time("0001-01-01T00:00:00") is None
    assert parse_time("1753-01-01T01:01:01Z") is None
    assert parse_time("2021-03-24T14:08:54.8449532Z").year == 2021

"""The estate file: loader with FILE:LINE:COL errors, the shipped examples, the
registration simulation and the time behaviour of replication (no HTTP: the
emulator's state and handlers in process)."""

from __future__ import annotations

import os

import pytest
import yaml

from reconciler.emulator import estate as E

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUB = "00000000-0000-0000-0000-000000000001"
VAULT = f"/subscriptions/{SUB}/resourceGroups/contoso-dr-rg/providers/Microsoft.RecoveryServices/vaults/contoso-asr-vault"


def world(estate: dict):
    from reconciler.emulator.app import build_routes, new_state
    from reconciler.emulator.seeding import InProcess
    from reconciler.emulator.siterecovery import get_sr
    from reconciler.emulator.state import EmulatorConfig

    routes = build_routes()
    st = new_state(EmulatorConfig(time_scale=1e-9), estate, routes)  # frozen: only advance() moves time in these tests
    return st, InProcess(st, routes), get_sr(st)


def make_vault(arm, rg="contoso-dr-rg", name="contoso-asr-vault", location="westeurope"):
    arm.call("PUT", f"/subscriptions/{SUB}/resourcegroups/{rg}", {"location": location})
    arm.call("PUT", f"/subscriptions/{SUB}/resourceGroups/{rg}/providers/Microsoft.RecoveryServices/vaults/{name}",
             {"location": location, "sku": {"name": "Standard"}, "properties": {}})


def fabrics(arm, vault=VAULT):
    return arm.call("GET", vault + "/replicationFabrics")["value"]


@pytest.mark.parametrize("name", ["quickstart", "hyperv-site", "multi-cloud"])
def test_shipped_estates_load(name):
    data = E.load_file(os.path.join(ROOT, "examples", "estates", f"{name}.yaml"))
    est = E.parse(data)
    assert est.subscription == SUB
    assert est.vmm_servers or est.hyperv_sites


def test_default_estate_is_the_quickstart():
    a = open(os.path.join(ROOT, "examples", "estates", "quickstart.yaml")).read()
    b = open(os.path.join(ROOT, "reconciler", "emulator", "data", "default-estate.yaml")).read()
    assert a == b
    est = E.parse(yaml.safe_load(b))
    (server,) = est.vmm_servers
    assert (server.name, server.register_with_vault, server.vm_networks) == ("vmm01", "contoso-asr-vault", ["Corp-VMNet"])
    (cloud,) = server.clouds
    assert [(v.name, v.os_type, v.disks_gb) for v in cloud.vms] == [
        ("sql01", "Windows", [127, 512]), ("app01", "Windows", [127]), ("app02", "Windows", [127, 32]), ("web01", "Linux", [64])]


def test_multi_cloud_matches_the_shared_names():
    est = E.parse(E.load_file(os.path.join(ROOT, "examples", "estates", "multi-cloud.yaml")))
    got = {(s.name, c.name): [v.name for v in c.vms] for s in est.vmm_servers for c in s.clouds}
    assert got == {
        ("vmm-ams01", "Gold"): ["sql-ams01", "sql-ams02", "app-ams01", "app-ams02", "app-ams03", "app-ams04"],
        ("vmm-ams01", "Silver"): ["dev-ams01", "dev-ams02", "dev-ams03"],
        ("vmm-rtm01", "Gold"): ["sql-rtm01", "app-rtm01", "app-rtm02"],
    }
    assert {s.name: s.vm_networks for s in est.vmm_servers} == {"vmm-ams01": ["Prod-VMNet", "Dev-VMNet"], "vmm-rtm01": ["Prod-VMNet"]}


def test_errors_carry_file_line_col(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text(
        "subscription: not-a-uuid\n"
        "vmmServers:\n"
        "  - name: vmm01\n"
        "    clouds:\n"
        "      - name: Gold\n"
        "        vms:\n"
        "          - {name: sql01, osType: Solaris, disksGB: [0]}\n"
        "    colour: blue\n"
    )
    with pytest.raises(E.EstateError) as ei:
        E.load_file(str(f))
    lines = ei.value.problems
    assert f"{f}:1:1: error: subscription: 'not-a-uuid' is not a subscription id (a UUID)" in lines
    assert any(x.startswith(f"{f}:7:") and "vmmServers[0].clouds[0].vms[0].osType" in x for x in lines)
    assert any(x.startswith(f"{f}:7:") and "disksGB" in x for x in lines)
    assert any(x.startswith(f"{f}:8:5: error: vmmServers[0].colour: unknown key") for x in lines)


def test_yaml_syntax_and_duplicate_keys(tmp_path):
    f = tmp_path / "syntax.yaml"
    f.write_text("vmmServers: [\n  {name: a\n")
    with pytest.raises(E.EstateError) as ei:
        E.load_file(str(f))
    assert ei.value.problems[0].startswith(f"{f}:") and "YAML syntax" in ei.value.problems[0]
    f.write_text("subscription: 00000000-0000-0000-0000-000000000001\nsubscription: 00000000-0000-0000-0000-000000000002\n")
    with pytest.raises(E.EstateError) as ei:
        E.load_file(str(f))
    assert ei.value.problems == [f"{f}:2:1: error: subscription: duplicate key"]


def test_serve_with_a_bad_estate_prints_positions_not_a_traceback(tmp_path, capsys):
    from reconciler.cli.main import main

    f = tmp_path / "bad.yaml"
    f.write_text("hypervSites:\n  - name: branch\n    hosts: nope\n")
    assert main(["emulator", "serve", "--estate", str(f)]) == 1  # in process: the estate fails before anything serves
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{f}:3:5: error: hypervSites[0].hosts: must be a list" in err


def test_vmm_registers_when_the_vault_exists_after_the_delay():
    est = yaml.safe_load(open(os.path.join(ROOT, "examples", "estates", "quickstart.yaml")))
    est["registrationDelaySeconds"] = 300
    st, arm, sr = world(est)
    make_vault(arm)
    assert fabrics(arm) == []
    st.advance(299)
    assert fabrics(arm) == []
    st.advance(2)
    (f,) = fabrics(arm)
    assert f["properties"]["friendlyName"] == "vmm01"


def test_server_without_register_with_vault_never_registers():
    est = yaml.safe_load(open(os.path.join(ROOT, "examples", "estates", "quickstart.yaml")))
    est["vmmServers"][0]["registerWithVault"] = None
    st, arm, sr = world(est)
    make_vault(arm)
    st.advance(86400)
    assert fabrics(arm) == []


def test_hyperv_hosts_register_once_the_site_exists():
    est = E.load_file(os.path.join(ROOT, "examples", "estates", "hyperv-site.yaml"))
    est["registrationDelaySeconds"] = 60
    st, arm, sr = world(est)
    vault = f"/subscriptions/{SUB}/resourceGroups/smallbiz-dr-rg/providers/Microsoft.RecoveryServices/vaults/smallbiz-asr-vault"
    make_vault(arm, "smallbiz-dr-rg", "smallbiz-asr-vault", "uksouth")
    st.advance(3600)
    assert fabrics(arm, vault) == []  # nothing to register into yet
    arm.call("PUT", vault + "/replicationFabrics/branch-site", {"properties": {"customDetails": {"instanceType": "HyperVSite"}}})
    st.advance(30)  # the site's job is done, the hosts wait for their delay
    (site,) = fabrics(arm, vault)
    assert arm.call("GET", vault + "/replicationFabrics/branch-site/replicationRecoveryServicesProviders")["value"] == []
    st.advance(60)
    hosts = arm.call("GET", vault + "/replicationFabrics/branch-site/replicationRecoveryServicesProviders")["value"]
    assert sorted(h["properties"]["friendlyName"] for h in hosts) == ["HV-HOST-01", "HV-HOST-02"]
    assert all(h["properties"]["fabricType"] == "HyperVSite" for h in hosts)


def test_initial_replication_time_is_proportional_to_disk_size():
    st, arm, sr = world(E.quickstart_estate(azure=True))
    st.advance(1)
    v = sr.vault(SUB, "contoso-dr-rg", "contoso-asr-vault")
    # enable sql01 (639 GB) and web01 (64 GB) through the same handlers the SDK calls
    est = E.quickstart_estate(applied=True)
    pol = est["seed"]["policies"][0]
    arm.call("PUT", VAULT + "/replicationPolicies/every-5-min", {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "replicationInterval": pol["replicationFrequencySeconds"]}}})
    st.advance(40)
    (fabric,) = v.fabrics.values()
    (container,) = fabric.containers.values()
    base = f"{VAULT}/replicationFabrics/{fabric.name}/replicationProtectionContainers/{container.name}"
    arm.call("PUT", base + "/replicationProtectionContainerMappings/gold", {"properties": {
        "targetProtectionContainerId": "Microsoft Azure", "policyId": VAULT + "/replicationPolicies/every-5-min"}})
    st.advance(70)
    rgid = f"/subscriptions/{SUB}/resourceGroups/contoso-failover-rg"
    logs = rgid + "/providers/Microsoft.Storage/storageAccounts/contosoasrlogs01"
    names = {vm.friendly: vm for vm in container.vms.values()}
    for n in ("sql01", "web01"):
        arm.call("PUT", f"{base}/replicationProtectedItems/{names[n].name}", {"properties": {
            "policyId": VAULT + "/replicationPolicies/every-5-min", "protectableItemId": names[n].id,
            "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure", "targetAzureV2ResourceGroupId": rgid,
                                        "useManagedDisks": "true", "logStorageAccountId": logs}}})

    def item(n):
        return arm.call("GET", f"{base}/replicationProtectedItems/{names[n].name}")["properties"]

    assert item("sql01")["protectionState"] == "EnablingProtection"
    assert item("sql01")["currentScenario"]["scenarioName"] == "EnableDr"
    st.advance(122)  # EnableDr: 2 s queued + 120 s of tasks
    assert item("sql01")["protectionState"] == "InitialReplicationInProgress"
    assert item("sql01")["providerSpecificDetails"]["initialReplicationDetails"]["initialReplicationProgressPercentage"] == "0"
    rate = 100 / 600  # GB per simulated second
    st.advance(64 / rate / 2)
    assert item("web01")["providerSpecificDetails"]["initialReplicationDetails"]["initialReplicationProgressPercentage"] == "50"
    assert item("sql01")["providerSpecificDetails"]["initialReplicationDetails"]["initialReplicationProgressPercentage"] == "5"
    st.advance(64 / rate / 2 + 1)
    web = item("web01")
    assert web["protectionState"] == "Protected" and web["providerSpecificDetails"]["rpoInSeconds"] >= 300
    assert item("sql01")["protectionState"] == "InitialReplicationInProgress"
    st.advance(639 / rate - 64 / rate)
    sql = item("sql01")
    assert sql["protectionState"] == "Protected" and sql["replicationHealth"] == "Normal"
    # lastReplicatedTime advances with the policy's interval
    first = sql["providerSpecificDetails"]["lastReplicatedTime"]
    st.advance(300)
    assert item("sql01")["providerSpecificDetails"]["lastReplicatedTime"] > first


def test_seed_applies_as_if_asr_had_run():
    st, arm, sr = world(E.quickstart_estate(applied=True))
    items = arm.call("GET", VAULT + "/replicationProtectedItems")["value"]
    assert sorted(i["properties"]["friendlyName"] for i in items) == ["app01", "app02", "sql01", "web01"]
    assert {i["properties"]["protectionState"] for i in items} == {"Protected"}
    sql = next(i for i in items if i["properties"]["friendlyName"] == "sql01")
    d = sql["properties"]["providerSpecificDetails"]
    assert (d["recoveryAzureVmName"], d["recoveryAzureVMSize"]) == ("sql01-dr", "Standard_D4s_v5")
    assert {x["targetDiskAccountType"] for x in d["protectedManagedDisks"]} == {"Premium_LRS"}
    plan = arm.call("GET", VAULT + "/replicationRecoveryPlans/tier1")
    assert [g["groupType"] for g in plan["properties"]["groups"]] == ["Shutdown", "Failover", "Boot", "Boot"]
    jobs = arm.call("GET", VAULT + "/replicationJobs")["value"]
    assert jobs and {j["properties"]["state"] for j in jobs} == {"Succeeded"}
    # the seed ran in the past: the clock is back at the present
    import time

    assert abs(st.now() - time.time()) < 60


def test_generate_estate_with_seeded_protected_vms():
    data = E.generate_estate(200, vmm_servers=2, clouds_per_server=2, seed_protected=150, recovery_plans=2)
    est = E.parse(data)
    assert sum(len(c.vms) for s in est.vmm_servers for c in s.clouds) == 200
    st, arm, sr = world(data)
    v = sr.vault(SUB, "bench-dr-rg", "bench-asr-vault")
    items = v.protected_items()
    assert len(items) == 150 and {i.phase for i in items} == {"Protected"}
    assert len(v.plans) == 2


def test_degraded_health_and_disconnected_server_from_the_estate():
    est = E.quickstart_estate(applied=True)
    server = est["vmmServers"][0]
    server["connectionStatus"] = "Disconnected"
    sql = next(v for v in server["clouds"][0]["vms"] if v["name"] == "sql01")
    sql.update(replicationHealth="Critical", rpoSeconds=7200)
    st, arm, sr = world(est)
    st.advance(3600)
    items = {i["properties"]["friendlyName"]: i["properties"] for i in arm.call("GET", VAULT + "/replicationProtectedItems")["value"]}
    assert items["sql01"]["replicationHealth"] == "Critical"
    assert items["sql01"]["healthErrors"][0]["errorLevel"] == "Error" and items["sql01"]["healthErrors"][0]["summaryMessage"]
    assert items["sql01"]["providerSpecificDetails"]["rpoInSeconds"] == 7200
    assert items["app01"]["replicationHealth"] == "Normal" and items["app01"]["healthErrors"] == []
    (prov,) = arm.call("GET", VAULT + "/replicationRecoveryServicesProviders")["value"]
    assert prov["properties"]["connectionStatus"] == "Disconnected"
    import datetime

    beat = datetime.datetime.fromisoformat(prov["properties"]["lastHeartBeat"][:26]).replace(tzinfo=datetime.UTC)
    assert st.now() - beat.timestamp() > 3600  # stale


def test_seed_is_not_subject_to_the_jobfail_fault():
    from reconciler.emulator.app import build_routes, new_state
    from reconciler.emulator.seeding import InProcess
    from reconciler.emulator.siterecovery import get_sr
    from reconciler.emulator.state import EmulatorConfig, FaultConfig

    routes = build_routes()
    st = new_state(EmulatorConfig(faults=FaultConfig(jobfail=1.0, seed=3)), E.quickstart_estate(applied=True), routes)
    v = get_sr(st).vault(SUB, "contoso-dr-rg", "contoso-asr-vault")
    assert {i.phase for i in v.protected_items()} == {"Protected"} and len(v.protected_items()) == 4
    arm = InProcess(st, routes)
    arm.call("PUT", VAULT + "/replicationPolicies/after", {"properties": {"providerSpecificInput": {"instanceType": "HyperVReplicaAzure"}}})
    st.advance(60)
    jobs = arm.call("GET", VAULT + "/replicationJobs")["value"]
    assert jobs[-1]["properties"]["state"] == "Failed"  # faults apply from the present on


def test_multi_cloud_registers_two_vmm_servers():
    est = E.load_file(os.path.join(ROOT, "examples", "estates", "multi-cloud.yaml"))
    st, arm, sr = world(est)
    make_vault(arm, "fabrikam-dr-rg", "fabrikam-asr-vault", "northeurope")
    vault = f"/subscriptions/{SUB}/resourceGroups/fabrikam-dr-rg/providers/Microsoft.RecoveryServices/vaults/fabrikam-asr-vault"
    fabs = {f["properties"]["friendlyName"]: f["name"] for f in fabrics(arm, vault)}
    assert set(fabs) == {"vmm-ams01", "vmm-rtm01"}
    clouds = sorted((c["properties"]["fabricFriendlyName"], c["properties"]["friendlyName"])
                    for c in arm.call("GET", vault + "/replicationProtectionContainers")["value"])
    assert clouds == [("vmm-ams01", "Gold"), ("vmm-ams01", "Silver"), ("vmm-rtm01", "Gold")]
    nets = sorted(n["properties"]["friendlyName"] for n in arm.call("GET", vault + "/replicationNetworks")["value"])
    assert nets == ["Dev-VMNet", "Prod-VMNet", "Prod-VMNet"]
    total = 0
    for c in arm.call("GET", vault + "/replicationProtectionContainers")["value"]:
        total += len(arm.call("GET", c["id"] + "/replicationProtectableItems")["value"])
    assert total == 12

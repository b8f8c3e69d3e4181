"""`asr plan` end to end against the emulator: the real SDK over HTTPS, the CLI entry
point, drift made behind the manifest's back through the SDK (as the portal would)."""

from __future__ import annotations

import json
import os
import sys

import pytest
from livebuilder import EXAMPLES, ROOT, example_path

from reconciler.cli.main import main as asr

SUB = "00000000-0000-0000-0000-000000000001"
SCALE = 600.0
JOB_SLACK = 900  # simulated seconds that let any job of a portal-style edit finish
RG, VAULT, TRG = "contoso-dr-rg", "contoso-asr-vault", "contoso-failover-rg"


def estate_path(name: str) -> str:
    return os.path.join(ROOT, "examples", "estates", f"{name}.yaml")


def plan_json(path: str, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = asr(["plan", path, "--format", "json", "--detailed-exitcode", *extra])
    captured = capsys.readouterr()
    assert rc in (0, 2), captured.err
    return rc, json.loads(captured.out)


def work(doc: dict) -> dict[str, dict]:
    return {c["address"]: c for c in doc["changes"] if c["action"] != "noop"}


@pytest.fixture
def emu(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    return emulator


@pytest.fixture
def applied_quickstart(emu):
    from reconciler.azure.clients import Clients
    from reconciler.emulator.estate import quickstart_estate

    emu.reset(estate=quickstart_estate(applied=True), time_scale=SCALE)
    c = Clients(SUB)  # the estate seed has no vault tags; the manifest declares two (as asr apply would set)
    c.vaults.vaults.begin_update(RG, VAULT, {"tags": {"env": "prod", "owner": "it-ops"}}, polling_interval=0.1).result()
    c.close()
    return emu


@pytest.fixture
def sr(emu):
    from reconciler.azure.clients import Clients

    c = Clients(SUB)
    yield c.site_recovery()
    c.close()


def done(emu) -> None:
    """A Site Recovery write sent with `polling=False` (ASR answers 202 and starts a job):
    its job run to its end in simulated time, instead of the SDK's poller sleeping the
    Retry-After (at least 1 s) of the operation status."""
    emu.advance(JOB_SLACK)


def seg(arm_id: str, key: str) -> str:
    parts = arm_id.split("/")
    return parts[[p.lower() for p in parts].index(key.lower()) + 1]


def item_of(sr, name: str) -> dict:
    return next(i.as_dict() for i in sr.replication_protected_items.list(RG, VAULT) if i.properties.friendly_name == name)


def item_args(item: dict) -> dict:
    return {"resource_group_name": RG, "resource_name": VAULT, "fabric_name": seg(item["id"], "replicationFabrics"),
            "protection_container_name": seg(item["id"], "replicationProtectionContainers"),
            "replicated_protected_item_name": item["name"]}


@pytest.mark.parametrize("name", EXAMPLES)
def test_fresh_estate_plans_creates_and_manual_registration(emu, capsys, name):
    emu.reset(estate=estate_path(name), time_scale=SCALE)
    rc, doc = plan_json(example_path(name), capsys)
    assert rc == 2 and doc["has_changes"]
    w = work(doc)
    vault = next(a for a in w if a.startswith("vault."))
    assert w[vault]["action"] == "create" and w[vault]["requests"][0]["operation"] == "vaults.vaults.begin_create_or_update"
    manual = [c for c in w.values() if c["action"] == "manual"]
    assert manual and all(c["reason"] == "not_registered" for c in manual)
    assert all("asr vault-credentials" in c["note"] for c in manual)
    vms = [c for a, c in w.items() if a.startswith("protected_vm.")]
    assert vms and all(c["action"] == "create" and c["blocked"] for c in vms)
    assert doc["summary"]["manual"] == len(manual)
    # nothing was written by planning
    assert emu.stats()["writes"] == 0


def test_plan_of_an_applied_vault_is_empty_and_cheap(applied_quickstart, capsys):
    emu = applied_quickstart
    emu.reset_stats()
    rc, doc = plan_json(example_path("quickstart"), capsys)
    assert rc == 0, [(c["address"], c["action"], c["note"]) for c in doc["changes"] if c["action"] != "noop"]
    assert doc["summary"] == {"add": 0, "change": 0, "replace": 0, "destroy": 0, "manual": 0, "blocked": 0, "await": 0}
    assert doc["unmanaged"] == []
    st = emu.stats()
    assert st["writes"] == 0
    assert st["requests"] == doc["requests_made"] <= 20


def test_drift_behind_the_manifest_gives_exactly_the_right_actions_and_apply_converges(applied_quickstart, sr, capsys):
    # portal-style edits through the SDK
    sr.replication_policies.begin_update(RG, VAULT, "every-5-min", {"properties": {"replicationProviderSettings": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 12,
        "applicationConsistentSnapshotFrequencyInHours": 4, "replicationInterval": 300}}}, polling=False)
    done(applied_quickstart)
    nm = next(m.as_dict() for m in sr.replication_network_mappings.list(RG, VAULT))
    sr.replication_network_mappings.begin_delete(RG, VAULT, seg(nm["id"], "replicationFabrics"),
                                                 seg(nm["id"], "replicationNetworks"), nm["name"], polling=False)
    done(applied_quickstart)
    app01 = item_of(sr, "app01")
    sr.replication_protected_items.begin_update(**item_args(app01), update_protection_input={"properties": {
        "recoveryAzureVMSize": "Standard_D8s_v5", "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}},
        polling=False)
    done(applied_quickstart)

    rc, doc = plan_json(example_path("quickstart"), capsys)
    assert rc == 2
    w = work(doc)
    assert set(w) == {"policy.every-5-min", "network_mapping.vmm01/Corp-VMNet", "protected_vm.app01"}
    pol, mapping, vm = w["policy.every-5-min"], w["network_mapping.vmm01/Corp-VMNet"], w["protected_vm.app01"]
    assert (pol["action"], pol["reason"]) == ("update", "drifted")
    assert pol["before"]["recoveryPointRetentionHours"] == 12 and pol["after"]["recoveryPointRetentionHours"] == 24
    assert (mapping["action"], mapping["reason"]) == ("create", "missing")
    assert (vm["action"], vm["reason"]) == ("update", "drifted")
    assert vm["before"]["size"] == "Standard_D8s_v5" and vm["after"]["size"] == "Standard_D2s_v5"
    assert vm["requests"][0]["operation"] == "site_recovery.replication_protected_items.begin_update"
    assert doc["summary"]["destroy"] == 0 and doc["summary"]["replace"] == 0

    capsys.readouterr()
    rc = asr(["apply", example_path("quickstart"), "--auto-approve", "--log-format", "text"])
    assert rc == 0, capsys.readouterr().out
    rc, doc = plan_json(example_path("quickstart"), capsys)
    assert rc == 0, work(doc)


def test_id_case_changes_produce_no_diff(applied_quickstart, sr, capsys):
    nm = next(m.as_dict() for m in sr.replication_network_mappings.list(RG, VAULT))
    upper = nm["properties"]["recoveryNetworkId"].upper()
    sr.replication_network_mappings.begin_update(
        RG, VAULT, seg(nm["id"], "replicationFabrics"), seg(nm["id"], "replicationNetworks"), nm["name"],
        {"properties": {"recoveryFabricName": "Microsoft Azure", "recoveryNetworkId": upper,
                        "fabricSpecificDetails": {"instanceType": "VmmToAzure"}}}, polling=False)
    done(applied_quickstart)
    web01 = item_of(sr, "web01")
    net = f"/SUBSCRIPTIONS/{SUB}/RESOURCEGROUPS/{TRG.upper()}/providers/microsoft.network/virtualnetworks/CORP-VNET"
    sr.replication_protected_items.begin_update(**item_args(web01), update_protection_input={"properties": {
        "selectedRecoveryAzureNetworkId": net, "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}},
        polling=False)
    done(applied_quickstart)
    rc, doc = plan_json(example_path("quickstart"), capsys)
    assert rc == 0, work(doc)
    # the ids really differ in case between what Azure answers and what the manifest derives
    live_ids = [item_of(sr, "web01")["id"], item_of(sr, "web01")["properties"]["policyId"]]
    desired = {c["address"]: c for c in doc["changes"]}
    assert any(i.startswith("/Subscriptions/") for i in live_ids), live_ids
    web = desired["protected_vm.web01"]
    assert web["before"]["targetNetwork"].lower() == web["after"]["targetNetwork"].lower()


def test_vm_in_test_failover_is_reported_not_corrected(applied_quickstart, sr, capsys):
    web01 = item_of(sr, "web01")
    test_net = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Network/virtualNetworks/corp-test-vnet"
    sr.replication_protected_items.begin_test_failover(**item_args(web01), testfailover_input={"properties": {
        "failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput", "networkId": test_net,
        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}, polling=False)
    done(applied_quickstart)
    rc, doc = plan_json(example_path("quickstart"), capsys)
    assert rc == 0, work(doc)
    c = next(c for c in doc["changes"] if c["address"] == "protected_vm.web01")
    assert (c["action"], c["reason"]) == ("noop", "in_failover") and "test failover" in c["note"]


def test_request_count_is_independent_of_vm_count(emu, tmp_path):
    sys.path.insert(0, ROOT)
    from bench.plan_scale import write_manifest
    from reconciler.azure.clients import Clients
    from reconciler.emulator.estate import generate_estate
    from reconciler.live import read_live_state
    from reconciler.manifest import load_manifest
    from reconciler.plan import make_plan

    counts = {}
    for n in (20, 400):
        emu.reset(estate=generate_estate(n, seed_protected=n), page_size=1000)
        path = write_manifest(n, str(tmp_path))
        m = load_manifest(path)
        emu.reset_stats()
        c = Clients(SUB)
        live = read_live_state(c, m)
        c.close()
        counts[n] = emu.stats()["requests"]
        assert live.requests_made == counts[n]
        assert len(live.protected_items) == n
        assert not make_plan(m, live, path).has_changes
    assert counts[20] == counts[400], counts


def test_saved_plan_is_refused_when_live_state_moved(applied_quickstart, sr, capsys, tmp_path):
    from reconciler.azure.clients import Clients
    from reconciler.errors import PlanStaleError
    from reconciler.live import read_live_state
    from reconciler.manifest import load_manifest
    from reconciler.plan import check_plan_current, load_plan

    out = tmp_path / "p.json"
    capsys.readouterr()
    assert asr(["plan", example_path("quickstart"), "--out", str(out)]) == 0
    assert "Saved the plan" in capsys.readouterr().out
    plan = load_plan(str(out))
    m = load_manifest(example_path("quickstart"))
    c = Clients(SUB)
    check_plan_current(plan, m, read_live_state(c, m))  # nothing moved yet
    sr.replication_policies.begin_update(RG, VAULT, "every-5-min", {"properties": {"replicationProviderSettings": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 6,
        "applicationConsistentSnapshotFrequencyInHours": 4, "replicationInterval": 300}}}, polling=False)
    done(applied_quickstart)
    with pytest.raises(PlanStaleError, match=r"policy\.every-5-min \(changed\)"):
        check_plan_current(plan, m, read_live_state(c, m))
    c.close()


def test_plan_dir_combines_and_folds_exit_code(applied_quickstart, capsys, tmp_path):
    import shutil

    for name in ("quickstart", "hyperv-site"):
        shutil.copy(example_path(name), tmp_path / f"{name}.yaml")
    capsys.readouterr()
    rc = asr(["plan", str(tmp_path), "--detailed-exitcode"])
    out = capsys.readouterr().out
    assert rc == 2  # the quickstart is converged, the Hyper-V site's vault does not exist
    assert "No changes." in out and "vault.smallbiz-asr-vault will be created" in out
    assert out.strip().splitlines()[-1].startswith("All 2 manifests: ")


def test_errors_are_messages_not_tracebacks(emu, capsys, monkeypatch):
    emu.reset(faults="throttle=1.0,retryafter=50ms")
    monkeypatch.setenv("ASR_RETRY_TOTAL", "1")
    capsys.readouterr()
    rc = asr(["plan", example_path("quickstart")])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert "throttling (429)" in err and "hint:" in err
    emu.reset()
    monkeypatch.setenv("ASR_ARM_ENDPOINT", "https://127.0.0.1:9")
    rc = asr(["plan", example_path("quickstart")])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err and "unreachable" in err


def test_recovery_plan_reordered_in_the_portal_is_updated_back(applied_quickstart, sr, capsys):
    rp = sr.replication_recovery_plans.get(RG, VAULT, "tier1").as_dict()
    boot = [g for g in rp["properties"]["groups"] if g["groupType"] == "Boot"]
    swapped = [{"groupType": "Boot", "replicationProtectedItems": g["replicationProtectedItems"],
                "startGroupActions": [], "endGroupActions": []} for g in reversed(boot)]
    sr.replication_recovery_plans.begin_update(RG, VAULT, "tier1", {"properties": {"groups": swapped}},
                                               polling=False)
    done(applied_quickstart)
    rc, doc = plan_json(example_path("quickstart"), capsys)
    assert rc == 2
    (c,) = work(doc).values()
    assert (c["address"], c["action"]) == ("recovery_plan.tier1", "update")
    assert c["before"]["groups"] == [["app01", "app02", "web01"], ["sql01"]]
    assert c["after"]["groups"] == [["sql01"], ["app01", "app02", "web01"]]
    capsys.readouterr()
    assert asr(["apply", example_path("quickstart"), "--auto-approve", "--log-format", "text"]) == 0
    rc, doc = plan_json(example_path("quickstart"), capsys)
    assert rc == 0, work(doc)


def test_disk_type_change_is_a_replace_that_restarts_replication_and_converges(applied_quickstart, capsys, tmp_path):
    import yaml

    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    sql = next(v for v in data["protectedVMs"] if v["name"] == "sql01")
    sql["target"]["diskType"] = "Standard_LRS"  # the seed protected it with Premium_LRS... see below
    seeded = "Premium_LRS"
    path = tmp_path / "quickstart.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    rc, doc = plan_json(str(path), capsys)
    assert rc == 2
    (c,) = work(doc).values()
    assert (c["address"], c["action"], c["reason"]) == ("protected_vm.sql01", "replace", "cannot_update")
    assert c["replace_fields"] == ["diskType"] and c["before"]["diskType"] == seeded
    assert "restarts initial replication of 639 GB" in c["note"]
    assert [r["operation"].rsplit(".", 1)[1] for r in c["requests"]] == ["begin_delete", "begin_create"]
    assert doc["summary"]["replace"] == 1
    capsys.readouterr()
    assert asr(["apply", str(path), "--auto-approve", "--log-format", "text"]) == 1  # refused without --allow-destroy
    capsys.readouterr()
    rc = asr(["apply", str(path), "--auto-approve", "--allow-destroy", "--log-format", "text"])
    assert rc == 0, capsys.readouterr().out
    rc, doc = plan_json(str(path), capsys)
    assert rc == 0, work(doc)


def test_cloud_policy_change_replaces_the_association_and_reenables_and_converges(applied_quickstart, capsys, tmp_path):
    import yaml

    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    data["policies"].append(dict(data["policies"][0], name="every-15-min", replicationFrequencySeconds=900))
    data["source"]["vmmServers"][0]["clouds"][0]["policy"] = "every-15-min"
    path = tmp_path / "quickstart.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    rc, doc = plan_json(str(path), capsys)
    w = work(doc)
    assert w["policy.every-15-min"]["action"] == "create"
    assert w["policy_association.vmm01/Gold"]["action"] == "replace"
    assert all(w[f"protected_vm.{n}"]["action"] == "replace" for n in ("sql01", "app01", "app02", "web01"))
    assert "recovery_plan.tier1" not in w  # same protected item names: the plan keeps pointing at them
    capsys.readouterr()
    rc = asr(["apply", str(path), "--auto-approve", "--allow-destroy", "--log-format", "text"])
    assert rc == 0, capsys.readouterr().out
    rc, doc = plan_json(str(path), capsys)
    assert rc == 0, work(doc)


def test_plan_dir_json_is_one_document(applied_quickstart, capsys, tmp_path):
    import shutil

    src = tmp_path / "in"
    src.mkdir()
    for name in ("quickstart", "multi-cloud"):
        shutil.copy(example_path(name), src / f"{name}.yaml")
    out = tmp_path / "plans"
    capsys.readouterr()
    rc = asr(["plan", str(src), "--format", "json", "--out", str(out)])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0 and doc["format"] == "asr-plan-set" and doc["failed"] == []
    assert sorted(p["vault"] for p in doc["plans"]) == ["contoso-asr-vault", "fabrikam-asr-vault"]
    assert doc["summary"]["add"] == sum(p["summary"]["add"] for p in doc["plans"]) > 0
    assert sorted(os.listdir(out)) == ["multi-cloud.plan.json", "quickstart.plan.json"]


@pytest.mark.parametrize("name", ["hyperv-site", "multi-cloud"])
def test_drift_on_the_other_examples_after_apply(emu, capsys, name):
    import yaml

    from reconciler.azure.clients import Clients

    emu.reset(estate=estate_path(name), time_scale=SCALE)
    capsys.readouterr()
    assert asr(["apply", example_path(name), "--auto-approve", "--log-format", "text"]) == 0, capsys.readouterr().out
    data = yaml.safe_load(open(example_path(name), encoding="utf-8"))
    rg, vault = data["vault"]["resourceGroup"], data["vault"]["name"]
    c = Clients(SUB)
    sr = c.site_recovery()
    items = {i.properties.friendly_name: i.as_dict() for i in sr.replication_protected_items.list(rg, vault)}

    def args(item):
        return {"resource_group_name": rg, "resource_name": vault, "fabric_name": seg(item["id"], "replicationFabrics"),
                "protection_container_name": seg(item["id"], "replicationProtectionContainers"),
                "replicated_protected_item_name": item["name"]}

    if name == "hyperv-site":
        vm, field, value = "file01", "recoveryAzureVMName", "file01-old"
        expected = {"protected_vm.file01": ("targetVmName", "file01-old", "file01")}
        sr.replication_policies.begin_update(rg, vault, "every-15-min", {"properties": {"replicationProviderSettings": {
            "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 6,
            "applicationConsistentSnapshotFrequencyInHours": 0, "replicationInterval": 900}}}, polling=False)
        done(emu)
        expected["policy.every-15-min"] = ("recoveryPointRetentionHours", 6, 12)
    else:
        vm, field, value = "sql-rtm01", "recoveryAzureVMSize", "Standard_E16s_v5"
        expected = {"protected_vm.sql-rtm01": ("size", "Standard_E16s_v5", None)}
        nm = next(m.as_dict() for m in sr.replication_network_mappings.list(rg, vault)
                  if m.properties.primary_network_friendly_name == "Dev-VMNet")
        sr.replication_network_mappings.begin_delete(rg, vault, seg(nm["id"], "replicationFabrics"),
                                                     seg(nm["id"], "replicationNetworks"), nm["name"],
                                                     polling=False)
        done(emu)
        expected["network_mapping.vmm-ams01/Dev-VMNet"] = None
    sr.replication_protected_items.begin_update(**args(items[vm]), update_protection_input={"properties": {
        field: value, "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}, polling=False)
    done(emu)
    c.close()

    rc, doc = plan_json(example_path(name), capsys)
    w = work(doc)
    assert rc == 2 and set(w) == set(expected), sorted(w)
    for address, exp in expected.items():
        ch = w[address]
        if exp is None:
            assert ch["action"] == "create"
            continue
        attr, before, after = exp
        assert ch["action"] == "update" and ch["before"][attr] == before
        if after is not None:
            assert ch["after"][attr] == after
    capsys.readouterr()
    assert asr(["apply", example_path(name), "--auto-approve", "--log-format", "text"]) == 0, capsys.readouterr().out
    rc, doc = plan_json(example_path(name), capsys)
    assert rc == 0, work(doc)

"""Protected VM target settings, declared once (reconciler/kinds/protected_vm.py), end to end against the
emulator: manifest -> apply -> live -> export -> an empty plan, and an in-place change of each updatable
setting shows as an update (not a replace)."""

from __future__ import annotations

import json

import pytest
import yaml

from reconciler.cli.main import main as asr
from reconciler.kinds import CONVERTED, NOT_CONVERTED
from reconciler.kinds import protected_vm as pvm
from reconciler.plan.model import Kind
from tests.plan.livebuilder import example_path

SUB = "00000000-0000-0000-0000-000000000001"


def test_every_kind_is_declared_or_listed_as_not_converted():
    kinds = {k.value for k in Kind}
    assert set(CONVERTED) | NOT_CONVERTED == kinds
    assert not set(CONVERTED) & NOT_CONVERTED


def test_every_field_is_either_in_place_or_a_replace_and_the_update_api_has_the_in_place_ones():
    for f in pvm.FIELDS:
        assert f.mode in ("update", "replace"), f
        assert (f.update is not None) == (f.mode == "update"), f  # in place only where the update input has it
    assert "licenseType" in pvm.UPDATABLE and "logStorageAccount" in pvm.REPLACE_FIELDS


SETTINGS = {
    "resourceGroup": "contoso-sql-rg",
    "availabilityZone": "2",
    "proximityPlacementGroup": "sql-ppg",
    "licenseType": "WindowsServer",
    "sqlServerLicenseType": "AHUB",
    "tags": {"app": "erp"},
    "diskTags": {"app": "erp-disks"},
    "nicTags": {"app": "erp-nics"},
    "diskEncryptionSet": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/keys-rg/providers/Microsoft.Compute/diskEncryptionSets/des1",
    "disks": [{"name": "sql01_disk1.vhdx", "type": "StandardSSD_LRS"}],
    "osName": "Windows Server 2022 Datacenter",
    "securityProfile": {"type": "TrustedLaunch", "integrityMonitoring": True},
    "nics": [{"staticIp": "10.10.1.10", "testStaticIp": "10.20.1.10", "testSubnet": "servers",
              "networkSecurityGroup": "sql-nsg", "publicIp": "sql-pip"}],
}


def _plan(path, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    rc = asr(["plan", str(path), "--format", "json", "--detailed-exitcode"])
    out = capsys.readouterr()
    assert rc in (0, 2), out.err
    return rc, json.loads(out.out)


def _work(doc: dict) -> dict[str, dict]:
    return {c["address"]: c for c in doc["changes"] if c["action"] != "noop"}


@pytest.fixture
def manifest(emulator, monkeypatch, tmp_path):
    from reconciler.emulator.estate import quickstart_estate

    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    est = quickstart_estate(azure=True)
    sql = next(v for c in est["vmmServers"][0]["clouds"] for v in c["vms"] if v["name"] == "sql01")
    sql["generation"] = 2  # trusted launch is for generation 2 VMs
    emulator.reset(estate=est, time_scale=600.0)
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    sql = next(v for v in data["protectedVMs"] if v["name"] == "sql01")
    sql["target"].update(SETTINGS)
    path = tmp_path / "vm-settings.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_every_setting_round_trips_through_apply_live_and_export(manifest, capsys, tmp_path):
    assert asr(["validate", str(manifest)]) == 0, capsys.readouterr()
    # NIC settings are not in the enable input (HyperVReplicaAzureEnableProtectionInput has no NICs): the plan
    # carries the enable and the NIC update after it, so one apply of the saved plan converges
    saved = tmp_path / "p.json"
    assert asr(["plan", str(manifest), "--out", str(saved)]) in (0, 2), capsys.readouterr()
    assert asr(["apply", str(saved)]) == 0, capsys.readouterr()
    rc, doc = _plan(manifest, capsys)
    assert rc == 0, _work(doc)
    after = next(c for c in doc["changes"] if c["address"] == "protected_vm.sql01")["after"]
    assert after["availabilityZone"] == "2" and after["licenseType"] == "WindowsServer"
    assert after["sqlServerLicenseType"] == "AHUB" and after["tags"] == {"app": "erp"}
    assert after["disks"] == {"sql01_disk1.vhdx": "StandardSSD_LRS"} and after["diskType"] == "Premium_LRS"
    assert after["nics"][0]["staticIp"] == "10.10.1.10" and after["nics"][0]["networkSecurityGroup"].endswith("/sql-nsg")
    assert after["nics"][0]["publicIp"].endswith("/publicIPAddresses/sql-pip") and after["nics"][0]["primary"] is True
    assert after["targetResourceGroup"].lower().endswith("/contoso-sql-rg")
    assert after["diskEncryptionSet"] == SETTINGS["diskEncryptionSet"]
    assert after["osName"] == "Windows Server 2022 Datacenter"
    assert after["securityProfile"] == {"type": "TrustedLaunch", "secureBoot": True, "vTpm": True, "integrityMonitoring": True}

    out = tmp_path / "exported.yaml"
    capsys.readouterr()
    assert asr(["export", "--subscription", SUB, "--resource-group", "contoso-dr-rg", "--vault", "contoso-asr-vault",
                "--out", str(out)]) == 0, capsys.readouterr()
    exported = yaml.safe_load(out.read_text())
    target = next(v for v in exported["protectedVMs"] if v["name"] == "sql01")["target"]
    for key, value in SETTINGS.items():
        assert target[key] == value, (key, target.get(key))
    rc, doc = _plan(out, capsys)
    assert rc == 0, _work(doc)


@pytest.mark.parametrize("key,value", [("size", "Standard_D8s_v5"), ("licenseType", "NoLicenseType"),
                                       ("tags", {"app": "erp", "tier": "db"}), ("availabilityZone", "3"),
                                       ("nics", [{"staticIp": "10.10.1.11"}])])
def test_an_in_place_setting_changes_by_update(manifest, capsys, key, value):
    assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
    data = yaml.safe_load(manifest.read_text())
    next(v for v in data["protectedVMs"] if v["name"] == "sql01")["target"][key] = value
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    rc, doc = _plan(manifest, capsys)
    assert rc == 2
    (c,) = _work(doc).values()
    assert c["action"] == "update", c
    assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(manifest, capsys)
    assert rc == 0, _work(doc)


def test_a_replace_setting_names_its_cost(manifest, capsys):
    assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
    data = yaml.safe_load(manifest.read_text())
    next(v for v in data["protectedVMs"] if v["name"] == "sql01")["target"]["disks"] = [
        {"name": "sql01_disk1.vhdx", "exclude": True}]
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    rc, doc = _plan(manifest, capsys)
    (c,) = _work(doc).values()
    assert c["action"] == "replace" and "replicatedDisks" in c["replace_fields"]
    assert "restarts initial replication" in c["note"]


def test_quickstart_example_without_log_storage_is_refused_offline(capsys, tmp_path):
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    app = next(v for v in data["protectedVMs"] if v["name"] == "app01")
    del app["target"]["logStorageAccount"]
    path = tmp_path / "no-log.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    capsys.readouterr()
    assert asr(["validate", str(path)]) == 1
    out = capsys.readouterr()
    assert "protectedVMs[1].target: logStorageAccount is required" in out.err + out.out


def test_what_azure_would_refuse_for_the_discovered_vm_is_a_manual_step(manifest, capsys):
    data = yaml.safe_load(manifest.read_text())
    t = next(v for v in data["protectedVMs"] if v["name"] == "sql01")["target"]
    t["disks"] = [{"name": "sql01_disk0.vhdx", "exclude": True}, {"name": "sql01_disk9.vhdx", "type": "Premium_LRS"}]
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    assert asr(["apply", str(manifest), "--auto-approve"]) in (0, 1)
    rc, doc = _plan(manifest, capsys)
    c = _work(doc)["protected_vm.sql01"]
    assert c["action"] == "manual" and "OS disk" in c["note"] and "no disk 'sql01_disk9.vhdx'" in c["note"]


def test_trusted_launch_needs_generation_2(emulator, monkeypatch, tmp_path, capsys):
    from reconciler.emulator.estate import quickstart_estate

    est = quickstart_estate(azure=True)
    app = next(v for c in est["vmmServers"][0]["clouds"] for v in c["vms"] if v["name"] == "app01")
    app["generation"] = 1
    emulator.reset(estate=est, time_scale=600.0)
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    next(v for v in data["protectedVMs"] if v["name"] == "app01")["target"]["securityProfile"] = {"type": "TrustedLaunch"}
    path = tmp_path / "tl.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    # app01 stays a manual step that no registration resolves: the apply that created the vault does not
    # wait the registration time (ASR_REGISTRATION_WAIT, default 20 s) for it
    monkeypatch.setenv("ASR_REGISTRATION_WAIT", "600")
    capsys.readouterr()
    asr(["apply", str(path), "--auto-approve", "--log-format", "json"])
    assert "waiting for servers to register" not in capsys.readouterr().out
    rc, doc = _plan(path, capsys)
    c = _work(doc)["protected_vm.app01"]
    assert c["action"] == "manual" and c["reason"] == "invalid_target" and "generation 2" in c["note"]


def test_the_primary_nic_of_a_vm_with_two_nics(emulator, monkeypatch, tmp_path, capsys):
    from reconciler.emulator.estate import quickstart_estate

    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    est = quickstart_estate(azure=True)
    app = next(v for c in est["vmmServers"][0]["clouds"] for v in c["vms"] if v["name"] == "app01")
    app["nics"] = [{"vmNetwork": "Corp-VMNet"}, {"vmNetwork": "Corp-VMNet"}]
    emulator.reset(estate=est, time_scale=600.0)
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    next(v for v in data["protectedVMs"] if v["name"] == "app01")["target"]["nics"] = [
        {"staticIp": "10.10.1.21"}, {"staticIp": "10.10.1.22", "primary": True}]
    path = tmp_path / "two-nics.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    # one saved plan: the enable, then the NIC update whose NIC ids the applier reads from the new item
    saved = tmp_path / "p.json"
    capsys.readouterr()
    assert asr(["plan", str(path), "--out", str(saved)]) == 0, capsys.readouterr()
    text = capsys.readouterr().out
    assert "request 2 of 2 (replication_protected_items.begin_update) is sent once request 1 ended" in text
    assert "selectedSourceNicId <- the nicId of the item's NIC number 2 (declared primary)" in text
    change = next(c for c in json.loads(saved.read_text())["changes"] if c["address"] == "protected_vm.app01")
    assert change["action"] == "create"
    enable, update = change["requests"]
    assert (enable["operation"], update["operation"]) == ("site_recovery.replication_protected_items.begin_create",
                                                          "site_recovery.replication_protected_items.begin_update")
    body = update["args"]["update_protection_input"]["properties"]
    assert body["vmNics"]["$resolve"] == "protectedItem.vmNics"
    assert [n.get("staticIp") for n in body["vmNics"]["nics"]] == ["10.10.1.21", "10.10.1.22"]
    assert body["selectedSourceNicId"] == {"$resolve": "protectedItem.primaryNicId", "index": 1}
    assert update["args"]["replicated_protected_item_name"] == enable["args"]["replicated_protected_item_name"]
    assert asr(["apply", str(saved)]) == 0, capsys.readouterr()
    rc, doc = _plan(path, capsys)
    assert rc == 0, _work(doc)
    nics = next(c for c in doc["changes"] if c["address"] == "protected_vm.app01")["after"]["nics"]
    assert [(n["staticIp"], n["primary"]) for n in nics] == [("10.10.1.21", False), ("10.10.1.22", True)]
    out = tmp_path / "exported.yaml"
    capsys.readouterr()
    assert asr(["export", "--subscription", SUB, "--resource-group", "contoso-dr-rg", "--vault", "contoso-asr-vault",
                "--out", str(out)]) == 0, capsys.readouterr()
    exported = yaml.safe_load(out.read_text())
    assert next(v for v in exported["protectedVMs"] if v["name"] == "app01")["target"]["nics"] == [
        {"staticIp": "10.10.1.21"}, {"staticIp": "10.10.1.22", "primary": True}]
    rc, doc = _plan(out, capsys)
    assert rc == 0, _work(doc)


def test_the_test_failover_network_is_compared_updated_in_place_and_exported(manifest, capsys, tmp_path, emulator):
    """A VM whose NICs have test failover settings fails over for tests into target.testNetwork: the update's
    selectedTfoAzureNetworkId, read back per NIC as vmNics[].tfoVMNetworkId. A change of it (in the manifest or
    in Azure) is an in-place update; export writes it as target.testNetwork."""
    data = yaml.safe_load(manifest.read_text())
    data["target"]["networks"].append({"name": "corp-test2-vnet", "addressSpace": ["10.20.0.0/16"],
                                       "subnets": [{"name": "servers", "addressPrefix": "10.20.1.0/24"}]})
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(manifest, capsys)
    assert rc == 0, _work(doc)
    sql = next(c for c in doc["changes"] if c["address"] == "protected_vm.sql01")
    assert sql["after"]["testNetwork"].endswith("/virtualNetworks/corp-test-vnet")
    web = next(c for c in doc["changes"] if c["address"] == "protected_vm.web01")
    assert web["after"]["testNetwork"] is None  # no NIC test settings: left as Azure holds it (none)

    # export: two networks no production failover uses, the VM's test failover network decides
    out = tmp_path / "exported.yaml"
    assert asr(["export", "--subscription", SUB, "--resource-group", "contoso-dr-rg", "--vault", "contoso-asr-vault",
                "--out", str(out)]) == 0, capsys.readouterr()
    assert yaml.safe_load(out.read_text())["target"]["testNetwork"] == "corp-test-vnet"
    rc, doc = _plan(out, capsys)
    assert rc == 0, _work(doc)

    # the manifest moves the test network: an update in place of the VM (and nothing else)
    data["target"]["testNetwork"] = "corp-test2-vnet"
    manifest.write_text(yaml.safe_dump(data, sort_keys=False))
    rc, doc = _plan(manifest, capsys)
    (c,) = _work(doc).values()
    assert c["address"] == "protected_vm.sql01" and c["action"] == "update" and "testNetwork" in c["note"], c
    body = c["requests"][0]["args"]["update_protection_input"]["properties"]
    assert body["selectedTfoAzureNetworkId"].endswith("/virtualNetworks/corp-test2-vnet")
    assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(manifest, capsys)
    assert rc == 0, _work(doc)
    out2 = tmp_path / "exported2.yaml"
    assert asr(["export", "--subscription", SUB, "--resource-group", "contoso-dr-rg", "--vault", "contoso-asr-vault",
                "--out", str(out2)]) == 0, capsys.readouterr()
    assert yaml.safe_load(out2.read_text())["target"]["testNetwork"] == "corp-test2-vnet"

    # someone points it elsewhere in Azure (here: an apply of another manifest): drift, shown and corrected in place
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump({**data, "target": {**data["target"], "testNetwork": "corp-test-vnet"}}, sort_keys=False))
    assert asr(["apply", str(other), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(manifest, capsys)
    (c,) = _work(doc).values()
    assert c["action"] == "update" and c["before"]["testNetwork"].endswith("/corp-test-vnet"), c
    assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(manifest, capsys)
    assert rc == 0, _work(doc)


def test_export_leaves_the_os_type_out():
    """T-007: the OS type Azure reads is a discovery or an override alike; exported, it would declare a replace-only
    setting nobody chose. Left out, the plan compares nothing for it."""
    live = pvm.live_attrs({"oSDetails": {"osType": "Linux"}, "recoveryAzureVmName": "vm1"})
    assert live["osType"] == "Linux"
    assert "osType" not in pvm.export_target("vm1", live, "rg")


def test_more_nics_than_the_vm_has_is_a_clear_failure_then_a_manual_step(emulator, monkeypatch, tmp_path, capsys):
    """The NIC count is known only once Site Recovery protects the VM: a new VM's NIC update refuses, naming the
    counts (nothing half-sent), and the next plan shows a manual step instead of an update that never converges."""
    from reconciler.emulator.estate import quickstart_estate

    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    emulator.reset(estate=quickstart_estate(azure=True), time_scale=600.0)
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    next(v for v in data["protectedVMs"] if v["name"] == "app01")["target"]["nics"] = [
        {"staticIp": "10.10.1.21"}, {"staticIp": "10.10.1.22"}]
    path = tmp_path / "two-nics.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    capsys.readouterr()
    assert asr(["apply", str(path), "--auto-approve"]) == 1
    err = capsys.readouterr().err
    assert "protected_vm.app01" in err and "target.nics declares 2 NICs, and Site Recovery lists 1" in err, err
    rc, doc = _plan(path, capsys)
    c = _work(doc)["protected_vm.app01"]
    assert c["action"] == "manual" and c["requests"] == [], c
    assert "declare at most 1" in c["note"]


# quickstart's VM target settings, each removed or changed: what validates applies without a refusal from Azure
VARIANTS = {
    "no vmName": ("sql01", "vmName", None), "no size": ("sql01", "size", None),
    "no zone": ("sql01", "availabilityZone", None), "no licence": ("sql01", "licenseType", None),
    "no SQL licence": ("sql01", "sqlServerLicenseType", None), "no tags": ("sql01", "tags", None),
    "no excluded disk": ("app02", "disks", None), "constrained vCPU size": ("sql01", "size", "Standard_M8-2ms"),
    "Basic size": ("app01", "size", "Basic_A1"), "PAYG SQL": ("sql01", "sqlServerLicenseType", "PAYG"),
    "own resource group": ("app01", "resourceGroup", "app-rg"), "availability set": ("app01", "availabilitySet", "app-avset"),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_quickstart_variant_that_validates_applies(name, emulator, monkeypatch, tmp_path, capsys):
    from reconciler.emulator.estate import quickstart_estate

    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    vm, key, value = VARIANTS[name]
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    target = next(v for v in data["protectedVMs"] if v["name"] == vm)["target"]
    target.pop(key) if value is None else target.__setitem__(key, value)
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert asr(["validate", str(path)]) == 0, capsys.readouterr()
    emulator.reset(estate=quickstart_estate(azure=True), time_scale=600.0)
    assert asr(["apply", str(path), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(path, capsys)
    assert rc == 0, _work(doc)


@pytest.mark.parametrize("size", ["standard_D4s_v5", "STANDARD_D4s_v5", "D4s_v5"])
def test_a_vm_size_azure_refuses_is_caught_by_validate(size, tmp_path, capsys):
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    next(v for v in data["protectedVMs"] if v["name"] == "sql01")["target"]["size"] = size
    path = tmp_path / "size.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    capsys.readouterr()
    assert asr(["validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:" in err and "target.size" in err and "did you mean 'Standard_D4s_v5'?" in err, err

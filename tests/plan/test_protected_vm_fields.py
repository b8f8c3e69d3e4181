"""Protected VM target settings, declared once (reconciler/kinds/protected_vm.py), end to end against the
emulator: manifest -> apply -> live -> export -> an empty plan, and an in-place change of each updatable
setting shows as an update (not a replace)."""

from __future__ import annotations

import json

import pytest
import yaml
from livebuilder import example_path

from reconciler.cli.main import main as asr
from reconciler.kinds import CONVERTED, NOT_CONVERTED
from reconciler.kinds import protected_vm as pvm
from reconciler.plan.model import Kind

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
    assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(manifest, capsys)
    # NIC settings are not in the enable input (HyperVReplicaAzureEnableProtectionInput has no NICs): the first
    # apply enables, and the update that sets them is what the next plan shows, once
    if rc == 2:
        assert set(_work(doc)) == {"protected_vm.sql01"} and _work(doc)["protected_vm.sql01"]["action"] == "update"
        assert asr(["apply", str(manifest), "--auto-approve"]) == 0, capsys.readouterr()
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
    asr(["apply", str(manifest), "--auto-approve"])
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
    asr(["apply", str(manifest), "--auto-approve"])
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
    # app01 stays a manual step: the apply that created the vault would re-plan for the default 20 s
    # in case it is a server still registering (the estate's servers register at once)
    monkeypatch.setenv("ASR_REGISTRATION_WAIT", "1")
    asr(["apply", str(path), "--auto-approve"])
    rc, doc = _plan(path, capsys)
    c = _work(doc)["protected_vm.app01"]
    assert c["action"] == "manual" and "generation 2" in c["note"]


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
    assert asr(["apply", str(path), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = _plan(path, capsys)
    if rc == 2:
        assert asr(["apply", str(path), "--auto-approve"]) == 0, capsys.readouterr()
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

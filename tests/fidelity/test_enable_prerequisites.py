"""What Azure refuses in the enable job's prerequisites check rather than with a 400
(Hyper-V to Azure support matrix, "Azure VM requirements": "Prerequisites check fails
if unsupported"), and `asr validate` applying the same VM-name rule offline
(docs/fidelity.md F-052, F-053, F-060..F-066)."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from tests.fidelity.helpers import RG, SLACK, V, associate, estate, get, powershell_enable_body, protectables, vmm_tree

CASES = [
    # (id, estate overrides, VM, enable overrides, expected job error code)
    ("F-060 name", {}, "app01", {"vm_name": "app01_dr"}, "AzureVmNameInvalid"),
    ("F-060 name 64", {}, "app01", {"vm_name": "a" * 64}, "AzureVmNameInvalid"),
    ("F-060 name ends with hyphen", {}, "app01", {"vm_name": "app01-"}, "AzureVmNameInvalid"),
    ("F-061 gen2 OS disk", {"app01": {"disksGB": [301], "generation": 2}}, "app01", {}, "OsDiskSizeNotSupported"),
    ("F-061 gen1 OS disk", {"app01": {"disksGB": [2049], "generation": 1}}, "app01", {}, "OsDiskSizeNotSupported"),
    ("F-062 data disk count", {"app01": {"disksGB": [127] + [8] * 17}}, "app01", {}, "DataDiskCountNotSupported"),
    ("F-063 data disk size", {"app01": {"disksGB": [127, 4096]}}, "app01", {}, "DataDiskSizeNotSupported"),
    ("F-064 gen2 Linux", {"web01": {"generation": 2}}, "web01", {}, "Generation2LinuxNotSupported"),
    ("F-066 vhdId a data disk", {}, "sql01", {"data_disk_as_os": True}, "OsDiskNotSelected"),
]
ACCEPTED = [
    ("F-060 name 63", {}, "app01", {"vm_name": "a" * 63}),
    ("F-060 long Windows name", {}, "app01", {"vm_name": "app01-disaster-recovery"}),
    ("F-061 gen1 OS disk 2048", {"app01": {"disksGB": [2048], "generation": 1}}, "app01", {}),
    ("F-061 gen2 OS disk 300", {"app01": {"disksGB": [300], "generation": 2}}, "app01", {}),
    ("F-062 16 data disks of 4095 GB", {"app01": {"disksGB": [127] + [4095] * 16}}, "app01", {}),
]


def _setup(emulator, clients, overrides):
    emulator.reset(estate=estate(**overrides), time_scale=600)
    emulator.advance(60)
    sr = clients.site_recovery()
    fabric, container = vmm_tree(sr)
    pol_id = associate(emulator, sr, container)
    return sr, fabric, container, pol_id


def _body(pol_id, pi, opts):
    disks = pi["properties"]["customDetails"]["diskDetails"]
    vhd = next(d["vhdId"] for d in disks if d["vhdType"] == "Data") if opts.get("data_disk_as_os") else None
    return powershell_enable_body(pol_id, pi, vhd_id=vhd, vm_name=opts.get("vm_name"))


@pytest.mark.parametrize("case,overrides,vm,opts,code", CASES, ids=[c[0] for c in CASES])
def test_unsupported_vm_fails_the_enable_jobs_prerequisites_check(emulator, clients, case, overrides, vm, opts, code):
    sr, fabric, container, pol_id = _setup(emulator, clients, overrides)
    pi = protectables(sr, fabric, container)[vm]
    # accepted synchronously (F-065): the PUT is a 202 and the item appears, enabling
    poller = sr.replication_protected_items.begin_create(RG, V, fabric["name"], container["name"], pi["name"],
                                                          _body(pol_id, pi, opts), polling_interval=0.05)
    with pytest.raises(HttpResponseError) as ei:
        poller.result(timeout=60)
    # F-052: the LRO fails with the job's error; details carry possibleCauses / recommendedAction
    err = ei.value.error
    assert err.code == code
    (detail,) = err.details
    assert detail.code == code
    raw_detail = ei.value.response.json()
    raw_detail = (raw_detail.get("error") or raw_detail)["details"][0]
    assert raw_detail["possibleCauses"] and raw_detail["recommendedAction"]
    # F-065: the EnableDr job failed in its first task; the later tasks never started
    (job,) = [j for j in get(sr, f"{fabric['id'].split('/replicationFabrics/')[0]}/replicationJobs")["value"]
              if j["properties"]["scenarioName"] == "EnableDr"]
    p = job["properties"]
    assert (p["state"], p["allowedActions"]) == ("Failed", ["Restart"])
    assert p["tasks"][0]["name"] == "EnableProtectionPrerequisitesCheck" and p["tasks"][0]["state"] == "Failed"
    assert {t["state"] for t in p["tasks"][1:]} == {"NotStarted"}
    # F-053: the job's errors[]: serviceErrorDetails with code, message, possibleCauses, recommendedAction
    (je,) = p["errors"]
    sed = je["serviceErrorDetails"]
    assert sed["code"] == code and sed["message"] and sed["possibleCauses"] and sed["recommendedAction"]
    assert je["taskId"] == p["tasks"][0]["taskId"] and je["errorLevel"] == "Error"
    # rolled back: no item, the VM is still Unprotected
    assert list(sr.replication_protected_items.list(RG, V)) == []
    assert protectables(sr, fabric, container)[vm]["properties"]["protectionStatus"] == "Unprotected"


@pytest.mark.parametrize("case,overrides,vm,opts", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_supported_limits_pass_the_prerequisites_check(emulator, clients, case, overrides, vm, opts):
    sr, fabric, container, pol_id = _setup(emulator, clients, overrides)
    pi = protectables(sr, fabric, container)[vm]
    sr.replication_protected_items.begin_create(RG, V, fabric["name"], container["name"], pi["name"],
                                                _body(pol_id, pi, opts), polling=False)
    emulator.advance(SLACK)
    (job,) = [j for j in sr.replication_jobs.list(RG, V) if j.properties.scenario_name == "EnableDr"]
    assert job.properties.state == "Succeeded"


@pytest.mark.parametrize("name,ok", [
    ("app01-dr", True), ("a" * 63, True), ("app01-disaster-recovery", True), ("9lives", True),
    ("a" * 64, False), ("app01_dr", False), ("app01.dr", False), ("app01-", False), ("-app01", False), ("", False),
])
def test_validate_and_emulator_share_the_vm_name_rule(name, ok):
    """F-060: `asr validate` (reconciler/manifest/naming.py) and the emulator's prerequisites check"""
    from reconciler.emulator.siterecovery.service import AZURE_VM_NAME_RE
    from reconciler.manifest import naming

    assert bool(naming.VM.match(name)) is ok
    assert bool(AZURE_VM_NAME_RE.match(name)) is ok


def test_validate_reports_a_name_the_enable_job_would_refuse(tmp_path, capsys):
    """F-060: offline, with FILE:LINE:COL, E3006; a long (23-character) Windows name is fine"""
    from pathlib import Path

    from reconciler.cli.main import main as asr

    good = Path(__file__).with_name("long-vm-name.yaml")
    assert asr(["validate", str(good)]) == 0
    assert "valid" in capsys.readouterr().out
    bad = tmp_path / "m.yaml"
    bad.write_text(good.read_text().replace("vmName: sql01-disaster-recovery", "vmName: sql01_dr"))
    assert asr(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:54:15: error: protectedVMs[0].target.vmName: 'sql01_dr' is not a valid name for the Azure VM" in err

"""How Azure marks the OS disk and how asr chooses vhdId from that marking, not from
the disk's position (docs/fidelity.md F-012, F-013, F-066)."""

from __future__ import annotations

from pathlib import Path

from tests.fidelity.helpers import RG, V, estate, get, protectables, vmm_tree

REPO = Path(__file__).resolve().parents[2]


def _pi(*disks):
    return {"name": "vm", "properties": {"customDetails": {"diskDetails": [
        {"vhdId": vid, "vhdType": kind, "maxSizeMB": 1024} for vid, kind in disks]}}}


def test_os_disk_id_follows_the_marking():
    """F-013"""
    from reconciler.plan.requests import os_disk_id

    assert os_disk_id(_pi(("d0", "Data"), ("d1", "OperatingSystem"))) == "d1"
    assert os_disk_id(_pi(("d0", "OperatingSystem"), ("d1", "Data"))) == "d0"
    assert os_disk_id(_pi(("d0", "operatingsystem"))) == "d0"  # compared as PowerShell does: ignoring case
    # TestEnableDR.json: a VM whose OS was not discovered has its one disk marked Data; PowerShell sent it
    assert os_disk_id(_pi(("d0", "Data"))) == "d0"
    # several disks, none marked: the position says nothing
    assert os_disk_id(_pi(("d0", "Data"), ("d1", "Data"))) is None
    assert os_disk_id(_pi(("d0", "OperatingSystem"), ("d1", "OperatingSystem"))) is None


def test_apply_enables_with_the_marked_os_disk_when_it_is_not_first(emulator, monkeypatch, capsys):
    """F-012 F-013 F-017 F-066: sql01's OS disk is its second disk; asr's enable sends that disk
    as vhdId (the emulator fails the prerequisites check of an enable whose vhdId is a data disk)"""
    from reconciler.azure.clients import Clients
    from reconciler.cli.main import main as asr

    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    emulator.reset(estate=estate(sql01={"disksGB": [512, 127], "osDisk": 1}), time_scale=600)
    rc = asr(["apply", str(REPO / "examples" / "quickstart.yaml"), "--auto-approve", "--log-format", "text"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "0 failed" in out
    c = Clients("00000000-0000-0000-0000-000000000001")
    try:
        sr = c.site_recovery()
        fabric, container = vmm_tree(sr)
        pi = protectables(sr, fabric, container)["sql01"]
        os_disk = [d for d in pi["properties"]["customDetails"]["diskDetails"] if d["vhdType"] == "OperatingSystem"]
        assert [d["maxSizeMB"] for d in os_disk] == [127 * 1024]
        assert pi["properties"]["protectionStatus"] == "Protected"  # F-017 (unconfirmed)
        item = get(sr, pi["properties"]["replicationProtectedItemId"])
        disks = item["properties"]["providerSpecificDetails"]["azureVmDiskDetails"]
        assert [(d["vhdId"], d["vhdType"]) for d in disks if d["vhdType"] == "OperatingSystem"] == [(os_disk[0]["vhdId"],
                                                                                                       "OperatingSystem")]
        (job,) = [j for j in sr.replication_jobs.list(RG, V) if j.properties.scenario_name == "EnableDr"
                  and j.properties.target_object_name == "sql01"]
        assert job.properties.state == "Succeeded"
    finally:
        c.close()


def _plan_with_disks(mark):
    """The quickstart planned on a hand-built live state whose sql01 disks carry `mark`."""
    import sys

    sys.path.insert(0, str(REPO / "tests" / "plan"))
    from livebuilder import Builder

    from reconciler.manifest import load_manifest
    from reconciler.plan import make_plan

    m = load_manifest(str(REPO / "examples" / "quickstart.yaml"))
    b = Builder(m).azure_resources().register({"vmm01/Gold": [
        ("sql01", "Windows", [512, 127]), ("app01", "Windows", [127]), ("app02", "Windows", [127]),
        ("web01", "Linux", [64])]})
    live = b.build()
    for items in live.protectable_items.values():
        for it in items:
            if it["properties"]["friendlyName"] == "sql01":
                for d, kind in zip(it["properties"]["customDetails"]["diskDetails"], mark, strict=True):
                    d["vhdType"] = kind
    return make_plan(m, live, "q.yaml").by_address()["protected_vm.sql01"], live


def test_plan_sends_the_marked_disk_and_stops_when_none_is_marked():
    """F-013: the planner's enable request; several disks and no marking: a manual step, no guess"""
    from reconciler.plan.model import Action

    c, live = _plan_with_disks(["Data", "OperatingSystem"])
    assert c.action == Action.CREATE
    psd = c.requests[0].args["input"]["properties"]["providerSpecificDetails"]
    (sql,) = [it for items in live.protectable_items.values() for it in items if it["properties"]["friendlyName"] == "sql01"]
    assert psd["vhdId"] == sql["properties"]["customDetails"]["diskDetails"][1]["vhdId"]
    assert psd["disksToInclude"] == [d["vhdId"] for d in sql["properties"]["customDetails"]["diskDetails"]]
    c, _ = _plan_with_disks(["Data", "Data"])
    assert c.action == Action.MANUAL and c.requests == []
    assert "none of the 2 disks of VM sql01" in c.note and "OperatingSystem" in c.note


def test_plan_warns_of_what_the_prerequisites_check_will_refuse():
    """F-061 F-063: the plan names what the enable job would fail on, from the discovered VM"""
    import sys

    sys.path.insert(0, str(REPO / "tests" / "plan"))
    from livebuilder import Builder

    from reconciler.manifest import load_manifest
    from reconciler.plan import make_plan

    m = load_manifest(str(REPO / "examples" / "quickstart.yaml"))
    live = Builder(m).azure_resources().register({"vmm01/Gold": [
        ("sql01", "Windows", [127, 5000]), ("app01", "Windows", [127]), ("app02", "Windows", [127]),
        ("web01", "Linux", [64])]}).build()
    for items in live.protectable_items.values():
        for it in items:
            if it["properties"]["friendlyName"] == "app01":
                it["properties"]["customDetails"]["generation"] = "2"
                it["properties"]["customDetails"]["diskDetails"][0]["maxSizeMB"] = 400 * 1024
    plan = make_plan(m, live, "q.yaml")
    text = "\n".join(plan.warnings)
    assert "protected_vm.sql01: Azure's enable prerequisites check will fail: its data disk" in text and "5000 GB" in text
    assert "protected_vm.app01: Azure's enable prerequisites check will fail: its OS disk has 400 GB" in text
    assert "app02" not in text and "web01" not in text

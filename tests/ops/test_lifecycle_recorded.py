"""End to end, through the CLI, against the emulator as Azure's recordings show the
failover lifecycle (docs/fidelity.md, "Failover lifecycle"):

- after a drill (test failover job Suspended until its cleanup, items MarkedForDeletion
  afterwards) the VMs are still managed: a size change is planned as an update and applied;
- a test failover state or a job state no recording shows is shown as it is and never
  freezes the planner or hangs a command (values injected with the emulator's overlay hook);
- the other recorded behaviour (PowerShell's TestTFO.json: the test failover job ends
  Succeeded) works as well.
"""

from __future__ import annotations

import json
import os

from tests.ops.conftest import EXAMPLES
from tests.ops.helpers import asr

QS = os.path.join(EXAMPLES, "quickstart.yaml")
SUB = "00000000-0000-0000-0000-000000000001"


def status(capsys, path=QS):
    code, out, err = asr(capsys, "status", path, "--format", "json")
    assert code == 0, err
    return {r["vm"]: r for r in json.loads(out)["vms"]}


def resized(tmp_path, vm: str, size: str) -> str:
    text = open(QS, encoding="utf-8").read()
    head, sep, rest = text.partition(f"  - name: {vm}\n")
    assert sep, vm
    block, nxt, tail = rest.partition("  - name: ")
    import re

    block = re.sub(r"size: \S+", f"size: {size}", block, count=1)
    path = tmp_path / "quickstart.yaml"
    path.write_text(head + sep + block + nxt + tail, encoding="utf-8")
    return str(path)


def plan_change(capsys, path: str, address: str) -> dict:
    code, out, err = asr(capsys, "plan", path, "--format", "json")
    assert code in (0, 2), err
    return next(c for c in json.loads(out)["changes"] if c["address"] == address)


def live_size(vm: str) -> str:
    from reconciler.azure.clients import Clients

    sr = Clients(SUB).site_recovery()
    it = next(i for i in sr.replication_protected_items.list("contoso-dr-rg", "contoso-asr-vault")
              if i.properties.friendly_name == vm)
    return it.as_dict()["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"]


def test_after_a_drill_a_size_change_is_planned_and_applied(protected, capsys, tmp_path):
    code, out, err = asr(capsys, "drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json")
    assert code == 0, out + err
    rep = json.loads(out)
    assert rep["failover_job_state"] == "Suspended" and rep["cleanup_state"] == "succeeded"
    assert 0 < rep["recovery_time_seconds"] and all(v["recovered_seconds"] > 0 for v in rep["vms"])
    assert {r["test_failover_state"] for r in status(capsys).values()} == {"MarkedForDeletion"}

    path = resized(tmp_path, "sql01", "Standard_D8s_v5")
    c = plan_change(capsys, path, "protected_vm.sql01")
    assert (c["action"], c["reason"]) != ("noop", "in_failover"), c
    assert c["action"] == "update", c
    code, out, err = asr(capsys, "apply", path, "--auto-approve")
    assert code == 0, out + err
    assert live_size("sql01") == "Standard_D8s_v5"
    assert plan_change(capsys, path, "protected_vm.sql01")["action"] == "noop"


def test_a_test_failover_state_nobody_recorded_is_shown_and_freezes_nothing(protected, capsys, tmp_path):
    protected.overlay(protected_item="app02", properties={"testFailoverState": "SomeStateNobodyRecorded",
                                                         "testFailoverStateDescription": "?"})
    assert status(capsys)["app02"]["test_failover_state"] == "SomeStateNobodyRecorded"
    path = resized(tmp_path, "app02", "Standard_D4s_v5")
    c = plan_change(capsys, path, "protected_vm.app02")
    assert c["action"] == "update", c
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "app02", "--yes")
    assert code == 0, out + err  # the item's allowedOperations decide, not the unknown value


def test_a_job_state_nobody_recorded_ends_the_wait_and_is_shown(protected, capsys):
    protected.overlay(job_scenario="TestFailover", properties={
        "state": "SomethingNew", "stateDescription": "SomethingNew", "endTime": "2026-12-06T00:00:00Z"})
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "web01", "--yes")
    assert code == 1 and "SomethingNew" in err, out + err


def test_test_failover_job_that_ends_succeeded_works_too(protected, capsys):
    """PowerShell's recording (TestTFO.json, 2021) shows the job Succeeded (L-005)."""
    protected.set_faults("tfojob=succeeded")
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "sql01", "--yes")
    assert code == 0 and "sql01: ok" in out, out + err
    code, out, err = asr(capsys, "failover", "cleanup", QS, "--vm", "sql01", "--yes")
    assert code == 0, out + err
    code, out, err = asr(capsys, "drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json")
    assert code == 0, out + err
    rep = json.loads(out)
    assert rep["failover_job_state"] == "Succeeded" and rep["cleanup_state"] == "succeeded"


def test_test_failover_reports_time_from_the_suspended_jobs_tasks(protected, capsys):
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "sql01", "--yes", "--format", "json")
    assert code == 0, out + err
    doc = json.loads(out)
    vm = doc["vms"][0]
    assert vm["ok"] and vm["job_state"] == "Suspended"
    # the job has no endTime while it waits; its last task's end gives the time
    assert vm["ended_at"] and not vm["ended_at"].startswith("0001") and 0 < vm["duration_seconds"] < 3600


def test_a_job_state_nobody_recorded_without_end_time_ends_when_its_tasks_do(protected, capsys):
    protected.overlay(job_scenario="TestFailover", properties={"state": "WaitingForSomethingNew",
                                                              "stateDescription": "WaitingForSomethingNew"})
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "web01", "--yes")
    assert code == 1 and "WaitingForSomethingNew" in err, out + err

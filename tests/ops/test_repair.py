"""`asr repair` on the emulator: resynchronise an unhealthy VM's replication
(repairReplication) and resolve health errors (resolveHealthErrors); refused, naming the
reason, where Azure does not offer them (docs/fidelity.md J-009)."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import asr, protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")


def _estate(health: dict[str, str]) -> dict:
    with open(os.path.join(EXAMPLES, "estates", "quickstart.yaml"), encoding="utf-8") as fh:
        est = yaml.safe_load(fh)
    for server in est.get("vmmServers") or []:
        for cloud in server.get("clouds") or []:
            for vm in cloud.get("vms") or []:
                if vm["name"] in health:
                    vm["replicationHealth"] = health[vm["name"]]
    return est


@pytest.fixture
def unhealthy(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    emulator.reset(estate=_estate({"sql01": "Critical", "app01": "Warning"}), time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    return emulator


def vm_status(capsys, vm):
    code, out, err = asr(capsys, "status", QS, "--format", "json")
    return next(r for r in json.loads(out)["vms"] if r["vm"] == vm)


def test_repair_resyncs_an_unhealthy_vm_and_refuses_a_healthy_one(unhealthy, capsys):
    code, out, err = asr(capsys, "repair", QS, "--vm", "web01", "--yes")
    assert code == 1 and "web01: Azure does not offer a resync now" in err
    code, out, err = asr(capsys, "repair", QS, "--vm", "sql01", "--yes")
    assert code == 0, out + err
    assert "Started resync of sql01" in out and "sql01: repairReplication ok" in out
    st = vm_status(capsys, "sql01")
    assert st["replication_health"] == "Normal"


def test_repair_health_errors(unhealthy, capsys):
    assert vm_status(capsys, "app01")["replication_health"] == "Warning"
    code, out, err = asr(capsys, "repair", QS, "--vm", "app01", "--health-errors", "--yes")
    assert code == 0, out + err
    assert "asked Azure to resolve 1 health error(s): 3:78122" in out
    assert vm_status(capsys, "app01")["replication_health"] == "Normal"
    code, out, err = asr(capsys, "repair", QS, "--vm", "app01", "--health-errors", "--yes")
    assert code == 1 and "has no health errors to resolve" in err

"""Recovery plan group actions declared in the manifest (`groups[].before` / `after`:
manual, script, runbook) end to end on the emulator: planned, applied (read-modify-write:
an action made outside asr is kept and listed unmanaged), converged, exported and read back."""

from __future__ import annotations

import json
import os

import yaml

from reconciler.azure.clients import Clients
from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import JOB_SLACK, asr, protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")
SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
AA = f"/subscriptions/{SUB}/resourceGroups/contoso-ops-rg/providers/Microsoft.Automation/automationAccounts/aa1"

ACTIONS = """
        before:
          - name: stop-app-tier
            script: {path: "\\\\\\\\vmm01\\\\MSSCVMMLibrary\\\\RPScripts\\\\stop.ps1", timeout: 600}
        after:
          - name: check-sql
            manual: "Check that SQL Server answers on the listener"
            failoverTypes: [TestFailover, PlannedFailover]
          - name: switch-dns
            runbook: {automationAccount: AA_ID, runbook: Switch-Dns, timeout: 600}
""".replace("AA_ID", AA)


def with_actions(tmp_path) -> str:
    text = open(QS, encoding="utf-8").read()
    anchor = "      - vms: [sql01]\n"
    assert anchor in text
    path = tmp_path / "quickstart.yaml"
    path.write_text(text.replace(anchor, anchor + ACTIONS.lstrip("\n"), 1), encoding="utf-8")
    return str(path)


def live_groups():
    c = Clients(SUB)
    try:
        return c.site_recovery().replication_recovery_plans.get(RG, V, "tier1").as_dict()["properties"]["groups"]
    finally:
        c.close()


def test_declared_actions_apply_converge_keep_outside_ones_and_export(emulator, capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    path = with_actions(tmp_path)
    code, out, err = asr(capsys, "validate", path)
    assert code == 0, err

    # an action made in the portal, on the second group
    groups = live_groups()
    boot = [g for g in groups if g["groupType"] == "Boot"]
    boot[1]["startGroupActions"] = [{"actionName": "portal-note", "failoverTypes": ["TestFailover"],
                                     "failoverDirections": ["PrimaryToRecovery"],
                                     "customDetails": {"instanceType": "ManualActionDetails", "description": "portal"}}]
    c = Clients(SUB)
    c.site_recovery().replication_recovery_plans.begin_update(RG, V, "tier1", {"properties": {"groups": groups}},
                                                              polling=False)
    emulator.advance(JOB_SLACK)  # its update job ends in simulated time (no poller sleeping its Retry-After)
    c.close()

    code, out, err = asr(capsys, "plan", path, "--format", "json")
    assert code == 0, err
    plan = json.loads(out)
    ch = next(c for c in plan["changes"] if c["address"] == "recovery_plan.tier1")
    assert ch["action"] == "update", ch
    assert any(u.get("part", "").endswith("portal-note") for u in plan.get("unmanaged") or []), plan.get("unmanaged")

    code, out, err = asr(capsys, "apply", path, "--auto-approve")
    assert code == 0, out + err
    boot = [g for g in live_groups() if g["groupType"] == "Boot"]
    start = boot[0]["startGroupActions"]
    assert [a["actionName"] for a in start] == ["stop-app-tier"]
    assert start[0]["customDetails"] == {"instanceType": "ScriptActionDetails", "fabricLocation": "Primary",
                                         "path": "\\\\vmm01\\MSSCVMMLibrary\\RPScripts\\stop.ps1", "timeout": "600"}
    assert start[0]["failoverDirections"] == ["RecoveryToPrimary"]
    end = {a["actionName"]: a for a in boot[0]["endGroupActions"]}
    assert end["check-sql"]["failoverTypes"] == ["TestFailover", "PlannedFailover"]
    assert end["check-sql"]["customDetails"]["description"] == "Check that SQL Server answers on the listener"
    assert end["switch-dns"]["customDetails"]["runbookId"] == f"{AA}/runbooks/Switch-Dns"
    assert end["switch-dns"]["failoverDirections"] == ["PrimaryToRecovery"]
    assert [a["actionName"] for a in boot[1]["startGroupActions"]] == ["portal-note"]  # kept

    code, out, err = asr(capsys, "plan", path, "--detailed-exitcode")
    assert code == 0, out + err  # converged

    # a changed text is an update of the plan
    changed = tmp_path / "changed.yaml"
    changed.write_text(open(path, encoding="utf-8").read().replace("answers on the listener", "answers"), encoding="utf-8")
    code, out, err = asr(capsys, "plan", str(changed), "--format", "json")
    ch = next(c for c in json.loads(out)["changes"] if c["address"] == "recovery_plan.tier1")
    assert ch["action"] == "update", ch

    # export writes them back; the exported manifest plans no change
    code, out, err = asr(capsys, "export", "--subscription", SUB, "--resource-group", RG, "--vault", V)
    assert code == 0, err
    doc = yaml.safe_load(out)
    g0 = doc["recoveryPlans"][0]["groups"][0]
    assert g0["after"][1] == {"name": "switch-dns", "runbook": {"automationAccount": AA, "runbook": "Switch-Dns",
                                                                "timeout": 600}}
    assert g0["before"][0]["script"]["timeout"] == 600
    assert doc["recoveryPlans"][0]["groups"][1]["before"][0]["name"] == "portal-note"
    exported = tmp_path / "exported.yaml"
    exported.write_text(out, encoding="utf-8")
    code, out, err = asr(capsys, "validate", str(exported))
    assert code == 0, err

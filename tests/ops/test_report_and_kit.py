"""Drill timings from job tasks, report renderers (parsed back), and the offline parts
of the registration kit."""

from __future__ import annotations

import json
import os
import stat

import pytest

from reconciler.errors import UsageError
from reconciler.ops.drill import DrillReport, GroupResult, VmResult, group_end_times, vm_end_times
from reconciler.ops.jobs import JobView
from reconciler.ops.report import render_drill
from reconciler.ops.states import ItemState
from reconciler.ops.vaultcreds import Proxy, credentials_xml, hyperv_script, make_certificate, vmm_script, write_secret
from tests.ops.conftest import item_json


def _job(tasks, start="2026-01-01T00:00:00Z", end="2026-01-01T00:10:00Z"):
    return JobView.from_json({"name": "j1", "id": "/x/j1", "properties": {
        "state": "Succeeded", "scenarioName": "TestFailover", "startTime": start, "endTime": end, "tasks": tasks}})


def test_timings_from_group_tasks_and_child_job_tasks():
    sql, app = ItemState.from_json(item_json("sql01")), ItemState.from_json(item_json("app01"))
    tasks = [
        {"name": "Group1", "friendlyName": "Group 1: Start", "endTime": "2026-01-01T00:03:00Z",
         "groupTaskCustomDetails": {"groupId": "1", "childTasks": [
             {"name": "t", "endTime": "2026-01-01T00:02:30.1234567Z",
              "customDetails": {"instanceType": "JobTaskDetails", "jobTask": {"targetObjectId": sql.id.lower()}}}]}},
        {"name": "Group2", "friendlyName": "Group 2: Start", "endTime": "2026-01-01T00:07:00Z"},
    ]
    job = _job(tasks)
    ends = vm_end_times(job, [sql, app], [])
    assert ends["sql01"].isoformat() == "2026-01-01T00:02:30.123456+00:00"
    assert "app01" not in ends
    g = group_end_times(job, 2)
    assert g[1].minute == 3 and g[2].minute == 7


def test_timings_from_per_vm_child_jobs():
    app = ItemState.from_json(item_json("app01"))
    job = _job([])
    child = JobView.from_json({"name": "c1", "properties": {"state": "Succeeded", "targetObjectId": app.id,
                                                            "startTime": "2026-01-01T00:01:00Z",
                                                            "endTime": "2026-01-01T00:05:00Z"}})
    assert vm_end_times(job, [app], [child])["app01"].minute == 5


def _report():
    rep = DrillReport(recovery_plan="tier1", vault="contoso-asr-vault", resource_group="contoso-dr-rg",
                      manifest="q.yaml", test_network="corp-test-vnet", started_at="2026-01-01T00:00:00Z",
                      ended_at="2026-01-01T00:20:00Z", outcome="succeeded", failover_job="j1",
                      failover_job_state="Succeeded", recovery_time_seconds=420.0, cleanup_state="succeeded",
                      cleanup_job="j2")
    rep.groups = [GroupResult(1, ["sql01"], True, 180.0), GroupResult(2, ["app01", "app02"], True, 420.0)]
    rep.vms = [VmResult("sql01", 1, True, 150.0, recovery_point_id="rp|1", recovery_point_time="2026-01-01T00:00:00Z"),
               VmResult("app01", 2, True, 400.0, recovery_point_id="rp2"),
               VmResult("app02", 2, True, 420.0)]
    return rep


def test_drill_report_renderers_parse_back():
    rep = _report()
    assert rep.ok
    doc = json.loads(render_drill(rep, "json"))
    import jsonschema

    from reconciler.ops.report import DRILL_REPORT_SCHEMA

    jsonschema.validate(doc, DRILL_REPORT_SCHEMA)
    assert doc["format"] == "asr-drill-report" and doc["ok"] is True
    assert [v["recovered_seconds"] for v in doc["vms"]] == [150.0, 400.0, 420.0]
    md = render_drill(rep, "markdown")
    rows = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| Group") and
            not line.startswith("| VM")]
    vm_rows = [r for r in rows if r.split("|")[1].strip() in ("sql01", "app01", "app02")]
    assert len(vm_rows) == 3 and "rp\\|1" in vm_rows[0]  # pipes escaped inside cells
    assert "**Result: PASSED**" in md
    text = render_drill(rep, "text")
    assert "PASSED" in text and "group 2: app01, app02  up after 7 min 00 s" in text


def test_failed_cleanup_fails_the_drill():
    rep = _report()
    rep.cleanup_state = "failed: boom"
    assert not rep.ok
    assert "FAILED" in render_drill(rep, "text")


def test_write_secret_is_0600_even_over_an_existing_file(tmp_path):
    p = tmp_path / "x.VaultCredentials"
    p.write_text("old")
    os.chmod(p, 0o644)
    write_secret(str(p), "new")
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600 and p.read_text() == "new"


def test_credentials_xml_and_certificate():
    der, pfx, thumb, not_after = make_certificate("contoso-asr-vault-test")
    assert len(thumb) == 40 and der and pfx
    xml = credentials_xml(vault="v<1>", subscription="s", resource_group="rg", pfx=pfx,
                          aad={"properties": {"aadTenantId": "t", "servicePrincipalClientId": "c"}})
    import xml.etree.ElementTree as ET

    root = ET.fromstring(xml)
    ns = {"a": "http://schemas.datacontract.org/2004/07/Microsoft.Azure.Portal.RecoveryServices.Models.Common"}
    assert root.find("a:ResourceName", ns).text == "v<1>"
    assert root.find("a:AadDetails/a:AadTenantId", ns).text == "t"
    import base64

    assert base64.b64decode(root.find("a:ManagementCert", ns).text) == pfx


def test_scripts_install_register_agent_and_proxy_without_password():
    proxy = Proxy.parse("http://proxy.contoso.local:3128", "svc-asr")
    s = vmm_script("vmm01", "v.VaultCredentials", proxy)
    for needle in ("'/q'", "SETUPDR.EXE", "DRConfigurator.exe", "'/Friendlyname', 'vmm01'", "'/nu'",
                   "MARSAgentInstaller.exe", "/proxyaddress", "Read-Host -AsSecureString", "3128"):
        assert needle in s, needle
    h = hyperv_script("branch-site", ["HV-HOST-01"], "v.VaultCredentials", None)
    assert "Microsoft Azure Site Recovery Provider\\DRConfigurator.exe" in h and "HV-HOST-01" in h
    assert "$Proxy = $null" in h
    with pytest.raises(UsageError, match="password"):
        Proxy.parse("http://u:secret@proxy:8080")


def test_group_times_map_boot_groups_in_order():
    # ASR numbers groups including the Shutdown and Failover groups it adds in front
    tasks = [{"name": "ShutdownGroup1", "friendlyName": "Group 1: Shutdown", "endTime": "2026-01-01T00:00:10Z"},
             {"name": "BootGroup3", "friendlyName": "Group 3: Boot (1 virtual machines)", "endTime": "2026-01-01T00:03:00Z"},
             {"name": "BootGroup4", "friendlyName": "Group 4: Boot (2 virtual machines)", "endTime": "2026-01-01T00:06:00Z"}]
    g = group_end_times(_job(tasks), 2)
    assert (g[1].minute, g[2].minute) == (3, 6)


def test_failed_job_message_is_azures_and_exit_is_1():
    from reconciler.errors import OperationFailedError
    from reconciler.ops.failover import OperationResult, VmOutcome, raise_for

    job = JobView.from_json({"name": "j9", "properties": {"state": "Failed", "errors": [{"serviceErrorDetails": {
        "code": "TestFailoverFailed", "message": "The test virtual machine could not be started.",
        "recommendedAction": "Retry the operation."}}]}})
    assert job.terminal and not job.succeeded
    msg = job.error_message()
    assert msg == "TestFailoverFailed: The test virtual machine could not be started. (recommended action: Retry the operation.)"
    res = OperationResult(operation="test", recovery_plan=None,
                          outcomes=[VmOutcome("sql01", "test", False, f"job j9 Failed: {msg}"), VmOutcome("app01", "test", True)])
    with pytest.raises(OperationFailedError) as ei:
        raise_for(res)
    assert ei.value.exit_code == 1
    assert ei.value.message == f"test failed:\n  sql01: job j9 Failed: {msg}"


def test_vm_times_from_child_tasks_naming_the_item_by_name():
    app = ItemState.from_json(item_json("app01"))
    tasks = [{"name": "BootGroup2", "friendlyName": "Group 2: Boot (1 virtual machines)", "endTime": "2026-01-01T00:09:00Z",
              "groupTaskCustomDetails": {"childTasks": [
                  {"name": "BootGroup2Vm1", "endTime": "2026-01-01T00:08:00Z",
                   "customDetails": {"instanceType": "JobTaskDetails",
                                     "jobTask": {"targetObjectId": app.name, "targetObjectName": "something-else"}}}]}}]
    assert vm_end_times(_job(tasks), [app], [])["app01"].minute == 8

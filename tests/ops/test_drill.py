"""`asr drill` against the emulator: the report with times per group and VM, and cleanup
that always happens (after a failed check, after Ctrl-C)."""

from __future__ import annotations

import io
import json
import os

import pytest

from reconciler.cli.main import main
from reconciler.ops.context import OpsContext
from reconciler.ops.drill import run_drill
from reconciler.ops.inventory import read_inventory
from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")


def leftovers(ctx_or_path) -> dict[str, str]:
    ctx = OpsContext.load(QS) if isinstance(ctx_or_path, str) else ctx_or_path
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))
    # MarkedForDeletion is what an idle item keeps after a cleanup (docs/fidelity.md L-006)
    return {i.vm_name: i.test_failover_state for i in inv.items if i.in_test_failover}


def test_drill_report_and_cleanup(protected, capsys, tmp_path):
    out_md = tmp_path / "drill.md"
    code = main(["drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json", "--out", str(out_md)])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    rep = json.loads(out)  # stdout is the report alone; progress went to stderr
    import jsonschema

    from reconciler.ops.report import DRILL_REPORT_SCHEMA

    jsonschema.validate(rep, DRILL_REPORT_SCHEMA)
    assert "Started test failover of recovery plan tier1" in err and f"Report written to {out_md}" in err
    assert rep["ok"] is True and rep["outcome"] == "succeeded" and rep["cleanup_state"] == "succeeded"
    assert rep["test_network"] == "corp-test-vnet" and rep["cleanup_job"]
    g1, g2 = rep["groups"]
    assert (g1["vms"], g2["vms"]) == (["sql01"], ["app01", "app02", "web01"])
    assert 0 < g1["recovered_seconds"] < g2["recovered_seconds"] <= rep["recovery_time_seconds"]
    for v in rep["vms"]:
        assert v["ok"] and v["recovered_seconds"] > 0 and v["recovery_point_type"] == "Latest", v
        assert v["recovery_point_time"], v  # the last replicated time when the failover started
    md = out_md.read_text()
    assert md.startswith("# DR drill report: recovery plan `tier1`") and "**Result: PASSED**" in md
    assert leftovers(QS) == {}


def test_drill_cleans_up_after_a_failed_check(protected, capsys, tmp_path):
    code = main(["drill", QS, "--recovery-plan", "tier1", "--yes", "--verify-command", "false {test_vm}"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "DR drill of recovery plan tier1: FAILED" in out
    assert "cleanup          succeeded" in out and "check failed: exit 1" in out
    assert leftovers(QS) == {}


def test_drill_cleans_up_after_ctrl_c(emulator):
    # time scale 1: the test failover job only moves when the test advances simulated time,
    # so the Ctrl-C surely lands while it runs
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=1)
    protect(emulator, example_manifest("quickstart.yaml"))
    protected = emulator
    ctx = OpsContext.load(QS)
    ctx.out = io.StringIO()
    calls = {"n": 0}

    def sleep(seconds: float) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt  # Ctrl-C while the test failover job runs
        protected.advance(60)

    rep = run_drill(ctx, "tier1", yes=True, sleep=sleep, interval=0.01, ask=lambda *a, **k: None)
    assert rep.outcome == "interrupted" and not rep.ok
    assert rep.cleanup_state == "succeeded", rep.errors
    assert "Waiting for" in ctx.out.getvalue()  # it waited for the running test failover first
    assert leftovers(ctx) == {}


def test_drill_refused_when_a_vm_is_in_test_failover(protected, capsys):
    assert main(["failover", "test", QS, "--vm", "app01", "--yes"]) == 0
    capsys.readouterr()
    code = main(["drill", QS, "--recovery-plan", "tier1", "--yes"])
    out, err = capsys.readouterr()
    assert code == 1 and "app01: test failover is not allowed" in err
    assert leftovers(QS) == {"app01": "WaitingForCompletion"}  # the drill touched nothing


@pytest.mark.parametrize("example,plan,groups", [
    ("hyperv-site.yaml", "office", [["dc02"], ["file01", "print01"]]),
    ("multi-cloud.yaml", "rtm-tier1", [["sql-rtm01"], ["app-rtm01", "app-rtm02"]]),
])
def test_drill_other_estates(emulator, capsys, monkeypatch, example, plan, groups):
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    monkeypatch.setenv("ASR_JOB_POLL_SECONDS", "0.5")
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", example), time_scale=600)
    protect(emulator, example_manifest(example))
    path = os.path.join(EXAMPLES, example)
    code = main(["drill", path, "--recovery-plan", plan, "--yes", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    rep = json.loads(out)
    assert rep["ok"] and [g["vms"] for g in rep["groups"]] == groups
    assert all(v["ok"] and v["recovered_seconds"] for v in rep["vms"])
    assert rep["test_network"] == example_manifest(example).target.test_network


def test_drill_refused_by_azure_still_reports(protected, capsys):
    from reconciler.azure.clients import Clients

    Clients("00000000-0000-0000-0000-000000000001").network.virtual_networks.begin_delete(
        "contoso-failover-rg", "corp-test-vnet").result()
    code = main(["drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    rep = json.loads(out)
    assert rep["outcome"] == "failed" and not rep["ok"]
    assert rep["cleanup_state"] == "not needed: nothing was left behind in Azure"
    assert any("test failover of recovery plan tier1" in e and "corp-test-vnet" in e for e in rep["errors"]), rep["errors"]
    assert leftovers(QS) == {}

"""A failover *job* that fails in Azure, on VMs protected without faults: the quickstart
is applied with `asr apply`, then the emulator's `jobfail` fault is switched on at run
time (`EmulatorProcess.set_faults`, no reset). `asr failover test` exits 1 with Azure's
error code and message on stderr (no traceback) and converges once the fault is gone;
`asr drill` still goes through its cleanup step and reports FAILED."""

from __future__ import annotations

import json
import os

import pytest

from reconciler.cli.main import main
from tests.ops.conftest import EXAMPLES
from tests.ops.helpers import REPLICATION
from tests.ops.test_drill import leftovers

QS = os.path.join(EXAMPLES, "quickstart.yaml")
INJECTED = "InjectedJobFailure: The operation failed"


def asr(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "Traceback" not in out, err
    return code, out, err


@pytest.fixture
def applied(emulator, monkeypatch, capsys):
    """The quickstart applied with `asr apply` (default estate, time scale 600), VMs Protected."""
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    monkeypatch.setenv("ASR_JOB_POLL_SECONDS", "0.5")
    monkeypatch.setenv("ASR_JOB_TIMEOUT_SECONDS", "120")
    emulator.reset(time_scale=600)
    code, out, err = asr(capsys, "apply", QS, "--auto-approve")
    assert code == 0, out + err
    emulator.advance(REPLICATION)  # initial replication done (faster than --wait-protected in real time)
    code, out, err = asr(capsys, "status", QS, "--check")
    assert code == 0 and "All declared VMs are protected" in out, out + err
    return emulator


def test_failed_test_failover_job_is_reported_then_converges(applied, capsys):
    applied.set_faults("jobfail=1,seed=3")
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "app01", "--yes")
    assert code == 1
    assert err.startswith("error: test failed:"), err
    assert "app01: job " in err and " Failed: " + INJECTED in err, err
    assert "injected by the emulator's jobfail fault" in err
    assert "test: FAILED" in out and "app01: FAILED" in out
    assert out.count(" Failed: ") == 1, out  # the job is named once per line, not twice
    assert leftovers(QS) == {}  # the failed job was rolled back

    applied.set_faults("")
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "app01", "--yes")
    assert code == 0, err
    assert "test: succeeded" in out and "app01: ok" in out
    assert leftovers(QS) == {"app01": "WaitingForCompletion"}
    code, out, err = asr(capsys, "failover", "cleanup", QS, "--vm", "app01", "--yes")
    assert code == 0, err
    assert leftovers(QS) == {}


def test_drill_with_a_failed_plan_job_reports_failed_and_cleans_up(applied, capsys):
    applied.set_faults("jobfail=1,seed=3")
    code, out, err = asr(capsys, "drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json")
    assert code == 1
    rep = json.loads(out)
    assert rep["outcome"] == "failed" and rep["ok"] is False
    assert rep["failover_job_state"] == "Failed"
    assert any("recovery plan tier1: test failover job" in e and INJECTED in e for e in rep["errors"]), rep["errors"]
    # cleanup is always attempted: the emulator rolled the failed test failover back,
    # so the drill finds nothing left behind and runs no cleanup job
    assert "== cleanup" not in err
    assert rep["cleanup_state"] == "not needed: nothing was left behind in Azure" and rep["cleanup_job"] is None
    # no VM came up: no times to recover are claimed
    assert rep["recovery_time_seconds"] is None
    assert all(not v["ok"] and v["recovered_seconds"] is None for v in rep["vms"]), rep["vms"]
    assert all(not g["ok"] and g["recovered_seconds"] is None for g in rep["groups"]), rep["groups"]
    assert leftovers(QS) == {}

    code, out, err = asr(capsys, "drill", QS, "--recovery-plan", "tier1", "--yes")  # text report
    assert code == 1 and "DR drill of recovery plan tier1: FAILED" in out
    assert "time to recover  - (whole plan)" in out and INJECTED in out

    applied.set_faults("")
    code, out, err = asr(capsys, "drill", QS, "--recovery-plan", "tier1", "--yes", "--format", "json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["ok"] is True and rep["cleanup_state"] == "succeeded" and rep["recovery_time_seconds"] > 0
    assert leftovers(QS) == {}

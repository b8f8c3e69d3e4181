"""`asr failback` options end to end on the emulator: each data sync option
(ForSynchronization: synchronise before the failover; ForDownTime: during it only),
--create-vm (recoveryVmCreationOption) and --alternate-host (providerIdForAlternateRecovery);
the failback commits and then reverse-replicates (docs/fidelity.md J-008)."""

from __future__ import annotations

import json
import os

import pytest

from reconciler.azure.clients import Clients
from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import asr, protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")
SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"


@pytest.fixture
def failed_over(emulator, monkeypatch, capsys):
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    for step in ("planned", "commit"):
        code, out, err = asr(capsys, "failover", step, QS, "--vm", "sql01", "--vm", "web01", "--yes")
        assert code == 0, out + err
    return emulator


def failback_job(vm):
    c = Clients(SUB)
    try:
        jobs = [j.as_dict()["properties"] for j in c.site_recovery().replication_jobs.list(RG, V)]
    finally:
        c.close()
    fb = [j for j in jobs if j["scenarioName"] == "PlannedFailover" and j["targetObjectName"] == vm]
    return fb[-1]


@pytest.mark.parametrize("sync", ["ForSynchronization", "ForDownTime"])
def test_failback_with_each_data_sync_option(failed_over, capsys, sync):
    code, out, err = asr(capsys, "failback", QS, "--vm", "sql01", "--data-sync", sync, "--create-vm", "--yes",
                         "--format", "json")
    assert code == 0, out + err
    res = json.loads(out)
    assert res["ok"] and res["vms"][0]["active_location_after"] == "Primary"
    assert "== reprotect" in err  # reverse replication after the commit
    tasks = [t["name"] for t in failback_job("sql01")["tasks"]]
    # ForDownTime synchronises while the Azure VM runs, then waits for a resume (here: --yes)
    assert ("SyncDataBeforeFailover" in tasks) == (sync == "ForDownTime")
    paused = "waits for manual action 'Complete failback'" in err
    assert paused == (sync == "ForDownTime"), err
    if paused:
        assert "--yes: resuming it" in err


def test_failback_for_downtime_without_yes_stops_and_says_how_to_resume(failed_over, capsys):
    from reconciler.errors import OperationFailedError, UsageError
    from reconciler.ops import failover as fo
    from reconciler.ops.context import OpsContext, select_targets
    from reconciler.ops.states import Operation

    asked = []

    def ask(question, *, yes, **kw):
        asked.append(question)
        if len(asked) > 1:
            raise UsageError("refusing to continue without confirmation: no terminal to ask on")

    ctx = OpsContext.load(QS)
    targets = select_targets(ctx.manifest, vms=["web01"], recovery_plan=None, file=QS)
    with pytest.raises(OperationFailedError) as ei:
        fo.run_operation(ctx, Operation.FAILBACK, targets, yes=False, ask=ask,
                         failback={"dataSyncOption": "ForDownTime"})
    assert "paused at manual action 'Complete failback'" in ei.value.message
    assert f"asr jobs resume {QS}" in ei.value.hint
    out, _ = capsys.readouterr()
    assert "shut the Azure VM down" in out


def test_failback_to_an_alternate_host(failed_over, capsys):
    code, out, err = asr(capsys, "failback", QS, "--vm", "web01", "--alternate-host", "no-such-host", "--yes")
    assert code == 1 and "no registered Hyper-V host or VMM server" in err and "vmm01" in err
    code, out, err = asr(capsys, "failback", QS, "--vm", "web01", "--alternate-host", "vmm01", "--yes")
    assert code == 0, out + err

"""The full DR lifecycle against the emulator, through the CLI: protected, test failover,
cleanup, planned failover, commit, (reprotect refused before failback, naming the
state), failback (planned failover back + commit + reprotect), protected again. For a
VMM cloud (quickstart, per VM) and for a Hyper-V site (hyperv-site, by recovery plan).

The emulator runs at time scale 600 here so jobs of a few simulated minutes end in
well under a second; job polling is tightened accordingly.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import REPLICATION, asr, protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")
HV = os.path.join(EXAMPLES, "hyperv-site.yaml")


@pytest.fixture
def fast(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    monkeypatch.setenv("ASR_JOB_POLL_SECONDS", "0.5")
    monkeypatch.setenv("ASR_JOB_TIMEOUT_SECONDS", "120")
    return emulator


def status(capsys, path):
    code, out, err = asr(capsys, "status", path, "--format", "json")
    assert code == 0, err
    return {r["vm"]: r for r in json.loads(out)["vms"]}


def test_vmm_cloud_lifecycle_per_vm(fast, capsys):
    fast.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(fast, example_manifest("quickstart.yaml"))

    code, out, err = asr(capsys, "status", QS, "--check")
    assert code == 0, out + err
    assert "All declared VMs are protected" in out

    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "sql01", "--yes")
    assert code == 0, err
    assert "isolated test network corp-test-vnet" in out and "sql01: ok" in out
    assert f"Next: check the test VMs in the test network, then `asr failover cleanup {QS} --vm sql01`" in out
    st = status(capsys, QS)
    assert st["sql01"]["test_failover_state"] == "WaitingForCompletion"
    assert st["app01"]["test_failover_state"] == "None"

    fast.reset_stats()
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "sql01", "--yes")  # a re-run converges
    assert code == 0, err
    assert "sql01: already in test failover (test failover 'WaitingForCompletion', waiting for its cleanup); nothing to do" in out
    assert fast.stats()["writes"] == 0

    code, out, err = asr(capsys, "failover", "planned", QS, "--vm", "sql01", "--yes")
    assert code == 1
    assert ("error: sql01: planned failover is not allowed while the VM is in state 'Protected' (Cleanup test failover "
            "pending), active location Primary, test failover 'WaitingForCompletion'; Azure allows now: TestFailoverCleanup") in err
    assert "clean it up first with `asr failover cleanup" in err

    code, out, err = asr(capsys, "failover", "cleanup", QS, "--vm", "sql01", "--yes")
    assert code == 0, err
    assert status(capsys, QS)["sql01"]["test_failover_state"] == "MarkedForDeletion"  # L-006

    code, out, err = asr(capsys, "failover", "planned", QS, "--vm", "sql01", "--yes")
    assert code == 0, err
    assert "shut down first" in out
    assert status(capsys, QS)["sql01"]["active_location"] == "Recovery"

    code, out, err = asr(capsys, "failover", "planned", QS, "--vm", "sql01", "--yes")
    assert code == 0 and "sql01: already failed over to Azure, commit pending" in out

    code, out, err = asr(capsys, "failover", "commit", QS, "--vm", "sql01", "--yes")
    assert code == 0, err

    code, out, err = asr(capsys, "failover", "planned", QS, "--vm", "sql01", "--yes")
    assert code == 1 and "already runs in Azure" in err and "asr failback" in err

    code, out, err = asr(capsys, "reprotect", QS, "--vm", "sql01", "--yes")
    assert code == 1
    assert "sql01: reprotect (reverse replication) is not allowed while the VM is in state" in err
    assert "Failback" in err  # what Azure allows instead

    code, out, err = asr(capsys, "failback", QS, "--vm", "sql01", "--yes")
    assert code == 0, err
    assert "== failover commit" in out and "== reprotect" in out
    st = status(capsys, QS)["sql01"]
    assert st["active_location"] == "Primary"
    code, out, err = asr(capsys, "failback", QS, "--vm", "sql01", "--yes")  # a re-run converges
    assert code == 0 and "sql01: already replicating from the primary site" in out
    fast.advance(REPLICATION)
    code, out, err = asr(capsys, "status", QS, "--check")
    assert code == 0, out


def test_hyperv_site_lifecycle_by_recovery_plan(fast, capsys):
    fast.reset(estate=os.path.join(EXAMPLES, "estates", "hyperv-site.yaml"), time_scale=600)
    protect(fast, example_manifest("hyperv-site.yaml"))
    vms = ("dc02", "file01", "print01")

    code, out, err = asr(capsys, "failover", "test", HV, "--recovery-plan", "office", "--yes", "--format", "json")
    assert code == 0, err
    res = json.loads(out)  # the JSON result alone on stdout
    assert "Started test failover of recovery plan office" in err
    assert res["ok"] is True and sorted(v["vm"] for v in res["vms"]) == sorted(vms)
    dur = {v["vm"]: v["duration_seconds"] for v in res["vms"]}
    assert 0 < dur["dc02"] < dur["file01"]  # group 1 (dc02) comes up before group 2
    code, out, err = asr(capsys, "failover", "cleanup", HV, "--recovery-plan", "office", "--yes")
    assert code == 0, err
    code, out, err = asr(capsys, "failover", "planned", HV, "--recovery-plan", "office", "--yes")
    assert code == 0, err
    assert {v: r["active_location"] for v, r in status(capsys, HV).items()} == {v: "Recovery" for v in vms}
    code, out, err = asr(capsys, "failover", "commit", HV, "--recovery-plan", "office", "--yes")
    assert code == 0, err
    code, out, err = asr(capsys, "failback", HV, "--recovery-plan", "office", "--yes")
    assert code == 0, err
    assert {v: r["active_location"] for v, r in status(capsys, HV).items()} == {v: "Primary" for v in vms}
    fast.advance(REPLICATION)
    code, out, err = asr(capsys, "status", HV, "--check")
    assert code == 0, out


def test_unplanned_failover_warns_cancel_is_refused_commit_works(fast, capsys):
    """A Hyper-V VM failed over unplanned allows Commit, not CancelFailover
    (ReplicationProtectedItems_UnplannedFailover.json; docs/fidelity.md L-010)."""
    fast.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(fast, example_manifest("quickstart.yaml"))
    code, out, err = asr(capsys, "failover", "unplanned", QS, "--vm", "web01", "--yes")
    assert code == 0, err
    assert "Data written since the last recovery point can be lost" in out and "web01: last replicated" in out
    assert status(capsys, QS)["web01"]["protection_state"] == "UnplannedFailoverCommitPendingStatesBegin"
    fast.reset_stats()
    code, out, err = asr(capsys, "failover", "cancel", QS, "--vm", "web01", "--yes")
    assert code == 1 and "failover cancel is not allowed" in err and "Azure allows now: CompleteMigration, Commit" in err
    assert fast.stats()["writes"] == 0  # refused before calling Azure
    code, out, err = asr(capsys, "failover", "commit", QS, "--vm", "web01", "--yes")
    assert code == 0, err
    st = status(capsys, QS)["web01"]
    assert st["active_location"] == "Recovery" and "Failback" in st["allowed_operations"]


def test_declared_but_not_protected(fast, capsys):
    from tests.ops.helpers import make_vault

    make_vault(example_manifest("quickstart.yaml"), fast)
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "app02", "--yes")
    assert code == 1 and "not protected in vault contoso-asr-vault: app02" in err and "asr apply" in err
    code, out, err = asr(capsys, "status", QS, "--check")
    assert code == 2 and "app02: not protected" in out


def test_azure_refusal_is_reported_per_vm_with_azures_message(fast, capsys):
    fast.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    c = protect(fast, example_manifest("quickstart.yaml"))
    c.network.virtual_networks.begin_delete("contoso-failover-rg", "corp-test-vnet").result()
    code, out, err = asr(capsys, "failover", "test", QS, "--vm", "sql01", "--vm", "app01", "--yes")
    assert code == 1
    lines = err.splitlines()
    assert lines[0] == "error: test failed:"
    assert lines[1].startswith("  sql01: test failover of sql01: ") and "corp-test-vnet" in lines[1]
    assert lines[2].startswith("  app01: test failover of app01: ")
    assert status(capsys, QS)["sql01"]["test_failover_state"] == "None"


def test_failback_resumes_after_interruption(fast, capsys):
    fast.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(fast, example_manifest("quickstart.yaml"))
    for step in (("failover", "planned"), ("failover", "commit")):
        assert asr(capsys, *step, QS, "--vm", "app01", "--yes")[0] == 0
    # the failback's first step ran, then the command was interrupted: run only that step by hand
    from reconciler.ops.context import OpsContext, select_targets
    from reconciler.ops.failover import execute, prepare
    from reconciler.ops.states import Operation

    ctx = OpsContext.load(QS)
    import io

    ctx.out = io.StringIO()
    items, plan, _ = prepare(ctx, Operation.FAILBACK, select_targets(ctx.manifest, vms=["app01"], recovery_plan=None,
                                                                        file=QS))
    assert execute(ctx, Operation.FAILBACK, items, plan, interval=0.2).ok
    code, out, err = asr(capsys, "failback", QS, "--vm", "app01", "--yes")
    assert code == 0, err
    assert "resuming the failback at: failover commit" in out and "== reprotect" in out
    assert status(capsys, QS)["app01"]["active_location"] == "Primary"


def _api_run(emulator, op, *, vms=None, plan=None):
    """run_operation through the API with simulated time: deterministic at time scale 1."""
    import io

    from reconciler.ops.context import OpsContext, select_targets
    from reconciler.ops.failover import raise_for, run_operation

    ctx = OpsContext.load(QS)
    ctx.out = io.StringIO()
    targets = select_targets(ctx.manifest, vms=vms, recovery_plan=plan, file=QS)
    res = run_operation(ctx, op, targets, yes=True, sleep=lambda s: emulator.advance(30), interval=1,
                        ask=lambda *a, **k: None)
    raise_for(res)
    return ctx.out.getvalue()


def test_rerun_while_the_same_operation_runs_awaits_it(emulator, capsys):
    """Ctrl-C leaves the job running in Azure; running the command again follows that job
    instead of refusing or starting a second one."""
    from reconciler.errors import AsrError
    from reconciler.ops.context import OpsContext
    from reconciler.ops.inventory import read_inventory
    from reconciler.ops.states import Operation

    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=1)
    c = protect(emulator, example_manifest("quickstart.yaml"))
    ctx = OpsContext.load(QS)
    web = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",)).item_for("web01")
    sr = c.site_recovery()
    sr.replication_protected_items.begin_planned_failover(
        "contoso-dr-rg", "contoso-asr-vault", web.fabric, web.container, web.name,
        {"properties": {"failoverDirection": "PrimaryToRecovery",
                        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}, polling=False)
    emulator.reset_stats()
    out = _api_run(emulator, Operation.PLANNED, vms=["web01"])
    assert "planned failover of web01 is already running; following its job instead of starting another" in out
    assert emulator.stats()["writes"] == 0
    assert status(capsys, QS)["web01"]["active_location"] == "Recovery"
    # a different operation on a busy VM is still refused, naming the running job
    sr.replication_protected_items.begin_failover_commit("contoso-dr-rg", "contoso-asr-vault", web.fabric,
                                                         web.container, web.name, polling=False)
    with pytest.raises(AsrError) as ei:
        _api_run(emulator, Operation.CANCEL, vms=["web01"])
    assert "an operation is already in progress (CommitFailover, job " in ei.value.message


def test_rerun_of_a_recovery_plan_operation_awaits_its_job(emulator, capsys):
    from reconciler.ops.states import Operation

    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=1)
    c = protect(emulator, example_manifest("quickstart.yaml"))
    c.site_recovery().replication_recovery_plans.begin_test_failover(
        "contoso-dr-rg", "contoso-asr-vault", "tier1", {"properties": {
            "failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput",
            "networkId": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/contoso-failover-rg/"
                         "providers/Microsoft.Network/virtualNetworks/corp-test-vnet",
            "providerSpecificDetails": [{"instanceType": "HyperVReplicaAzure", "recoveryPointType": "Latest"}]}},
        polling=False)
    emulator.reset_stats()
    out = _api_run(emulator, Operation.TEST, plan="tier1")
    assert "test failover of recovery plan tier1 is already running; following its job" in out
    assert emulator.stats()["writes"] == 0
    assert {r["test_failover_state"] for r in status(capsys, QS).values()} == {"WaitingForCompletion"}

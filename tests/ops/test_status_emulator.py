"""`asr status` against the emulator: rows, registration, the --check verdict under
degraded conditions (RPO over threshold, initial replication, failed over), unmanaged
items, and the cost: a handful of paged list reads, no writes."""

from __future__ import annotations

import json
import os

import pytest
import yaml

from reconciler.cli.main import main
from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")


@pytest.fixture
def fast(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    monkeypatch.setenv("ASR_JOB_POLL_SECONDS", "0.5")
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    return emulator


def status_json(capsys, *extra, path=QS):
    code = main(["status", path, "--format", "json", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, json.loads(out) if out.strip() else None, err


def test_healthy_estate_rows_registration_and_cost(fast, capsys):
    protect(fast, example_manifest("quickstart.yaml"))
    fast.reset_stats()
    code, doc, err = status_json(capsys, "--check")
    assert code == 0, err
    stats = fast.stats()
    assert stats["writes"] == 0 and stats["requests"] <= 6  # four vault-wide lists (+ pages), never one per VM
    rows = {r["vm"]: r for r in doc["vms"]}
    assert list(rows) == ["sql01", "app01", "app02", "web01"]
    for r in rows.values():
        assert r["managed"] and r["protection_state"] == "Protected" and r["replication_health"] == "Normal"
        assert r["active_location"] == "Primary" and r["max_rpo_seconds"] == 600
        assert r["rpo_seconds"] is not None and r["rpo_seconds"] <= 600 and r["last_replicated_time"]
        assert r["policy"] == "every-5-min" and r["source"] == "vmm01/Gold"
    (reg,) = doc["registration"]
    assert reg["server"] == "vmm01" and reg["kind"] == "VMM" and reg["connection"] == "Connected"
    assert reg["provider_version"] and reg["last_heartbeat"]
    assert doc["check"] == {"ok": True, "problems": []}


def test_rpo_threshold_fails_the_check(fast, capsys):
    protect(fast, example_manifest("quickstart.yaml"))
    code, doc, _ = status_json(capsys, "--check", "--max-rpo", "10s")
    assert code == 2
    assert len(doc["check"]["problems"]) == 4
    assert all("over the 10 s threshold" in p for p in doc["check"]["problems"])
    code, _, _ = status_json(capsys, "--max-rpo", "10s")  # without --check: a report, exit 0
    assert code == 0


def test_initial_replication_and_failover_fail_the_check(fast, capsys):
    protect(fast, example_manifest("quickstart.yaml"), wait_protected=False)
    code = main(["status", QS, "--check"])
    out, _ = capsys.readouterr()
    assert code == 2
    assert "sql01: not protected: state InitialReplicationInProgress (initial replication" in out
    fast.advance(7 * 24 * 3600)
    assert main(["status", QS, "--check"]) == 0
    capsys.readouterr()
    assert main(["failover", "planned", QS, "--vm", "web01", "--yes"]) == 0
    capsys.readouterr()
    code, doc, _ = status_json(capsys, "--check")
    assert code == 2 and doc["check"]["problems"] == ["web01: not protected: state PlannedFailoverCommitRequired"]
    web = next(r for r in doc["vms"] if r["vm"] == "web01")
    assert web["active_location"] == "Recovery"


def test_undeclared_items_are_unmanaged_and_never_fail(fast, capsys, tmp_path):
    protect(fast, example_manifest("quickstart.yaml"))
    doc = yaml.safe_load(open(QS))
    doc["protectedVMs"] = [v for v in doc["protectedVMs"] if v["name"] != "web01"]
    doc["recoveryPlans"][0]["groups"][1]["vms"].remove("web01")
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    code = main(["status", str(path), "--check"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "web01 (unmanaged)" in out


HV = os.path.join(EXAMPLES, "hyperv-site.yaml")


def test_hyperv_site_rows_and_host_registration(emulator, capsys):
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "hyperv-site.yaml"), time_scale=600)
    protect(emulator, example_manifest("hyperv-site.yaml"))
    code, doc, err = status_json(capsys, "--check", path=HV)
    assert code == 0, err
    rows = {r["vm"]: r for r in doc["vms"]}
    assert set(rows) == {"file01", "dc02", "print01"}
    assert all(r["source"] == "branch-site" and r["max_rpo_seconds"] == 1800 for r in rows.values())
    hosts = {r["server"]: r for r in doc["registration"]}
    assert set(hosts) == {"HV-HOST-01", "HV-HOST-02"}
    assert all(h["kind"] == "HyperVHost" and h["fabric"] == "branch-site" and h["connection"] == "Connected"
               for h in hosts.values())


def test_job_in_progress_is_shown(emulator, capsys):
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=1)  # the job stays running
    c = protect(emulator, example_manifest("quickstart.yaml"))
    from reconciler.ops.context import OpsContext
    from reconciler.ops.inventory import read_inventory

    ctx = OpsContext.load(QS)
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("items",))
    it = inv.item_for("app02")
    c.site_recovery().replication_protected_items.begin_test_failover(
        "contoso-dr-rg", "contoso-asr-vault", it.fabric, it.container, it.name,
        {"properties": {"failoverDirection": "PrimaryToRecovery", "networkType": "VmNetworkAsInput",
                        "networkId": "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/"
                                     "contoso-failover-rg/providers/Microsoft.Network/virtualNetworks/corp-test-vnet",
                        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}}, polling=False)
    code, doc, _ = status_json(capsys)
    app02 = next(r for r in doc["vms"] if r["vm"] == "app02")
    assert app02["current_job"].startswith("TestFailover (job ")
    # while the test failover job runs, testFailoverState keeps its value (no recording shows
    # another; docs/fidelity.md L-003): the running job is what says it
    assert app02["test_failover_state"] == "None"


def test_status_under_degraded_health(emulator, capsys):
    estate = yaml.safe_load(open(os.path.join(EXAMPLES, "estates", "quickstart.yaml")))
    vms = {v["name"]: v for v in estate["vmmServers"][0]["clouds"][0]["vms"]}
    vms["sql01"]["replicationHealth"] = "Critical"
    vms["web01"]["replicationHealth"] = "Warning"
    vms["app01"]["rpoSeconds"] = 3600
    emulator.reset(estate=estate, time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))

    code = main(["status", QS, "--check"])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Health errors:" in out and "sql01: 78069: Replication is paused for the virtual machine." in out
    code, doc, _ = status_json(capsys, "--check")
    assert code == 2
    probs = doc["check"]["problems"]
    assert "sql01: replication health Critical: 78069: Replication is paused for the virtual machine." in probs
    assert any(p.startswith("web01: replication health Warning: 78122: ") for p in probs)
    assert "app01: RPO 3600 s is over the 600 s threshold" in probs
    assert len(probs) == 3  # app02 is fine
    assert main(["status", QS, "--check", "--max-rpo", "2h"]) == 2  # health still fails
    capsys.readouterr()


def test_disconnected_server_fails_the_check(emulator, capsys):
    estate = yaml.safe_load(open(os.path.join(EXAMPLES, "estates", "quickstart.yaml")))
    estate["vmmServers"][0]["connectionStatus"] = "Disconnected"
    emulator.reset(estate=estate, time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    code, doc, _ = status_json(capsys, "--check")
    assert code == 2
    (reg,) = doc["registration"]
    assert reg["connection"] == "Disconnected" and reg["problems"] == ["provider Disconnected"]
    assert doc["check"]["problems"] == ["vmm01: provider Disconnected"]


def test_no_vault_yet(emulator, capsys):
    for argv in (["status", QS], ["failover", "test", QS, "--vm", "sql01", "--yes"],
                 ["drill", QS, "--recovery-plan", "tier1", "--yes"]):
        assert main(argv) == 1
        out, err = capsys.readouterr()
        assert err.splitlines() == [
            "error: resource group contoso-dr-rg not found (subscription 00000000-0000-0000-0000-000000000001): "
            "there is no vault contoso-asr-vault in resource group contoso-dr-rg yet",
            "hint: create it with `asr apply FILE`, or check subscription, vault.name and vault.resourceGroup in the manifest"]


def test_status_cost_grows_with_pages_not_vms(emulator, capsys, tmp_path):
    from reconciler.azure.clients import Clients
    from reconciler.emulator.estate import generate_estate
    from reconciler.ops.export import export_manifest

    emulator.reset(estate=generate_estate(300, seed_protected=300), page_size=50, time_scale=600)
    sub = "00000000-0000-0000-0000-000000000001"
    path = tmp_path / "bench.yaml"
    path.write_text(export_manifest(Clients(sub), sub, "bench-dr-rg", "bench-asr-vault"))
    emulator.reset_stats()
    code, doc, err = status_json(capsys, "--check", path=str(path))
    assert code == 0, err
    assert len(doc["vms"]) == 300
    stats = emulator.stats()
    assert stats["writes"] == 0
    assert stats["requests"] <= 6 + 3 + 1  # 300 items = 6 pages of 50, plus policies, fabrics, providers, the vault

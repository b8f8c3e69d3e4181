"""In-flight operations are followed through the vault's job list, one paged read
per interval for all of them: no per-job polls, and job-list reads bounded by
elapsed time, not by the number of VMs. Writes are paced from the ratelimit
headers so that --arm-limits answers no 429."""

from __future__ import annotations

import time

import pytest
import yaml

from reconciler.cli.main import main as asr

SUB = "00000000-0000-0000-0000-000000000001"
N = 250


def _estate() -> dict:
    return {"subscription": SUB, "registrationDelaySeconds": 0, "vmmServers": [{
        "name": "vmm01", "registerWithVault": "scale-asr-vault", "vmNetworks": ["Corp-VMNet"],
        "clouds": [{"name": "Gold", "vms": [{"name": f"vm{i:03d}", "osType": "Windows", "disksGB": [127]}
                                            for i in range(N)]}]}]}


def _manifest() -> dict:
    return {
        "apiVersion": "asr/v1", "kind": "SiteRecovery", "subscription": SUB,
        "vault": {"name": "scale-asr-vault", "resourceGroup": "scale-dr-rg", "location": "westeurope"},
        "source": {"vmmServers": [{"name": "vmm01", "clouds": [{"name": "Gold", "policy": "p5"}],
                                   "networkMappings": [{"vmNetwork": "Corp-VMNet", "targetNetwork": "scale-vnet"}]}]},
        "target": {"resourceGroup": "scale-failover-rg",
                   "storageAccounts": [{"name": "scaleasrlogs01", "sku": "Standard_LRS"}],
                   "networks": [{"name": "scale-vnet", "addressSpace": ["10.80.0.0/16"],
                                 "subnets": [{"name": "servers", "addressPrefix": "10.80.0.0/20"}]}]},
        "policies": [{"name": "p5", "replicationFrequencySeconds": 300, "recoveryPointRetentionHours": 24,
                      "appConsistentSnapshotFrequencyHours": 4}],
        "protectedVMs": [{"name": f"vm{i:03d}", "source": {"vmmServer": "vmm01", "cloud": "Gold"},
                          "target": {"network": "scale-vnet", "subnet": "servers",
                                     "logStorageAccount": "scaleasrlogs01"}} for i in range(N)],
    }


@pytest.mark.slow  # scale: job-list reads of a large apply (`make test-slow`)
def test_job_tracking_reads_grow_with_time_not_with_vms(emu, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.5")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "2")
    path = tmp_path / "scale.yaml"
    path.write_text(yaml.safe_dump(_manifest(), sort_keys=False))
    emu.reset(estate=_estate(), time_scale=600, arm_limits=True)
    emu.reset_stats()
    t0 = time.monotonic()
    rc = asr(["apply", str(path), "--auto-approve", "--log-format", "text"])
    wall = time.monotonic() - t0
    out = capsys.readouterr().out
    assert rc == 0, out[-3000:]
    stats = emu.stats()
    routes = stats.get("by_route") or {}
    per_job = sum(n for r, n in routes.items() if r.startswith("GET ") and r.endswith("/replicationJobs/{jobName}"))
    job_lists = sum(n for r, n in routes.items() if r.startswith("GET ") and r.endswith("/replicationJobs"))
    assert per_job == 0, "a job was polled on its own"
    # at most one list (a few pages of 100 jobs) per floor interval, plus the planner's
    # reads, whatever the number of VMs
    pages = (N + 20) // 100 + 1
    assert job_lists <= pages * (wall / 0.5) + 10, (job_lists, wall)
    assert job_lists < N / 2
    assert stats["throttled"] == 0, "the applier ran into ARM's write limit instead of pacing"

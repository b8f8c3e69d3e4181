"""An enable-protection job already running in Azure (an apply was killed right
after ASR accepted it) is recognised by the next apply and awaited, not repeated."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
PUT_ITEM = "PUT /subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/" \
           "Microsoft.RecoveryServices/vaults/{resourceName}/replicationFabrics/{fabricName}/" \
           "replicationProtectionContainers/{protectionContainerName}/replicationProtectedItems/" \
           "{replicatedProtectedItemName}"


@pytest.mark.e2e  # an `asr` subprocess against the HTTPS emulator
def test_running_enable_job_is_awaited_not_repeated(emu, clients, tmp_path, capsys, advancing):
    manifest = REPO / "examples" / "quickstart.yaml"
    doc = yaml.safe_load(manifest.read_text())
    base = dict(doc, protectedVMs=[], recoveryPlans=[])
    base_path = tmp_path / "base.yaml"
    base_path.write_text(yaml.safe_dump(base, sort_keys=False))
    emu.reset(estate=str(REPO / "examples" / "estates" / "quickstart.yaml"), time_scale=600)
    # vault, networks, policy, association, network mapping
    assert asr(["apply", str(base_path), "--auto-approve", "--log-format", "text"]) == 0
    capsys.readouterr()
    emu.set_time_scale(1)  # the enable jobs take simulated minutes: at scale 1 they are still running below

    # an apply that is killed once ASR accepted the four enable-protection requests
    env = {**os.environ, **emu.env}
    p = subprocess.Popen([sys.executable, "-m", "reconciler.cli.main", "apply", str(manifest), "--auto-approve",
                          "--log-format", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True)
    accepted = set()
    deadline = time.monotonic() + 60
    assert p.stdout is not None
    for line in p.stdout:
        e = json.loads(line) if line.startswith("{") else {}
        if e.get("event") == "sent" and e.get("operation", "").endswith("replication_protected_items.begin_create"):
            accepted.add(e["address"])
        if len(accepted) == 4 or time.monotonic() > deadline:
            break
    p.send_signal(signal.SIGKILL)
    p.wait()
    assert len(accepted) == 4

    emu.reset_stats()
    with advancing():  # the next apply finds them running and awaits them (20 simulated s every 0.2 s)
        rc = asr(["apply", str(manifest), "--auto-approve", "--log-format", "json"])
    events = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    assert rc == 0, events[-1]
    awaited = {e["address"] for e in events if e.get("event") == "await"}
    assert awaited == accepted
    assert (emu.stats().get("by_route") or {}).get(PUT_ITEM, 0) == 0, "an enable-protection was sent again"
    names = sorted(i.as_dict()["properties"]["friendlyName"] for i in
                   clients.site_recovery().replication_protected_items.list("contoso-dr-rg", "contoso-asr-vault"))
    assert names == ["app01", "app02", "sql01", "web01"]
    capsys.readouterr()
    assert asr(["plan", str(manifest), "--detailed-exitcode"]) == 0

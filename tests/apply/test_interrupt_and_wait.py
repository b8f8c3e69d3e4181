"""Ctrl-C stops scheduling and leaves Azure jobs running, saying so; --wait-protected
waits for initial replication with progress; a manual step left pending is reported."""

from __future__ import annotations

import io
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
QUICKSTART = REPO / "examples" / "quickstart.yaml"
ESTATE = REPO / "examples" / "estates" / "quickstart.yaml"


@pytest.mark.e2e  # an `asr` subprocess against the HTTPS emulator
def test_ctrl_c_stops_scheduling_and_leaves_jobs_running(emu, clients, tmp_path, capsys):
    doc = yaml.safe_load(QUICKSTART.read_text())
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump(dict(doc, protectedVMs=[], recoveryPlans=[]), sort_keys=False))
    emu.reset(estate=str(ESTATE), time_scale=600)
    assert asr(["apply", str(base), "--auto-approve", "--log-format", "text"]) == 0
    capsys.readouterr()
    emu.set_time_scale(1)  # the enable jobs take simulated minutes: at scale 1 they are still running below

    env = {**os.environ, **emu.env}
    p = subprocess.Popen([sys.executable, "-m", "reconciler.cli.main", "apply", str(QUICKSTART), "--auto-approve",
                          "--log-format", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    sent = 0
    lines = []
    deadline = time.monotonic() + 60
    for line in p.stdout:
        lines.append(line)
        e = json.loads(line) if line.startswith("{") else {}
        if e.get("event") == "sent" and e.get("operation", "").endswith("replication_protected_items.begin_create"):
            sent += 1
        if sent == 4 or time.monotonic() > deadline:
            break
    p.send_signal(signal.SIGINT)
    rest, err = p.communicate(timeout=60)
    lines += rest.splitlines()
    events = [json.loads(x) for x in lines if x.startswith("{")]
    assert p.returncode == 1, err
    assert any(e["event"] == "interrupt" for e in events)
    summary = events[-1]
    assert summary["event"] == "summary" and summary["interrupted"]
    in_progress = [o for o in summary["outcomes"] if o["status"] == "in_progress"]
    assert len(in_progress) == 4 and all("keeps running" in o["reason"] for o in in_progress)
    # nothing was cancelled: the enable jobs are still running in "Azure"
    jobs = [j.as_dict()["properties"] for j in
            clients.site_recovery().replication_jobs.list("contoso-dr-rg", "contoso-asr-vault")]
    running = [j for j in jobs if j.get("scenarioName") == "EnableDr"
               and j.get("state") in ("NotStarted", "InProgress")]
    assert len(running) == 4, [(j.get('scenarioName'), j.get('state')) for j in jobs]
    # the lease was released on the way out
    tags = clients.vaults.vaults.get("contoso-dr-rg", "contoso-asr-vault").as_dict().get("tags") or {}
    assert "asr-lock" not in tags


def test_wait_protected_waits_for_initial_replication(emu, capsys, advancing):
    emu.reset(estate=str(ESTATE), time_scale=600)
    with advancing(600):
        rc = asr(["apply", str(QUICKSTART), "--auto-approve", "--wait-protected", "--log-format", "text"])
    out = capsys.readouterr().out
    assert rc == 0, out
    progress = [line for line in out.splitlines() if "protection:" in line]
    assert progress and progress[-1].split("protection: ")[1].startswith("4/4 protected")
    assert "All 4 VM(s) are Protected." in out


def test_pending_manual_step_is_reported_and_not_converged(emu, capsys, monkeypatch):
    estate = yaml.safe_load(ESTATE.read_text())
    estate["vmmServers"][0].pop("registerWithVault")  # nobody installs the provider
    emu.reset(estate=estate, time_scale=600)
    monkeypatch.setenv("ASR_REGISTRATION_WAIT", "1")
    rc = asr(["apply", str(QUICKSTART), "--auto-approve", "--log-format", "text"])
    out = capsys.readouterr().out
    assert rc == 1
    assert "Apply incomplete" in out
    assert "manual   vmm_server.vmm01" in out and "vault-credentials" in out
    assert "skipped  protected_vm.sql01" in out


def test_rich_progress_renders_events():
    from reconciler.apply.progress import RichProgress

    buf = io.StringIO()
    p = RichProgress(buf)
    p({"event": "start", "address": "protected_vm.sql01", "action": "create"})
    p({"event": "job", "address": "protected_vm.sql01", "job": "j1", "scenario": "EnableDr", "state": "InProgress",
       "percent": 33, "tasks": []})
    p({"event": "done", "address": "protected_vm.sql01", "action": "create", "seconds": 1.0})
    p({"event": "failed", "address": "protected_vm.web01", "code": "X1", "message": "boom"})
    p.close()
    text = buf.getvalue()
    assert "protected_vm.sql01: done" in text and "FAILED: X1: boom" in text

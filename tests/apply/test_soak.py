"""Killed at any point, the next `asr apply` converges: real `asr apply` processes
against the emulator, SIGKILLed after seeded random delays, again and again; a final
run must converge with exactly one protected item per declared VM, every policy,
association, network mapping and recovery plan present, and nothing deleted."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
SEED = 20261122
BUDGET_SECONDS = 25.0


def _asr_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "reconciler.cli.main", *args]


@pytest.mark.slow  # soak: repeated SIGKILLed applies (`make test-slow`)
@pytest.mark.e2e  # `asr apply` subprocesses against the HTTPS emulator
def test_sigkill_soak_converges_with_nothing_lost_or_duplicated(emu, clients, tmp_path, capsys):
    manifest = str(REPO / "examples" / "multi-cloud.yaml")
    estate = str(REPO / "examples" / "estates" / "multi-cloud.yaml")
    doc = yaml.safe_load(Path(manifest).read_text())
    rg, vault = doc["vault"]["resourceGroup"], doc["vault"]["name"]
    emu.reset(estate=estate, time_scale=600, faults="throttle=0.05,error=0.02,seed=3")
    env = {**os.environ, **emu.env, "NO_COLOR": "1"}
    rng = random.Random(SEED)
    log = open(tmp_path / "runs.log", "w")
    kills, finished = 0, 0
    deadline = time.monotonic() + BUDGET_SECONDS
    run = 0
    while time.monotonic() < deadline and run < 25:
        run += 1
        delay = rng.uniform(0.3, 4.0)
        log.write(f"--- run {run}: kill after {delay:.2f} s\n")
        log.flush()
        p = subprocess.Popen(_asr_cmd("apply", manifest, "--auto-approve", "--log-format", "text"),
                             env=env, stdout=log, stderr=log)
        try:
            rc = p.wait(timeout=delay)
            finished += 1
            log.write(f"--- run {run} finished rc={rc}\n")
            if rc == 0 and kills >= 8:
                break
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGKILL)
            p.wait()
            kills += 1
    assert kills >= 5, f"only {kills} runs were killed; the soak did not exercise interruption"

    # the final run, without faults standing in the way of a clean verdict
    p = subprocess.run(_asr_cmd("apply", manifest, "--auto-approve", "--log-format", "text"),
                       env=env, capture_output=True, text=True, timeout=120)
    log.write(p.stdout + p.stderr)
    log.close()
    assert p.returncode == 0, (tmp_path / "runs.log").read_text()[-6000:]

    sr = clients.site_recovery()
    items = [i.as_dict() for i in sr.replication_protected_items.list(rg, vault)]
    names = [i["properties"]["friendlyName"] for i in items]
    declared = [v["name"] for v in doc["protectedVMs"]]
    assert sorted(names) == sorted(declared), "a protected item is missing or duplicated"
    policies = {p.as_dict()["name"] for p in sr.replication_policies.list(rg, vault)}
    assert {p["name"] for p in doc["policies"]} <= policies
    mappings = [m.as_dict() for m in sr.replication_protection_container_mappings.list(rg, vault)]
    assert len(mappings) >= 3  # ams Gold, ams Silver, rtm Gold
    nmaps = [m.as_dict() for m in sr.replication_network_mappings.list(rg, vault)]
    assert len(nmaps) >= 3  # ams Prod, ams Dev, rtm Prod
    plans = {r.as_dict()["name"] for r in sr.replication_recovery_plans.list(rg, vault)}
    assert {r["name"] for r in doc["recoveryPlans"]} <= plans

    capsys.readouterr()
    assert asr(["plan", manifest, "--detailed-exitcode"]) == 0, capsys.readouterr().out

    stats = emu.stats()
    assert stats.get("deletes", 0) == 0
    routes = stats.get("by_route") or {}
    assert not [r for r in routes if r.startswith("DELETE ") or r.lower().endswith("/remove")], routes

    emu.reset(estate=estate, time_scale=600)  # keep nothing injected for what follows
    capsys.readouterr()

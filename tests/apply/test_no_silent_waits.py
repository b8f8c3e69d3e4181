"""No wait without an end: an `asr apply` whose enable-protection jobs are in flight
when every request starts failing (faults switched on at run time, after ASR accepted
the writes) ends with exit 1 within its deadline, naming the last error, and says
what it waits for meanwhile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.e2e  # an `asr` subprocess against the HTTPS emulator
def test_apply_ends_at_its_deadline_naming_the_last_error_when_azure_fails(emu, tmp_path, capsys, advancing):
    manifest = REPO / "examples" / "quickstart.yaml"
    doc = yaml.safe_load(manifest.read_text())
    base_path = tmp_path / "base.yaml"
    base_path.write_text(yaml.safe_dump(dict(doc, protectedVMs=[], recoveryPlans=[]), sort_keys=False))
    emu.reset(estate=str(REPO / "examples" / "estates" / "quickstart.yaml"), time_scale=1)
    with advancing():  # vault, networks, policy, association, network mapping
        assert asr(["apply", str(base_path), "--auto-approve", "--log-format", "text"]) == 0
    capsys.readouterr()

    deadline = 12
    env = {**os.environ, **emu.env, "ASR_DEADLINE": str(deadline), "ASR_JOB_READ_ERRORS": "600",
           "ASR_RETRY_TIMEOUT": "1", "ASR_RETRY_TOTAL": "2", "ASR_PROGRESS_INTERVAL": "1",
           "ASR_JOB_POLL_MIN": "0.2", "ASR_JOB_POLL_MAX": "0.5", "ASR_LOCK_TTL": "600"}
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, "-m", "reconciler.cli.main", "apply", str(manifest), "--auto-approve",
                          "--log-format", "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout is not None
    events, sent = [], set()
    for line in p.stdout:
        e = json.loads(line) if line.startswith("{") else {}
        events.append(e)
        if e.get("event") == "sent" and e.get("operation", "").endswith("replication_protected_items.begin_create"):
            sent.add(e["address"])
            if len(sent) == 4:
                emu.set_faults("error=1")  # from now on every request answers 500 or 503
                break
    rest, err = p.communicate(timeout=deadline + 60)
    took = time.monotonic() - t0
    emu.set_faults(None)
    events += [json.loads(x) for x in rest.splitlines() if x.startswith("{")]
    assert len(sent) == 4
    assert p.returncode == 1, err
    assert took < deadline + 30, took
    failed = {e["address"]: e for e in events if e.get("event") == "failed"}
    assert set(failed) >= sent, failed
    msg = failed["protected_vm.app01"]["message"]
    assert msg.startswith("stopped waiting for ") and " at the deadline (12s, --deadline / ASR_DEADLINE)" in msg, msg
    assert "last error: read the job list of vault contoso-asr-vault: Azure answered 50" in msg, msg
    assert "protected_vm.app01" in err, err
    assert "Azure answered 50" in err, err
    assert "Traceback" not in err
    waiting = [e["message"] for e in events if e.get("event") == "waiting"]
    assert waiting and any("still waiting for 4 job(s): enable protection of protected_vm." in w for w in waiting), \
        waiting

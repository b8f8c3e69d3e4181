"""End to end, as a user runs it: the `asr` program in a subprocess against `asr emulator
serve` over real HTTPS, with the real credential chain (the emulator's managed-identity
endpoint) and the CA bundle it exports. The rest of the suite mostly runs the same code
in process (tests/conftest.py, `inproc_emulator`); this file and the tests marked `e2e`
keep the process boundary, TLS and the credential chain covered (the pipeline examples,
tests/ci/, run their `asr` command lines as processes forked from a warm server; the
troubleshooting quotes about TLS and credentials, tests/docs/, run `main()` in process
over HTTPS).

One subprocess per command (validate, plan, apply, drill, export: each Python start with
the Azure SDK's imports costs about 2 s of CPU); the checks in between (the plan after
apply and the plan of the exported manifest are empty) run the same `main()` in this
process against the same HTTPS emulator, with the same environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
ASR = [sys.executable, "-m", "reconciler.cli.main"]


def asr(*args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    r = subprocess.run([*ASR, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=240, input="")
    assert "Traceback" not in r.stderr, r.stderr
    return r


def test_validate_plan_apply_drill_export_over_https(emulator, tmp_path, monkeypatch, capsys):
    from tests.asr_in_process import run_asr

    def check(*args: str) -> subprocess.CompletedProcess:  # in this process, over the same HTTPS
        return run_asr(list(args), env=env, cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys)

    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(emulator.env)
    assert env["ASR_ARM_ENDPOINT"].startswith("https://127.0.0.1:") and env["IDENTITY_ENDPOINT"]
    # the emulator runs at time scale 600: follow jobs on that scale, not on Azure's
    env.update(NO_COLOR="1", ASR_JOB_POLL_MIN="0.1", ASR_JOB_POLL_MAX="0.3", ASR_REGISTRATION_WAIT="5",
               ASR_REPLAN_INTERVAL="0.2", ASR_PROGRESS_INTERVAL="5")
    emulator.reset(time_scale=600)
    m = tmp_path / "site-recovery.yaml"
    m.write_text((REPO / "examples" / "quickstart.yaml").read_text().replace("../schemas/", str(REPO / "schemas") + "/"))

    r = asr("validate", m.name, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = asr("plan", m.name, "--detailed-exitcode", env=env, cwd=tmp_path)
    assert r.returncode == 2, r.stdout + r.stderr  # changes to make
    assert "protected_vm.app01" in r.stdout
    r = asr("apply", m.name, "--auto-approve", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    r = check("plan", m.name, "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr  # converged
    emulator.advance(7 * 24 * 3600)  # simulated time: initial replication completes
    writes = emulator.stats()["writes"]

    r = asr("drill", m.name, "--recovery-plan", "tier1", "--yes", "--format", "json", "--out", "drill.json",
            env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads((tmp_path / "drill.json").read_text())
    assert report and emulator.stats()["writes"] > writes  # a test failover and its cleanup were sent

    r = asr("export", "--subscription", "00000000-0000-0000-0000-000000000001", "--resource-group", "contoso-dr-rg",
            "--vault", "contoso-asr-vault", "--out", "exported.yaml", env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    exported = (tmp_path / "exported.yaml").read_text()
    for vm in ("sql01", "app01", "app02", "web01"):
        assert vm in exported
    r = check("plan", "exported.yaml", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr  # what export writes is what is there

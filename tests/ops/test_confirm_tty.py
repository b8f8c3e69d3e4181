"""Confirmation on a real terminal (a pty): anything but 'yes' cancels with nothing
written to Azure; 'yes' proceeds."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")


def run_on_tty(answer: str, *argv: str, env: dict) -> tuple[int, str]:
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([sys.executable, "-m", "reconciler.cli.main", *argv], stdin=slave,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
        os.write(master, answer.encode())
        out, _ = p.communicate(timeout=120)
        return p.returncode, out
    finally:
        os.close(master)
        os.close(slave)


@pytest.mark.e2e  # an `asr` subprocess against the HTTPS emulator
def test_terminal_confirmation(emulator):
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    env = {**os.environ, "ASR_JOB_POLL_MIN_SECONDS": "0.2", "ASR_JOB_POLL_SECONDS": "0.5"}
    emulator.reset_stats()
    code, out = run_on_tty("y\n", "failover", "planned", QS, "--vm", "web01", env=env)
    assert code == 1 and "Continue?" in out and "cancelled: the answer was not 'yes'" in out
    assert emulator.stats()["writes"] == 0
    code, out = run_on_tty("yes\n", "failover", "test", QS, "--vm", "web01", env=env)
    assert code == 0, out
    assert "test: succeeded" in out and emulator.stats()["writes"] == 1

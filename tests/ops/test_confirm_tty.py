"""Confirmation on a real terminal (a pty): anything but 'yes' cancels with nothing
written to Azure; 'yes' proceeds. `asr` runs in process with its standard streams on a
pseudo-terminal (tests/apply/pty_session.py)."""

from __future__ import annotations

import os

from tests.apply.pty_session import run_in_pty
from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import protect

QS = os.path.join(EXAMPLES, "quickstart.yaml")


def test_terminal_confirmation(emulator, monkeypatch):
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    for k, v in {"ASR_JOB_POLL_MIN_SECONDS": "0.2", "ASR_JOB_POLL_SECONDS": "0.5", "NO_COLOR": "1"}.items():
        monkeypatch.setenv(k, v)
    emulator.reset_stats()
    code, out = run_in_pty(["failover", "planned", QS, "--vm", "web01"], "y\n")
    assert code == 1 and "Continue?" in out and "cancelled: the answer was not 'yes'" in out
    assert emulator.stats()["writes"] == 0
    code, out = run_in_pty(["failover", "test", QS, "--vm", "web01"], "yes\n")
    assert code == 0, out
    assert "test: succeeded" in out and emulator.stats()["writes"] == 1

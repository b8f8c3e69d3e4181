"""Fixtures for the applier's tests, on top of the shared `emulator` fixture
(tests/conftest.py): short job-poll intervals and retry backoff, and a Clients built like the product's."""

from __future__ import annotations

import threading

import pytest

SUB = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def emu(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    monkeypatch.setenv("ASR_RETRY_BACKOFF", "0.05")  # 5xx retries (no Retry-After) at 0.1 s, 0.2 s...
    return emulator


@pytest.fixture
def clients(emu):
    from reconciler.azure.clients import Clients

    c = Clients(SUB)
    yield c
    c.close()


class Advancing:
    """Moves the emulator's simulated time forward while an in-process apply
    waits for jobs (for estates run at time scale 1)."""

    def __init__(self, emu, step: float = 20.0) -> None:
        self.emu, self.step = emu, step
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        while not self.stop.wait(0.2):
            self.emu.advance(self.step)

    def __enter__(self) -> Advancing:
        self.t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.t.join()


@pytest.fixture
def advancing(emu):
    return lambda step=20.0: Advancing(emu, step)

"""Fixtures for the applier's tests, on top of the shared `emulator` fixture
(tests/conftest.py): short job-poll intervals and a Clients built like the product's."""

from __future__ import annotations

import pytest

SUB = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def emu(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    return emulator


@pytest.fixture
def clients(emu):
    from reconciler.azure.clients import Clients

    c = Clients(SUB)
    yield c
    c.close()

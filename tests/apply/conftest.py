"""Fixtures for the applier's tests: the shared `emulator` fixture (tests/conftest.py)
when it exists, else a local emulator subprocess; a Clients factory like the product's."""

from __future__ import annotations

import pytest

SUB = "00000000-0000-0000-0000-000000000001"
_local = {}


@pytest.fixture
def emu(request, monkeypatch):
    try:
        server = request.getfixturevalue("emulator")
    except pytest.FixtureLookupError:
        from reconciler.emulator.testing import EmulatorProcess

        server = _local.get("server")
        if server is None or not server.alive:
            server = _local["server"] = EmulatorProcess()
            request.session.config.add_cleanup(server.stop)
        server.reset()
        for k, v in server.env.items():
            monkeypatch.setenv(k, v)
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    return server


@pytest.fixture
def clients(emu):
    from reconciler.azure.clients import Clients

    c = Clients(SUB)
    yield c
    c.close()

"""Shared fixtures.

`emulator_server` (session): one running `asr emulator serve` subprocess
(reconciler.emulator.testing.EmulatorProcess).
`emulator` (function): resets it (default quickstart estate, time scale 1, no
faults), exports its variables into the environment with monkeypatch (so
`reconciler.azure.clients.Clients(subscription)` talks to it, credential
included) and returns the EmulatorProcess.
"""

from __future__ import annotations

import pytest

SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"

# variables that could take DefaultAzureCredential or the clients elsewhere
_FOREIGN_ENV = (
    "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET",
    "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)


@pytest.fixture(scope="session")
def emulator_server():
    from reconciler.emulator.testing import EmulatorProcess

    emu = EmulatorProcess()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emulator(emulator_server, monkeypatch):
    if not emulator_server.alive:  # a test killed it: start a fresh one
        emulator_server.stop()
        emulator_server.start()
    emulator_server.reset()
    for k in _FOREIGN_ENV:
        monkeypatch.delenv(k, raising=False)
    for k, v in emulator_server.env.items():
        monkeypatch.setenv(k, v)
    return emulator_server

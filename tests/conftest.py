"""Shared fixtures: the emulator, two ways with one surface.

`emulator_server` (session): one running `asr emulator serve` subprocess
(reconciler.emulator.testing.EmulatorProcess).
`emulator` (function): resets it (default quickstart estate, time scale 1, no
faults), exports its variables into the environment with monkeypatch (so
`reconciler.azure.clients.Clients(subscription)` talks to it over real HTTPS, with the
real credential chain, and so does an `asr` subprocess) and returns the EmulatorProcess.
For what is about the process boundary, TLS, the credential chain or the CLI as a
program (tests/e2e/, marker `e2e`).

`inproc_emulator_app` (session): one `InProcessEmulator` (the same EmulatorApp in this
process). `inproc_emulator` (function): resets it the same way, sets its endpoint in the
environment and makes every `Clients` built during the test use its in-process transport
and a token its authority signs (the real SDK and pipeline; the emulator still
authenticates and authorises). No socket, no subprocess: an `asr` subprocess cannot
reach it, the CLI runs in process (`reconciler.cli.main.main([...])`).

Which one `emulator` is: in process for the tests under INPROC_DIRS and those marked
`inproc` (what calls the planner, reader, applier and ops in process), unless marked
`e2e`; the real HTTPS subprocess everywhere else. docs/performance.md ("The suite").
In process and marked `simsleep` (every test under SIMSLEEP_DIRS): the waits azure-core
asks of its transport (retry Retry-After and back-off, LRO poll intervals) advance the
emulator's clock at its time scale instead of sleeping (InProcessTransport.sleep).
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


# test folders whose `emulator` is the in-process one (a test there marked `e2e` keeps HTTPS)
INPROC_DIRS = ("apply", "fidelity", "kinds", "live", "ops", "plan")
# in-process test folders whose SDK waits (Retry-After, LRO polls) pass in simulated time (marker `simsleep`)
SIMSLEEP_DIRS = ("apply", "fidelity", "kinds", "live", "ops", "plan")


def pytest_configure(config):
    """A suite started in the background of a non-interactive shell (`cmd &`, nohup, some CI runners)
    inherits SIGINT ignored, and every process a test starts would inherit it too: the tests that stop
    a process with SIGINT (as Ctrl-C does) would then wait for nothing. Give the test processes Python's
    own SIGINT handling back."""
    import signal

    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_collection_modifyitems(config, items):
    import os

    root = os.path.dirname(os.path.abspath(__file__))
    for item in items:
        rel = os.path.relpath(str(item.path), root).split(os.sep)
        if rel[0] in INPROC_DIRS and not item.get_closest_marker("e2e") and not item.get_closest_marker("inproc"):
            item.add_marker(pytest.mark.inproc)
        if rel[0] in SIMSLEEP_DIRS and not item.get_closest_marker("simsleep"):
            item.add_marker(pytest.mark.simsleep)


@pytest.fixture
def emulator(request, monkeypatch):
    if request.node.get_closest_marker("inproc") and not request.node.get_closest_marker("e2e"):
        return request.getfixturevalue("inproc_emulator")
    emulator_server = request.getfixturevalue("emulator_server")
    if not emulator_server.alive:  # a test killed it: start a fresh one
        emulator_server.stop()
        emulator_server.start()
    emulator_server.reset()
    for k in _FOREIGN_ENV:
        monkeypatch.delenv(k, raising=False)
    for k, v in emulator_server.env.items():
        monkeypatch.setenv(k, v)
    return emulator_server


@pytest.fixture(scope="session")
def inproc_emulator_app():
    from reconciler.emulator.testing import InProcessEmulator

    return InProcessEmulator()


@pytest.fixture
def inproc_emulator(inproc_emulator_app, monkeypatch, request):
    from reconciler.azure.clients import Clients

    emu = inproc_emulator_app
    emu.reset()
    # marker `simsleep`: the SDK's waits advance the emulator's clock instead of sleeping (InProcessTransport.sleep)
    emu.transport.simulated_sleep = request.node.get_closest_marker("simsleep") is not None
    for k in (*_FOREIGN_ENV, "ASR_CA_BUNDLE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_TOKEN_CREDENTIALS"):
        monkeypatch.delenv(k, raising=False)
    for k, v in emu.env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(Clients, "default_transport", emu.transport)
    monkeypatch.setattr(Clients, "default_credential", emu.credential)
    return emu


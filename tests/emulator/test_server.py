"""The emulator process end to end: export lines, TLS, control surface, and resource
groups through the real SDK (reconciler.azure.clients.Clients)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import requests
from cryptography import x509

from reconciler.azure.clients import Clients

pytestmark = pytest.mark.e2e  # real HTTPS, real credential chain, `asr` subprocesses (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"


def test_exports_are_complete_and_ca_verifies_server(emulator):
    env = emulator.env
    for k in ("ASR_ARM_ENDPOINT", "ASR_CA_BUNDLE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_TOKEN_CREDENTIALS"):
        assert env.get(k), k
    assert env["ASR_ARM_ENDPOINT"].startswith("https://127.0.0.1:")
    assert env["IDENTITY_ENDPOINT"].startswith("http://127.0.0.1:")
    ca = x509.load_pem_x509_certificate(open(env["ASR_CA_BUNDLE"], "rb").read())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # verification with the CA succeeds, without it fails
    r = requests.get(env["ASR_ARM_ENDPOINT"] + "/_emulator/health", verify=env["ASR_CA_BUNDLE"], timeout=10)
    assert r.json() == {"status": "ok"}
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(env["ASR_ARM_ENDPOINT"] + "/_emulator/health", verify=True, timeout=10)
    # localhost is in the SANs too
    port = env["ASR_ARM_ENDPOINT"].rsplit(":", 1)[1]
    r = requests.get(f"https://localhost:{port}/_emulator/health", verify=env["ASR_CA_BUNDLE"], timeout=10)
    assert r.status_code == 200


def test_bad_flags_are_user_errors_without_traceback(tmp_path, capsys):
    from reconciler.cli.main import main

    bad = (["--faults", "throttle=2"], ["--faults", "bogus=1"], ["--estate", str(tmp_path / "missing.yaml")], ["--time-scale", "0"])
    # the program once (exit status, streams of a real process), every flag in process (the same code after the parse)
    r = subprocess.run([sys.executable, "-m", "reconciler.cli.main", "emulator", "serve", *bad[0]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert r.stderr.startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    assert r.stdout == ""
    for args in bad:
        capsys.readouterr()
        assert main(["emulator", "serve", *args]) == 1, args
        out = capsys.readouterr()
        assert out.err.startswith("error: ") and "Traceback" not in out.err, out.err
        assert out.out == ""


def test_stats_reset_and_control_routes_not_counted(emulator):
    c = Clients(SUB)
    c.resources.resource_groups.check_existence("x")
    assert emulator.stats()["requests"] == 1
    emulator.reset_stats()
    assert emulator.stats()["requests"] == 0


def test_export_lines_come_first_then_sigint_stops_cleanly_and_removes_the_ca_dir():
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "reconciler.cli.main", "emulator", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = [proc.stdout.readline() for _ in range(5)]
        assert all(line.startswith("export ") for line in first), first
        assert first[0].startswith("export ASR_ARM_ENDPOINT=https://127.0.0.1:")
        assert proc.stdout.readline().startswith("# asr emulator ready on https://127.0.0.1:")
        ca = next(line.strip().partition("=")[2] for line in first if line.startswith("export ASR_CA_BUNDLE="))
        assert os.path.exists(ca)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert "Traceback" not in err
    assert not os.path.exists(ca)


def test_a_sigint_right_after_the_ready_line_stops_it_cleanly():
    """A SIGINT that comes before the serving loop handles signals itself (here: while the ready line is
    being written) asks it to stop: serve returns 0, no KeyboardInterrupt inside asyncio.run's set-up (which
    left an unclosed event loop and a traceback at exit), and the caller's own SIGINT handler is back."""
    import io
    import signal

    from reconciler.emulator.server import serve

    class Out(io.StringIO):
        def flush(self):
            super().flush()
            if "# asr emulator ready" in self.getvalue():
                os.kill(os.getpid(), signal.SIGINT)

    before = signal.getsignal(signal.SIGINT)
    out = Out()
    assert serve(port=0, out=out) == 0
    assert "# asr emulator ready" in out.getvalue()
    assert signal.getsignal(signal.SIGINT) is before


def test_port_in_use_is_a_user_error(capsys):
    import socket

    from reconciler.cli.main import main

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        rc = main(["emulator", "serve", "--port", str(port)])  # in process: the bind fails before anything serves
    finally:
        s.close()
    out = capsys.readouterr()
    assert rc == 1 and f"127.0.0.1:{port}" in out.err and "Traceback" not in out.err
    assert out.out == ""


def test_serve_flags_reach_the_state_and_a_bare_reset_restores_them(tmp_path, monkeypatch):
    from reconciler.emulator.testing import EmulatorProcess

    estate = tmp_path / "estate.yaml"
    estate.write_text("subscription: 00000000-0000-0000-0000-000000000001\n"
                      "azure:\n  resourceGroups:\n" + "".join(f"    - {{name: rg{i}, location: uksouth}}\n" for i in range(3)))
    with EmulatorProcess(args=["--estate", str(estate), "--page-size", "2", "--time-scale", "50", "--arm-limits",
                               "--faults", "latency=1ms,seed=3"]) as emu:
        st = emu.stats()
        assert st["timeScale"] == 50.0
        for k, v in emu.env.items():
            monkeypatch.setenv(k, v)
        c = Clients(SUB)
        assert [g.name for g in c.resources.resource_groups.list()] == ["rg0", "rg1", "rg2"]
        assert emu.stats()["by_route"]["GET /subscriptions/{subscriptionId}/resourcegroups"] == 2
        # a reset with settings, then a bare one (no body): the start-up flags and estate again
        emu.reset(estate={"subscription": SUB}, time_scale=5)
        assert emu.stats()["timeScale"] == 5.0 and [g.name for g in c.resources.resource_groups.list()] == []
        r = requests.post(emu.url + "/_emulator/reset", verify=emu.ca_bundle, timeout=10)
        assert r.status_code == 200
        assert emu.stats()["timeScale"] == 50.0
        emu.reset_stats()
        assert [g.name for g in c.resources.resource_groups.list()] == ["rg0", "rg1", "rg2"]
        assert emu.stats()["by_route"]["GET /subscriptions/{subscriptionId}/resourcegroups"] == 2  # --page-size 2 again


def test_log_requests_writes_one_line_per_arm_request_to_stderr(monkeypatch):
    from reconciler.emulator.testing import EmulatorProcess

    with EmulatorProcess(args=["--log-requests"]) as emu:
        for k, v in emu.env.items():
            monkeypatch.setenv(k, v)
        Clients(SUB).resources.resource_groups.check_existence("nope")
        emu.stop()
        lines = [line for line in emu.stderr_text().splitlines() if line.startswith("asr-emulator: ")]
    assert lines == [f"asr-emulator: HEAD /subscriptions/{SUB}/resourcegroups/nope -> 404"]

"""An endpoint that accepts connections and never answers: `asr plan` ends with
exit 1 naming the endpoint and the timeouts, within the configured bound."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]


class SilentServer:
    """A plain TCP server that accepts every connection and never sends a byte."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.t = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
                self.conns.append(c)
            except OSError:
                continue

    def __enter__(self) -> SilentServer:
        self.t.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.t.join()
        for c in self.conns:
            c.close()
        self.sock.close()


def test_plan_against_a_silent_endpoint_ends_naming_it(emulator, monkeypatch, capsys):
    with SilentServer() as srv:
        endpoint = f"https://127.0.0.1:{srv.port}"
        monkeypatch.setenv("ASR_ARM_ENDPOINT", endpoint)
        monkeypatch.setenv("ASR_CONNECT_TIMEOUT", "0.5")
        monkeypatch.setenv("ASR_READ_TIMEOUT", "0.5")
        monkeypatch.setenv("ASR_RETRY_TIMEOUT", "1.5")
        monkeypatch.setenv("ASR_PROGRESS_INTERVAL", "0.5")
        t0 = time.monotonic()
        rc = asr(["plan", str(REPO / "examples" / "quickstart.yaml")])
        took = time.monotonic() - t0
        err = capsys.readouterr().err
    assert rc == 1
    assert f"127.0.0.1:{srv.port} did not answer in time" in err, err
    assert "connect timeout 0.5s, read timeout 0.5s, 1.5s in all with retries" in err, err
    assert "Traceback" not in err
    assert (f"still waiting for Azure: reading the live state of vault contoso-asr-vault from {endpoint} (" in err), err
    # one request may take connect + read beyond its 1.5 s budget; the live read has two rounds
    assert took < 20, took
    assert srv.conns, "the client never connected"


def test_read_timeout_flag_wins_over_the_environment(emulator, monkeypatch, capsys):
    with SilentServer() as srv:
        monkeypatch.setenv("ASR_ARM_ENDPOINT", f"https://127.0.0.1:{srv.port}")
        monkeypatch.setenv("ASR_READ_TIMEOUT", "300")
        monkeypatch.setenv("ASR_RETRY_TIMEOUT", "1")
        rc = asr(["plan", str(REPO / "examples" / "quickstart.yaml"), "--read-timeout", "0.5", "--connect-timeout", "0.5"])
        err = capsys.readouterr().err
    assert rc == 1
    assert "read timeout 0.5s" in err, err

"""`asr` in this process, for tests whose subject is what a command prints and returns,
not the program itself (its start-up, its stdio as a process, signals, terminals).

    r = run_asr(["plan", "m.yaml"], env=env, cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    assert r.returncode == 1 and "error:" in r.stderr

`reconciler.cli.main.main(args)` runs with `env` as the whole environment (set through
monkeypatch, so it is undone after the test), `cwd` as the directory and stdin a
non-terminal holding `stdin`; its stdout and stderr come back in a
`subprocess.CompletedProcess` like `subprocess.run(..., capture_output=True, text=True)`
gives. The same code prints the same lines as `asr` in a subprocess, without a Python
start-up and the Azure SDK's imports (about 2 s of CPU a command, docs/performance.md).
With the HTTPS emulator (`emulator_server`) the requests still go over real HTTPS with
the credential chain the environment selects; with the in-process emulator, through
its transport.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ASR = [sys.executable, "-m", "reconciler.cli.main"]


def run_asr(args: list[str], *, monkeypatch: Any, capsys: Any, env: dict[str, str] | None = None,
            cwd: str | Path | None = None, stdin: str = "") -> subprocess.CompletedProcess:
    from reconciler.cli.main import main

    if env is not None:
        for k in list(os.environ):
            if k not in env:
                monkeypatch.delenv(k)
        for k, v in env.items():
            monkeypatch.setenv(k, v)
    if cwd is not None:
        monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return subprocess.CompletedProcess([*ASR, *args], code, out, err)

"""`asr` in process on a pseudo-terminal: what a person at a terminal sees and types,
without an `asr` subprocess (about 2 s of CPU each: a Python start with the Azure SDK
imports). The command runs through `reconciler.cli.main.main` with sys.stdin, sys.stdout
and sys.stderr on the slave side of a pty, so `isatty()` is true and `input()` reads the
typed lines; a thread drains the master side into the returned text."""

from __future__ import annotations

import os
import pty
import sys
import threading


def run_in_pty(argv: list[str], typed: str) -> tuple[int, str]:
    """(exit status, what the terminal showed: output, errors and the echoed answers).
    `typed` is written before the command starts, as `script -c` fed from a pipe does."""
    from reconciler.cli.main import main

    master, slave = pty.openpty()
    shown: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every slave descriptor is closed
                return
            if not data:
                return
            shown.append(data)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    tty_in = open(os.dup(slave), encoding="utf-8")  # noqa: SIM115 (closed below)
    tty_out = open(os.dup(slave), "w", encoding="utf-8")  # noqa: SIM115
    saved = sys.stdin, sys.stdout, sys.stderr
    try:
        os.write(master, typed.encode())
        sys.stdin, sys.stdout, sys.stderr = tty_in, tty_out, tty_out
        rc = main(argv)
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        tty_out.close()
        tty_in.close()
        os.close(slave)
        t.join(timeout=30)
        os.close(master)
    return rc, b"".join(shown).decode(errors="replace").replace("\r\n", "\n")

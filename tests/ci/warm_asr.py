"""A warm `asr` for tests that run shell scripts calling `asr` many times (the pipeline
examples, tests/ci/): each command line is still its own process, with the script's
stdin, stdout and stderr (its redirections and pipes), environment, directory and exit
status, but it is forked from a server that has already imported asr and the Azure SDK,
instead of starting Python and importing them again (about 2 s of CPU a command,
docs/performance.md).

    with WarmAsr() as warm:                       # one server (one import of asr and the SDK)
        env["PATH"] = f"{warm.bin_dir}:{env['PATH']}"
        subprocess.run(["bash", "-c", 'asr plan "$MANIFEST" > plan.md'], env=env)

`bin_dir/asr` is a small Python script (no site packages, stdlib only) that connects to
the server's Unix socket and passes its argv, environment, directory and its fds 0, 1
and 2. The server forks a handler per command; the handler forks the command's process,
which puts those fds in place, sets the environment and directory and runs
`reconciler.cli.main.main(argv)`, then exits the way `asr` exits (atexit handlers,
threads joined, streams flushed); the handler sends its exit status (or the signal that
ended it) back and the script exits with it. SIGINT, SIGTERM and SIGHUP sent to the
script go to the command (those the script was started ignoring, the command ignores);
if the script dies, the handler ends the command.

What a real `asr` start has that this does not: the console script and the interpreter's
start-up (tests/e2e and tests/packaging run those), and interpreter options read from
the environment at start-up (PYTHON* variables: the server's apply).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import Any

READY = "# warm asr ready"

# imported before the server forks: what `asr plan` / `asr apply` import (the rest of what
# a command needs is imported in its own process, as usual). asr's own packages are loaded
# the way the CLI loads them, through their public names (`from reconciler.azure import
# heartbeat`).
PRELOAD = (
    "azure.identity",
    "azure.identity._credentials.app_service",
    "azure.identity._internal.msal_managed_identity_client",
    "azure.core.pipeline.transport._requests_basic",
    "azure.core.rest._requests_basic",
    "azure.mgmt.recoveryservicessiterecovery",
    "azure.mgmt.recoveryservices",
    "azure.mgmt.resource.resources",
    "azure.mgmt.storage",
    "azure.mgmt.network",
)
PUBLIC = ("reconciler.azure", "reconciler.live", "reconciler.plan", "reconciler.apply", "reconciler.ops")


SHIM = '''#!{python} -IS
# `asr` through the warm asr server (tests/ci/warm_asr.py)
import json, os, signal, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect({sock!r})
except OSError as e:
    sys.exit(f"asr (warm): no warm asr server at {sock}: {{e}}")
# signals this script was started ignoring (a shell's background job: SIGINT, SIGQUIT) the command ignores too
ignored = [int(n) for n in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP) if signal.getsignal(n) == signal.SIG_IGN]
body = json.dumps({{"argv": ["asr", *sys.argv[1:]], "env": dict(os.environ), "cwd": os.getcwd(), "ignored": ignored}}).encode()
socket.send_fds(s, [len(body).to_bytes(8, "big")], [0, 1, 2])
s.sendall(body)
f = s.makefile("r")
line = f.readline()
if not line:
    sys.exit("asr (warm): the server closed the connection")
pid = json.loads(line)["pid"]
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    if sig not in ignored:
        signal.signal(sig, lambda n, _f: os.kill(pid, n))
line = f.readline()
if not line:
    sys.exit("asr (warm): the server closed the connection before the command ended")
code = json.loads(line)["exit"]
if code < 0:
    signal.signal(-code, signal.SIG_DFL)
    os.kill(os.getpid(), -code)
sys.exit(code)
'''


class WarmAsr:
    def __init__(self, startup_timeout: float = 120.0) -> None:
        self.startup_timeout = startup_timeout
        self.dir = ""
        self.proc: subprocess.Popen | None = None

    @property
    def bin_dir(self) -> str:
        return os.path.join(self.dir, "bin")

    def start(self) -> None:
        # a short folder: a Unix socket path has at most 107 bytes
        self.dir = tempfile.mkdtemp(prefix="warm-asr-", dir="/tmp" if os.path.isdir("/tmp") else None)
        sock = os.path.join(self.dir, "asr.sock")
        os.mkdir(self.bin_dir)
        shim = os.path.join(self.bin_dir, "asr")
        with open(shim, "w") as f:
            f.write(SHIM.format(python=sys.executable, sock=sock))
        os.chmod(shim, 0o755)
        # -P: the command's sys.path is the installed asr's, not this folder
        # its stdin is a pipe from here: when this process ends, however it ends, the server does too
        self.proc = subprocess.Popen([sys.executable, "-P", os.path.abspath(__file__), "serve", sock],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + self.startup_timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            line = self.proc.stdout.readline()
            if line.strip() == READY:
                return
            if not line:  # exited
                break
        self.stop()
        raise RuntimeError(f"the warm asr server did not start within {self.startup_timeout:g} s")

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()  # the server's signal to stop
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc.stdout is not None:
                self.proc.stdout.close()
            self.proc = None
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = ""

    def __enter__(self) -> WarmAsr:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# --- the server (python -P warm_asr.py serve SOCKET) -----------------------------------

def _recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise EOFError("the client went away")
        buf += chunk
    return buf


def _serve(sock_path: str) -> Any:
    """Returns, in a command's process, the function that runs the command; the server
    itself only returns when killed."""
    import gc
    import importlib

    server = os.getpid()
    for name in PRELOAD:
        importlib.import_module(name)
    for name in PUBLIC:
        package = importlib.import_module(name)
        for attr in package.__all__:
            getattr(package, attr)
    from reconciler.cli.main import build_parser

    build_parser()  # imports every command's module
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    listener.listen(16)
    handlers: set[int] = set()

    def reap(block: bool) -> None:  # handlers are waited for: their CPU counts in the server's children's
        for pid in list(handlers):
            try:
                done, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                handlers.discard(pid)

    def stop(_signum: int, _frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    gc.freeze()  # what is imported stays in the parent's pages
    print(READY, flush=True)
    try:
        while True:
            ready, _, _ = select.select([listener, sys.stdin], [], [])
            if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
                return None  # whoever started the server is gone
            if listener not in ready:
                continue
            conn, _ = listener.accept()
            pid = os.fork()
            if pid == 0:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                listener.close()
                return _handle(conn)
            conn.close()
            handlers.add(pid)
            reap(block=False)
    finally:
        if os.getpid() == server:
            listener.close()
            reap(block=False)
            for pid in handlers:  # a command still running: its handler ends it
                os.kill(pid, signal.SIGTERM)
            reap(block=True)


def _handle(conn: socket.socket) -> Any:
    """The handler of one command (a child of the server)."""
    try:
        head, fds, _flags, _addr = socket.recv_fds(conn, 8, 3)
        if len(fds) != 3:
            os._exit(1)
        head += _recv_exact(conn, 8 - len(head))
        req = json.loads(_recv_exact(conn, int.from_bytes(head, "big")))
    except (OSError, EOFError, ValueError):
        os._exit(1)
    pid = os.fork()
    if pid == 0:
        conn.close()
        return lambda: _run(req, fds)
    for fd in fds:
        os.close(fd)

    def end(_signum: int, _frame: Any) -> None:  # the server stops: so does the command
        os.kill(pid, signal.SIGTERM)
        os._exit(1)

    signal.signal(signal.SIGTERM, end)
    conn.sendall((json.dumps({"pid": pid}) + "\n").encode())
    watched: list[Any] = [conn]
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    if pidfd is not None:
        watched.append(pidfd)
    status = None
    while status is None:
        r, _, _ = select.select(watched, [], [], None if pidfd is not None else 0.05)
        if conn in r and not conn.recv(1):  # the script was killed: end its command too
            watched.remove(conn)
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
    try:
        conn.sendall((json.dumps({"exit": status}) + "\n").encode())
    except OSError:
        pass
    os._exit(0)


def _run(req: dict, fds: list[int]) -> None:
    """In the command's own process: its stdio, environment, directory and argv, then asr."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as Python starts
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # set again: the handler's differs
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    for n in req.get("ignored", ()):
        signal.signal(n, signal.SIG_IGN)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    # the same stream objects now write to the command's fds; buffered as a fresh start would
    sys.stdout.reconfigure(line_buffering=os.isatty(1))
    os.environ.clear()
    os.environ.update(req["env"])
    os.chdir(req["cwd"])
    sys.argv = list(req["argv"])
    from reconciler.cli.main import main

    sys.exit(main(sys.argv[1:]))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve":
        sys.exit("usage: warm_asr.py serve SOCKET")
    job = _serve(sys.argv[2])
    if job is not None:
        job()

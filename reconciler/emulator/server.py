"""`asr emulator serve`: bind loopback sockets, generate certificates, print the
`export` lines, then serve the ARM endpoint (HTTPS) and the managed-identity token
endpoint (plain HTTP on loopback, as azure-identity expects) in one asyncio loop
until SIGINT / SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
from typing import IO

from reconciler.emulator import auth, certs, faults
from reconciler.emulator.app import EmulatorApp, load_estate_file
from reconciler.emulator.state import DEFAULT_PAGE_SIZE, EmulatorConfig

HOST = "127.0.0.1"
READY_MARKER = "# asr emulator ready"


class ServeError(Exception):
    """Bad flags or estate: reported by the CLI as a user error."""


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when
    # the proto is TCP; without it every answer waits ~40 ms (Nagle + delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from None
    sock.listen(512)
    sock.setblocking(False)
    return sock


def build(
    *,
    estate_path: str | None = None,
    faults_spec: str | None = None,
    arm_limits: bool = False,
    time_scale: float = 1.0,
    page_size: int | None = None,
) -> EmulatorApp:
    try:
        fault_cfg = faults.parse(faults_spec)
    except faults.FaultSpecError as exc:
        raise ServeError(f"--faults: {exc}") from None
    if time_scale <= 0:
        raise ServeError("--time-scale must be greater than 0")
    if page_size is not None and page_size < 1:
        raise ServeError("--page-size must be at least 1")
    estate = None
    if estate_path:
        if not os.path.exists(estate_path):
            raise ServeError(f"--estate: {estate_path}: no such file")
        try:
            estate = load_estate_file(estate_path)
        except ServeError:
            raise
        except Exception as exc:  # the estate loader's own errors carry FILE:LINE:COL
            raise ServeError(str(exc)) from None
    cfg = EmulatorConfig(page_size=page_size or DEFAULT_PAGE_SIZE, time_scale=time_scale, arm_limits=arm_limits, faults=fault_cfg)
    try:
        return EmulatorApp(config=cfg, estate=estate)
    except (ValueError, TypeError) as exc:
        raise ServeError(f"--estate: {exc}") from None


def _uvicorn_server(app, **kw):
    import uvicorn

    class _Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self):  # signals are handled once, for both servers
            yield

    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30,
                            timeout_graceful_shutdown=1, **kw)
    return _Server(config)


def serve(
    *,
    port: int = 0,
    estate_path: str | None = None,
    faults_spec: str | None = None,
    arm_limits: bool = False,
    time_scale: float = 1.0,
    page_size: int | None = None,
    log_requests: bool = False,
    out: IO[str] | None = None,
) -> int:
    out = out or sys.stdout
    app = build(estate_path=estate_path, faults_spec=faults_spec, arm_limits=arm_limits, time_scale=time_scale, page_size=page_size)
    app.log_requests = log_requests
    workdir = tempfile.mkdtemp(prefix="asr-emulator-")
    # SIGINT / SIGTERM from now on only ask to stop: one that came between the ready line and the loop's
    # own handlers raised KeyboardInterrupt inside asyncio.run's set-up, which left its event loop unclosed
    # (an "unclosed event loop" traceback at exit). With a handler of ours in place, asyncio.run installs none.
    early = _EarlyStop()
    try:
        files = certs.generate(workdir)
        arm_sock = _bind(port)
        id_sock = _bind(0)
        arm_port = arm_sock.getsockname()[1]
        id_port = id_sock.getsockname()[1]
        exports = {
            "ASR_ARM_ENDPOINT": f"https://{HOST}:{arm_port}",
            "ASR_CA_BUNDLE": files.ca_cert,
            "IDENTITY_ENDPOINT": f"http://{HOST}:{id_port}/msi/token",
            "IDENTITY_HEADER": app.authority.identity_header,
            # only the managed-identity credential: a developer's own AZURE_* variables
            # (service principal, CLI login) cannot take the chain elsewhere
            "AZURE_TOKEN_CREDENTIALS": "ManagedIdentityCredential",
        }
        lines = [f"export {k}={v}" for k, v in exports.items()]
        lines.append(f"{READY_MARKER} on {exports['ASR_ARM_ENDPOINT']} (pid {os.getpid()})")
        out.write("\n".join(lines) + "\n")
        out.flush()
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="asr-emulator: %(levelname)s %(message)s")
        asyncio.run(_run(app, arm_sock, id_sock, files, early))
        return 0
    finally:
        early.restore()
        shutil.rmtree(workdir, ignore_errors=True)


class _EarlyStop:
    """Records a SIGINT / SIGTERM that comes before the serving loop handles them itself."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._previous = {sig: signal.signal(sig, self._handle) for sig in self.SIGNALS}

    def _handle(self, signum: int, frame: object) -> None:
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


class _QuietShutdown(logging.Filter):
    """Idle keep-alive TLS connections outlive the 1 s graceful shutdown; uvicorn then
    logs 'Cancel 0 running task(s)...' at ERROR level, which is not an error here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith("Cancel ")


async def _run(app: EmulatorApp, arm_sock: socket.socket, id_sock: socket.socket, files: certs.CertFiles,
               early: _EarlyStop) -> None:
    arm = _uvicorn_server(app, ssl_certfile=files.server_cert, ssl_keyfile=files.server_key)
    ident = _uvicorn_server(auth.token_app(app.authority, lambda: app.state))
    logging.getLogger("uvicorn.error").addFilter(_QuietShutdown())  # after uvicorn configured its logging
    loop = asyncio.get_running_loop()

    def stop() -> None:
        arm.should_exit = True
        ident.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    if early.requested:  # asked to stop before the handlers above were in place
        stop()
    await asyncio.gather(arm.serve(sockets=[arm_sock]), ident.serve(sockets=[id_sock]))

"""The emulator for tests and benches, two ways with one surface.

`EmulatorProcess`: `asr emulator serve` as a subprocess, reached over real HTTPS with
the real credential chain (managed identity):

    with EmulatorProcess(args=["--time-scale", "100"]) as emu:
        os.environ.update(emu.env)
        ...
        emu.reset(estate="examples/estates/hyperv-site.yaml", faults="throttle=0.1,seed=3")
        emu.advance(3600)
        emu.set_faults("jobfail=1,seed=3")   # from now on, state kept
        print(emu.stats()["requests"])

`InProcessEmulator`: the same `EmulatorApp` in this process, no sockets. The product's
`Clients` reach it through `InProcessTransport` (an azure-core `HttpTransport`: the
real SDK clients and pipeline, retries and policies included; only the transport
differs) and a `StaticTokenCredential` signed by the emulator's own token authority
(so the emulator's authentication and authorisation still run):

    emu = InProcessEmulator()
    with emu.installed():           # every Clients() built meanwhile talks to it
        ...
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from http import HTTPStatus
from typing import Any

from azure.core.pipeline.transport import HttpTransport
from azure.core.rest._http_response_impl import HttpResponseImpl  # azure-core's base of its transports' responses
from azure.core.utils import case_insensitive_dict

READY_MARKER = "# asr emulator ready"


class EmulatorStartError(RuntimeError):
    pass


class _ControlSurface:
    """The `/_emulator/*` control calls, the same for the subprocess and the in-process
    emulator: each class supplies `_control(method, name, body)`."""

    def _control(self, method: str, name: str, body: dict | None = None) -> dict:
        raise NotImplementedError

    def set_faults(self, spec: str | None) -> dict:
        """New fault settings (`--faults` syntax; None or "" = no faults) without a
        reset: resources, jobs, clock and stats stay; the fault and job generators are
        re-seeded from the spec's `seed`. Returns the effective settings; RuntimeError
        (with the emulator's 400 answer) for an invalid spec."""
        return self._control("POST", "faults", {"faults": spec or ""})

    def overlay(self, *, protected_item: str | None = None, job_scenario: str | None = None,
                properties: dict | None = None) -> dict:
        """Write `properties` over what the emulator renders for a replicated item (by VM
        name) or for the jobs of a scenario: a value no recording shows, to test how asr
        copes with it. properties None removes the overlay."""
        body: dict = {"properties": properties}
        if protected_item:
            body["protectedItem"] = protected_item
        if job_scenario:
            body["jobScenario"] = job_scenario
        return self._control("POST", "overlay", body)

    def advance(self, seconds: float) -> dict:
        return self._control("POST", "advance", {"seconds": seconds})

    def set_time_scale(self, scale: float) -> dict:
        """Simulated time runs `scale` times as fast as real time from now on, without a
        reset (state, jobs and stats stay): e.g. set up fast at 600, then watch jobs at 1."""
        return self._control("POST", "time-scale", {"timeScale": scale})

    def stats(self) -> dict:
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("POST", "reset-stats")


class EmulatorProcess(_ControlSurface):
    def __init__(self, args: list[str] | None = None, *, startup_timeout: float = 60.0, env: dict[str, str] | None = None) -> None:
        self.args = list(args or [])
        self.startup_timeout = startup_timeout
        self.extra_env = dict(env or {})
        self.env: dict[str, str] = {}
        self.proc: subprocess.Popen | None = None
        self._stderr = tempfile.TemporaryFile(mode="w+b")
        self._session = None
        self.start()

    # ---- life cycle
    def start(self) -> None:
        env = dict(os.environ)
        for k in ("ASR_ARM_ENDPOINT", "ASR_CA_BUNDLE", "IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
            env.pop(k, None)
        env.update(self.extra_env)
        cmd = [sys.executable, "-m", "reconciler.cli.main", "emulator", "serve"]
        if "--port" not in self.args:
            cmd += ["--port", "0"]
        cmd += self.args
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, env=env, text=True, bufsize=1)
        deadline = time.monotonic() + self.startup_timeout
        lines: list[str] = []
        result: dict[str, Any] = {}

        def read() -> None:
            assert self.proc and self.proc.stdout
            for line in self.proc.stdout:
                line = line.rstrip("\n")
                if line.startswith(READY_MARKER):
                    result["ready"] = True
                    break
                lines.append(line)
            result["done"] = True

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(max(0.1, deadline - time.monotonic()))
        if not result.get("ready"):
            self.stop()
            raise EmulatorStartError(f"emulator did not start: stdout={lines!r} stderr={self.stderr_text()[-4000:]!r}")
        for line in lines:
            if line.startswith("export "):
                k, _, v = line[len("export "):].partition("=")
                self.env[k] = v
        # keep draining stdout so the child never blocks on a full pipe
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        if self.proc and self.proc.stdout:
            for _ in self.proc.stdout:
                pass

    def stderr_text(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # ---- properties
    @property
    def url(self) -> str:
        return self.env["ASR_ARM_ENDPOINT"]

    @property
    def ca_bundle(self) -> str:
        return self.env["ASR_CA_BUNDLE"]

    # ---- control surface
    def _http(self):
        if self._session is None:
            import requests

            self._session = requests.Session()
            self._session.verify = self.ca_bundle
        return self._session

    def _control(self, method: str, name: str, body: dict | None = None) -> dict:
        r = self._http().request(method, f"{self.url}/_emulator/{name}", json=body, timeout=60, verify=self.ca_bundle)
        if r.status_code >= 400:
            raise RuntimeError(f"emulator control {name}: {r.status_code} {r.text}")
        return r.json()

    def reset(
        self,
        estate: None | str | os.PathLike | dict = None,
        faults: str | None = None,
        time_scale: float = 1.0,
        page_size: int | None = None,
        arm_limits: bool = False,
    ) -> None:
        """Fresh state: estate None = the estate the process started with (the default
        quickstart estate unless --estate), a path = an estate file (loaded by the
        emulator), a dict = an estate as data. Time scale, ARM limits and faults are
        set exactly as given (defaults: 1, off, none); page_size None keeps the
        process's --page-size."""
        body: dict[str, Any] = {"timeScale": time_scale, "armLimits": arm_limits, "faults": faults or ""}
        if isinstance(estate, dict):
            body["estate"] = estate
        elif estate is not None:
            body["estatePath"] = os.path.abspath(os.fspath(estate))
        if page_size:
            body["pageSize"] = page_size
        self._control("POST", "reset", body)



# --------------------------------------------------------------------------- in process, through the SDK

IN_PROCESS_ENDPOINT = "https://asr-emulator.invalid"  # never resolved: only InProcessTransport reaches it


def _asgi_request(app: Any, method: str, url_or_path: str, headers: list[tuple[str, str]], body: bytes,
                  loop: Any = None) -> tuple[int, list[tuple[str, str]], bytes]:
    """One HTTP request through an ASGI app, in this thread: (status, headers, body).
    Scope as uvicorn builds it: `path` percent-decoded, `raw_path` as sent, scheme
    https, the Host header from the URL unless given."""
    import asyncio
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url_or_path)
    hdrs = [(k.lower(), v) for k, v in headers]
    if parts.netloc and not any(k == "host" for k, _ in hdrs):
        hdrs.insert(0, ("host", parts.netloc))
    raw_path = parts.path or "/"
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.upper(),
        "scheme": "https", "path": unquote(raw_path), "raw_path": raw_path.encode(),
        "query_string": parts.query.encode(), "root_path": "",
        "headers": [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in hdrs],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 443),
    }
    out: dict[str, Any] = {"status": 500, "headers": [], "body": []}
    sent = {"done": False}

    async def receive() -> dict:
        if sent["done"]:
            return {"type": "http.disconnect"}
        sent["done"] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(msg: dict) -> None:
        if msg["type"] == "http.response.start":
            out["status"] = msg["status"]
            out["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in msg.get("headers", [])]
        elif msg["type"] == "http.response.body":
            out["body"].append(msg.get("body", b""))

    if loop is None:
        asyncio.run(app(scope, receive, send))
    else:
        loop.run_until_complete(app(scope, receive, send))
    return out["status"], out["headers"], b"".join(out["body"])


class _Loop:
    """An event loop closed when its holder goes (with the thread that used it)."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()

    def __del__(self) -> None:
        try:
            self.loop.close()
        except Exception:
            pass


class _Loops(threading.local):
    """One event loop per thread, kept (a loop per request costs about 0.1 ms more)."""

    holder: Any = None

    def get(self) -> Any:
        if self.holder is None or self.holder.loop.is_closed():
            self.holder = _Loop()
        return self.holder.loop


class _Body:
    """The `internal_response` of an InProcessResponse: the bytes the app sent."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def close(self) -> None:
        pass


def _stream(response: Any, pipeline: Any = None, **kwargs: Any) -> Any:
    data = response.internal_response.data
    block = response.block_size or 4096
    for i in range(0, len(data), block):
        yield data[i:i + block]


class InProcessHttpResponse(HttpResponseImpl):
    """azure-core's own sync response implementation (the base of its requests
    transport's responses), over the bytes the app answered."""


class InProcessTransport(HttpTransport):
    """An azure-core `HttpTransport` that hands each request to an ASGI app (the
    emulator's `EmulatorApp`) in this process. Given to the SDK clients through their
    supported `transport=` argument: the pipeline in front of it (authentication,
    retries and Retry-After, hooks, serialization, LRO polling) is the SDK's own.
    Timeouts and TLS settings are accepted and have nothing to apply to. With
    `endpoint`, a request for any other host fails as an unreachable one would
    (azure-core's ServiceRequestError, retried by the pipeline as a connection error).

    `simulated_sleep` (off by default): the waits azure-core asks its transport for
    (`HttpTransport.sleep`: the retry policy's Retry-After and back-off, the LRO
    poller's interval) pass on the emulator's clock instead of the real one: the clock
    advances by the wait at the emulator's time scale and the call returns at once, as
    if that much real time had gone by. Not while ARM limits are enforced (their token
    buckets refill in real time). `slept`: the real seconds so skipped."""

    def __init__(self, app: Any, endpoint: str | None = None, *, simulated_sleep: bool = False) -> None:
        from urllib.parse import urlsplit

        self.app = app
        self.netloc = urlsplit(endpoint).netloc.lower() if endpoint else None
        self._loops = _Loops()
        self.requests = 0
        self.simulated_sleep = simulated_sleep
        self.slept = 0.0
        self.sleeps = 0

    def __enter__(self) -> InProcessTransport:
        return self

    def __exit__(self, *args: Any) -> None:
        pass  # shared by every client of a test: closing one client must not close it

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def sleep(self, duration: float) -> None:
        if not self.simulated_sleep or self.app.limiter.enforce:
            time.sleep(duration)
            return
        state = self.app.state
        if duration > 0:
            state.advance(duration * state.clock.scale)
        self.slept += max(0.0, duration)
        self.sleeps += 1

    def send(self, request: Any, **kwargs: Any) -> Any:
        if self.netloc is not None:
            from urllib.parse import urlsplit

            netloc = urlsplit(request.url).netloc.lower()
            if netloc != self.netloc:
                from azure.core.exceptions import ServiceRequestError

                raise ServiceRequestError(f"cannot connect to {netloc}: connection refused (only {self.netloc} "
                                          "is served in process)")
        body = request.content if hasattr(request, "content") else request.data
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode("utf-8")
        elif hasattr(body, "read"):
            raw = body.read()
            data = raw.encode("utf-8") if isinstance(raw, str) else raw
        else:
            raise TypeError(f"InProcessTransport: unsupported request body {type(body).__name__}")
        headers = list(request.headers.items())
        if data and not any(k.lower() == "content-length" for k, _ in headers):
            headers.append(("content-length", str(len(data))))
        self.requests += 1
        status, resp_headers, content = _asgi_request(self.app, request.method, request.url, headers, data,
                                                     loop=self._loops.get())
        hdrs = case_insensitive_dict()
        for k, v in resp_headers:
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        response = InProcessHttpResponse(
            request=request, internal_response=_Body(content), status_code=status, reason=reason,
            content_type=hdrs.get("content-type"), headers=hdrs, stream_download_generator=_stream,
        )
        if not kwargs.get("stream", False):
            response.read()
        return response


class StaticTokenCredential:
    """A token credential (azure-core `TokenCredential` protocol) whose tokens the
    emulator's own authority signs for one of its principals (default: the estate's
    default Contributor). The emulator still verifies every token (signature, audience,
    expiry, the principal's role)."""

    def __init__(self, app: Any, client_id: str | None = None) -> None:
        self.app = app
        self.client_id = client_id
        self.issued = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        state = self.app.state
        principal = state.default_principal
        if self.client_id:
            principal = state.principals.get(self.client_id.lower())
            if principal is None:
                from azure.core.exceptions import ClientAuthenticationError

                raise ClientAuthenticationError(message=f"no emulator principal with client id {self.client_id}")
        resource = scopes[0].removesuffix("/.default") if scopes else "https://management.azure.com"
        token, expires_on = self.app.authority.issue(principal, resource, state.tenant_id)
        self.issued += 1
        return AccessToken(token, expires_on)

    def close(self) -> None:
        pass

    def __enter__(self) -> StaticTokenCredential:
        return self

    def __exit__(self, *args: Any) -> None:
        pass


class InProcessEmulator(_ControlSurface):
    """The emulator app in this process, with `EmulatorProcess`'s surface (reset,
    set_faults, overlay, advance, stats, reset_stats, env, url, alive, start, stop).
    Built like `asr emulator serve` (`reconciler.emulator.server.build`, same flags as
    keyword arguments). `installed()` (or the tests' `inproc_emulator` fixture) makes
    every `Clients` built without a transport use `transport` and `credential`.

    Resets are cheaper than the process's: estate files are parsed once per content
    (the estate loader is the same; an invalid file raises each time)."""

    def __init__(self, *, estate_path: str | None = None, faults_spec: str | None = None, arm_limits: bool = False,
                 time_scale: float = 1.0, page_size: int | None = None, endpoint: str = IN_PROCESS_ENDPOINT) -> None:
        self._build_args: dict[str, Any] = dict(estate_path=estate_path, faults_spec=faults_spec, arm_limits=arm_limits,
                                time_scale=time_scale, page_size=page_size)
        self.endpoint = endpoint.rstrip("/")
        self.env: dict[str, str] = {"ASR_ARM_ENDPOINT": self.endpoint}
        self._estates: dict[tuple[str, bytes], dict] = {}
        self.app: Any = None
        self.start()

    def start(self) -> None:
        from reconciler.emulator.server import build

        self.app = build(**self._build_args)
        self.transport = InProcessTransport(self.app, self.endpoint)
        self.credential = StaticTokenCredential(self.app)

    def stop(self) -> None:
        pass  # nothing runs in the background

    def __enter__(self) -> InProcessEmulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self.app is not None

    @property
    def url(self) -> str:
        return self.endpoint

    def installed(self) -> Any:
        """Context manager: `Clients` built without a transport/credential inside it
        use this emulator's."""
        import contextlib

        from reconciler.azure.clients import Clients

        @contextlib.contextmanager
        def cm() -> Any:
            saved = Clients.default_transport, Clients.default_credential
            Clients.default_transport, Clients.default_credential = self.transport, self.credential
            try:
                yield self
            finally:
                Clients.default_transport, Clients.default_credential = saved

        return cm()

    # ---- control surface: the app's own /_emulator routes, in process
    def _control(self, method: str, name: str, body: dict | None = None) -> dict:
        import json

        data = json.dumps(body).encode() if body is not None else b""
        status, _, content = _asgi_request(self.app, method, f"{self.endpoint}/_emulator/{name}",
                                           [("content-type", "application/json")], data)
        if status >= 400:
            raise RuntimeError(f"emulator control {name}: {status} {content.decode(errors='replace')}")
        return json.loads(content) if content else {}

    def _estate_file(self, path: str) -> dict:
        from reconciler.emulator.app import load_estate_file

        path = os.path.abspath(path)
        try:
            with open(path, "rb") as fh:
                key = (path, fh.read())
        except OSError:
            return load_estate_file(path)  # the loader's own message
        if key not in self._estates:
            self._estates[key] = load_estate_file(path)
        return self._estates[key]

    def reset(
        self,
        estate: None | str | os.PathLike | dict = None,
        faults: str | None = None,
        time_scale: float = 1.0,
        page_size: int | None = None,
        arm_limits: bool = False,
    ) -> None:
        """As `EmulatorProcess.reset`."""
        import copy

        from reconciler.emulator import faults as faults_mod
        from reconciler.emulator.app import default_estate

        if estate is None:
            if self.app.startup_estate is not None:
                data = self.app.startup_estate
            else:
                if "default" not in self._estates:
                    self._estates["default"] = default_estate()  # type: ignore[index]
                data = self._estates["default"]  # type: ignore[index]
        elif isinstance(estate, dict):
            data = estate
        else:
            try:
                data = self._estate_file(os.fspath(estate))
            except (ValueError, TypeError, OSError) as exc:
                raise RuntimeError(f"emulator control reset: 400 {exc}") from None
        try:
            self.app.reset(estate=copy.deepcopy(data), faults_spec=faults or "", time_scale=time_scale,
                           page_size=page_size or None, arm_limits=arm_limits)
        except (ValueError, TypeError, OSError, faults_mod.FaultSpecError) as exc:
            raise RuntimeError(f"emulator control reset: 400 {exc}") from None
        self.transport.slept, self.transport.sleeps = 0.0, 0


# --------------------------------------------------------------------------- in-process calls


class InProcessResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers  # lower-cased names, looked up case-insensitively
        self.content = body

    def json(self) -> Any:
        import json

        return json.loads(self.content) if self.content else None

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


def call(app: Any, method: str, path: str, *, json: Any = None, body: bytes | None = None,
         headers: dict[str, str] | None = None, token: str | None = "default", host: str = "127.0.0.1:1") -> InProcessResponse:
    """Drive an EmulatorApp (ASGI) in process, without sockets: for fast framework and
    provider tests. `token="default"` signs one for the default principal; None sends
    no Authorization header; any other string is sent as the bearer token."""
    import asyncio
    import json as _json
    from urllib.parse import urlsplit

    hdrs = {"host": host, **{k.lower(): v for k, v in (headers or {}).items()}}
    if token == "default":
        token, _ = app.authority.issue(app.state.default_principal, "https://management.azure.com", app.state.tenant_id)
    if token is not None:
        hdrs["authorization"] = f"Bearer {token}"
    if json is not None:
        body = _json.dumps(json).encode()
        hdrs.setdefault("content-type", "application/json")
    body = body or b""
    parts = urlsplit(path)
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.upper(),
        "scheme": "https", "path": parts.path, "raw_path": parts.path.encode(), "query_string": parts.query.encode(),
        "root_path": "", "headers": [(k.encode(), v.encode()) for k, v in hdrs.items()],
        "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 1),
    }
    out: dict[str, Any] = {"body": b""}
    sent = {"done": False}

    async def receive():
        if sent["done"]:
            return {"type": "http.disconnect"}
        sent["done"] = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(msg):
        if msg["type"] == "http.response.start":
            out["status"] = msg["status"]
            out["headers"] = case_insensitive_dict((k.decode().lower(), v.decode()) for k, v in msg["headers"])
        elif msg["type"] == "http.response.body":
            out["body"] += msg.get("body", b"")

    asyncio.run(app(scope, receive, send))
    return InProcessResponse(out["status"], out["headers"], out["body"])


# --------------------------------------------------------------------------- SDK shape check


def sdk_unknown_keys(obj: dict, cls: Any, path: str = "") -> list[str]:  # cls: an untyped TypeSpec model class
    """Paths of keys in the REST JSON `obj` that the pinned SDK model `cls` (a TypeSpec
    model class, e.g. azure.mgmt.recoveryservices.models.Vault) does not define,
    recursively through nested models; polymorphic models are resolved through
    their discriminator (instanceType, authType...) as the SDK deserializer does."""
    import inspect
    import sys
    import typing

    # a polymorphic model: follow the discriminator (e.g. instanceType) to the subclass
    seen_disc: list[str] = []
    while "__mapping__" in vars(cls) or hasattr(cls, "__mapping__"):
        disc = cls._get_discriminator(seen_disc)
        if disc is None:
            break
        seen_disc.append(disc._rest_name)
        sub_cls = cls.__mapping__.get(obj.get(disc._rest_name))
        if sub_cls is None or sub_cls is cls:
            break
        cls = sub_cls
    cls()  # TypeSpec models compute their field table on first instantiation
    fields = {f._rest_name: attr for attr, f in cls._attr_to_rest_field.items()}
    pkg = sys.modules[cls.__module__.rsplit(".", 1)[0]]
    hints = typing.get_type_hints(cls, localns={"_models": pkg})
    bad = []
    for key, val in obj.items():
        if key not in fields:
            bad.append(f"{path}.{key}")
            continue
        sub = None
        for a in typing.get_args(hints.get(fields[key])) or [hints.get(fields[key])]:
            for b in typing.get_args(a) or [a]:
                if inspect.isclass(b) and hasattr(b, "_calculated"):
                    sub = b
        if sub is not None and isinstance(val, dict):
            bad += sdk_unknown_keys(val, sub, f"{path}.{key}")
        elif sub is not None and isinstance(val, list):
            for i, x in enumerate(val):
                if isinstance(x, dict):
                    bad += sdk_unknown_keys(x, sub, f"{path}.{key}[{i}]")
    return bad

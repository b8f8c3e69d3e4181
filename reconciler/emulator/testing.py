"""Run `asr emulator serve` as a subprocess, for tests and benches.

    with EmulatorProcess(args=["--time-scale", "100"]) as emu:
        os.environ.update(emu.env)
        ...
        emu.reset(estate="examples/estates/hyperv-site.yaml", faults="throttle=0.1,seed=3")
        emu.advance(3600)
        emu.set_faults("jobfail=1,seed=3")   # from now on, state kept
        print(emu.stats()["requests"])
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

READY_MARKER = "# asr emulator ready"


class EmulatorStartError(RuntimeError):
    pass


class EmulatorProcess:
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

    def stats(self) -> dict:
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("POST", "reset-stats")


# --------------------------------------------------------------------------- in-process calls


class InProcessResponse:
    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status_code = status
        self.headers = headers  # lower-cased names
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
            out["headers"] = {k.decode().lower(): v.decode() for k, v in msg["headers"]}
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

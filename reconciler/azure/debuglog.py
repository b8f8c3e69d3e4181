"""HTTP debug log (`ASR_LOG=debug` or `--debug`), like `TF_LOG=debug` / `az --debug`.

`DebugLogPolicy` is an azure-core pipeline policy added after the retry policy of every
client `clients.py` builds, so each attempt is logged, retries included. One block per
request on stderr:

    asr-debug: GET https://management.azure.com/subscriptions/.../vaults?api-version=2024-04-01
    asr-debug:   -> 200 OK in 84 ms; x-ms-client-request-id=... x-ms-request-id=... x-ms-correlation-request-id=...
    asr-debug:   request headers: Authorization=REDACTED; x-ms-client-request-id=...; ...

Redacted always: the Authorization header, X-IDENTITY-HEADER / IDENTITY_HEADER, every
header whose name says secret, token, key, cookie, password or signature, and the same
names in query strings (SAS `sig=`). Bodies are not logged (they can carry vault
credentials and certificates). The log is written with the request headers as they were
sent, i.e. after the authentication policy added the bearer token: redaction is what
keeps it out.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from azure.core.pipeline.policies import HTTPPolicy

REDACTED = "REDACTED"
_SECRET_NAME = re.compile(r"authorization|identity[-_]?header|secret|token|password|passwd|cookie|signature|"
                          r"(^|[-_])key($|[-_])|apikey|^sig$|^code$|credential", re.I)
_IDS = ("x-ms-client-request-id", "x-ms-request-id", "x-ms-correlation-request-id", "x-ms-routing-request-id")
_SHOWN_RESPONSE = ("retry-after", "x-ms-ratelimit-remaining-subscription-reads",
                   "x-ms-ratelimit-remaining-subscription-writes", "azure-asyncoperation", "location")
_lock = threading.Lock()


def enabled() -> bool:
    return os.environ.get("ASR_LOG", "").strip().lower() in ("debug", "trace")


def redact_header(name: str, value: str) -> str:
    return REDACTED if _SECRET_NAME.search(name) else value


def redact_url(url: str) -> str:
    """The URL with secret-looking query values (SAS sig, tokens, keys) replaced."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    q = [(k, REDACTED if _SECRET_NAME.search(k) else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(q, safe="/:,")))


class DebugLogPolicy(HTTPPolicy):
    """Logs each HTTP attempt (method, URL, status, time, request ids, headers redacted) to `stream`
    (default: sys.stderr at the time of writing)."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__()
        self.stream = stream

    def send(self, request: Any) -> Any:
        http = request.http_request
        t0 = time.monotonic()
        try:
            response = self.next.send(request)
        except Exception as exc:
            self._write(http, None, time.monotonic() - t0, f"{type(exc).__name__}: {_first_line(exc)}")
            raise
        self._write(http, response.http_response, time.monotonic() - t0, None)
        return response

    def _write(self, http: Any, resp: Any, seconds: float, error: str | None) -> None:
        lines = [f"asr-debug: {http.method} {redact_url(http.url)}"]
        ms = f"{seconds * 1000:.0f} ms"
        req_headers = dict(http.headers or {})
        if resp is None:
            sent = " ".join(f"{k}={v}" for k, v in req_headers.items() if k.lower() in _IDS)
            lines.append(f"asr-debug:   -> no response after {ms}: {error}; {sent}".rstrip("; "))
        else:
            h = resp.headers or {}
            ids = {k: req_headers.get(k) for k in req_headers if k.lower() in _IDS}
            for k in _IDS:
                if h.get(k):
                    ids[k] = h.get(k)
            shown = " ".join(f"{k}={v}" for k, v in ids.items())
            lines.append(f"asr-debug:   -> {resp.status_code} {getattr(resp, 'reason', '') or ''} in {ms}; {shown}"
                         .replace("  in", " in"))
            extra = "; ".join(f"{k}={redact_url(str(h.get(k)))}" for k in _SHOWN_RESPONSE if h.get(k))
            if extra:
                lines.append(f"asr-debug:   response headers: {extra}")
        lines.append("asr-debug:   request headers: "
                     + "; ".join(f"{k}={redact_header(k, str(v))}" for k, v in req_headers.items()))
        stream = self.stream or sys.stderr
        with _lock:
            try:
                stream.write("\n".join(lines) + "\n")
                stream.flush()
            except (OSError, ValueError):
                pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def policies() -> list[Any]:
    """The per-retry policies `clients.py` adds: the debug log when ASR_LOG=debug."""
    return [DebugLogPolicy()] if enabled() else []

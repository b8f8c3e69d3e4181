"""Loopback servers that refuse to hand out tokens, the way real identity endpoints do:
a managed-identity endpoint (App Service protocol: IDENTITY_ENDPOINT + IDENTITY_HEADER)
and a Microsoft Entra ID authority (AZURE_AUTHORITY_HOST, HTTPS) answering AADSTS-style
OAuth errors. Both echo what they were sent in their error text, as some servers do, so
the tests can check asr never repeats a secret."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from typing import Any
from urllib.parse import parse_qs


class FakeIdentity:
    def __init__(self, status: int, *, tls: Any = None, echo: bool = True) -> None:
        """`tls`: reconciler.emulator.certs.CertFiles to serve HTTPS with (the authority must be https);
        `echo`: repeat the identity header / assertion received in the error text."""
        self.status = status
        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n).decode() if n else ""
                outer.requests.append((self.command, self.path))
                if self.path.startswith("/msi/"):
                    header = self.headers.get("X-IDENTITY-HEADER", "")
                    answer = {"error": "invalid_request" if outer.status < 500 else "server_error",
                              "error_description": (f"X-IDENTITY-HEADER {header!r} is not valid for this site" if echo
                                                    else "X-IDENTITY-HEADER is not valid for this site")}
                else:
                    assertion = (parse_qs(body).get("client_assertion") or [""])[0]
                    answer = {"error": "invalid_client",
                              "error_description": ("AADSTS700211: No matching federated identity record found for "
                                                    "presented assertion issuer 'https://token.actions.githubusercontent.com'"
                                                    + (f". Assertion: {assertion}" if echo else "") + "\r\n"
                                                    "Trace ID: 0000\r\nCorrelation ID: 0000\r\n"
                                                    "Timestamp: 2026-12-06 05:00:00Z"),
                              "error_codes": [700211]}
                data = json.dumps(answer).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.scheme = "http"
        if tls is not None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls.server_cert, tls.server_key)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        # a short poll: shutdown() waits for it (0.5 s by default) at the end of every test
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> FakeIdentity:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

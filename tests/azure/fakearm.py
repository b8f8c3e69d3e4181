"""A tiny HTTPS server that answers every request the same way (status + JSON body),
for the job follower's failure tests: the real SDK and pipeline talk to it over TLS
(certificate from the emulator's own generator); the token still comes from the
emulator's identity endpoint."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from typing import Any


class FakeArm:
    def __init__(self, tmpdir: str, status: int = 200, body: Any = None) -> None:
        from reconciler.emulator.certs import generate

        self.certs = generate(tmpdir)
        self.status, self.body = status, body if body is not None else {"value": []}
        self.requests: list[str] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                owner.requests.append(f"{self.command} {self.path.split('?')[0]}")
                data = json.dumps(owner.body).encode()
                self.send_response(owner.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.certs.server_cert, self.certs.server_key)
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        # a short poll: shutdown() waits for it (0.5 s by default) at the end of every test
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def answer(self, status: int, body: Any) -> None:
        self.status, self.body = status, body

    def __enter__(self) -> FakeArm:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def arm_error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def job_json(name: str, state: str = "InProgress", *, activity: str = "", target: str = "app01",
             scenario: str = "EnableDr", start: str = "2026-12-06T05:00:00Z", target_id: str | None = None) -> dict:
    return {"name": name, "id": f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.RecoveryServices/vaults/v/"
                                  f"replicationJobs/{name}",
            "properties": {"state": state, "scenarioName": scenario, "activityId": activity,
                           "targetObjectName": target, "targetObjectId": target_id if target_id is not None else f"/x/replicationProtectedItems/{target}",
                           "startTime": start, "friendlyName": "Enable protection"}}

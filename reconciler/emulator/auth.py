"""Authentication and authorisation.

Tokens: the emulator's managed-identity endpoint (App Service protocol, the one
azure-identity's ManagedIdentityCredential speaks when IDENTITY_ENDPOINT and
IDENTITY_HEADER are set) hands out HS256-signed JWTs naming a principal. ARM requests
must carry `Authorization: Bearer <token>`; anything else is 401 as ARM answers it.

Principals come from the estate (`principals: [{clientId, role}]`); a token request
without client_id gets the default Contributor principal. Roles: Owner and
Contributor may do everything, Reader only actions ending in `/read`; a Reader's write
gets 403 AuthorizationFailed naming the action and the scope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from reconciler.emulator.framework import ArmError, Route, serve_lifespan
from reconciler.emulator.state import EmulatorState, Principal

ARM_AUDIENCES = ("https://management.azure.com", "https://management.azure.com/", "https://management.core.windows.net/", "https://management.core.windows.net")
TOKEN_LIFETIME = 3600 * 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class TokenAuthority:
    """Signs and verifies the emulator's tokens. One per server process (survives
    resets, so a client's cached token stays valid across `/_emulator/reset`)."""

    def __init__(self, key: bytes | None = None, identity_header: str | None = None) -> None:
        self.key = key or secrets.token_bytes(32)
        self.identity_header = identity_header or secrets.token_urlsafe(24)
        self.issuer = "https://sts.windows.net/asr-emulator/"

    def issue(self, principal: Principal, resource: str, tenant_id: str) -> tuple[str, int]:
        now = int(time.time())
        exp = now + TOKEN_LIFETIME
        header = {"alg": "HS256", "typ": "JWT"}
        claims = {
            "aud": resource,
            "iss": self.issuer,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "appid": principal.client_id,
            "oid": principal.object_id,
            "sub": principal.object_id,
            "tid": tenant_id,
            "idtyp": "app",
        }
        signing_input = _b64(json.dumps(header, separators=(",", ":")).encode()) + "." + _b64(json.dumps(claims, separators=(",", ":")).encode())
        sig = hmac.new(self.key, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + _b64(sig), exp

    def verify(self, token: str) -> dict:
        """Claims of a valid token, else ArmError 401."""
        try:
            h, c, s = token.split(".")
            expected = hmac.new(self.key, f"{h}.{c}".encode(), hashlib.sha256).digest()
            if not hmac.compare_digest(expected, _unb64(s)):
                raise ValueError("signature")
            claims = json.loads(_unb64(c))
        except Exception:
            raise unauthenticated("InvalidAuthenticationToken", "The access token is invalid.", "invalid_token") from None
        if claims.get("exp", 0) < time.time():
            raise unauthenticated("ExpiredAuthenticationToken", "The access token expiry UTC time is earlier than current UTC time.", "invalid_token")
        if claims.get("aud") not in ARM_AUDIENCES:
            raise unauthenticated(
                "InvalidAuthenticationTokenAudience",
                f"The access token has been obtained for wrong audience or resource '{claims.get('aud')}'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
                "invalid_token",
            )
        return claims


def unauthenticated(code: str, message: str, error: str = "invalid_token") -> ArmError:
    return ArmError(
        401,
        code,
        message,
        headers={
            "WWW-Authenticate": f'Bearer authorization_uri="https://login.microsoftonline.com/common", error="{error}", error_description="{message}"'
        },
    )


def authenticate(authority: TokenAuthority, state: EmulatorState, authorization: str | None) -> Principal:
    """The principal behind an `Authorization` header, or ArmError 401."""
    if not authorization:
        raise unauthenticated("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.", "invalid_token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("AuthenticationFailed", "Authentication failed. The 'Authorization' header is provided in an invalid format.", "invalid_token")
    claims = authority.verify(token.strip())
    principal = state.principals.get(str(claims.get("appid", "")).lower())
    if principal is None:
        raise unauthenticated("InvalidAuthenticationToken", "The access token is invalid: the principal no longer exists.", "invalid_token")
    return principal


def scope_of(path: str) -> str:
    return path.rstrip("/")


def authorize(route: Route, principal: Principal, path: str) -> None:
    """ArmError 403 AuthorizationFailed if `principal` may not call `route`."""
    if principal.can_write or (principal.role.lower() == "reader" and route.reader_ok):
        return
    raise ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{principal.client_id}' with object id '{principal.object_id}' does not have authorization "
        f"to perform action '{route.action}' over scope '{scope_of(path)}' or the scope is invalid. "
        "If access was recently granted, please refresh your credentials.",
    )


def load_principals(state: EmulatorState, entries: list[dict] | None) -> None:
    """Install the estate's `principals: [{clientId, role, objectId?, name?}]`."""
    for i, e in enumerate(entries or []):
        if not isinstance(e, dict) or not e.get("clientId"):
            raise ValueError(f"principals[{i}]: clientId is required")
        role = str(e.get("role", "Contributor"))
        if role.lower() not in ("owner", "contributor", "reader"):
            raise ValueError(f"principals[{i}].role: must be Owner, Contributor or Reader, not {role!r}")
        role = {"owner": "Owner", "contributor": "Contributor", "reader": "Reader"}[role.lower()]
        cid = str(e["clientId"])
        p = Principal(client_id=cid, object_id=str(e.get("objectId") or cid), role=role, name=str(e.get("name") or ""))
        state.principals[cid.lower()] = p


# --------------------------------------------------------------------------- token endpoint


def token_app(authority: TokenAuthority, get_state: Callable[[], EmulatorState]) -> Any:
    """ASGI app of the App Service managed-identity endpoint:
    GET /msi/token?api-version=2019-08-01&resource=...[&client_id=...]
    with header X-IDENTITY-HEADER."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            await serve_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        req = Request(scope, receive)
        resp = _token_response(req, authority, get_state())
        await resp(scope, receive, send)

    def _token_response(req, authority: TokenAuthority, state: EmulatorState):
        if req.method != "GET" or req.url.path.rstrip("/") != "/msi/token":
            return JSONResponse({"statusCode": 404, "message": "Not found"}, status_code=404)
        if req.headers.get("x-identity-header") != authority.identity_header:
            return JSONResponse({"statusCode": 401, "message": "The X-IDENTITY-HEADER header is missing or invalid."}, status_code=401)
        q = req.query_params
        if q.get("api-version") != "2019-08-01":
            return JSONResponse({"statusCode": 400, "message": "Unsupported or missing api-version; expected 2019-08-01."}, status_code=400)
        resource = q.get("resource")
        if not resource:
            return JSONResponse({"statusCode": 400, "message": "The resource parameter is required."}, status_code=400)
        client_id = q.get("client_id")
        with state.lock:
            if client_id:
                principal = state.principals.get(client_id.lower())
                if principal is None:
                    return JSONResponse(
                        {"statusCode": 400, "message": "No managed identity found for specified ClientId/ResourceId/PrincipalId."},
                        status_code=400,
                    )
            elif q.get("object_id") or q.get("principal_id") or q.get("mi_res_id"):
                return JSONResponse({"statusCode": 400, "message": "Only client_id selects an identity in the emulator."}, status_code=400)
            else:
                principal = state.default_principal
            tenant = state.tenant_id
        aud = resource[: -len("/.default")] if resource.endswith("/.default") else resource
        token, exp = authority.issue(principal, aud, tenant)
        return JSONResponse(
            {
                "access_token": token,
                "expires_on": str(exp),
                "resource": resource,
                "token_type": "Bearer",
                "client_id": principal.client_id,
            }
        )

    return app

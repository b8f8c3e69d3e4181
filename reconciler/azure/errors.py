"""The one place where azure-core / azure-identity exceptions become `reconciler.errors`.

    with azure_errors("read vault contoso-asr-vault"):
        clients.vaults.vaults.get(...)

`translate(exc)` maps one foreign exception to an `AsrError` with a message a
person can act on (and a hint); `azure_errors(action)` wraps a block and raises
the translation `from` the original, so `ASR_DEBUG=1` still shows the cause.

Messages never carry secrets: only the ARM error code and message, the HTTP
method and the URL path (never headers, never the query string) are used.
"""

from __future__ import annotations

import contextlib
import json
import ssl
from typing import Any, Iterator
from urllib.parse import urlsplit

from reconciler.errors import (
    AsrError,
    AuthenticationError,
    AuthorizationError,
    AzureError,
    ConflictError,
    NotFoundError,
    OperationFailedError,
    ThrottledError,
    UnreachableError,
)

__all__ = ["azure_errors", "translate", "is_not_found"]

_NO_CREDENTIAL_HINT = (
    "sign in with `az login`, or set AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET "
    "(service principal), or run where a managed identity is available"
)


def _request_of(exc: Any) -> tuple[str | None, str | None]:
    """(method, url path) of the failed request, without query string."""
    resp = getattr(exc, "response", None)
    req = getattr(resp, "request", None) if resp is not None else None
    if req is None:
        req = getattr(exc, "request", None)
    if req is None:
        return None, None
    method = getattr(req, "method", None)
    url = getattr(req, "url", None)
    path = urlsplit(url).path if url else None
    return method, path


def _arm_error(exc: Any) -> tuple[str | None, str | None]:
    """(code, message) from the ARM error body, if any."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None) if err is not None else None
    message = getattr(err, "message", None) if err is not None else None
    if code is None:
        resp = getattr(exc, "response", None)
        if resp is not None:
            try:
                body = resp.text() if callable(getattr(resp, "text", None)) else None
                data = json.loads(body) if body else None
                if isinstance(data, dict):
                    inner = data.get("error") if isinstance(data.get("error"), dict) else data
                    code = inner.get("code")
                    message = inner.get("message")
            except Exception:  # body is not JSON: keep what azure-core said
                pass
    if message is None:
        message = getattr(exc, "reason", None)
    return code, message


def _what(method: str | None, path: str | None) -> str:
    if method and path:
        return f"{method} {path}"
    return path or "the request"


def _is_tls(exc: BaseException) -> bool:
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(cur) or "SSLError" in type(cur).__name__:
            return True
        cur = cur.__cause__ or cur.__context__ or getattr(cur, "inner_exception", None)
    return False


def translate(exc: BaseException, action: str | None = None) -> AsrError:
    """Map an azure-core / azure-identity exception to the `reconciler.errors` tree."""
    if isinstance(exc, AsrError):
        return exc
    from azure.core import exceptions as ce

    prefix = f"{action}: " if action else ""
    try:
        from azure.identity import CredentialUnavailableError
    except Exception:  # pragma: no cover - azure-identity is a dependency
        CredentialUnavailableError = ()  # type: ignore[assignment]

    if CredentialUnavailableError and isinstance(exc, CredentialUnavailableError):
        return AuthenticationError(f"{prefix}no Azure credentials found", hint=_NO_CREDENTIAL_HINT)

    if isinstance(exc, ce.ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        # raised by azure-identity (no credential could produce a token), not by ARM
        if "DefaultAzureCredential failed" in str(exc) or isinstance(exc, CredentialUnavailableError or ()):
            return AuthenticationError(f"{prefix}no Azure credentials found (DefaultAzureCredential tried the "
                                       "environment, workload and managed identity, and the Azure CLI)",
                                       hint=_NO_CREDENTIAL_HINT)
        return AuthenticationError(f"{prefix}could not get an Azure token: {_first_line(exc)}", hint=_NO_CREDENTIAL_HINT)

    if isinstance(exc, ce.HttpResponseError) and getattr(exc, "status_code", None) is not None:
        status = getattr(exc, "status_code", None)
        code, message = _arm_error(exc)
        method, path = _request_of(exc)
        detail = f"{code}: {message}" if code and message else (message or code or "no details")
        if status == 401:
            hint = "the token was refused; check the tenant and that the credential is still valid"
            if code == "InvalidAuthenticationTokenTenant":
                hint = "the subscription belongs to another tenant: set AZURE_TENANT_ID to that tenant"
            return AuthenticationError(f"{prefix}Azure refused the token (401) for {_what(method, path)}: {detail}",
                                       status=401, code=code, hint=hint)
        if status == 403:
            return AuthorizationError(
                f"{prefix}permission denied (403) for {_what(method, path)}: {detail}",
                status=403, code=code,
                hint="grant the principal a role with this permission on the vault's resource group "
                     "(e.g. Site Recovery Contributor), or use another identity",
            )
        if status == 404:
            hint = None
            if code == "SubscriptionNotFound":
                hint = ("the subscription in the manifest is not visible to this credential; "
                        "is the vault in another subscription or tenant?")
            return NotFoundError(f"{prefix}not found (404): {_what(method, path)}: {detail}",
                                 status=404, code=code, hint=hint)
        if status == 409:
            return ConflictError(f"{prefix}conflict (409) for {_what(method, path)}: {detail}", status=409, code=code)
        if status == 429:
            return ThrottledError(
                f"{prefix}Azure Resource Manager kept throttling (429) {_what(method, path)} past the retry budget",
                status=429, code=code,
                hint="wait a minute and re-run; lower --parallelism; other tools may share the subscription's limits",
            )
        return AzureError(f"{prefix}Azure answered {status} for {_what(method, path)}: {detail}",
                          status=status, code=code)

    if isinstance(exc, ce.ClientAuthenticationError) or type(exc).__name__ == "ClientAuthenticationError":
        return AuthenticationError(f"{prefix}could not get an Azure token: {_first_line(exc)}", hint=_NO_CREDENTIAL_HINT)

    if isinstance(exc, (ce.ServiceRequestError, ce.ServiceResponseError)):
        method, path = _request_of(exc)
        if _is_tls(exc):
            return UnreachableError(
                f"{prefix}TLS verification failed talking to the Azure Resource Manager endpoint",
                hint="set ASR_CA_BUNDLE to the endpoint's CA certificate (or unset ASR_ARM_ENDPOINT for Azure)",
            )
        return _unreachable(exc, prefix)

    if isinstance(exc, ce.AzureError):
        return AzureError(f"{prefix}{_first_line(exc)}")

    if isinstance(exc, (ConnectionError, OSError)):
        return UnreachableError(f"{prefix}endpoint unreachable: {_first_line(exc)}",
                                hint="check the network and ASR_ARM_ENDPOINT")
    return OperationFailedError(f"{prefix}{type(exc).__name__}: {_first_line(exc)}")


def _endpoint_of(exc: BaseException) -> str:
    """scheme://host[:port] the request went to (never path or query)."""
    ep = getattr(exc, "asr_endpoint", None)
    if ep:
        parts = urlsplit(ep)
        return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ep
    resp = getattr(exc, "response", None)
    req = getattr(resp, "request", None) if resp is not None else getattr(exc, "request", None)
    url = getattr(req, "url", None)
    if url:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    return "the Azure Resource Manager endpoint"


def _is_timeout(exc: BaseException) -> bool:
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        name = type(cur).__name__.lower()
        if "timeout" in name or "timed out" in str(cur).lower():
            return True
        cur = cur.__cause__ or cur.__context__ or getattr(cur, "inner_exception", None)
    return False


def _unreachable(exc: BaseException, prefix: str) -> AsrError:
    """A request that got no answer: name the endpoint, and the timeouts when one ran out."""
    endpoint = _endpoint_of(exc)
    last = getattr(exc, "asr_last_response", None)
    if _is_timeout(exc) and last is not None and getattr(last, "status_code", 0) >= 400:
        # the retries ran out of time on error answers: report the answer, not a timeout
        from azure.core.exceptions import HttpResponseError

        answered = translate(HttpResponseError(response=last))
        timeouts = getattr(exc, "asr_timeouts", None)
        if timeouts:
            from reconciler.settings import format_seconds

            answered.message += f" (still failing after {format_seconds(timeouts[2])} of retries, ASR_RETRY_TIMEOUT)"
            answered.args = (answered.message,)
        if prefix:
            answered.message = prefix + answered.message
            answered.args = (answered.message,)
        return answered
    if _is_timeout(exc):
        timeouts = getattr(exc, "asr_timeouts", None)
        limits = ""
        if timeouts:
            from reconciler.settings import format_seconds

            connect, read, total = timeouts
            limits = (f" (connect timeout {format_seconds(connect)}, read timeout {format_seconds(read)}, "
                      f"{format_seconds(total)} in all with retries)")
        return UnreachableError(
            f"{prefix}{endpoint} did not answer in time{limits}",
            hint="check the network, proxy settings and ASR_ARM_ENDPOINT; the timeouts are "
                 "ASR_CONNECT_TIMEOUT, ASR_READ_TIMEOUT and ASR_RETRY_TIMEOUT (docs/settings.md)",
        )
    return UnreachableError(
        f"{prefix}Azure Resource Manager endpoint {endpoint} unreachable: {_first_line(exc)}",
        hint="check the network, proxy settings and ASR_ARM_ENDPOINT",
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


def is_not_found(exc: BaseException) -> bool:
    """True for a 404 from azure-core (the raw exception, before translation)."""
    from azure.core.exceptions import ResourceNotFoundError, HttpResponseError

    if isinstance(exc, ResourceNotFoundError):
        return True
    return isinstance(exc, HttpResponseError) and getattr(exc, "status_code", None) == 404


@contextlib.contextmanager
def azure_errors(action: str) -> Iterator[None]:
    """Translate any azure-core / azure-identity exception raised in the block."""
    try:
        yield
    except AsrError:
        raise
    except Exception as exc:
        from azure.core.exceptions import AzureError as _CoreAzureError

        if isinstance(exc, (_CoreAzureError, OSError)) or type(exc).__module__.startswith("azure."):
            raise translate(exc, action) from exc
        raise

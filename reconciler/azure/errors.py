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
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from reconciler.errors import (
    AsrError,
    AuthenticationError,
    AuthorizationError,
    AzureError,
    ConfigurationError,
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
                    inner: dict = data["error"] if isinstance(data.get("error"), dict) else data
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
    from azure.identity import CredentialUnavailableError  # azure-identity is a dependency

    from reconciler.azure.credentials import CredentialChainError

    if isinstance(exc, CredentialChainError):
        return _credential_chain_error(exc, prefix)

    if isinstance(exc, ValueError) and "AZURE_TOKEN_CREDENTIALS" in str(exc):
        return ConfigurationError(f"{prefix}{_first_line(exc)}",
                                  hint="fix or unset AZURE_TOKEN_CREDENTIALS (it limits which credentials are tried)")

    bundle = _bad_ca_bundle(exc)
    if bundle:
        return bundle

    if isinstance(exc, CredentialUnavailableError):
        return AuthenticationError(f"{prefix}no Azure credentials found", hint=_NO_CREDENTIAL_HINT)

    if isinstance(exc, ce.ClientAuthenticationError) and getattr(exc, "status_code", None) is None:
        # raised by azure-identity (no credential could produce a token), not by ARM
        if "DefaultAzureCredential failed" in str(exc) or isinstance(exc, CredentialUnavailableError):
            return AuthenticationError(f"{prefix}no Azure credentials found (DefaultAzureCredential tried the "
                                       "environment, workload and managed identity, and the Azure CLI)",
                                       hint=_NO_CREDENTIAL_HINT)
        return AuthenticationError(f"{prefix}could not get an Azure token: {_first_line(exc)}", hint=_NO_CREDENTIAL_HINT)

    if isinstance(exc, ce.HttpResponseError) and getattr(exc, "status_code", None) is not None:
        status = getattr(exc, "status_code", None)
        code, message = _arm_error(exc)
        method, path = _request_of(exc)
        detail = f"{code}: {message}" if code and message else (message or code or "no details")
        hint: str | None = None
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


# ------------------------------------------------------------------ credentials

_CLI_LOGIN_HINT = "sign in with `az login` (and `az account set --subscription ID`)"


def _describe(a: Any) -> str:
    """One credential's failure, in words (from its own message and the identity answers)."""
    import os

    r = a.responses[-1] if a.responses else None
    answer = ""
    if r is not None:
        answer = f"{r.status}" + (f" {r.error}" if r.error else "") + (f": {_one_line(r.description)}" if r.description else "")
    if a.name == "ManagedIdentityCredential":
        if r is not None:
            return f"the managed identity endpoint {r.url} answered {answer}"
        if a.unavailable and not os.environ.get("IDENTITY_ENDPOINT"):
            return "no managed identity here (IDENTITY_ENDPOINT is not set and no instance metadata endpoint answered)"
    if a.name == "WorkloadIdentityCredential":
        token_file = os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
        if r is not None:
            return (f"Microsoft Entra ID ({r.url}) rejected the federated token from AZURE_FEDERATED_TOKEN_FILE="
                    f"{token_file}: {answer}")
        if a.unavailable and not token_file:
            return "not configured (AZURE_FEDERATED_TOKEN_FILE is not set)"
    if a.name == "EnvironmentCredential":
        if r is not None:
            return f"Microsoft Entra ID ({r.url}) refused the service principal AZURE_CLIENT_ID: {answer}"
        if a.unavailable:
            return "not configured (AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET are not set)"
    if a.name == "AzureCliCredential":
        if "az login" in a.message:
            return "the Azure CLI is not signed in"
        if "not found on path" in a.message:
            return "the Azure CLI (az) is not installed"
    if r is not None:
        return f"{r.method} {r.url} answered {answer}"
    return _one_line(a.message)


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    for cut in (" Trace ID:", " Content:", " To mitigate this issue"):
        if cut in line:
            line = line[:line.index(cut)]
    return line[:300]


def _credential_hint(decisive: Any, token_credentials: str | None, attempts: list[Any]) -> str:
    if decisive is None:
        cli = any(a.name == "AzureCliCredential" and "az login" in a.message for a in attempts)
        hint = _CLI_LOGIN_HINT if cli else _NO_CREDENTIAL_HINT
    elif decisive.name == "ManagedIdentityCredential":
        hint = ("check that a managed identity is assigned here; IDENTITY_ENDPOINT / IDENTITY_HEADER must be the "
                "ones this host provides (the emulator's come from its `export` lines and change on every start)")
    elif decisive.name == "WorkloadIdentityCredential":
        hint = ("check AZURE_CLIENT_ID and AZURE_TENANT_ID, that the pipeline refreshed the token file, and that the "
                "app registration has a federated credential for this issuer and subject")
    elif decisive.name == "EnvironmentCredential":
        hint = "check AZURE_CLIENT_ID / AZURE_TENANT_ID / AZURE_CLIENT_SECRET (an expired secret is refused too)"
    elif decisive.name == "AzureCliCredential":
        hint = _CLI_LOGIN_HINT
    else:
        hint = _NO_CREDENTIAL_HINT
    if token_credentials and token_credentials.strip().lower() not in ("dev", "prod"):
        tried = token_credentials.strip()
        if tried.lower() == "managedidentitycredential":
            limit = (f"AZURE_TOKEN_CREDENTIALS={tried} (the emulator's `export` lines set it) limits the chain to the "
                     "managed identity: `az login`, a service principal and workload identity are not tried")
        else:
            limit = f"AZURE_TOKEN_CREDENTIALS={tried} limits the chain to {tried}"
        hint = f"{limit}; `unset AZURE_TOKEN_CREDENTIALS` to use the others. Otherwise: {hint}"
    elif token_credentials:
        hint = f"AZURE_TOKEN_CREDENTIALS={token_credentials.strip()} limits which credentials are tried. {hint}"
    return hint


def _credential_chain_error(exc: Any, prefix: str) -> AuthenticationError:
    from reconciler.azure.credentials import redact

    attempts = list(exc.attempts)
    # azure-identity calls some refusals "unavailable" (an App Service endpoint answering 401): an
    # identity endpoint that answered with an error is a failure all the same
    decisive = next((a for a in reversed(attempts) if not a.unavailable or a.responses), None)
    if decisive is not None:
        message = f"{prefix}could not get an Azure token: {decisive.name}: {_describe(decisive)}"
    else:
        tried = "; ".join(f"{a.name}: {_describe(a)}" for a in attempts)
        message = f"{prefix}no Azure credentials found (tried {tried})"
    err = AuthenticationError(redact(message), hint=redact(_credential_hint(decisive, exc.token_credentials, attempts)))
    debug = [f"AZURE_TOKEN_CREDENTIALS={exc.token_credentials or '(not set)'}; the chain tried, in order:"]
    for a in attempts:
        debug.append(f"{a.name} ({'unavailable' if a.unavailable and not a.responses else 'failed'}): {' | '.join(a.message.split(chr(10)))}")
        for r in a.responses:
            debug.append(f"{a.name}: {r.method} {r.url} -> {r.status} {r.error or ''}: {r.description or ''}")
    err.debug = tuple(redact(line) for line in debug)
    return err


def _bad_ca_bundle(exc: BaseException) -> AsrError | None:
    """A CA bundle requests / ssl could not load: a TLS configuration problem naming the file."""
    import os
    import re

    text = ""
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        text += " " + str(cur)
        cur = cur.__cause__ or cur.__context__ or getattr(cur, "inner_exception", None)
    m = re.search(r"Could not find a suitable TLS CA certificate bundle, invalid path: (\S+)", text)
    no_pem = re.search(r"NO_CERTIFICATE_OR_CRL_FOUND|\[X509\]|PEM lib", text)
    if not m and not no_pem:
        return None
    path = m.group(1) if m else None
    var = next((v for v in ("ASR_CA_BUNDLE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
                if os.environ.get(v) and (path is None or os.environ.get(v) == path)), None)
    where = f"{var}={os.environ.get(var)}" if var else (path or "the CA bundle")
    what = "no such file" if m else "not a PEM certificate bundle"
    return ConfigurationError(f"TLS configuration: {where}: {what}",
                              hint=f"point {var or 'ASR_CA_BUNDLE'} at the PEM file of the CA that signs the "
                                   "endpoint's certificate, or unset it")


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
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

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

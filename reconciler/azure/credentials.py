"""How `asr` gets an Azure token, and what it records when it cannot.

`build_credential(ca_bundle)` checks the TLS trust files first (`ASR_CA_BUNDLE`,
`REQUESTS_CA_BUNDLE`, `CURL_CA_BUNDLE`: each must be a readable PEM bundle or a folder),
then returns an `AsrCredential`: azure-identity's `DefaultAzureCredential` (the same chain
and the same `AZURE_TOKEN_CREDENTIALS` rules), with two recorders around it:

- every credential of the chain is wrapped so that what each one raised is kept
  (`Attempt`: the credential's name, whether it was merely unavailable, its message);
- a `raw_response_hook` (azure-core's documented per-response hook, which the identity
  pipelines honour) keeps the status and the `error` / `error_description` of every
  failed answer from an identity endpoint (managed identity, Microsoft Entra ID), never
  a successful body.

When no credential gives a token, `AsrCredential` raises `CredentialChainError` (a
`ClientAuthenticationError`, so azure-core passes it through untouched) carrying those
records; `reconciler.azure.errors.translate` turns it into the message people read.
Everything recorded is passed through `redact` first: tokens, client secrets,
assertions, `IDENTITY_HEADER` and the federated token never reach a message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from azure.core.exceptions import ClientAuthenticationError

from reconciler.errors import ConfigurationError

__all__ = ["AsrCredential", "Attempt", "CredentialChainError", "IdentityResponse", "build_credential",
           "check_ca_bundles", "redact"]

# the chain's own warning (with every credential's raw message) would otherwise reach stderr
# through logging's last-resort handler; asr says it better, and ASR_DEBUG=1 shows the raw text
logging.getLogger("azure.identity").addHandler(logging.NullHandler())

_SECRET_ENV = ("IDENTITY_HEADER", "MSI_SECRET", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
               "AZURE_PASSWORD", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "SYSTEM_ACCESSTOKEN")
_PATTERNS = [
    re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"(?i)((?:client_assertion|client_secret|access_token|refresh_token|assertion|password|"
               r"x-identity-header|secret)[\"']?\s*[=:]\s*[\"']?)[^\"'&\s,}]+"),
]


def _federated_token() -> str | None:
    path = os.environ.get("AZURE_FEDERATED_TOKEN_FILE")
    if not path:
        return None
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read(65536).strip() or None
    except OSError:
        return None


def redact(text: str) -> str:
    """`text` without the secrets asr knows of (environment secrets, the federated token)
    nor anything shaped like a token, secret or assertion."""
    if not text:
        return text
    secrets_ = [os.environ.get(k) for k in _SECRET_ENV] + [_federated_token()]
    for s in secrets_:
        if s and len(s) >= 4:
            text = text.replace(s, "<redacted>")
    for pat in _PATTERNS:
        text = pat.sub(lambda m: (m.group(1) if m.groups() else "") + "<redacted>", text)
    return text


# ---------------------------------------------------------------------------- TLS files

def check_ca_bundles(ca_bundle: str | None) -> None:
    """Refuse a CA bundle that is missing, unreadable or not PEM, naming the variable and
    the file (a TLS configuration problem, not a network one)."""
    for var, path in (("ASR_CA_BUNDLE", ca_bundle), ("REQUESTS_CA_BUNDLE", os.environ.get("REQUESTS_CA_BUNDLE")),
                      ("CURL_CA_BUNDLE", os.environ.get("CURL_CA_BUNDLE"))):
        if not path or os.path.isdir(path):
            continue
        hint = (f"point {var} at the PEM file of the CA that signs the endpoint's certificate "
                "(the emulator prints it in its `export` lines), or unset it")
        try:
            with open(path, "rb") as fh:
                data = fh.read(4 * 1024 * 1024)
        except FileNotFoundError:
            raise ConfigurationError(f"TLS configuration: {var}={path}: no such file", hint=hint) from None
        except OSError as err:
            raise ConfigurationError(f"TLS configuration: {var}={path}: cannot read it ({err.strerror})",
                                     hint=hint) from None
        if b"-----BEGIN CERTIFICATE-----" not in data:
            raise ConfigurationError(f"TLS configuration: {var}={path}: not a PEM certificate bundle "
                                     "(no '-----BEGIN CERTIFICATE-----' line)", hint=hint)


# ---------------------------------------------------------------------------- records

@dataclass(frozen=True)
class IdentityResponse:
    """A failed answer from an identity endpoint (redacted)."""
    method: str
    url: str  # scheme://host/path, no query string
    status: int
    error: str | None
    description: str | None


@dataclass
class Attempt:
    """What one credential of the chain did (redacted)."""
    name: str
    unavailable: bool  # CredentialUnavailableError: not configured here; the chain went on
    message: str
    responses: list[IdentityResponse] = field(default_factory=list)


class CredentialChainError(ClientAuthenticationError):
    """No credential of the chain gave a token; `attempts` says what each one did."""

    def __init__(self, message: str, *, attempts: list[Attempt], token_credentials: str | None) -> None:
        super().__init__(message=message)
        self.attempts = attempts
        self.token_credentials = token_credentials


class _ResponseLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[IdentityResponse] = []

    def __call__(self, response: Any) -> None:  # azure-core raw_response_hook
        status = response.http_response.status_code
        if status < 400:
            return  # a successful answer carries a token: never look at it
        req = response.http_request
        u = urlsplit(req.url)
        error = desc = None
        try:
            body = json.loads(response.http_response.text() or "null")
            if isinstance(body, dict):
                inner = body.get("error")
                if isinstance(inner, dict):  # {"error": {"code", "message"}}
                    error, desc = inner.get("code"), inner.get("message")
                else:  # OAuth: {"error": "...", "error_description": "..."}
                    error, desc = inner, body.get("error_description") or body.get("message")
        except Exception:
            try:
                desc = (response.http_response.text() or "")[:300] or None
            except Exception:
                pass
        item = IdentityResponse(req.method, f"{u.scheme}://{u.netloc}{u.path}", status,
                                redact(str(error)) if error else None, redact(str(desc)) if desc else None)
        with self._lock:
            self.items.append(item)
            del self.items[:-20]

    def since(self, n: int) -> list[IdentityResponse]:
        with self._lock:
            return list(self.items[n:])

    def count(self) -> int:  # (not __len__: an empty log must stay truthy for azure-core's hook check)
        with self._lock:
            return len(self.items)


class _Recorded:
    """One credential of the chain, with what it raised kept in `attempts`."""

    def __init__(self, inner: Any, attempts: list[Attempt], log: _ResponseLog) -> None:
        self._inner = inner
        self._attempts = attempts
        self._log = log
        self._credential_name = getattr(inner, "_credential_name", None) or type(inner).__name__
        self._last_responses: list[IdentityResponse] = []

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        from azure.identity import CredentialUnavailableError

        mark = self._log.count()
        try:
            return getattr(self._inner, method)(*args, **kwargs)
        except Exception as exc:
            text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            responses = self._log.since(mark)
            if responses:
                self._last_responses = responses
            elif isinstance(exc, CredentialUnavailableError) or "Token request error" in str(text):
                # MSAL replays a recent refusal (5xx, 429) without asking the endpoint again: the
                # answer that explains it is the one recorded then
                responses = list(self._last_responses)
            self._attempts.append(Attempt(self._credential_name, isinstance(exc, CredentialUnavailableError),
                                          redact(str(text)), responses))
            raise

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self._call("get_token", *scopes, **kwargs)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        if not hasattr(self._inner, "get_token_info"):
            raise AttributeError("get_token_info")
        return self._call("get_token_info", *scopes, **kwargs)

    def __enter__(self) -> _Recorded:
        self._inner.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._inner.__exit__(*args)

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close:
            close()


class AsrCredential:
    """DefaultAzureCredential that remembers why it failed (see the module docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        from azure.identity import DefaultAzureCredential

        self._log = _ResponseLog()
        self._lock = threading.Lock()
        self._attempts: list[Attempt] = []
        self._inner = DefaultAzureCredential(exclude_interactive_browser_credential=True,
                                             raw_response_hook=self._log, **kwargs)
        creds = getattr(self._inner, "credentials", None)
        if isinstance(creds, tuple):
            self._inner.credentials = tuple(_Recorded(c, self._attempts, self._log) for c in creds)

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        with self._lock:  # one chain run at a time, so its records are its own
            del self._attempts[:]
            try:
                return getattr(self._inner, method)(*args, **kwargs)
            except ClientAuthenticationError as exc:
                if isinstance(exc, CredentialChainError):
                    raise
                attempts = list(self._attempts)
                if not attempts:
                    raise
                raise CredentialChainError(redact(str(getattr(exc, "message", None) or exc)), attempts=attempts,
                                           token_credentials=os.environ.get("AZURE_TOKEN_CREDENTIALS") or None) from exc

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        return self._call("get_token", *scopes, **kwargs)

    def get_token_info(self, *scopes: str, **kwargs: Any) -> Any:
        return self._call("get_token_info", *scopes, **kwargs)

    def close(self) -> None:
        self._inner.close()

    def __enter__(self) -> AsrCredential:
        self._inner.__enter__()
        return self

    def __exit__(self, *args: Any) -> None:
        self._inner.__exit__(*args)


def build_credential(ca_bundle: str | None = None, **kwargs: Any) -> AsrCredential:
    """The credential every SDK client shares (TLS trust files checked first). `kwargs` go
    to DefaultAzureCredential (the token requests' connection_timeout / read_timeout)."""
    check_ca_bundles(ca_bundle)
    try:
        return AsrCredential(**kwargs)
    except ValueError as exc:  # e.g. an AZURE_TOKEN_CREDENTIALS value azure-identity does not know
        # said here, not by azure.errors.translate: errors imports this module (no import cycle)
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0][:300]
        hint = ("fix or unset AZURE_TOKEN_CREDENTIALS (it limits which credentials are tried)"
                if "AZURE_TOKEN_CREDENTIALS" in str(exc) else None)
        raise ConfigurationError(f"set up the Azure credential: {redact(first)}", hint=hint) from exc

"""The one place that builds Azure SDK clients.

Azure or emulator differ only by three things, all read from the environment:
`ASR_ARM_ENDPOINT` (default: the public cloud's ARM), `ASR_CA_BUNDLE` (TLS trust
for that endpoint) and the credential (azure-identity's DefaultAzureCredential,
which also speaks the managed-identity protocol the emulator serves).

Retries are azure-core's RetryPolicy, configured here (bounded, honours
Retry-After on 429), never hand-written loops. Every request has a connect and a
read timeout (the transport's `connection_timeout` / `read_timeout`, token requests
included) and the retries of one request a total time (RetryPolicy `timeout`), all
from `reconciler.settings.Settings`; a per-call policy marks a failure with the
endpoint and those timeouts so `reconciler.azure.errors` can name them. `RequestCounter` is a per-response
hook that counts requests, 429s and retries, and keeps the latest
x-ms-ratelimit-remaining-subscription-* values for pacing.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from reconciler.settings import DEFAULT_ARM_ENDPOINT, Settings

_DEFAULTS = Settings()  # one source for the defaults (flags, then environment, then these)
ARM_SCOPE = "https://management.azure.com/.default"


@dataclass
class RequestCounter:
    requests: int = 0
    reads: int = 0
    writes: int = 0
    throttled: int = 0  # 429 answers received (retried or not)
    server_errors: int = 0
    remaining_reads: int | None = None
    remaining_writes: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, response: Any) -> None:  # azure-core raw_response_hook
        http_req = response.http_request
        http_resp = response.http_response
        method = http_req.method.upper()
        status = http_resp.status_code
        headers = http_resp.headers
        with self._lock:
            self.requests += 1
            if method in ("GET", "HEAD"):
                self.reads += 1
            else:
                self.writes += 1
            if status == 429:
                self.throttled += 1
            elif status >= 500:
                self.server_errors += 1
            r = headers.get("x-ms-ratelimit-remaining-subscription-reads")
            w = headers.get("x-ms-ratelimit-remaining-subscription-writes")
            if r is not None:
                try:
                    self.remaining_reads = int(r)
                except ValueError:
                    pass
            if w is not None:
                try:
                    self.remaining_writes = int(w)
                except ValueError:
                    pass

    def snapshot(self) -> dict[str, int | None]:
        with self._lock:
            return {
                "requests": self.requests,
                "reads": self.reads,
                "writes": self.writes,
                "throttled": self.throttled,
                "server_errors": self.server_errors,
            }


@dataclass
class AzureSettings:
    endpoint: str = DEFAULT_ARM_ENDPOINT
    ca_bundle: str | None = None
    retry_total: int = _DEFAULTS.retry_total
    retry_backoff_factor: float = _DEFAULTS.retry_backoff
    retry_backoff_max: float = 30.0
    connect_timeout: float = _DEFAULTS.connect_timeout
    read_timeout: float = _DEFAULTS.read_timeout
    retry_timeout: float = _DEFAULTS.retry_timeout

    @classmethod
    def from_env(cls) -> AzureSettings:
        from reconciler.settings import Settings

        return cls.from_settings(Settings.from_env())

    @classmethod
    def from_settings(cls, s: Any) -> AzureSettings:
        return cls(endpoint=s.arm_endpoint.rstrip("/"), ca_bundle=s.ca_bundle or None, retry_total=s.retry_total,
                   retry_backoff_factor=s.retry_backoff, connect_timeout=s.connect_timeout,
                   read_timeout=s.read_timeout, retry_timeout=s.retry_timeout)


def _timeouts_policies(settings: AzureSettings) -> tuple[Any, Any]:
    """(per-call policy, per-retry policy). The per-retry one remembers each attempt's
    answer; the per-call one (outside the retries) marks a failed request with the
    endpoint, the timeouts in force and the last answer (a 500 retried until the
    retry time ran out is reported as that 500), for `reconciler.azure.errors.translate`."""
    from azure.core.pipeline.policies import HTTPPolicy

    class NoteTimeouts(HTTPPolicy):
        def send(self, request: Any) -> Any:
            try:
                return self.next.send(request)
            except Exception as exc:
                exc.asr_endpoint = settings.endpoint  # type: ignore[attr-defined]
                exc.asr_timeouts = (settings.connect_timeout, settings.read_timeout,  # type: ignore[attr-defined]
                                    settings.retry_timeout)
                last = request.context.get("asr_last_response")
                if last is not None and not hasattr(exc, "asr_last_response"):
                    exc.asr_last_response = last  # type: ignore[attr-defined]
                raise

    class NoteAnswer(HTTPPolicy):
        def send(self, request: Any) -> Any:
            response = self.next.send(request)
            request.context["asr_last_response"] = response.http_response
            return response

    return NoteTimeouts(), NoteAnswer()


class Clients:
    """Lazily built SDK clients for one subscription, sharing one credential,
    one counter and one retry configuration."""

    # For Clients built without `transport=` / `credential=`: an azure-core HttpTransport
    # and a token credential used instead of HTTPS and the credential chain (the tests'
    # in-process emulator, reconciler/emulator/testing.py). None: HTTPS, azure-identity.
    default_transport: Any = None
    default_credential: Any = None

    def __init__(self, subscription_id: str, settings: Any = None, credential: Any = None,
                 counter: RequestCounter | None = None, transport: Any = None) -> None:
        """`settings`: a `reconciler.settings.Settings` (kept as `config`, read by the
        applier and ops), an `AzureSettings`, or None (both from the environment).
        `transport`: an azure-core `HttpTransport` given to every SDK client (their
        supported `transport=` argument); None: azure-core's default (requests, HTTPS)."""
        from reconciler.settings import Settings

        if transport is None and credential is None and Clients.default_transport is not None:
            transport, credential = Clients.default_transport, Clients.default_credential
        self.transport = transport
        self.subscription_id = subscription_id
        if isinstance(settings, Settings):
            self.config = settings
            self.settings = AzureSettings.from_settings(settings)
        else:
            self.config = Settings.from_env()
            self.settings = settings or AzureSettings.from_settings(self.config)
        self.counter = counter or RequestCounter()
        self._credential = credential
        self._cache: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def credential(self) -> Any:
        if self._credential is None:
            from reconciler.azure.credentials import build_credential  # checks the CA bundles first

            self._credential = build_credential(self.settings.ca_bundle,
                                                connection_timeout=self.settings.connect_timeout,
                                                read_timeout=self.settings.read_timeout)
        return self._credential

    def _kwargs(self) -> dict[str, Any]:
        from reconciler.azure.debuglog import policies as debug_policies

        kw: dict[str, Any] = {
            "base_url": self.settings.endpoint,
            "credential_scopes": [ARM_SCOPE],
            "retry_total": self.settings.retry_total,
            # azure-core caps retries on 429/5xx answers at 3 unless told (retry_status);
            # under sustained throttling that is too few: use the same bound as the total
            "retry_status": self.settings.retry_total,
            "retry_backoff_factor": self.settings.retry_backoff_factor,
            "retry_backoff_max": self.settings.retry_backoff_max,
            "raw_response_hook": self.counter,
            "logging_enable": False,
            "connection_timeout": self.settings.connect_timeout,
            "read_timeout": self.settings.read_timeout,
            "timeout": self.settings.retry_timeout,  # RetryPolicy: total time of one request, retries included
        }
        per_call, per_retry = _timeouts_policies(self.settings)
        kw["per_call_policies"] = [per_call]
        # ASR_LOG=debug / --debug: reconciler/azure/debuglog.py logs every attempt
        kw["per_retry_policies"] = [per_retry, *debug_policies()]
        if self.settings.ca_bundle:
            kw["connection_verify"] = self.settings.ca_bundle
        if self.transport is not None:
            kw["transport"] = self.transport
        return kw

    def _get(self, key: str, factory: Any) -> Any:
        with self._lock:
            if key not in self._cache:
                self._cache[key] = factory()
            return self._cache[key]

    @property
    def site_recovery_factory(self):  # (resource_group, vault) -> client
        return self.site_recovery

    def site_recovery(self, resource_group: str | None = None, vault: str | None = None) -> Any:
        """SiteRecoveryManagementClient. In SDK 2.0.0 resource group and vault
        name are per-call arguments, so one client serves every vault."""
        from azure.mgmt.recoveryservicessiterecovery import SiteRecoveryManagementClient

        return self._get("asr", lambda: SiteRecoveryManagementClient(self.credential, self.subscription_id, **self._kwargs()))

    @property
    def vaults(self) -> Any:
        from azure.mgmt.recoveryservices import RecoveryServicesClient

        return self._get("rs", lambda: RecoveryServicesClient(self.credential, self.subscription_id, **self._kwargs()))

    @property
    def resources(self) -> Any:
        from azure.mgmt.resource.resources import ResourceManagementClient

        return self._get("res", lambda: ResourceManagementClient(self.credential, self.subscription_id, **self._kwargs()))

    @property
    def storage(self) -> Any:
        from azure.mgmt.storage import StorageManagementClient

        return self._get("st", lambda: StorageManagementClient(self.credential, self.subscription_id, **self._kwargs()))

    @property
    def network(self) -> Any:
        from azure.mgmt.network import NetworkManagementClient

        return self._get("net", lambda: NetworkManagementClient(self.credential, self.subscription_id, **self._kwargs()))

    def close(self) -> None:
        for c in self._cache.values():
            try:
                c.close()
            except Exception:
                pass
        self._cache.clear()

"""One `Settings` value: every timeout, deadline and interval asr uses.

Built once, in `reconciler/cli/`, from flags, then the environment, then the defaults
below, and passed down (clients, applier, job follower, ops):

    settings = Settings.load(env=os.environ, flags={"deadline": 600.0})
    clients = Clients(subscription, settings=settings)

`Settings.from_env()` is the same without flags (what library callers and tests get
when they pass nothing). An invalid value is a `SettingsError` naming the variable
(or flag) and the value: `ASR_JOB_POLL_MAX: "abc" is not a number of seconds`.

`SETTINGS` is the table (field, variable, deprecated aliases, flag, default, meaning);
`docs/settings.md` lists the same rows and a test keeps them in step.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reconciler.errors import UsageError

__all__ = ["SETTINGS", "Setting", "Settings", "SettingsError", "format_seconds"]

DEFAULT_ARM_ENDPOINT = "https://management.azure.com"


class SettingsError(UsageError):
    """A setting's value cannot be used (exit 1, no traceback)."""


@dataclass(frozen=True)
class Setting:
    field: str
    env: str
    default: Any
    meaning: str
    kind: str = "seconds"  # seconds | count | text
    flag: str | None = None
    aliases: tuple[str, ...] = ()  # deprecated variable names, still read


SETTINGS: tuple[Setting, ...] = (
    Setting("arm_endpoint", "ASR_ARM_ENDPOINT", DEFAULT_ARM_ENDPOINT,
            "Azure Resource Manager endpoint every client talks to", kind="text"),
    Setting("ca_bundle", "ASR_CA_BUNDLE", None, "CA certificate(s) to trust for that endpoint", kind="text"),
    Setting("connect_timeout", "ASR_CONNECT_TIMEOUT", 10.0,
            "time to open a connection to Azure (ARM and token requests)", flag="--connect-timeout"),
    Setting("read_timeout", "ASR_READ_TIMEOUT", 30.0,
            "time to wait for Azure's answer once a request was sent", flag="--read-timeout"),
    Setting("retry_total", "ASR_RETRY_TOTAL", 10, "retries of one request (429, 5xx, connection errors)",
            kind="count"),
    Setting("retry_timeout", "ASR_RETRY_TIMEOUT", 90.0,
            "total time one request may take, retries included (azure-core RetryPolicy `timeout`)"),
    Setting("retry_backoff", "ASR_RETRY_BACKOFF", 0.5,
            "backoff of retries an answer gives no Retry-After for: the n-th retry in a row waits "
            "this x 2^(n-1), at most 30 s (azure-core RetryPolicy `backoff_factor`)"),
    Setting("deadline", "ASR_DEADLINE", 4 * 3600.0,
            "overall deadline of a command's waits (apply, failover, drill...); in-flight Azure jobs keep running",
            flag="--deadline", aliases=("ASR_JOB_TIMEOUT_SECONDS",)),
    Setting("progress_interval", "ASR_PROGRESS_INTERVAL", 30.0,
            "how often a wait says what it waits for", flag="--progress-interval"),
    Setting("job_poll_min", "ASR_JOB_POLL_MIN", 1.0, "shortest interval between two reads of the job list",
            aliases=("ASR_JOB_POLL_MIN_SECONDS",)),
    Setting("job_poll_max", "ASR_JOB_POLL_MAX", 15.0,
            "longest interval between two reads of the job list (and of protection state)",
            aliases=("ASR_JOB_POLL_SECONDS",)),
    Setting("job_match_timeout", "ASR_JOB_MATCH_TIMEOUT", 600.0,
            "how long a write may go without its ASR job showing up in the job list"),
    Setting("job_lookback", "ASR_JOB_LOOKBACK", 600.0,
            "the job list is read from the oldest write in flight minus this (clock skew)"),
    Setting("job_read_errors", "ASR_JOB_READ_ERRORS", 300.0,
            "how long reads of the job list may fail in a row (5xx, timeouts) before the wait ends"),
    Setting("lock_ttl", "ASR_LOCK_TTL", 120.0, "lease of the vault lock (renewed every ttl/4)"),
    Setting("registration_wait", "ASR_REGISTRATION_WAIT", 20.0,
            "apply: how long to re-plan for servers registering with a vault or site it created"),
    Setting("replan_interval", "ASR_REPLAN_INTERVAL", 5.0, "apply: interval of those re-plans"),
    Setting("wait_protected_timeout", "ASR_WAIT_PROTECTED_TIMEOUT", 24 * 3600.0,
            "apply --wait-protected: how long to wait for initial replication"),
    Setting("lro_timeout", "ASR_LRO_TIMEOUT", 1800.0,
            "apply: longest wait for a non-ASR long-running operation (vault, storage, network)"),
)

_BY_FIELD = {s.field: s for s in SETTINGS}
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}
_SECONDS = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(s|m|h)?\s*$")


def parse_seconds(value: Any, where: str) -> float:
    """A number of seconds (`90`, `1.5`, `90s`, `2m`, `1h`), more than zero."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        n = float(value)
    else:
        m = _SECONDS.match(str(value))
        if not m:
            raise SettingsError(f'{where}: "{value}" is not a number of seconds',
                                hint="give seconds, e.g. 90, 1.5, 90s, 2m or 1h")
        n = float(m.group(1)) * _UNITS[m.group(2) or ""]
    if not n > 0:
        raise SettingsError(f'{where}: "{value}" must be more than 0 seconds')
    return n


def parse_count(value: Any, where: str) -> int:
    try:
        n = int(str(value).strip())
    except ValueError:
        raise SettingsError(f'{where}: "{value}" is not a whole number') from None
    if n < 0:
        raise SettingsError(f'{where}: "{value}" must be 0 or more')
    return n


def format_seconds(s: float) -> str:
    """4m12s, 2h03m, 12s, 0.5s."""
    if s < 10 and s != int(s):
        return f"{s:.1f}s"
    s = int(round(s))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


# the defaults are SETTINGS' own (docs/settings.md lists them from there): written once
_DEFAULTS: dict[str, Any] = {s.field: s.default for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    arm_endpoint: str = _DEFAULTS["arm_endpoint"]
    ca_bundle: str | None = _DEFAULTS["ca_bundle"]
    connect_timeout: float = _DEFAULTS["connect_timeout"]
    read_timeout: float = _DEFAULTS["read_timeout"]
    retry_total: int = _DEFAULTS["retry_total"]
    retry_timeout: float = _DEFAULTS["retry_timeout"]
    retry_backoff: float = _DEFAULTS["retry_backoff"]
    deadline: float = _DEFAULTS["deadline"]
    progress_interval: float = _DEFAULTS["progress_interval"]
    job_poll_min: float = _DEFAULTS["job_poll_min"]
    job_poll_max: float = _DEFAULTS["job_poll_max"]
    job_match_timeout: float = _DEFAULTS["job_match_timeout"]
    job_lookback: float = _DEFAULTS["job_lookback"]
    job_read_errors: float = _DEFAULTS["job_read_errors"]
    lock_ttl: float = _DEFAULTS["lock_ttl"]
    registration_wait: float = _DEFAULTS["registration_wait"]
    replan_interval: float = _DEFAULTS["replan_interval"]
    wait_protected_timeout: float = _DEFAULTS["wait_protected_timeout"]
    lro_timeout: float = _DEFAULTS["lro_timeout"]
    sources: tuple[tuple[str, str], ...] = ()  # (field, where its value came from), for messages

    @classmethod
    def load(cls, env: Mapping[str, str] | None = None, flags: Mapping[str, Any] | None = None) -> Settings:
        """Flags (non-None values), then the environment, then the defaults."""
        env = os.environ if env is None else env
        flags = flags or {}
        values: dict[str, Any] = {}
        sources: list[tuple[str, str]] = []
        for s in SETTINGS:
            raw: Any = None
            where = ""
            if flags.get(s.field) is not None:
                raw, where = flags[s.field], s.flag or s.field
            else:
                for name in (s.env, *s.aliases):
                    if env.get(name) not in (None, ""):
                        raw, where = env[name], name
                        break
            if raw is None or not where:
                continue
            if s.kind == "seconds":
                values[s.field] = parse_seconds(raw, where)
            elif s.kind == "count":
                values[s.field] = parse_count(raw, where)
            else:
                values[s.field] = str(raw)
            sources.append((s.field, where))
        if "arm_endpoint" in values:
            values["arm_endpoint"] = values["arm_endpoint"].rstrip("/")
        settings = cls(**values, sources=tuple(sources))
        if settings.job_poll_max < settings.job_poll_min:
            settings = dataclasses.replace(settings, job_poll_max=settings.job_poll_min)
        return settings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return cls.load(env=env)

    def source_of(self, field: str) -> str:
        """The flag or variable a value came from (its variable name when defaulted)."""
        for f, where in self.sources:
            if f == field:
                return where
        return _BY_FIELD[field].env

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)

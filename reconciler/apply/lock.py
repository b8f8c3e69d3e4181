"""One apply per vault at a time: a lease kept in a tag of the vault itself.

    asr-lock = holder|host|pid|since|expires        (times ISO 8601 UTC)

Taken with a PATCH of the vault's tags sent with `If-Match: <etag>` of the vault
just read, so that of two appliers reading the same vault only one write wins
(the other gets 412, re-reads and finds the lease taken). Renewed by a thread
while the apply runs; removed at the end. An expired lease may be taken over,
and so may a lease held by a process of this same host that no longer exists;
both say whose it was. Works the same on Azure and on the emulator: it only
uses the vault's tags and ETag.

The LOCK ID of a lease is the first 12 hex digits of sha256(holder|host|pid|since):
stable while the lease is renewed, different for every apply. The "locked" error
shows it; `asr force-unlock FILE LOCK_ID` removes that lease and only that one.
`acquire(wait=SECONDS)` (`asr apply --lock-timeout`) waits for a held lease instead
of failing, saying who holds it.
"""

from __future__ import annotations

import datetime as _dt
import getpass
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.errors import AsrError, ConflictError

TAG = "asr-lock"
DEFAULT_TTL = 120.0


def strip_lock_tag(live: Any) -> Any:
    """The lease is the applier's bookkeeping, not configuration: drop it from a
    LiveState's vault tags before planning or checking a saved plan."""
    vault = getattr(live, "vault", None)
    if isinstance(vault, dict) and isinstance(vault.get("tags"), dict) and TAG in vault["tags"]:
        vault["tags"] = {k: v for k, v in vault["tags"].items() if k != TAG}
    return live


class LockHeldError(ConflictError):
    """Another apply holds the vault's lock (`lease`: whose)."""

    lease: LeaseInfo | None = None


@dataclass
class LeaseInfo:
    holder: str
    host: str
    pid: int
    since: _dt.datetime
    expires: _dt.datetime
    raw: str

    @classmethod
    def parse(cls, raw: str | None) -> LeaseInfo | None:
        if not raw:
            return None
        parts = raw.split("|")
        if len(parts) != 5:
            return None
        try:
            return cls(parts[0], parts[1], int(parts[2]), _parse(parts[3]), _parse(parts[4]), raw)
        except (ValueError, TypeError):
            return None

    def expired(self, now: _dt.datetime | None = None) -> bool:
        return (now or _now()) >= self.expires

    @property
    def lock_id(self) -> str:
        import hashlib

        key = "|".join([self.holder, self.host, str(self.pid), _fmt(self.since)])
        return hashlib.sha256(key.encode()).hexdigest()[:12]

    def describe(self) -> str:
        return f"{self.holder} on {self.host} (pid {self.pid}) since {_fmt(self.since)}"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(microsecond=0)


def _fmt(d: _dt.datetime) -> str:
    return d.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(s: str) -> _dt.datetime:
    d = _dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=_dt.UTC)


def _human(seconds: float) -> str:
    s = int(seconds)
    if s >= 60 and s % 60 == 0:
        return f"{s // 60}m"
    return f"{seconds:g}s"


def force_unlock(clients: Any, resource_group: str, vault: str, lock_id: str) -> LeaseInfo:
    """Remove the vault's lease if its LOCK ID is `lock_id`; the lease removed. A UsageError
    when the vault is not locked or is locked under another ID (nothing is changed)."""
    from azure.core.exceptions import HttpResponseError

    from reconciler.errors import UsageError

    for _ in range(3):
        v = _as_dict(clients.vaults.vaults.get(resource_group, vault))
        tags, etag = dict(v.get("tags") or {}), v.get("etag")
        current = LeaseInfo.parse(tags.get(TAG))
        if current is None:
            raise UsageError(f"vault {vault} is not locked; nothing to unlock")
        if current.lock_id != lock_id.strip().lower():
            raise UsageError(f"lock ID {lock_id} does not match the lock of vault {vault} (lock ID {current.lock_id}, "
                             f"held by {current.describe()}); nothing was changed",
                             hint="copy the lock ID from the `locked by another apply` error")
        rest = {k: val for k, val in tags.items() if k != TAG}
        try:
            got = _as_dict(clients.vaults.vaults.begin_update(resource_group, vault, {"tags": rest},
                                                              headers={"If-Match": etag or "*"},
                                                              polling_interval=1).result())
        except HttpResponseError as exc:
            if getattr(exc, "status_code", None) in (409, 412):
                continue  # renewed in between: look again (same lock ID while it is the same lease)
            raise
        if TAG in (got.get("tags") or {}):  # a server that merges tags: leave an expired lease instead
            expired = "|".join([current.holder, current.host, str(current.pid), _fmt(current.since),
                                _fmt(_now() - _dt.timedelta(seconds=1))])
            clients.vaults.vaults.begin_update(resource_group, vault, {"tags": {**rest, TAG: expired}},
                                               polling_interval=1).result()
        return current
    raise LockHeldError(f"the lock of vault {vault} kept changing; nothing was removed", hint="try again")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    return True


def _as_dict(obj: Any) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    try:
        return obj.as_dict()
    except Exception:
        return dict(obj)


class VaultLock:
    TAG = TAG

    def __init__(
        self,
        clients: Any,
        resource_group: str,
        vault: str,
        *,
        ttl: float | None = None,
        holder: str | None = None,
        emit: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.clients = clients
        self.resource_group = resource_group
        self.vault = vault
        config = getattr(clients, "config", None)  # reconciler.settings.Settings (ASR_LOCK_TTL)
        self.ttl = ttl if ttl is not None else (config.lock_ttl if config is not None
                                                else float(os.environ.get("ASR_LOCK_TTL", DEFAULT_TTL)))
        try:
            user = getpass.getuser()
        except Exception:
            user = "unknown"
        self.holder = (holder or os.environ.get("ASR_LOCK_HOLDER") or f"asr:{user}").replace("|", "/")[:80]
        self.host = socket.gethostname().replace("|", "/")[:80]
        self.pid = os.getpid()
        self.since: _dt.datetime | None = None
        self.value: str | None = None
        self.lost = False
        self.taken_over: LeaseInfo | None = None
        self.emit = emit or (lambda e: None)
        self._etag: str | None = None
        self._mu = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- reading and writing the tag ------------------------------------------
    def _read(self) -> tuple[dict[str, str], str | None]:
        v = _as_dict(self.clients.vaults.vaults.get(self.resource_group, self.vault))
        return dict(v.get("tags") or {}), v.get("etag")

    def _write(self, tags: dict[str, str], etag: str | None) -> tuple[dict[str, str], str | None]:
        headers = {"If-Match": etag} if etag else {"If-Match": "*"}
        poller = self.clients.vaults.vaults.begin_update(
            self.resource_group, self.vault, {"tags": tags}, headers=headers, polling_interval=1
        )
        v = _as_dict(poller.result())
        return dict(v.get("tags") or tags), v.get("etag")

    def _value(self, expires: _dt.datetime) -> str:
        assert self.since is not None
        return "|".join([self.holder, self.host, str(self.pid), _fmt(self.since), _fmt(expires)])

    def _ours(self, raw: str | None) -> bool:
        info = LeaseInfo.parse(raw)
        return bool(info and self.since and info.host == self.host and info.pid == self.pid
                    and info.since == self.since and info.holder == self.holder)

    # --- public ---------------------------------------------------------------
    def acquire(self, attempts: int = 5, *, wait: float = 0.0) -> None:
        """Take the lease; with `wait` > 0, wait up to that many seconds for a held one
        (polling every ASR_LOCK_POLL seconds, default 5), saying who holds it."""
        if wait <= 0:
            return self._acquire(attempts)
        deadline = time.monotonic() + wait
        poll = max(0.05, float(os.environ.get("ASR_LOCK_POLL", "5")))
        said: str | None = None
        while True:
            try:
                return self._acquire(attempts)
            except LockHeldError as err:
                left = deadline - time.monotonic()
                if left <= 0:
                    err.message = f"{err.message} (waited {_human(wait)}, --lock-timeout)"
                    err.args = (err.message,)
                    raise
                holder = getattr(err, "lease", None)
                if holder is not None and holder.lock_id != said:
                    said = holder.lock_id
                    self.emit({"event": "lock_wait", "vault": self.vault, "holder": holder.describe(),
                               "lock_id": holder.lock_id, "until": _fmt(holder.expires), "timeout": _human(wait)})
                time.sleep(min(poll, max(left, 0.05)))

    def _acquire(self, attempts: int = 5) -> None:
        from azure.core.exceptions import HttpResponseError

        for attempt in range(attempts):
            tags, etag = self._read()
            current = LeaseInfo.parse(tags.get(TAG))
            if current is not None and not self._ours(current.raw):
                stale = current.expired() or (current.host == self.host and current.pid != self.pid
                                              and not _pid_alive(current.pid))
                if not stale:
                    err = LockHeldError(
                        f"vault {self.vault} is locked by another apply: {current.describe()}, "
                        f"lease until {_fmt(current.expires)} (lock ID {current.lock_id})",
                        hint="wait for it to finish (`asr apply --lock-timeout 10m` waits); a crashed holder's lease "
                             "expires by itself; if you are sure it is gone: "
                             f"`asr force-unlock MANIFEST {current.lock_id}`",
                    )
                    err.lease = current
                    raise err
                self.taken_over = current
            self.since = _now()
            self.value = self._value(self.since + _dt.timedelta(seconds=self.ttl))
            new_tags = {**tags, TAG: self.value}
            try:
                got, new_etag = self._write(new_tags, etag)
            except HttpResponseError as exc:
                if getattr(exc, "status_code", None) in (409, 412):
                    time.sleep(0.2 * (attempt + 1))
                    continue  # someone wrote in between: look again
                raise
            if got.get(TAG) != self.value:
                tags2, etag2 = self._read()
                if tags2.get(TAG) != self.value:
                    continue
                new_etag = etag2
            self._etag = new_etag
            if self.taken_over is not None:
                self.emit({"event": "lock_takeover", "vault": self.vault, "previous": self.taken_over.describe()})
            self.emit({"event": "lock", "vault": self.vault, "holder": self.holder, "until": self.value.rsplit("|", 1)[-1]})
            self._start_renewal()
            return
        raise LockHeldError(f"could not take the lock of vault {self.vault}: it kept changing under us",
                            hint="another apply is starting against the same vault; try again")

    @property
    def held(self) -> bool:
        return self.value is not None and not self.lost

    def acquire_if_vault_exists(self, wait: float = 0.0) -> bool:
        """Take the lock if the vault exists (True); False if it does not exist yet
        (the apply creates it first, then locks)."""
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self.acquire(wait=wait)
        except ResourceNotFoundError:
            return False
        return True

    def _start_renewal(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._renew_loop, name="asr-lock-renewal", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        every = max(1.0, self.ttl / 4)
        while not self._stop.wait(every):
            try:
                self.renew()
            except AsrError:
                pass
            except Exception:
                pass  # transient; next round, the lease still has ttl/4*3 left
            if self.lost:
                return

    def renew(self) -> None:
        from azure.core.exceptions import HttpResponseError

        with self._mu:
            if self.value is None:
                return
            for _ in range(3):
                tags, etag = self._read()
                if not self._ours(tags.get(TAG)):
                    self.lost = True
                    self.emit({"event": "lock_lost", "vault": self.vault, "now": tags.get(TAG)})
                    return
                value = self._value(_now() + _dt.timedelta(seconds=self.ttl))
                try:
                    got, new_etag = self._write({**tags, TAG: value}, etag)
                except HttpResponseError as exc:
                    if getattr(exc, "status_code", None) in (409, 412):
                        continue
                    raise
                self.value = value
                self._etag = new_etag
                return

    def release(self) -> None:
        from azure.core.exceptions import HttpResponseError

        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._mu:
            if self.value is None:
                return
            try:
                for _ in range(3):
                    tags, etag = self._read()
                    if not self._ours(tags.get(TAG)):
                        return
                    rest = {k: v for k, v in tags.items() if k != TAG}
                    try:
                        got, _ = self._write(rest, etag)
                    except HttpResponseError as exc:
                        if getattr(exc, "status_code", None) in (409, 412):
                            continue
                        raise
                    if TAG in got and self._ours(got.get(TAG)):
                        # a server that merges tags: leave an expired lease behind instead
                        tags2, etag2 = self._read()
                        self._write({**tags2, TAG: self._value(_now() - _dt.timedelta(seconds=1))}, etag2)
                    return
            finally:
                self.value = None

    def __enter__(self) -> VaultLock:
        self.acquire()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()

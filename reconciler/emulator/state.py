"""The emulator's in-memory world: resources, simulated clock, scheduler,
operations (long-running operation records) and the seeded random generators.

Everything here is plain synchronous Python used under `EmulatorState.lock`.
Time is lazy: nothing runs in the background. At the start of every request the
app calls `state.run_due()`, which fires every scheduled callback whose simulated
time has come, in time order.

Resources are stored as REST-shaped JSON dicts (exactly what a GET returns), keyed
by their lower-cased ARM id, and indexed by (parent id, type segment) so that lists
are cheap at thousands of items.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

log = logging.getLogger("reconciler.emulator")

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
DEFAULT_TENANT = "00000000-0000-0000-0000-0000000000aa"
DEFAULT_PAGE_SIZE = 100


# --------------------------------------------------------------------------- clock


class SimClock:
    """Simulated wall clock (epoch seconds). Starts at the real time of creation and
    runs `scale` times faster than the real clock; `advance(s)` jumps forward."""

    def __init__(self, scale: float = 1.0, start: float | None = None) -> None:
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        self._scale = float(scale)
        self._real0 = time.monotonic()
        self._sim0 = time.time() if start is None else float(start)

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        return self._sim0 + (time.monotonic() - self._real0) * self._scale

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("cannot move time backwards")
        self._sim0 += float(seconds)

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("time scale must be > 0")
        now = self.now()
        self._real0 = time.monotonic()
        self._sim0 = now
        self._scale = float(scale)

    def real_seconds(self, sim_seconds: float) -> float:
        """How long `sim_seconds` of simulated time last on the real clock."""
        return max(0.0, sim_seconds) / self._scale


def iso(ts: float) -> str:
    """ARM-style UTC timestamp (7 fractional digits, trailing Z)."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


# --------------------------------------------------------------------------- faults config


@dataclass
class FaultConfig:
    """Parsed `--faults` spec. Rates are probabilities in [0, 1]."""

    throttle: float = 0.0
    error: float = 0.0
    latency: float = 0.0  # seconds added to every ARM request
    retry_after: float = 1.0  # Retry-After (seconds) of injected 429 / 503 answers (`retryafter=`)
    jobfail: float = 0.0  # consumed by the site recovery job engine
    seed: int | None = None
    spec: str = ""
    # how a Hyper-V-to-Azure test failover job ends (not a fault: a recorded variant, see
    # docs/fidelity.md L-001/L-005): "suspended" (2025-08-01 examples, the default) or
    # "succeeded" (PowerShell SessionRecords TestTFO.json, 2021)
    tfojob: str = "suspended"

    @property
    def active(self) -> bool:
        return bool(self.throttle or self.error or self.latency or self.jobfail)


# --------------------------------------------------------------------------- operations


class OperationStatus:
    IN_PROGRESS = "InProgress"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    CANCELED = "Canceled"


@dataclass
class Operation:
    """A long-running operation as its Location / Azure-AsyncOperation URLs see it.

    `result` is a callable returning the final resource JSON (dict) or None (the
    Location URL then answers 204). `error` is an `ArmError` for a failed operation.
    `eta` (simulated epoch seconds) is when it is expected to finish, used to shorten
    Retry-After; `retry_after` is the nominal Retry-After in simulated seconds.
    """

    id: str
    kind: str = ""
    status: str = OperationStatus.IN_PROGRESS
    result: Callable[[], Any] | None = None
    error: Any = None  # framework.ArmError
    start: float = 0.0
    end: float | None = None
    eta: float | None = None
    retry_after: float = 30.0
    data: dict = field(default_factory=dict)  # free for the provider (job id, target...)
    _state: EmulatorState | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.status != OperationStatus.IN_PROGRESS

    def succeed(self, result: Callable[[], Any] | None | object = ...) -> None:
        if result is not ...:
            self.result = result  # type: ignore[assignment]
        self.status = OperationStatus.SUCCEEDED
        self.end = self._state.now() if self._state else time.time()

    def fail(self, error: Any) -> None:
        self.status = OperationStatus.FAILED
        self.error = error
        self.end = self._state.now() if self._state else time.time()

    def cancel(self) -> None:
        self.status = OperationStatus.CANCELED
        self.end = self._state.now() if self._state else time.time()


# --------------------------------------------------------------------------- principals


@dataclass(frozen=True)
class Principal:
    client_id: str
    object_id: str
    role: str  # Owner | Contributor | Reader
    name: str = ""

    @property
    def can_write(self) -> bool:
        return self.role.lower() in ("owner", "contributor")


DEFAULT_PRINCIPAL = Principal(
    client_id="00000000-0000-0000-0000-00000000c0de",
    object_id="00000000-0000-0000-0000-00000000c0df",
    role="Contributor",
    name="asr-emulator-default",
)


# --------------------------------------------------------------------------- stats


@dataclass
class Stats:
    requests: int = 0
    reads: int = 0
    writes: int = 0  # PUT, PATCH, POST (ARM's "writes" bucket)
    deletes: int = 0
    throttled: int = 0  # 429 answers (faults and --arm-limits)
    errors_injected: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_route: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "requests": self.requests,
            "reads": self.reads,
            "writes": self.writes,
            "deletes": self.deletes,
            "throttled": self.throttled,
            "errors_injected": self.errors_injected,
            "by_status": dict(sorted(self.by_status.items())),
            "by_route": dict(sorted(self.by_route.items())),
        }


# --------------------------------------------------------------------------- state


class Hooks:
    """Cross-provider events of one emulator state (a provider's `register(routes)` adds
    its hooks to the route table; the app copies them onto every state it makes). Known events:
    "vault.delete_blocker" fn(state, vault_id) -> str | None   (a reason blocks the delete)
    "vault.created"        fn(state, vault: dict)
    "vault.deleted"        fn(state, vault_id)
    "subnet.in_use"        fn(state, subnet_id) -> str | None   (who uses it; blocks deleting it)"""

    def __init__(self) -> None:
        self._fns: dict[str, list[Callable[..., Any]]] = {}

    def add(self, name: str, fn: Callable[..., Any]) -> None:
        """Register `fn` for the event `name` (idempotent)."""
        lst = self._fns.setdefault(name, [])
        if fn not in lst:
            lst.append(fn)

    def call(self, name: str, *args: Any) -> list[Any]:
        """Every hook of `name` called with `args`, in registration order: their results."""
        return [fn(*args) for fn in list(self._fns.get(name, ()))]

    def copy(self) -> Hooks:
        new = Hooks()
        new._fns = {k: list(v) for k, v in self._fns.items()}
        return new

    def names(self) -> list[str]:
        return sorted(k for k, v in self._fns.items() if v)


@dataclass
class EmulatorConfig:
    page_size: int = DEFAULT_PAGE_SIZE
    time_scale: float = 1.0
    arm_limits: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)


class EmulatorState:
    """The whole simulated world. One instance per reset."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.lock = threading.RLock()
        self.clock = SimClock(self.config.time_scale)
        seed = self.config.faults.seed
        # fault decisions (throttle / error) and job failures draw from separate
        # generators, so adding a request does not shift which jobs fail
        self.fault_rng = random.Random(seed if seed is not None else None)
        self.job_rng = random.Random((seed + 7919) if seed is not None else None)
        self.rng = random.Random(seed if seed is not None else None)  # anything else (ids, etc.)
        self.subscriptions: set[str] = {DEFAULT_SUBSCRIPTION}
        self.tenant_id = DEFAULT_TENANT
        self.principals: dict[str, Principal] = {DEFAULT_PRINCIPAL.client_id.lower(): DEFAULT_PRINCIPAL}
        self.default_principal = DEFAULT_PRINCIPAL
        self.stats = Stats()
        self.estate: dict = {}
        self.extras: dict[str, Any] = {}  # free slot per provider (e.g. "siterecovery")
        self.hooks = Hooks()  # cross-provider events; the app fills them from its route table
        self._resources: dict[str, dict] = {}
        self._children: dict[tuple[str, str], dict[str, str]] = {}
        self._by_type: dict[str, dict[str, None]] = {}
        self._queue: list[tuple[float, int, Callable[[], Any]]] = []
        self._seq = itertools.count()
        self.operations: dict[str, Operation] = {}
        self._firing_at: float | None = None

    # ---- faults shortcuts used by the job engine
    @property
    def jobfail_rate(self) -> float:
        return self.config.faults.jobfail

    def job_should_fail(self) -> bool:
        """Seeded draw for one job: True if this job must fail (rate --faults jobfail)."""
        rate = self.config.faults.jobfail
        return rate > 0 and self.job_rng.random() < rate

    # ---- time
    def now(self) -> float:
        """Simulated epoch seconds. Inside a scheduled callback: the time that callback
        was scheduled for (discrete-event semantics), so its timestamps and the events
        it schedules in turn do not depend on when the next request happened to come."""
        if self._firing_at is not None:
            return self._firing_at
        return self.clock.now()

    def now_iso(self) -> str:
        return iso(self.clock.now())

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.clock.advance(seconds)
            self.run_due()

    def retry_after(self, sim_seconds: float) -> int:
        """Retry-After header value (integer real seconds) for `sim_seconds` of
        simulated waiting."""
        import math

        return int(math.ceil(self.clock.real_seconds(sim_seconds) - 1e-9))

    # ---- scheduler
    def schedule(self, at: float, callback: Callable[[], Any]) -> None:
        """Run `callback()` (under the state lock) once simulated time reaches `at`."""
        with self.lock:
            heapq.heappush(self._queue, (float(at), next(self._seq), callback))

    def schedule_in(self, seconds: float, callback: Callable[[], Any]) -> None:
        self.schedule(self.now() + seconds, callback)

    def run_due(self) -> int:
        """Fire every due callback in time order (callbacks scheduled by callbacks
        included, if due); returns how many ran. While a callback runs, `now()` is
        its scheduled time."""
        ran = 0
        with self.lock:
            if self._firing_at is not None:  # re-entered from a callback: the outer loop goes on
                return 0
            limit = self.clock.now()
            try:
                while self._queue and self._queue[0][0] <= limit:
                    at, _, cb = heapq.heappop(self._queue)
                    ran += 1
                    self._firing_at = at
                    try:
                        cb()
                    except Exception:  # a broken callback must not poison every request
                        log.exception("scheduled callback failed")
            finally:
                self._firing_at = None
        return ran

    def next_due(self) -> float | None:
        return self._queue[0][0] if self._queue else None

    # ---- operations
    def new_operation(
        self,
        kind: str = "",
        *,
        result: Callable[[], Any] | None = None,
        done_in: float | None = None,
        retry_after: float = 30.0,
        op_id: str | None = None,
        data: dict | None = None,
    ) -> Operation:
        """Register an in-progress operation. With `done_in` (simulated seconds) it
        succeeds by itself then; otherwise the provider calls op.succeed()/op.fail()."""
        op = Operation(
            id=op_id or str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            kind=kind,
            result=result,
            start=self.now(),
            retry_after=retry_after,
            data=dict(data or {}),
            _state=self,
        )
        if done_in is not None:
            op.eta = op.start + done_in
            self.schedule(op.eta, lambda: None if op.done else op.succeed())
        self.operations[op.id.lower()] = op
        return op

    def get_operation(self, op_id: str) -> Operation | None:
        return self.operations.get(op_id.lower())

    # ---- resources
    @staticmethod
    def _split(rid: str) -> tuple[str, str, str]:
        """'/a/b/type/name' -> ('/a/b', 'type', 'name'), all lower-cased except name."""
        parts = rid.rstrip("/").split("/")
        if len(parts) < 3:
            raise ValueError(f"not a resource id: {rid}")
        return "/".join(parts[:-2]).lower(), parts[-2].lower(), parts[-1]

    def get(self, rid: str) -> dict | None:
        return self._resources.get(rid.rstrip("/").lower())

    def exists(self, rid: str) -> bool:
        return rid.rstrip("/").lower() in self._resources

    def put(self, rid: str, resource: dict) -> dict:
        key = rid.rstrip("/").lower()
        parent, typ, name = self._split(rid)
        self._resources[key] = resource
        self._children.setdefault((parent, typ), {})[name.lower()] = key
        self._by_type.setdefault(resource_type_of(rid).lower(), {})[key] = None
        return resource

    def delete(self, rid: str, *, recursive: bool = True) -> dict | None:
        key = rid.rstrip("/").lower()
        res = self._resources.pop(key, None)
        if res is None:
            return None
        parent, typ, name = self._split(rid)
        coll = self._children.get((parent, typ))
        if coll is not None:
            coll.pop(name.lower(), None)
            if not coll:
                del self._children[(parent, typ)]
        self._by_type.get(resource_type_of(rid).lower(), {}).pop(key, None)
        if recursive:
            prefix = key + "/"
            for k in [k for k in self._resources if k.startswith(prefix)]:
                self.delete(k, recursive=False)
        return res

    def children(self, parent_id: str, type_segment: str) -> list[dict]:
        """Direct children `parent_id/type_segment/*`, in creation order."""
        coll = self._children.get((parent_id.rstrip("/").lower(), type_segment.lower()), {})
        return [self._resources[k] for k in coll.values()]

    def find(self, resource_type: str, under: str = "") -> Iterator[dict]:
        """Every resource of `resource_type` (e.g. "Microsoft.Storage/storageAccounts")
        whose id starts with `under` (case-insensitive), in creation order."""
        prefix = under.rstrip("/").lower()
        prefix_slash = prefix + "/"
        for key in list(self._by_type.get(resource_type.lower(), {})):
            if not prefix or key.startswith(prefix_slash):
                res = self._resources.get(key)
                if res is not None:
                    yield res

    def all_ids(self) -> list[str]:
        return list(self._resources)


def resource_type_of(rid: str) -> str:
    """'/subscriptions/s/resourceGroups/rg/providers/Microsoft.X/a/n1/b/n2' ->
    'Microsoft.X/a/b'; a resource group id -> 'Microsoft.Resources/resourceGroups'."""
    parts = [p for p in rid.strip("/").split("/")]
    low = [p.lower() for p in parts]
    if "providers" in low:
        i = len(low) - 1 - low[::-1].index("providers")
        ns = parts[i + 1]
        rest = parts[i + 2:]
        return "/".join([ns] + rest[0::2])
    if len(parts) >= 4 and low[2] == "resourcegroups":
        return "Microsoft.Resources/resourceGroups"
    return "Microsoft.Resources/" + "/".join(parts[0::2])

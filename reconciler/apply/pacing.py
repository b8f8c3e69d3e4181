"""Write pacing from Azure Resource Manager's rate-limit headers.

ARM meters writes per subscription with a token bucket (200 tokens, refilled 10
per second) and says how many are left in `x-ms-ratelimit-remaining-subscription-
writes` on every answer. `WritePacer` keeps an estimate of that bucket: the last
value the server reported, plus the refill since, minus the writes we sent since.
Before each write it takes a token; when the estimate would drop below a small
reserve it waits for the refill instead of running into 429s. Without any header
(an endpoint that does not meter) it does not pace at all.

The estimate is conservative: writes in flight count as spent, a fresh server
figure always replaces the estimate, and the reserve leaves room for other
writers on the same subscription.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_REFILL_PER_SECOND = 10.0  # ARM writes, per subscription
DEFAULT_CAPACITY = 200.0
DEFAULT_RESERVE = 5.0


class WritePacer:
    def __init__(
        self,
        counter: Any = None,
        *,
        refill_per_second: float = DEFAULT_REFILL_PER_SECOND,
        capacity: float = DEFAULT_CAPACITY,
        reserve: float = DEFAULT_RESERVE,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.counter = counter
        self.rate = refill_per_second
        self.capacity = capacity
        self.reserve = reserve
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._tokens: float | None = None  # estimate; None = no header seen yet
        self._at = clock()
        self._seen_remaining: int | None = None
        self._seen_writes: int | None = None
        self._in_flight = 0
        self.waited_seconds = 0.0
        self.waits = 0

    # --- feeding the estimate -------------------------------------------
    def observe(self, remaining: int | None) -> None:
        """A server figure (after our write landed). Replaces the estimate."""
        if remaining is None:
            return
        with self._lock:
            self._tokens = float(remaining)
            self._at = self.clock()

    def _sync_from_counter(self) -> None:
        c = self.counter
        if c is None:
            return
        remaining = getattr(c, "remaining_writes", None)
        writes = getattr(c, "writes", None)
        if remaining is None:
            return
        # only a figure from a response we have not folded in yet replaces the estimate
        if remaining != self._seen_remaining or writes != self._seen_writes:
            self._seen_remaining = remaining
            self._seen_writes = writes
            # writes sent but not answered yet are not in the server's figure
            self._tokens = float(remaining) - max(0, self._in_flight - 1)
            self._at = self.clock()

    def _estimate(self, now: float) -> float | None:
        if self._tokens is None:
            return None
        return min(self.capacity, self._tokens + (now - self._at) * self.rate)

    # --- spending -------------------------------------------------------
    def acquire(self, should_stop: Callable[[], bool] | None = None) -> float:
        """Take one write token, waiting for the refill if the bucket is nearly
        dry. Returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                self._sync_from_counter()
                now = self.clock()
                est = self._estimate(now)
                if est is None or est - 1.0 >= self.reserve:
                    if est is not None:
                        self._tokens = est - 1.0
                        self._at = now
                    self._in_flight += 1
                    if waited:
                        self.waited_seconds += waited
                        self.waits += 1
                    return waited
                need = (self.reserve + 1.0 - est) / self.rate
            if should_stop is not None and should_stop():
                return waited
            step = max(0.01, min(need, 1.0))
            self.sleep(step)
            waited += step

    def done(self) -> None:
        """The write acquired last has been answered (or failed)."""
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)

    @property
    def estimate(self) -> float | None:
        with self._lock:
            return self._estimate(self.clock())

"""ARM's per-subscription token buckets (`--arm-limits`), in real time.

Reads: 250 tokens, refilled 25 per second; writes: 200, 10/s; deletes: 200, 10/s.
Buckets are always tracked (so the `x-ms-ratelimit-remaining-subscription-*` headers
are on every response); they are only enforced (429 + Retry-After) with --arm-limits.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from reconciler.emulator.framework import ArmError

BUCKETS = {"read": (250.0, 25.0), "write": (200.0, 10.0), "delete": (200.0, 10.0)}
HEADER = {
    "read": "x-ms-ratelimit-remaining-subscription-reads",
    "write": "x-ms-ratelimit-remaining-subscription-writes",
    "delete": "x-ms-ratelimit-remaining-subscription-deletes",
}


@dataclass
class Bucket:
    capacity: float
    refill: float  # tokens per second
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.capacity

    def _refill(self) -> None:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now

    def take(self) -> bool:
        self._refill()
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False

    def retry_after(self) -> int:
        self._refill()
        return max(1, math.ceil((1.0 - self.tokens) / self.refill))

    @property
    def remaining(self) -> int:
        self._refill()
        return max(0, int(self.tokens))


class Limiter:
    def __init__(self, enforce: bool) -> None:
        self.enforce = enforce
        self._buckets: dict[tuple[str, str], Bucket] = {}

    def bucket(self, subscription: str, kind: str) -> Bucket:
        key = (subscription.lower(), kind)
        b = self._buckets.get(key)
        if b is None:
            cap, refill = BUCKETS[kind]
            b = self._buckets[key] = Bucket(cap, refill)
        return b

    def consume(self, subscription: str, kind: str, actor: str = "") -> None:
        """Take one token of `kind`; with enforcement, ArmError 429 when empty, worded
        as ARM words its subscription throttling."""
        b = self.bucket(subscription, kind)
        if not b.take() and self.enforce:
            wait = b.retry_after()
            raise ArmError(
                429,
                "SubscriptionRequestsThrottled",
                f"Number of '{kind}' requests for subscription '{subscription}' actor '{actor}' exceeded. "
                f"Please try again after '{wait}' seconds after additional tokens are available. "
                "Refer to https://aka.ms/arm-throttling for additional information.",
                headers={"Retry-After": str(wait)},
            )

    def headers(self, subscription: str) -> dict[str, str]:
        return {HEADER[k]: str(self.bucket(subscription, k).remaining) for k in BUCKETS}

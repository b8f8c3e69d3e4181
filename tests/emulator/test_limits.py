"""--arm-limits: ARM's per-subscription token buckets, 429 + Retry-After past them,
remaining-count headers on every response; time scale and the advance control."""

from __future__ import annotations

import time

import pytest

from reconciler.azure.clients import Clients
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.limits import Bucket, Limiter
from reconciler.emulator.state import EmulatorConfig
from reconciler.emulator.testing import call

pytestmark = pytest.mark.inproc  # the emulator in process (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
LIST = f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01"


def test_bucket_capacity_and_refill():
    b = Bucket(200.0, 10.0)
    assert sum(b.take() for _ in range(250)) == 200
    assert b.remaining == 0 and b.retry_after() >= 1
    b.stamp -= 1.0  # one second later: 10 tokens back
    assert b.remaining == 10


def test_limiter_buckets_per_kind_and_enforcement():
    lim = Limiter(enforce=True)
    for _ in range(200):
        lim.consume(SUB, "write")
    try:
        lim.consume(SUB, "write")
        raise AssertionError("expected 429")
    except Exception as exc:  # ArmError
        assert getattr(exc, "status", None) == 429 and int(exc.headers["Retry-After"]) >= 1
    lim.consume(SUB, "delete")  # a separate bucket
    lim.consume(SUB, "read")
    h = lim.headers(SUB)
    assert h["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert h["x-ms-ratelimit-remaining-subscription-deletes"] == "199"
    assert int(h["x-ms-ratelimit-remaining-subscription-reads"]) == 249
    relaxed = Limiter(enforce=False)
    for _ in range(300):
        relaxed.consume(SUB, "write")  # tracked, never refused


def test_reads_past_the_bucket_are_429_in_process():
    app = EmulatorApp(config=EmulatorConfig(arm_limits=True), estate={"subscription": SUB})
    remaining, first_429 = [], None
    for i in range(3000):  # 250 tokens, +25/s: a slow machine needs more than 275 calls
        r = call(app, "GET", LIST)
        if r.status_code == 429:
            first_429 = (i, r)
            break
        remaining.append(int(r.headers["x-ms-ratelimit-remaining-subscription-reads"]))
    assert first_429 is not None, "no 429 within 3000 reads"
    i, r = first_429
    assert i >= 250
    assert int(r.headers["retry-after"]) >= 1 and r.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert "Number of 'read' requests for subscription" in r.json()["error"]["message"]
    assert remaining[0] == 249 and remaining[-1] <= 2
    assert "x-ms-ratelimit-remaining-subscription-writes" in r.headers
    # writes have their own bucket
    assert call(app, "PUT", f"/subscriptions/{SUB}/resourcegroups/x?api-version=2025-04-01", json={"location": "westeurope"}).status_code == 201


@pytest.mark.simsleep  # asked for, yet ARM limits refill in real time: the SDK's waits stay real
def test_sdk_honours_retry_after_under_arm_limits(emulator):
    emulator.reset(arm_limits=True)
    groups = Clients(SUB).resources.resource_groups
    assert list(groups.list()) == []  # client, token and pipeline ready before the bucket runs dry
    saw_429 = None
    for _ in range(3000):  # 250 tokens, +25/s: the first 429 comes after ~260 fast reads, later on a slow machine
        r = call(emulator.app, "GET", LIST)
        assert "x-ms-ratelimit-remaining-subscription-reads" in r.headers
        if r.status_code == 429:
            saw_429 = r
            break
    assert saw_429 is not None and int(saw_429.headers["retry-after"]) >= 1
    # other clients of the subscription spent 23 more reads: the SDK's next try is a 429 unless
    # this test stalls for 0.96 s right here (refill 25 a second), and Retry-After is still 1 s
    throttled = emulator.stats()["throttled"]
    emulator.app.limiter.bucket(SUB, "read").tokens = -23.0
    t = time.monotonic()
    assert list(groups.list()) == []  # retried after Retry-After, then served
    assert emulator.stats()["throttled"] > throttled
    assert emulator.transport.sleeps == 0 and time.monotonic() - t >= 0.9  # Retry-After waited on the real clock
    assert time.monotonic() - t < 30


def test_headers_present_without_arm_limits(emulator):
    c = Clients(SUB)
    c.resources.resource_groups.check_existence("x")
    assert c.counter.remaining_reads is not None and c.counter.remaining_reads <= 250
    assert emulator.stats()["throttled"] == 0


def test_time_scale_and_advance(emulator):
    from datetime import datetime

    def now():
        return datetime.fromisoformat(emulator.stats()["now"].replace("0Z", "+00:00")).timestamp()

    emulator.reset(time_scale=36000)
    a = now()
    time.sleep(0.025)  # at least this much real time between the two reads
    b = now()
    assert b - a >= 0.025 * 36000 * 0.9
    emulator.reset()
    a = now()
    emulator.advance(7200)
    assert 7200 <= now() - a < 7260
    assert emulator.stats()["timeScale"] == 1.0


def test_lro_retry_after_follows_the_time_scale():
    from reconciler.emulator.state import EmulatorState

    for scale, expected in ((1, 30), (10, 3), (1000, 1)):
        st = EmulatorState(EmulatorConfig(time_scale=scale))
        op = st.new_operation("x", retry_after=30)
        from reconciler.emulator.framework import _retry_after

        assert _retry_after(st, op) == str(expected)

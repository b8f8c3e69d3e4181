"""WritePacer: a token-bucket estimate of ARM's write bucket, fed by the
x-ms-ratelimit-remaining-subscription-writes figure the RequestCounter keeps."""

from reconciler.apply.pacing import WritePacer
from reconciler.azure.clients import RequestCounter


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.t += s


def test_no_header_means_no_pacing():
    clock = FakeClock()
    p = WritePacer(RequestCounter(), clock=clock, sleep=clock.sleep)
    for _ in range(1000):
        assert p.acquire() == 0.0
        p.done()
    assert clock.t == 0.0


def test_paces_to_the_refill_rate_once_the_bucket_is_low():
    clock = FakeClock()
    counter = RequestCounter()
    counter.remaining_writes = 20
    counter.writes = 1
    p = WritePacer(counter, clock=clock, sleep=clock.sleep, reserve=5)
    n = 215
    for _ in range(n):
        p.acquire()
        p.done()
    # 20 - 5 reserve = 15 writes free; the other 200 need 20 s of refill at 10/s
    assert 19.0 <= clock.t <= 21.5
    assert p.waits > 0


def test_fresh_server_figure_replaces_the_estimate():
    clock = FakeClock()
    counter = RequestCounter()
    counter.remaining_writes = 6
    counter.writes = 1
    p = WritePacer(counter, clock=clock, sleep=clock.sleep, reserve=5)
    p.acquire()
    p.done()
    assert p.estimate is not None and p.estimate < 6
    counter.remaining_writes = 150  # the server says there is plenty
    counter.writes = 2
    waited = p.acquire()
    assert waited == 0.0
    assert 148 <= p.estimate <= 150


def test_in_flight_writes_count_as_spent():
    clock = FakeClock()
    counter = RequestCounter()
    counter.remaining_writes = 10
    counter.writes = 1
    p = WritePacer(counter, clock=clock, sleep=clock.sleep, reserve=5)
    for _ in range(4):  # four in flight, none answered
        assert p.acquire() == 0.0
    # 10 - 4 = 6 left, taking one more would leave 5 = reserve: allowed; the next must wait
    assert p.acquire() == 0.0
    assert p.acquire() > 0.0


def test_stop_ends_the_wait():
    clock = FakeClock()
    counter = RequestCounter()
    counter.remaining_writes = 0
    counter.writes = 1
    p = WritePacer(counter, clock=clock, sleep=clock.sleep, reserve=5)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    p.acquire(should_stop=stop)
    assert clock.t < 1.0

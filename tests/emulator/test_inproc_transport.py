"""InProcessTransport (reconciler/emulator/testing.py): with `simsleep` the waits
azure-core asks of its transport (the retry policy's Retry-After, the LRO poller's
interval) advance the emulator's clock at its time scale instead of sleeping; without
it, and while ARM limits are enforced (their buckets refill in real time), they sleep."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.azure.clients import Clients
from reconciler.emulator.estate import quickstart_estate

pytestmark = pytest.mark.inproc

SUB = "00000000-0000-0000-0000-000000000001"
RG, V = "contoso-dr-rg", "contoso-asr-vault"
POLICY = {"properties": {"providerSpecificInput": {"instanceType": "HyperVReplicaAzure", "replicationInterval": 300,
                                                   "recoveryPointHistoryDuration": 24,
                                                   "applicationConsistentSnapshotFrequencyInHours": 4}}}


def now(emulator) -> float:
    return datetime.fromisoformat(emulator.stats()["now"].replace("0Z", "+00:00")).timestamp()


@pytest.mark.simsleep
def test_lro_poll_intervals_pass_on_the_emulator_clock(emulator):
    emulator.reset(estate=quickstart_estate(azure=True), time_scale=1)
    t0 = now(emulator)
    sr = Clients(SUB).site_recovery()
    real = time.monotonic()
    # the policy's job runs about 32 simulated seconds (test_jobs_sdk.py); at time scale 1 the
    # poller is told to wait (Retry-After) until it ends
    assert sr.replication_policies.begin_create(RG, V, "every-5-min", POLICY).result().name == "every-5-min"
    real = time.monotonic() - real
    transport = emulator.transport
    assert transport.sleeps >= 1 and transport.slept + real >= 30  # the job's time came from the waits (or real time)
    assert transport.slept > real  # mostly from the waits, whatever the load
    assert now(emulator) - t0 >= transport.slept  # each wait moved the clock by itself (scale 1)


@pytest.mark.simsleep
def test_retry_after_of_throttled_requests_passes_on_the_emulator_clock(emulator):
    emulator.reset(faults="throttle=0.5,seed=11", time_scale=600)
    t0 = now(emulator)
    c = Clients(SUB)
    for i in range(4):
        c.resources.resource_groups.create_or_update(f"rg{i}", {"location": "westeurope"})
    throttled = emulator.stats()["throttled"]
    assert throttled >= 1
    transport = emulator.transport
    assert transport.sleeps == throttled and transport.slept >= throttled  # one Retry-After (>= 1 s) per 429
    assert now(emulator) - t0 >= 600 * transport.slept  # at time scale 600


def test_without_the_marker_the_transport_sleeps(emulator, monkeypatch):
    assert emulator.transport.simulated_sleep is False
    emulator.reset(faults="throttle=1,seed=1")
    monkeypatch.setenv("ASR_RETRY_TOTAL", "1")
    t = time.monotonic()
    with pytest.raises(HttpResponseError):
        list(Clients(SUB).resources.resource_groups.list())
    assert time.monotonic() - t >= 0.9  # the one retry waited out Retry-After: 1 on the real clock
    assert emulator.stats()["throttled"] == 2 and emulator.transport.sleeps == 0

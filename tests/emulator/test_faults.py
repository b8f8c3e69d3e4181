"""--faults: spec parsing, 429 / 5xx / latency injection, reproducibility with a seed,
and the job-failure draw the site recovery job engine uses."""

from __future__ import annotations

import time

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from reconciler.azure.clients import Clients
from reconciler.emulator import faults
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.state import EmulatorConfig, EmulatorState
from reconciler.emulator.testing import call

SUB = "00000000-0000-0000-0000-000000000001"
LIST = f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01"


def test_parse_full_spec():
    f = faults.parse("throttle=0.2,error=0.05,latency=50ms,jobfail=0.02,seed=7")
    assert (f.throttle, f.error, f.latency, f.jobfail, f.seed) == (0.2, 0.05, 0.05, 0.02, 7)
    assert faults.parse("latency=1.5s").latency == 1.5 and faults.parse("latency=2").latency == 2.0
    assert not faults.parse(None).active and not faults.parse("seed=3").active


def test_retryafter_sets_the_retry_after_of_injected_429_and_503():
    assert faults.parse("throttle=1").retry_after == 1.0  # what ARM sends
    app = EmulatorApp(config=EmulatorConfig(faults=faults.parse("throttle=1,retryafter=50ms")), estate={"subscription": SUB})
    r = call(app, "GET", LIST)
    assert r.status_code == 429 and r.headers["retry-after"] == "0.05"
    app = EmulatorApp(config=EmulatorConfig(faults=faults.parse("error=1,retryafter=0.2,seed=4")), estate={"subscription": SUB})
    after = {r.headers.get("retry-after") for r in (call(app, "GET", LIST) for _ in range(12)) if r.status_code == 503}
    assert after == {"0.2"}
    app = EmulatorApp(config=EmulatorConfig(faults=faults.parse("throttle=1")), estate={"subscription": SUB})
    assert call(app, "GET", LIST).headers["retry-after"] == "1"


@pytest.mark.parametrize("spec", ["throttle=2", "error=-0.1", "latency=fast", "seed=x", "bogus=1", "throttle", "throttle=0.1,throttle=0.2",
                                  "retryafter=0", "retryafter=soon"])
def test_parse_rejects_bad_specs(spec):
    with pytest.raises(faults.FaultSpecError):
        faults.parse(spec)


def _session(emulator):
    token = requests.get(emulator.env["IDENTITY_ENDPOINT"], params={"api-version": "2019-08-01", "resource": "https://management.azure.com"},
                         headers={"X-IDENTITY-HEADER": emulator.env["IDENTITY_HEADER"]}, timeout=10).json()["access_token"]
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


def test_throttle_1_answers_429_with_retry_after(emulator, monkeypatch):
    emulator.reset(faults="throttle=1,seed=1")
    s = _session(emulator)
    r = s.get(emulator.url + LIST, verify=emulator.ca_bundle, timeout=10)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert r.json()["error"]["code"] == "TooManyRequests"
    monkeypatch.setenv("ASR_RETRY_TOTAL", "0")
    with pytest.raises(HttpResponseError) as e:
        list(Clients(SUB).resources.resource_groups.list())
    assert e.value.status_code == 429
    st = emulator.stats()
    assert st["throttled"] == 2 and st["by_status"] == {"429": 2}


def test_error_1_answers_500_or_503(emulator, monkeypatch):
    emulator.reset(faults="error=1,seed=4")
    s = _session(emulator)
    codes = {s.get(emulator.url + LIST, verify=emulator.ca_bundle, timeout=10).status_code for _ in range(12)}
    assert codes == {500, 503}
    assert emulator.stats()["errors_injected"] == 12


@pytest.mark.inproc
@pytest.mark.simsleep  # the SDK's Retry-After waits in simulated time (tests/conftest.py)
def test_sdk_rides_out_partial_throttling(emulator):
    emulator.reset(faults="throttle=0.5,seed=11")
    c = Clients(SUB)
    for i in range(4):
        c.resources.resource_groups.create_or_update(f"rg{i}", {"location": "westeurope"})
    assert sorted(g.name for g in c.resources.resource_groups.list()) == ["rg0", "rg1", "rg2", "rg3"]
    assert emulator.stats()["throttled"] >= 1


def test_same_seed_same_faults(emulator):
    def run(spec):
        emulator.reset(faults=spec)
        s = _session(emulator)
        return [s.get(emulator.url + LIST, verify=emulator.ca_bundle, timeout=10).status_code for _ in range(25)]

    a = run("throttle=0.3,error=0.3,seed=7")
    b = run("throttle=0.3,error=0.3,seed=7")
    c = run("throttle=0.3,error=0.3,seed=8")
    assert a == b
    assert a != c
    assert {200, 429} <= set(a)


def test_latency_is_added(emulator):
    emulator.reset(faults="latency=300ms")
    s = _session(emulator)
    s.get(emulator.url + LIST, verify=emulator.ca_bundle, timeout=10)  # connection set-up out of the measure
    t = time.monotonic()
    assert s.get(emulator.url + LIST, verify=emulator.ca_bundle, timeout=10).status_code == 200
    assert time.monotonic() - t >= 0.3


def test_write_errors_sometimes_land_after_the_write():
    app = EmulatorApp(config=EmulatorConfig(faults=faults.parse("error=1,seed=5")), estate={"subscription": SUB})
    statuses = [call(app, "PUT", f"/subscriptions/{SUB}/resourcegroups/rg{i}?api-version=2025-04-01", json={"location": "westeurope"}).status_code
                for i in range(20)]
    assert set(statuses) <= {500, 503}
    landed = [i for i in range(20) if app.state.get(f"/subscriptions/{SUB}/resourceGroups/rg{i}")]
    assert 0 < len(landed) < 20  # both: refused before, and failed after carrying it out


def test_jobfail_draws_are_seeded():
    def draws(seed):
        st = EmulatorState(EmulatorConfig(faults=faults.parse(f"jobfail=0.5,seed={seed}")))
        return [st.job_should_fail() for _ in range(40)]

    assert draws(3) == draws(3)
    assert draws(3) != draws(4)
    assert 5 < sum(draws(3)) < 35
    st = EmulatorState(EmulatorConfig(faults=faults.parse("jobfail=0.02")))
    assert st.jobfail_rate == 0.02
    assert not any(EmulatorState().job_should_fail() for _ in range(50))


def test_bad_fault_spec_on_reset_is_400(emulator):
    r = requests.post(emulator.url + "/_emulator/reset", json={"faults": "throttle=5"}, verify=emulator.ca_bundle, timeout=10)
    assert r.status_code == 400 and "throttle" in r.json()["error"]

"""POST /_emulator/faults (EmulatorProcess.set_faults): fault settings changed at run
time without a reset: the state stays, an invalid spec is a 400 with an ARM error body,
and a seed makes the draws repeatable."""

from __future__ import annotations

import pytest
import requests

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.state import EmulatorConfig
from reconciler.emulator.testing import call

SUB = "00000000-0000-0000-0000-000000000001"
RG = f"/subscriptions/{SUB}/resourcegroups/runtime-faults-rg?api-version=2025-04-01"
LIST = f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01"


def _session(emulator):
    token = requests.get(emulator.env["IDENTITY_ENDPOINT"], params={"api-version": "2019-08-01", "resource": "https://management.azure.com"},
                         headers={"X-IDENTITY-HEADER": emulator.env["IDENTITY_HEADER"]}, timeout=10).json()["access_token"]
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    s.trust_env = False  # REQUESTS_CA_BUNDLE would override the session's verify
    s.verify = emulator.ca_bundle
    return s


def test_faults_switch_on_and_off_keeping_the_state(emulator):
    s = _session(emulator)
    assert s.put(emulator.url + RG, json={"location": "westeurope"}, timeout=10).status_code in (200, 201)
    now = emulator.stats()["now"]
    emulator.reset_stats()

    eff = emulator.set_faults("throttle=1,seed=5")
    assert eff == {"faults": "throttle=1,seed=5", "throttle": 1.0, "error": 0.0, "latency": 0.0,
                   "retryafter": 1.0, "jobfail": 0.0, "seed": 5, "active": True}
    r = s.get(emulator.url + RG, timeout=10)
    assert r.status_code == 429 and r.json()["error"]["code"] == "TooManyRequests"

    eff = emulator.set_faults("")
    assert eff["active"] is False and eff["faults"] == "" and eff["seed"] is None
    r = s.get(emulator.url + RG, timeout=10)
    assert r.status_code == 200 and r.json()["name"] == "runtime-faults-rg"  # created before: still there
    st = emulator.stats()
    # the control calls were not counted; the clock was not reset
    assert st["requests"] == 2 and st["by_status"] == {"429": 1, "200": 1}
    assert st["now"] >= now
    assert emulator.set_faults(None)["active"] is False


def test_invalid_spec_is_a_400_with_an_arm_error_body(emulator):
    emulator.set_faults("error=1,seed=1")
    url = emulator.url + "/_emulator/faults"
    for body, code, text in [
        ({"faults": "throttle=2"}, "InvalidFaultSpec", "throttle: rate must be between 0 and 1, not 2"),
        ({"faults": "bogus=1"}, "InvalidFaultSpec", "unknown fault 'bogus'"),
        ({"faults": "seed=x"}, "InvalidFaultSpec", "seed: 'x' is not an integer"),
        ({}, "InvalidRequestContent", '{"faults":'),
        ({"faults": 3}, "InvalidRequestContent", '{"faults":'),
    ]:
        r = requests.post(url, json=body, verify=emulator.ca_bundle, timeout=10)  # no token needed
        assert r.status_code == 400, (body, r.text)
        err = r.json()["error"]
        assert err["code"] == code and text in err["message"], (body, err)
    with pytest.raises(RuntimeError, match="400"):
        emulator.set_faults("latency=fast")
    # the settings before the invalid calls are kept
    r = _session(emulator).get(emulator.url + LIST, timeout=10)
    assert r.status_code in (500, 503)


def test_seed_makes_the_draws_repeatable():
    app = EmulatorApp(config=EmulatorConfig())

    def draws() -> tuple[list[int], list[bool]]:
        codes = [call(app, "GET", LIST).status_code for _ in range(30)]
        jobs = [app.state.job_should_fail() for _ in range(30)]
        return codes, jobs

    app.set_faults("throttle=0.3,error=0.3,jobfail=0.5,seed=11")
    first = draws()
    assert {429, 200} <= set(first[0]) and True in first[1] and False in first[1]
    app.set_faults("throttle=0.3,error=0.3,jobfail=0.5,seed=11")
    assert draws() == first
    app.set_faults("throttle=0.3,error=0.3,jobfail=0.5,seed=12")
    assert draws() != first
    # a bare reset restores the start-up settings (no faults), not the run-time ones
    app.reset()
    assert not app.state.config.faults.active
    assert {call(app, "GET", LIST).status_code for _ in range(5)} == {200}

"""No wait without an end: an `asr apply` whose enable-protection jobs are in flight
when every request starts failing (faults switched on at run time, after ASR accepted
the writes) ends with exit 1 within its deadline, naming the last error, and says
what it waits for meanwhile.

In process (the in-process emulator, `asr` through `reconciler.cli.main.main`), with a
test-sized deadline and progress interval (flags `--deadline`, `--progress-interval`):
the faults come on from the transport, right after Azure accepted the fourth enable,
so the test needs to read no output while the apply runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import yaml

from reconciler.azure.clients import Clients
from reconciler.cli.main import main as asr
from reconciler.emulator.testing import InProcessTransport

REPO = Path(__file__).resolve().parents[2]


class FaultsAfterEnables(InProcessTransport):
    """The emulator's in-process transport that switches on `faults` once Azure has
    answered `count` enable-protection writes (PUT replicationProtectedItems) with 202."""

    def __init__(self, emu: Any, count: int, faults: str) -> None:
        super().__init__(emu.app, emu.url)
        self.emu, self.count, self.faults = emu, count, faults
        self.accepted: list[str] = []

    def send(self, request: Any, **kwargs: Any) -> Any:
        response = super().send(request, **kwargs)
        if (request.method == "PUT" and "/replicationProtectedItems/" in request.url and response.status_code == 202
                and len(self.accepted) < self.count):
            self.accepted.append(request.url.split("?")[0].rsplit("/", 1)[-1])
            if len(self.accepted) == self.count:
                self.emu.set_faults(self.faults)  # from now on every request answers 500 or 503
        return response


def test_apply_ends_at_its_deadline_naming_the_last_error_when_azure_fails(emu, tmp_path, capsys, monkeypatch):
    manifest = REPO / "examples" / "quickstart.yaml"
    doc = yaml.safe_load(manifest.read_text())
    base_path = tmp_path / "base.yaml"
    base_path.write_text(yaml.safe_dump(dict(doc, protectedVMs=[], recoveryPlans=[]), sort_keys=False))
    emu.reset(estate=str(REPO / "examples" / "estates" / "quickstart.yaml"), time_scale=600)
    # vault, networks, policy, association, network mapping
    assert asr(["apply", str(base_path), "--auto-approve", "--log-format", "text"]) == 0
    capsys.readouterr()

    # the enable jobs take simulated minutes: at time scale 1 they stay in flight
    emu.set_time_scale(1)
    transport = FaultsAfterEnables(emu, 4, "error=1,retryafter=50ms")
    monkeypatch.setattr(Clients, "default_transport", transport)
    for k, v in {"ASR_JOB_READ_ERRORS": "600", "ASR_RETRY_TIMEOUT": "1", "ASR_RETRY_TOTAL": "2",
                 "ASR_JOB_POLL_MIN": "0.1", "ASR_JOB_POLL_MAX": "0.3", "ASR_LOCK_TTL": "600"}.items():
        monkeypatch.setenv(k, v)
    deadline = 5
    t0 = time.monotonic()
    try:
        rc = asr(["apply", str(manifest), "--auto-approve", "--log-format", "json",
                  "--deadline", str(deadline), "--progress-interval", "0.5"])
    finally:
        emu.set_faults(None)
    took = time.monotonic() - t0
    out, err = capsys.readouterr()
    events = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
    sent = {e["address"] for e in events
            if e.get("event") == "sent" and e.get("operation", "").endswith("replication_protected_items.begin_create")}
    assert len(transport.accepted) == 4 and len(sent) == 4, (transport.accepted, sent)
    assert rc == 1, err
    assert deadline <= took < deadline + 30, took
    failed = {e["address"]: e for e in events if e.get("event") == "failed"}
    assert set(failed) >= sent, failed
    msg = failed["protected_vm.app01"]["message"]
    assert msg.startswith("stopped waiting for ") and " at the deadline (5s, --deadline / ASR_DEADLINE)" in msg, msg
    assert "last error: read the job list of vault contoso-asr-vault: Azure answered 50" in msg, msg
    assert "protected_vm.app01" in err, err
    assert "Azure answered 50" in err, err
    assert "Traceback" not in err
    waiting = [e["message"] for e in events if e.get("event") == "waiting"]
    assert waiting and any("still waiting for 4 job(s): enable protection of protected_vm." in w for w in waiting), \
        waiting


class _SlowPoller:
    """An LRO poller (azure-core's surface: done, wait, result) that ends after `seconds`."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def done(self) -> bool:
        return time.monotonic() >= self.end

    def wait(self, timeout: float | None = None) -> None:
        time.sleep(max(0.0, min(timeout or 0.0, self.end - time.monotonic())))

    def result(self) -> str:
        return "done"


class _Clients:
    """What run_lro resolves `resources.resource_groups.begin_delete` on: our own function's input, not the SDK's."""

    def __init__(self, seconds: float):
        poller = _SlowPoller(seconds)
        group = type("Group", (), {"begin_delete": staticmethod(lambda **kw: poller)})
        self.resources = type("Client", (), {"resource_groups": group, "_config": object()})()


def test_a_long_non_asr_operation_says_what_it_waits_for_then_ends_at_its_timeout():
    from reconciler.apply import operations as ops

    spec = ops.spec_for("resources.resource_groups.begin_delete")
    said: list[float] = []
    assert ops.run_lro(_Clients(0.5), spec, {"resource_group_name": "rg"}, timeout=5, every=0.1,
                       on_waiting=said.append) == "done"
    assert len(said) >= 3 and all(b > a for a, b in zip(said, said[1:], strict=False)), said
    import pytest

    with pytest.raises(TimeoutError, match=r"resources\.resource_groups\.begin_delete did not finish within 0.3s"):
        ops.run_lro(_Clients(60), spec, {"resource_group_name": "rg"}, timeout=0.3, every=0.1, on_waiting=said.append)

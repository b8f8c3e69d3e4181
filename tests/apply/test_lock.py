"""The vault lock against the emulator: a lease in the vault's `asr-lock` tag,
written with If-Match so two writers cannot both win."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time

import pytest

from reconciler.apply import operations as ops
from reconciler.apply.lock import TAG, LeaseInfo, LockHeldError, VaultLock

RG, VAULT = "contoso-dr-rg", "contoso-asr-vault"


@pytest.fixture
def vault(emu, clients):
    emu.reset(time_scale=600)  # the vault is created at once (no Retry-After of its creation to sleep)
    clients.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    ops.run_lro(clients, ops.spec_for("vaults.vaults.begin_create_or_update"), {
        "resource_group_name": RG, "vault_name": VAULT,
        "vault": {"location": "westeurope", "sku": {"name": "Standard"}, "tags": {"env": "prod"},
                  "properties": {"publicNetworkAccess": "Enabled"}}}, timeout=60)
    return clients


def until(cond, what: str, timeout: float = 30.0) -> None:
    """Poll `cond` every 0.1 s; fail naming `what` after `timeout` (generous: the suite runs under load)."""
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, f"gave up waiting for {what}"
        time.sleep(0.1)


def tags(clients) -> dict:
    return dict(clients.vaults.vaults.get(RG, VAULT).as_dict().get("tags") or {})


def test_second_apply_is_refused_naming_holder_and_since(vault):
    a = VaultLock(vault, RG, VAULT, holder="pipeline-a")
    a.acquire()
    try:
        lease = LeaseInfo.parse(tags(vault)[TAG])
        assert lease is not None and lease.holder == "pipeline-a" and not lease.expired()
        assert tags(vault)["env"] == "prod"  # other tags kept
        b = VaultLock(vault, RG, VAULT, holder="pipeline-b")
        with pytest.raises(LockHeldError) as err:
            b.acquire()
        msg = str(err.value)
        assert "pipeline-a" in msg and "since" in msg and lease.raw.split("|")[3] in msg
    finally:
        a.release()
    assert TAG not in tags(vault) and tags(vault)["env"] == "prod"


def test_expired_lease_is_taken_over_and_says_whose(vault):
    a = VaultLock(vault, RG, VAULT, holder="crashed-runner", ttl=1)
    a.acquire()
    a._stop.set()  # the holder stops renewing, as a crashed process would
    until(lambda: LeaseInfo.parse(tags(vault)[TAG]).expired(), "the 1 s lease to expire")
    events = []
    b = VaultLock(vault, RG, VAULT, holder="pipeline-b", emit=events.append)
    b.acquire()
    try:
        assert b.taken_over is not None and b.taken_over.holder == "crashed-runner"
        assert any(e["event"] == "lock_takeover" and "crashed-runner" in e["previous"] for e in events)
        assert LeaseInfo.parse(tags(vault)[TAG]).holder == "pipeline-b"
        a.renew()  # the old holder finds it lost the lease instead of writing over it
        assert a.lost
        assert LeaseInfo.parse(tags(vault)[TAG]).holder == "pipeline-b"
    finally:
        b.release()


def test_lease_of_a_dead_process_on_this_host_is_taken_over_at_once(vault):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout.strip())
    now = dt.datetime.now(dt.UTC)
    probe = VaultLock(vault, RG, VAULT)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    stale = f"asr:killed|{probe.host}|{pid}|{now.strftime(fmt)}|{(now + dt.timedelta(hours=1)).strftime(fmt)}"
    v = vault.vaults.vaults.get(RG, VAULT).as_dict()
    vault.vaults.vaults.begin_update(RG, VAULT, {"tags": {**v["tags"], TAG: stale}}).result()
    b = VaultLock(vault, RG, VAULT, holder="rerun")
    b.acquire()
    try:
        assert b.taken_over is not None and b.taken_over.pid == pid
    finally:
        b.release()


def test_two_writers_racing_cannot_both_win(vault):
    winners, losers = [], []
    barrier = threading.Barrier(4)

    def contender(i: int) -> None:
        lk = VaultLock(vault, RG, VAULT, holder=f"racer-{i}")
        barrier.wait()
        try:
            lk.acquire()
            winners.append(lk)
        except LockHeldError:
            losers.append(i)

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(winners) == 1 and len(losers) == 3
        assert LeaseInfo.parse(tags(vault)[TAG]).holder == winners[0].holder
    finally:
        for w in winners:
            w.release()


def test_renewal_extends_the_lease(vault):
    a = VaultLock(vault, RG, VAULT, holder="long-apply", ttl=4)
    a.acquire()
    try:
        first = LeaseInfo.parse(tags(vault)[TAG]).expires
        # renewal runs every ttl/4 = 1 s; the lease's times are whole seconds
        until(lambda: LeaseInfo.parse(tags(vault)[TAG]).expires != first, "a renewal")
        later = LeaseInfo.parse(tags(vault)[TAG]).expires
        assert later > first and not a.lost
    finally:
        a.release()


def test_vault_create_is_create_only(vault):
    with pytest.raises(Exception) as err:
        ops.run_lro(vault, ops.spec_for("vaults.vaults.begin_create_or_update"), {
            "resource_group_name": RG, "vault_name": VAULT,
            "vault": {"location": "westeurope", "sku": {"name": "Standard"}, "tags": {"env": "other"}}}, timeout=60)
    assert getattr(err.value, "status_code", None) == 412
    assert tags(vault)["env"] == "prod"

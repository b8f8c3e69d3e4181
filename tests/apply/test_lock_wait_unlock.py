"""`asr apply --lock-timeout` waits for a held vault lock (saying who holds it) and
`asr force-unlock FILE LOCK_ID` removes exactly the lock whose ID the error printed."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from reconciler.apply import operations as ops
from reconciler.apply.lock import TAG, LeaseInfo, LockHeldError, VaultLock
from reconciler.cli.main import main as asr

RG, VAULT = "contoso-dr-rg", "contoso-asr-vault"
MANIFEST = str(Path(__file__).resolve().parents[2] / "examples" / "quickstart.yaml")


@pytest.fixture
def vault(emu, clients, monkeypatch):
    monkeypatch.setenv("ASR_LOCK_POLL", "0.1")
    emu.reset(time_scale=600)  # the vault is created at once (no Retry-After of its creation to sleep)
    clients.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    ops.run_lro(clients, ops.spec_for("vaults.vaults.begin_create_or_update"), {
        "resource_group_name": RG, "vault_name": VAULT,
        "vault": {"location": "westeurope", "sku": {"name": "Standard"}, "tags": {"env": "prod"},
                  "properties": {"publicNetworkAccess": "Enabled"}}}, timeout=60)
    return clients


def lease(clients) -> LeaseInfo | None:
    return LeaseInfo.parse((clients.vaults.vaults.get(RG, VAULT).as_dict().get("tags") or {}).get(TAG))


def test_waiting_acquire_gets_the_lock_once_it_is_released_and_says_who_held_it(vault):
    a = VaultLock(vault, RG, VAULT, holder="pipeline-a")
    a.acquire()
    held_id = lease(vault).lock_id
    events: list[dict] = []
    b = VaultLock(vault, RG, VAULT, holder="pipeline-b", emit=events.append)
    seen_waiting = threading.Event()

    def release_when_b_waits() -> None:
        for _ in range(600):  # b says it waits, then a finishes: no timing guess
            if any(e["event"] == "lock_wait" for e in events):
                break
            threading.Event().wait(0.05)
        seen_waiting.set()
        a.release()

    t = threading.Thread(target=release_when_b_waits)
    t.start()
    try:
        b.acquire(wait=60)
        assert seen_waiting.is_set()
        waits = [e for e in events if e["event"] == "lock_wait"]
        assert len(waits) == 1 and "pipeline-a" in waits[0]["holder"] and waits[0]["lock_id"] == held_id
        assert lease(vault).holder == "pipeline-b"
    finally:
        t.join()
        b.release()


def test_waiting_gives_up_at_the_timeout_naming_the_holder(vault):
    a = VaultLock(vault, RG, VAULT, holder="pipeline-a")
    a.acquire()
    try:
        with pytest.raises(LockHeldError) as err:
            VaultLock(vault, RG, VAULT, holder="pipeline-b").acquire(wait=0.3)
        assert "pipeline-a" in err.value.message and "waited 0.3s" in err.value.message
        assert lease(vault).lock_id in err.value.message
    finally:
        a.release()


def test_apply_lock_timeout_and_force_unlock_through_the_cli(vault, capsys):
    a = VaultLock(vault, RG, VAULT, holder="killed-pipeline")
    a.acquire()
    a._stop.set()  # the holder is gone: nobody renews or releases
    lock_id = lease(vault).lock_id

    assert asr(["apply", MANIFEST, "--yes", "--lock-timeout", "1s", "--log-format", "text"]) == 1
    cap = capsys.readouterr()
    assert f"lock ID {lock_id}" in cap.err and "killed-pipeline" in cap.err and "waited 1s" in cap.err
    assert f"asr force-unlock MANIFEST {lock_id}" in cap.err
    assert "waiting up to 1s (--lock-timeout)" in cap.out and "killed-pipeline" in cap.out
    assert asr(["apply", MANIFEST, "--lock-timeout", "soon"]) == 1
    assert "--lock-timeout: not a duration" in capsys.readouterr().err

    # a wrong ID is refused and the lock stays
    assert asr(["force-unlock", MANIFEST, "0123456789ab", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "does not match" in err and lock_id in err and "killed-pipeline" in err
    assert lease(vault).lock_id == lock_id

    assert asr(["force-unlock", MANIFEST, lock_id, "--auto-approve"]) == 0
    out = capsys.readouterr().out
    assert f"Removed the lock {lock_id} of vault {VAULT} held by killed-pipeline" in out
    tags = vault.vaults.vaults.get(RG, VAULT).as_dict().get("tags") or {}
    assert TAG not in tags and tags.get("env") == "prod"
    assert asr(["force-unlock", MANIFEST, lock_id, "--yes"]) == 1
    assert "is not locked" in capsys.readouterr().err

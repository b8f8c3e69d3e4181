"""The vault's region (`vault.location`), which is also the region of every resource group asr creates,
round-trips manifest -> apply -> live -> export -> an empty plan, and moving it is a replace of the vault
and of the resource groups (reconciler/kinds/vault.py, resource_group.py). Its own test: the sampled
manifest of test_round_trip.py cannot take another region without moving everything else too."""

from __future__ import annotations

import yaml

from reconciler.cli.main import main as asr
from tests.kinds.test_round_trip import SUB, _plan, _work

REGION = "northeurope"  # the quickstart's is westeurope


def test_region_round_trips_and_a_move_is_a_replace(emulator, monkeypatch, tmp_path, capsys):
    from tests.plan.livebuilder import example_path

    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    emulator.reset(time_scale=600.0)
    doc = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    doc["vault"]["location"] = REGION
    for key in ("protectedVMs", "recoveryPlans"):  # not about regions: left out to keep the test short
        doc.pop(key)
    path = tmp_path / "region.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    assert asr(["apply", str(path), "--auto-approve"]) == 0, capsys.readouterr()
    rc, plan = _plan(path, capsys)
    assert rc == 0, _work(plan)

    out = tmp_path / "exported.yaml"
    capsys.readouterr()
    assert asr(["export", "--subscription", SUB, "--resource-group", "contoso-dr-rg", "--vault", "contoso-asr-vault",
                "--out", str(out)]) == 0, capsys.readouterr()
    exported = yaml.safe_load(out.read_text())
    assert exported["vault"]["location"] == REGION
    rc, plan = _plan(out, capsys)  # the resource groups too are where the exported vault.location says
    assert rc == 0, _work(plan)
    groups = {c["address"]: c for c in plan["changes"] if c["kind"] == "resource_group"}
    assert set(groups) == {"resource_group.contoso-dr-rg", "resource_group.contoso-failover-rg"}

    exported["vault"]["location"] = "westeurope"
    out.write_text(yaml.safe_dump(exported, sort_keys=False), encoding="utf-8")
    rc, plan = _plan(out, capsys)
    assert rc == 2
    changes = {c["address"]: c for c in plan["changes"]}
    for addr in ("vault.contoso-asr-vault", *groups):
        assert changes[addr]["action"] == "replace", (addr, changes[addr]["action"])
        assert changes[addr]["replace_fields"] == ["location"], (addr, changes[addr]["replace_fields"])
        assert changes[addr]["after"]["location"] == "westeurope"

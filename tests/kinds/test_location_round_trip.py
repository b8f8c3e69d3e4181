"""The vault's region (`vault.location`), which is also the region of every resource group, storage account and
virtual network asr creates, round-trips manifest -> apply -> live -> export -> an empty plan, and moving it is
a replace of each of them (reconciler/kinds/vault.py, resource_group.py, storage_account.py,
virtual_network.py). Its own test: the sampled manifest of test_round_trip.py cannot take another region
without moving everything else too."""

from __future__ import annotations

import yaml

from tests.kinds import steps

SA, NETS = "storage_account.contosoasrlogs01", ("virtual_network.corp-vnet", "virtual_network.corp-test-vnet")
GROUPS = ("resource_group.contoso-dr-rg", "resource_group.contoso-failover-rg")


def test_region_round_trips_and_a_move_is_a_replace(emulator, monkeypatch, tmp_path, capsys):
    from tests.plan.livebuilder import example_path

    steps.fast(emulator, monkeypatch)
    doc = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    doc["vault"]["location"] = "North Europe"  # as a person writes it; ARM's name is northeurope
    path = tmp_path / "region.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")

    plan = steps.apply_converges(path, capsys)
    by_address = {c["address"]: c for c in plan["changes"]}
    for addr in (SA, *NETS, *GROUPS, "vault.contoso-asr-vault"):
        assert by_address[addr]["after"]["location"] == "northeurope", addr

    out, exported = steps.export(tmp_path, capsys)  # the resource groups too are where vault.location says
    assert exported["vault"]["location"] == "northeurope"

    # the same manifest in the vault's old region: the vault, every group, account and network is a replace
    exported["vault"]["location"] = "westeurope"
    out.write_text(yaml.safe_dump(exported, sort_keys=False), encoding="utf-8")
    rc, plan = steps.plan(out, capsys)
    assert rc == 2
    work = steps.work(plan)
    for addr in ("vault.contoso-asr-vault", *GROUPS, SA, *NETS):
        assert work[addr]["action"] == "replace", (addr, work[addr]["action"])
        assert work[addr]["replace_fields"] == ["location"], (addr, work[addr]["replace_fields"])
        assert work[addr]["before"]["location"] == "northeurope" and work[addr]["after"]["location"] == "westeurope"
    ops = [r["operation"] for r in work[SA]["requests"]]
    assert ops == ["storage.storage_accounts.delete", "storage.storage_accounts.begin_create"]
    assert work[SA]["requests"][1]["args"]["parameters"]["location"] == "westeurope"
    assert work[NETS[0]]["requests"][1]["args"]["parameters"]["location"] == "westeurope"

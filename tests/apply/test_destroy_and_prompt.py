"""Through the CLI: deletes need --allow-destroy (otherwise nothing changes at all);
on a terminal the plan is confirmed with 'yes'; a saved plan whose manifest changed
is refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
ESTATE = REPO / "examples" / "estates" / "quickstart.yaml"
RG, VAULT = "contoso-dr-rg", "contoso-asr-vault"


def _items(clients) -> list[str]:
    return sorted(i.as_dict()["properties"]["friendlyName"]
                  for i in clients.site_recovery().replication_protected_items.list(RG, VAULT))


def test_prune_needs_allow_destroy(emu, clients, tmp_path, capsys):
    emu.reset(estate=str(ESTATE), time_scale=600)
    assert asr(["apply", str(QUICKSTART), "--auto-approve", "--log-format", "text"]) == 0
    doc = yaml.safe_load(QUICKSTART.read_text())
    doc["protectedVMs"] = [v for v in doc["protectedVMs"] if v["name"] != "web01"]
    for rp in doc["recoveryPlans"]:
        for g in rp["groups"]:
            g["vms"] = [v for v in g["vms"] if v != "web01"]
    doc["prune"] = {"protectedVMs": True}
    path = tmp_path / "pruned.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    capsys.readouterr()
    emu.reset_stats()

    rc = asr(["apply", str(path), "--auto-approve", "--log-format", "text"])
    captured = capsys.readouterr()
    assert rc == 1 and "--allow-destroy" in captured.err and "protected_vm.web01" in captured.err
    stats = emu.stats()
    changing = {r: n for r, n in (stats.get("by_route") or {}).items()
                if not r.startswith("GET ") and not r.lower().endswith("/vaults/{vaultname}")}
    assert changing == {}, "something changed although the apply was refused"  # only the lease was written
    assert _items(clients) == ["app01", "app02", "sql01", "web01"]

    rc = asr(["apply", str(path), "--auto-approve", "--allow-destroy", "--log-format", "text"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert _items(clients) == ["app01", "app02", "sql01"]
    assert asr(["plan", str(path), "--detailed-exitcode"]) == 0


@pytest.mark.parametrize("answers,rc", [(["no"], 1), (["yes", "yes"], 0), (["yes", "no"], 1)])
def test_terminal_confirmation(emu, clients, answers, rc, monkeypatch):
    """On a fresh vault the VMM server registers once the vault exists: what that makes
    possible (pairing, mappings, the VMs, the recovery plan) is shown as a second plan
    and asked for again; declined, it is not run. `asr apply` in process on a pseudo-terminal
    (tests/apply/pty_session.py): stdin and stdout are terminals, the answers are typed."""
    from tests.apply.pty_session import run_in_pty

    emu.reset(estate=str(ESTATE), time_scale=600)
    monkeypatch.setenv("NO_COLOR", "1")
    code, shown = run_in_pty(["apply", str(QUICKSTART), "--log-format", "text"], "".join(a + "\n" for a in answers))
    assert "Do you want to perform these actions?" in shown
    assert code == rc, shown[-2000:]
    names = [i.as_dict()["name"] for i in clients.resources.resource_groups.list()]
    if answers == ["no"]:
        assert "apply cancelled; nothing was changed" in shown
        assert RG not in names
        return
    assert "7 more action(s) became possible during apply:" in shown
    followup = shown.split("7 more action(s) became possible during apply:", 1)[1]
    assert "+ protected_vm.sql01" in followup and "+ recovery_plan.tier1" in followup
    assert "Do you want to perform these actions too?" in followup
    if answers == ["yes", "yes"]:
        assert len(_items(clients)) == 4
        # what ran is what was shown: the first plan's 7 runnable creates (its other 7 were
        # shown as blocked) and the 7 approved afterwards
        assert "Plan: 14 to add, 0 to change, 0 to replace, 0 to destroy. (1 manual step, 7 blocked)" in shown
        assert "Plan: 7 to add, 0 to change, 0 to replace, 0 to destroy." in followup
        assert "Apply complete: 14 succeeded, 0 failed, 0 skipped" in shown
    else:
        assert "were not approved and not run" in shown
        assert "not approved" in shown.split("Apply incomplete", 1)[1]
        assert RG in names and _items(clients) == []  # the first plan ran, the second did not


def test_saved_plan_refused_when_the_manifest_changed(emu, tmp_path, capsys):
    emu.reset(estate=str(ESTATE), time_scale=600)
    manifest = tmp_path / "site.yaml"
    shutil.copy(QUICKSTART, manifest)
    plan = tmp_path / "plan.json"
    assert asr(["plan", str(manifest), "--out", str(plan)]) == 0
    manifest.write_text(manifest.read_text().replace("owner: it-ops", "owner: dr-team"))
    capsys.readouterr()
    emu.reset_stats()
    rc = asr(["apply", str(plan), "--auto-approve"])
    err = capsys.readouterr().err
    assert rc == 1 and "manifest" in err and "changed" in err
    assert emu.stats()["writes"] == 0

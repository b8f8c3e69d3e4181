"""`--target ADDRESS` / `--vm NAME`: plan and apply only those objects and what they
depend on; the plan says it is partial (text, JSON, Markdown); a saved partial plan
applies only its targets; an unknown address is named with close matches."""

from __future__ import annotations

import json
from pathlib import Path

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
MANIFEST = str(REPO / "examples" / "hyperv-site.yaml")
ESTATE = str(REPO / "examples" / "estates" / "hyperv-site.yaml")
RG, VAULT = "smallbiz-dr-rg", "smallbiz-asr-vault"


def protected(clients) -> set[str]:
    sr = clients.site_recovery()
    return {(i.as_dict().get("properties") or {}).get("friendlyName") for i in sr.replication_protected_items.list(RG, VAULT)}


def test_targeted_plan_is_partial_and_holds_the_target_and_its_dependencies(emu, capsys):
    emu.reset(estate=ESTATE, time_scale=600)
    assert asr(["plan", MANIFEST, "--format", "json"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert asr(["plan", MANIFEST, "--vm", "dc02", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["partial"] is True and doc["targets"] == ["protected_vm.dc02"]
    addrs = {c["address"] for c in doc["changes"]}
    by = {c["address"]: c for c in full["changes"]}
    need, stack = set(), ["protected_vm.dc02"]
    while stack:
        a = stack.pop()
        if a not in need:
            need.add(a)
            stack.extend(by[a]["depends_on"])
    assert addrs == need
    assert "protected_vm.file01" not in addrs and not any(a.startswith("recovery_plan.") for a in addrs)
    assert full.get("partial") is False

    assert asr(["plan", MANIFEST, "--target", "protected_vm.dc02", "--target", "policy.every-15-min", "--no-color"]) == 0
    out = capsys.readouterr().out
    assert "Partial plan (--target): only protected_vm.dc02, policy.every-15-min and what they depend on" in out
    assert asr(["plan", MANIFEST, "--vm", "dc02", "--format", "markdown"]) == 0
    assert "**Partial plan** (`--target`): only `protected_vm.dc02`" in capsys.readouterr().out


def test_unknown_target_is_named_with_close_matches(emu, capsys):
    emu.reset(estate=ESTATE, time_scale=600)
    assert asr(["plan", MANIFEST, "--vm", "dc2"]) == 1
    err = capsys.readouterr().err
    assert "--target protected_vm.dc2: no such object" in err and "protected_vm.dc02" in err
    assert asr(["plan", MANIFEST, "--target", "every-15-min"]) == 1
    assert "policy.every-15-min" in capsys.readouterr().err


def test_apply_target_and_saved_partial_plan_change_only_their_targets(emu, clients, capsys, tmp_path):
    emu.reset(estate=ESTATE, time_scale=600)
    assert asr(["apply", MANIFEST, "--vm", "dc02", "--yes", "--log-format", "text"]) == 0
    assert protected(clients) == {"dc02"}
    assert not list(clients.site_recovery().replication_recovery_plans.list(RG, VAULT))

    plan = str(tmp_path / "file01.json")
    assert asr(["plan", MANIFEST, "--vm", "file01", "--out", plan]) == 0
    assert json.loads(Path(plan).read_text())["partial"] is True
    capsys.readouterr()
    assert asr(["apply", plan, "--log-format", "text"]) == 0
    out = capsys.readouterr().out
    assert "Partial plan" in out
    assert protected(clients) == {"dc02", "file01"}
    assert asr(["apply", plan, "--vm", "dc02"]) == 1  # a saved plan's targets are fixed
    assert "saved plan applies exactly what it holds" in capsys.readouterr().err

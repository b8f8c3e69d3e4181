"""Apply does only what was shown and justified (issue 10).

A saved plan is checked, not trusted: its digest must match its content, and the
plan made again from the manifest and the live state must have exactly its actions
and requests; otherwise it is refused before anything is sent (the emulator's
stats count no write and no delete). The destroy gate looks at what the requests
do, not at the action label. Actions that become possible during an apply are
shown as a new plan and need approval; a saved plan never runs them.

The attacker here can write the plan file (a pipeline artifact) and knows the
digest recipe (sha256 over canonical JSON), so the digest is recomputed where the
point is the re-derivation.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
ESTATE = REPO / "examples" / "estates" / "quickstart.yaml"
RG, VAULT, TARGET_RG = "contoso-dr-rg", "contoso-asr-vault", "contoso-failover-rg"
SCALE = 600


def _applied(emu, tmp_path: Path, capsys) -> Path:
    """The quickstart, applied and converged; returns a copy of its manifest."""
    emu.reset(estate=str(ESTATE), time_scale=SCALE)
    m = tmp_path / "site-recovery.yaml"
    shutil.copy(QUICKSTART, m)
    assert asr(["apply", str(m), "--auto-approve", "--log-format", "text"]) == 0, capsys.readouterr().out
    capsys.readouterr()
    return m


def _edit_manifest(m: Path, edit) -> None:
    doc = yaml.safe_load(m.read_text())
    edit(doc)
    m.write_text(yaml.safe_dump(doc, sort_keys=False))


def _vm(doc: dict, name: str) -> dict:
    return next(v for v in doc["protectedVMs"] if v["name"] == name)


def _redigest(data: dict) -> None:
    """What anyone who can write the file can do: sha256 over canonical JSON."""
    body = {k: v for k, v in data.items() if k != "digest"}
    canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    data["digest"] = "sha256:" + hashlib.sha256(canon.encode("utf-8")).hexdigest()


def _tamper(plan_file: Path, edit, *, redigest: bool = True) -> None:
    data = json.loads(plan_file.read_text())
    edit(data)
    if redigest:
        _redigest(data)
    plan_file.write_text(json.dumps(data, indent=1))


def _change(data: dict, address: str) -> dict:
    return next(c for c in data["changes"] if c["address"] == address)


def _refused(emu, capsys, plan_file: Path, *flags: str) -> str:
    emu.reset_stats()
    rc = asr(["apply", str(plan_file), "--auto-approve", "--allow-destroy", *flags])
    err = capsys.readouterr().err
    assert rc == 1, err
    assert "Traceback" not in err
    stats = emu.stats()
    assert stats["writes"] == 0 and stats["deletes"] == 0, stats.get("by_route")
    return err


def _resource_groups(clients) -> list[str]:
    return sorted(g.as_dict()["name"] for g in clients.resources.resource_groups.list())


# --- saved plans are checked, not trusted ----------------------------------------------


def test_added_delete_request_on_an_unchanged_entry_is_refused(emu, clients, tmp_path, capsys):
    """The reviewer's scenario: an unchanged entry turned into an `update` whose request
    deletes the target resource group; digest recomputed; even with --allow-destroy."""
    m = _applied(emu, tmp_path, capsys)
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(m), "--out", str(plan_file)]) == 0

    def evil(data: dict) -> None:
        c = _change(data, "protected_vm.app02")
        assert c["action"] == "noop" and c["requests"] == []
        c["action"] = "update"
        c["requests"] = [{"operation": "resources.resource_groups.begin_delete",
                          "args": {"resource_group_name": TARGET_RG}}]

    _tamper(plan_file, evil)
    err = _refused(emu, capsys, plan_file)
    assert "the saved plan is not what the manifest and live state give; nothing was changed" in err
    assert ("protected_vm.app02: request 1 (resources.resource_groups.begin_delete) is not what the manifest "
            "and live state give") in err
    assert "protected_vm.app02: action update is not what the manifest and live state give (noop)" in err
    assert TARGET_RG in _resource_groups(clients)


def test_a_changed_argument_is_refused(emu, clients, tmp_path, capsys):
    m = _applied(emu, tmp_path, capsys)
    _edit_manifest(m, lambda d: _vm(d, "app01")["target"].update(size="Standard_D4s_v5"))
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(m), "--out", str(plan_file), "--detailed-exitcode"]) == 2

    def bigger(data: dict) -> None:
        c = _change(data, "protected_vm.app01")
        assert c["action"] == "update"
        body = c["requests"][0]["args"]["update_protection_input"]["properties"]
        assert body["recoveryAzureVMSize"] == "Standard_D4s_v5"
        body["recoveryAzureVMSize"] = "Standard_M416ms_v2"

    _tamper(plan_file, bigger)
    err = _refused(emu, capsys, plan_file)
    assert ("protected_vm.app01: request 1 (site_recovery.replication_protected_items.begin_update) is not what the "
            "manifest and live state give (argument update_protection_input.properties.recoveryAzureVMSize "
            "differs)") in err
    items = clients.site_recovery().replication_protected_items.list(RG, VAULT)
    sizes = {i.as_dict()["properties"]["friendlyName"]:
             i.as_dict()["properties"]["providerSpecificDetails"].get("recoveryAzureVMSize") for i in items}
    assert sizes["app01"] == "Standard_D2s_v5"


@pytest.mark.parametrize("what", ["change", "request"])
def test_an_added_change_or_request_is_refused(emu, clients, tmp_path, capsys, what):
    m = _applied(emu, tmp_path, capsys)
    _edit_manifest(m, lambda d: _vm(d, "app01")["target"].update(size="Standard_D4s_v5"))
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(m), "--out", str(plan_file), "--detailed-exitcode"]) == 2
    extra = {"operation": "resources.resource_groups.create_or_update",
             "args": {"resource_group_name": "attacker-rg", "parameters": {"location": "westeurope"}}}

    def add(data: dict) -> None:
        if what == "change":
            data["changes"].append({
                "address": "resource_group.attacker-rg", "kind": "resource_group", "action": "create",
                "reason": "missing", "before": None, "after": {"location": "westeurope"}, "replace_fields": [],
                "depends_on": [], "blocked_by": [], "requests": [extra], "arm_id": None, "note": None, "wave": 0})
        else:
            _change(data, "protected_vm.app01")["requests"].append(extra)

    _tamper(plan_file, add)
    err = _refused(emu, capsys, plan_file)
    if what == "change":
        assert "resource_group.attacker-rg: is not in the plan the manifest and live state give (the saved plan has " \
               "it as create)" in err
    else:
        assert ("protected_vm.app01: request 2 (resources.resource_groups.create_or_update) is not what the manifest "
                "and live state give (they give 1 request(s))") in err
    assert "attacker-rg" not in _resource_groups(clients)


def test_a_removed_change_is_refused(emu, tmp_path, capsys):
    m = _applied(emu, tmp_path, capsys)
    _edit_manifest(m, lambda d: _vm(d, "app01")["target"].update(size="Standard_D4s_v5"))
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(m), "--out", str(plan_file), "--detailed-exitcode"]) == 2
    _tamper(plan_file, lambda d: d["changes"].remove(_change(d, "recovery_plan.tier1")))
    err = _refused(emu, capsys, plan_file)
    assert "recovery_plan.tier1: is missing from the saved plan (the manifest and live state give noop)" in err


def test_the_digest_detects_an_edit_and_a_missing_digest(emu, tmp_path, capsys):
    m = _applied(emu, tmp_path, capsys)
    _edit_manifest(m, lambda d: _vm(d, "app01")["target"].update(size="Standard_D4s_v5"))
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(m), "--out", str(plan_file), "--detailed-exitcode"]) == 2
    original = plan_file.read_text()
    assert re.search(r'"digest": "sha256:[0-9a-f]{64}"', original)

    _tamper(plan_file, lambda d: _change(d, "protected_vm.app01").update(note="harmless, promise"), redigest=False)
    err = _refused(emu, capsys, plan_file)
    assert f"{plan_file}: the plan file was modified after it was written (its digest does not match its content); " \
           "nothing was changed" in err

    plan_file.write_text(original)
    _tamper(plan_file, lambda d: d.pop("digest"), redigest=False)
    err = _refused(emu, capsys, plan_file)
    assert "the plan file has no digest" in err and "asr plan MANIFEST --out PLAN" in err

    plan_file.write_text(original)  # untouched: applies
    capsys.readouterr()
    assert asr(["apply", str(plan_file), "--log-format", "text"]) == 0, capsys.readouterr()


def test_a_cosmetic_edit_with_a_recomputed_digest_is_accepted_and_runs_the_derived_plan(emu, clients, tmp_path,
                                                                                       capsys):
    """The digest is no signature: a note edited and re-digested is not refused, since
    no action or request differs; what runs is the plan made again (docs/security.md)."""
    m = _applied(emu, tmp_path, capsys)
    _edit_manifest(m, lambda d: _vm(d, "app01")["target"].update(size="Standard_D4s_v5"))
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(m), "--out", str(plan_file), "--detailed-exitcode"]) == 2
    _tamper(plan_file, lambda d: _change(d, "protected_vm.app01").update(note="reviewed by the CAB"))
    capsys.readouterr()
    assert asr(["apply", str(plan_file), "--log-format", "text"]) == 0
    out = capsys.readouterr().out
    assert "planning again from them gives exactly its actions" in out and "reviewed by the CAB" not in out


def test_manifest_pins_the_manifest_a_saved_plan_names(emu, clients, tmp_path, capsys):
    """The plan file names its manifest: a plan made from another manifest of the
    checkout passes the fingerprint and re-derivation checks for *that* manifest;
    `--manifest` (as the example pipelines use it) pins the reviewed one."""
    m = _applied(emu, tmp_path, capsys)
    other = tmp_path / "other.yaml"
    shutil.copy(m, other)
    _edit_manifest(other, lambda d: _vm(d, "app01")["target"].update(size="Standard_D4s_v5"))
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(other), "--out", str(plan_file), "--detailed-exitcode"]) == 2
    err = _refused(emu, capsys, plan_file, "--manifest", str(m))
    assert f"{plan_file}: the plan was made from the manifest {other}, not {m}; nothing was changed" in err
    capsys.readouterr()
    assert asr(["plan", str(m), "--out", str(plan_file)]) == 0
    assert asr(["apply", str(plan_file), "--manifest", str(m)]) == 0
    assert asr(["apply", str(m), "--manifest", str(m), "--auto-approve"]) == 1
    assert "--manifest goes with a saved PLAN" in capsys.readouterr().err


# --- the destroy gate looks at the operations ------------------------------------------


def test_an_update_whose_request_deletes_needs_allow_destroy(emu, clients):
    from reconciler.apply.runner import Applier
    from reconciler.errors import UsageError
    from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request

    clients.resources.resource_groups.create_or_update("precious-rg", {"location": "westeurope"})
    plan = Plan(manifest_path="x", subscription=clients.subscription_id, vault="v", resource_group="rg", changes=[
        Change("resource_group.precious-rg", Kind.RESOURCE_GROUP, Action.UPDATE, Reason.DRIFTED, requests=[
            Request("resources.resource_groups.begin_delete", {"resource_group_name": "precious-rg"})]),
    ])
    emu.reset_stats()
    with pytest.raises(UsageError) as exc:
        Applier(clients).apply(plan)
    assert ("the plan deletes or replaces 1 object(s): resource_group.precious-rg (update, but sends "
            "resources.resource_groups.begin_delete); nothing was changed") in exc.value.message
    assert exc.value.hint and "--allow-destroy" in exc.value.hint
    stats = emu.stats()
    assert stats["writes"] == 0 and stats["deletes"] == 0
    assert "precious-rg" in _resource_groups(clients)


def test_every_operation_that_deletes_removes_purges_or_disables_is_destructive():
    from reconciler.apply.operations import OPERATIONS

    for key, spec in OPERATIONS.items():
        method = key.rsplit(".", 1)[1]
        if re.search(r"delete|remove|purge|disable|unpair|unmap|cancel|clean", method):
            assert spec.destructive, f"{key} deletes something but is not marked destructive"
        else:
            assert not spec.destructive, f"{key} is marked destructive; a create or update must not need it"


# --- apply runs only what was shown ------------------------------------------------------


def _replace_app02(m: Path) -> None:
    # the disk type has no update field: protection is disabled and enabled again, and
    # the recovery plan tier1 must then be updated to the new protected item
    _edit_manifest(m, lambda d: _vm(d, "app02")["target"].update(diskType="Premium_LRS"))


def _plan_totals(text: str) -> list[int]:
    out = []
    for line in re.findall(r"^Plan: .*$", text, re.M):
        n = dict((k, int(v)) for v, k in re.findall(r"(\d+) to (add|change|replace|destroy)", line))
        out.append(sum(n.values()))
    return out


def test_actions_that_become_possible_are_shown_then_run_with_auto_approve(emu, clients, tmp_path, capsys):
    m = _applied(emu, tmp_path, capsys)
    _replace_app02(m)
    rc = asr(["apply", str(m), "--auto-approve", "--allow-destroy", "--log-format", "text"])
    out = capsys.readouterr().out
    assert rc == 0, out
    first, rest = out.split("1 more action(s) became possible during apply:", 1)
    assert "-/+ protected_vm.app02" in first
    assert "~ recovery_plan.tier1" in rest and "Approved by --auto-approve." in rest
    assert rest.index("~ recovery_plan.tier1") < rest.index("recovery_plan.tier1: update started")
    shown = _plan_totals(out)
    assert shown == [1, 1]
    assert "Apply complete: 2 succeeded, 0 failed, 0 skipped" in out
    assert "ok       protected_vm.app02 (replace)" in out and "ok       recovery_plan.tier1 (update)" in out
    assert asr(["plan", str(m), "--detailed-exitcode"]) == 0


def test_actions_that_become_possible_are_not_run_without_approval(emu, clients, tmp_path, capsys):
    """No terminal and no --auto-approve: the new plan is shown, not run; exit 1 naming
    it. (The CLI's own approval with the Applier: a first plan needs approval on a
    terminal too, so an in-process run without one cannot get past it.)"""
    import sys

    from reconciler.apply.lock import strip_lock_tag
    from reconciler.apply.runner import Applier
    from reconciler.apply.summary import exit_status
    from reconciler.cli import cmd_apply
    from reconciler.live import read_live_state
    from reconciler.manifest import load_manifest
    from reconciler.plan import make_plan

    m = _applied(emu, tmp_path, capsys)
    _replace_app02(m)
    manifest = load_manifest(str(m))
    plan = make_plan(manifest, strip_lock_tag(read_live_state(clients, manifest)), str(m))
    assert not sys.stdin.isatty()
    info = io.StringIO()
    args = argparse.Namespace(auto_approve=False, allow_destroy=True)
    approve = cmd_apply._followup_approval(args, info, {}, None)
    emu.reset_stats()
    result = Applier(clients, allow_destroy=True, approve=approve,
                     replan=lambda: make_plan(manifest, strip_lock_tag(read_live_state(clients, manifest)),
                                              str(m))).apply(plan)
    err = capsys.readouterr().err
    st = {o.address: o for o in result.outcomes}
    assert st["protected_vm.app02"].status == "succeeded"
    assert st["recovery_plan.tier1"].status == "skipped"
    assert "not approved (no terminal to ask, no --auto-approve)" in st["recovery_plan.tier1"].reason
    assert exit_status(result) == 1
    assert "1 more action(s) became possible during apply:" in info.getvalue()
    assert "~ recovery_plan.tier1" in info.getvalue()
    assert ("error: 1 more action(s) became possible during apply and were not run: recovery_plan.tier1 (update); "
            "no terminal to ask for approval") in err
    routes = emu.stats().get("by_route") or {}
    assert not [r for r in routes if "replicationRecoveryPlans" in r and not r.startswith("GET ")], routes


def test_a_saved_plan_runs_no_follow_up_and_says_what_remains(emu, clients, tmp_path, capsys):
    m = _applied(emu, tmp_path, capsys)
    _replace_app02(m)
    plan_file = tmp_path / "plan.json"
    assert asr(["plan", str(m), "--out", str(plan_file), "--detailed-exitcode"]) == 2
    capsys.readouterr()
    emu.reset_stats()
    rc = asr(["apply", str(plan_file), "--auto-approve", "--allow-destroy", "--log-format", "text"])
    cap = capsys.readouterr()
    assert rc == 1, cap.out
    assert "1 more action(s) became possible during apply:" in cap.out and "~ recovery_plan.tier1" in cap.out
    assert ("error: 1 more action(s) became possible during apply and were not run: recovery_plan.tier1 (update)"
            in cap.err)
    assert "re-plan to continue" in cap.err
    assert "ok       protected_vm.app02 (replace)" in cap.out
    assert "recovery_plan.tier1: update started" not in cap.out
    routes = emu.stats().get("by_route") or {}
    assert not [r for r in routes if "replicationRecoveryPlans" in r and not r.startswith("GET ")], routes
    # re-plan to continue: the next reviewed plan has the update, and converges
    assert asr(["plan", str(m), "--out", str(plan_file), "--detailed-exitcode"]) == 2
    assert asr(["apply", str(plan_file), "--log-format", "text"]) == 0
    assert asr(["plan", str(m), "--detailed-exitcode"]) == 0

"""`asr apply` end to end against the emulator, through the real CLI entry point:
every example converges in one run (also under throttling and server errors), a
plan afterwards is empty, failing jobs are reported and a re-run fixes them, saved
plans are applied exactly or refused when stale, destroy and prompts are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reconciler.cli.main import main as asr

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ["quickstart", "hyperv-site", "multi-cloud"]
SCALE = 600.0


def example(name: str) -> tuple[str, str]:
    return str(REPO / "examples" / f"{name}.yaml"), str(REPO / "examples" / "estates" / f"{name}.yaml")


def declared_vms(manifest_path: str) -> list[str]:
    import yaml

    return [v["name"] for v in yaml.safe_load(Path(manifest_path).read_text())["protectedVMs"]]


def protected_items(clients, rg: str, vault: str) -> list[dict]:
    sr = clients.site_recovery()
    return [i.as_dict() for i in sr.replication_protected_items.list(rg, vault)]


def vault_of(manifest_path: str) -> tuple[str, str]:
    import yaml

    v = yaml.safe_load(Path(manifest_path).read_text())["vault"]
    return v["resourceGroup"], v["name"]


def assert_converged(manifest_path: str, capsys) -> None:
    capsys.readouterr()
    rc = asr(["plan", manifest_path, "--detailed-exitcode"])
    out = capsys.readouterr().out
    assert rc == 0, f"plan after apply is not empty:\n{out}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_each_example_converges_in_one_run_under_faults(emu, clients, capsys, name):
    """On a fresh emulator answering 20% of requests with 429 and 5% with 500/503,
    one apply converges; a plan afterwards is empty; nothing was deleted. Their
    Retry-After is test-sized (50 ms, the emulator's `retryafter` knob): the SDK's
    retry policy honours it as it honours ARM's whole seconds."""
    manifest, estate = example(name)
    emu.reset(estate=estate, time_scale=SCALE, faults="throttle=0.2,error=0.05,seed=11,retryafter=50ms")
    rc = asr(["apply", manifest, "--auto-approve", "--log-format", "text"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "Apply complete" in out and "0 failed" in out
    req = [line for line in out.splitlines() if line.startswith("Requests:")]
    assert req and "answered 429" in req[0] and "at most 10 retries per request" in req[0]
    stats = emu.stats()
    assert stats["throttled"] > 0 and stats.get("errors_injected", 0) > 0
    assert stats.get("deletes", 0) == 0
    rg, vault = vault_of(manifest)
    names = [i["properties"]["friendlyName"] for i in protected_items(clients, rg, vault)]
    assert sorted(names) == sorted(declared_vms(manifest))
    assert_converged(manifest, capsys)


def _summary(capsys) -> dict:
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.startswith("{")]
    return [x for x in lines if x.get("event") == "summary"][-1]


def test_failing_jobs_are_reported_and_a_rerun_fixes_them(emu, clients, capsys):
    manifest, estate = example("multi-cloud")
    emu.reset(estate=estate, time_scale=SCALE, faults="jobfail=0.25,seed=5")
    rc = asr(["apply", manifest, "--auto-approve", "--log-format", "json"])
    summary = _summary(capsys)
    failed = [o for o in summary["outcomes"] if o["status"] == "failed"]
    assert rc == 1 and failed
    for o in failed:  # Azure's error code and message, and the job that failed
        assert o["error"]["code"] and o["error"]["message"]
        assert o["jobs"] and o["jobs"][-1]["state"].lower() == "failed"
    for o in summary["outcomes"]:
        if o["status"] == "skipped":
            assert o["reason"].startswith("depends on") or "manual" in o["reason"]
    # jobs keep failing at the same rate; re-runs re-plan and retry only what is not done
    reruns = 0
    while rc != 0 and reruns < 10:
        reruns += 1
        rc = asr(["apply", manifest, "--auto-approve", "--log-format", "json"])
        again = _summary(capsys)
        assert not again["interrupted"]
    assert rc == 0, f"not converged after {reruns} re-runs"
    rg, vault = vault_of(manifest)
    names = [i["properties"]["friendlyName"] for i in protected_items(clients, rg, vault)]
    assert sorted(names) == sorted(declared_vms(manifest)) and len(set(names)) == len(names)
    emu.reset(estate=estate, time_scale=SCALE)  # the plan below must not see injected faults


def test_saved_plan_applies_exactly_and_refuses_when_stale(emu, clients, capsys, tmp_path):
    import yaml

    manifest, estate = example("hyperv-site")
    doc = yaml.safe_load(Path(manifest).read_text())
    doc["vault"]["tags"] = {"env": "prod"}  # a declared tag: undeclared ones are unmanaged, never drift
    manifest = str(tmp_path / "hyperv-site.yaml")
    Path(manifest).write_text(yaml.safe_dump(doc, sort_keys=False))
    emu.reset(estate=estate, time_scale=SCALE)
    assert asr(["apply", manifest, "--auto-approve", "--log-format", "text"]) == 0
    rg, vault = vault_of(manifest)

    def set_tags(tags: dict) -> None:
        clients.vaults.vaults.begin_update(rg, vault, {"tags": tags}).result()

    set_tags({"env": "drifted"})  # somebody edits the vault in the portal
    plan_file = str(tmp_path / "plan.json")
    assert asr(["plan", manifest, "--out", plan_file, "--detailed-exitcode"]) == 2
    capsys.readouterr()
    emu.reset_stats()
    rc = asr(["apply", plan_file, "--log-format", "text"])  # reviewed already: no prompt
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "Applying the saved plan" in out
    assert_converged(manifest, capsys)

    set_tags({"env": "drifted"})
    assert asr(["plan", manifest, "--out", plan_file, "--detailed-exitcode"]) == 2
    set_tags({"env": "drifted-again"})  # live state moves after the plan was made
    capsys.readouterr()
    rc = asr(["apply", plan_file, "--auto-approve"])
    err = capsys.readouterr().err
    assert rc == 1 and "vault." in err and ("moved" in err or "changed" in err)
    assert clients.vaults.vaults.get(rg, vault).as_dict()["tags"].get("env") == "drifted-again"


def test_destroy_is_refused_before_any_change(emu, clients, capsys):
    from reconciler.apply.runner import Applier
    from reconciler.errors import UsageError
    from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request

    plan = Plan(manifest_path="x", subscription=clients.subscription_id, vault="v", resource_group="rg", changes=[
        Change("resource_group.keep", Kind.RESOURCE_GROUP, Action.CREATE, Reason.MISSING, requests=[
            Request("resources.resource_groups.create_or_update",
                    {"resource_group_name": "keep", "parameters": {"location": "westeurope"}})]),
        Change("resource_group.old", Kind.RESOURCE_GROUP, Action.DELETE, Reason.NOT_IN_MANIFEST, requests=[
            Request("resources.resource_groups.begin_delete", {"resource_group_name": "old"})]),
    ])
    emu.reset_stats()
    with pytest.raises(UsageError, match="--allow-destroy|deletes or replaces"):
        Applier(clients).apply(plan)
    assert emu.stats()["writes"] == 0


def test_no_terminal_and_no_auto_approve_fails_instead_of_prompting(emu, capsys):
    manifest, estate = example("quickstart")
    emu.reset(estate=estate, time_scale=SCALE)
    emu.reset_stats()
    rc = asr(["apply", manifest])
    err = capsys.readouterr().err
    assert rc == 1 and "no terminal" in err and "--auto-approve" in err
    stats = emu.stats()
    assert stats["writes"] - _lock_writes(stats) == 0


def _lock_writes(stats: dict) -> int:
    """Writes the lease itself made (PATCH of the vault)."""
    return sum(n for route, n in (stats.get("by_route") or {}).items()
               if route.startswith("PATCH ") and route.lower().endswith("/vaults/{vaultname}"))


def test_second_apply_is_refused_while_one_holds_the_vault(emu, clients, capsys):
    from reconciler.apply.lock import VaultLock

    manifest, estate = example("quickstart")
    emu.reset(estate=estate, time_scale=SCALE)
    assert asr(["apply", manifest, "--auto-approve", "--log-format", "text"]) == 0
    holder = VaultLock(clients, "contoso-dr-rg", "contoso-asr-vault", holder="nightly-pipeline")
    holder.acquire()
    try:
        capsys.readouterr()
        rc = asr(["apply", manifest, "--auto-approve"])
        err = capsys.readouterr().err
        assert rc == 1 and "nightly-pipeline" in err and "since" in err
    finally:
        holder.release()


def test_json_log_format_is_json_lines(emu, capsys):
    manifest, estate = example("quickstart")
    emu.reset(estate=estate, time_scale=SCALE)
    rc = asr(["apply", manifest, "--auto-approve", "--log-format", "json"])
    out = capsys.readouterr().out
    assert rc == 0
    events = [json.loads(line) for line in out.splitlines() if line.strip()]
    kinds = {e["event"] for e in events}
    assert {"start", "done", "job", "summary"} <= kinds
    assert events[-1]["event"] == "summary" and events[-1]["counts"].get("failed", 0) == 0

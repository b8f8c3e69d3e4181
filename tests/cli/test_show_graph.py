"""`asr show PLAN` (a saved plan rendered again without Azure), `asr graph FILE|PLAN`
(Mermaid / DOT) and the dependency graph in the Markdown plan."""

from __future__ import annotations

import json
import os
import re
import socket

import pytest

from reconciler.cli.cmd_graph import manifest_graph
from reconciler.cli.common import load_manifest
from reconciler.plan import save_plan
from reconciler.plan.planner import make_plan

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
QUICKSTART = os.path.join(ROOT, "examples", "quickstart.yaml")


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture
def saved_plan(tmp_path):
    from reconciler.live.state import LiveState

    m = load_manifest(QUICKSTART)
    live = LiveState(subscription=m.subscription, resource_group=m.vault.resource_group, vault_name=m.vault.name,
                     target_resource_group=m.target.resource_group)
    plan = make_plan(m, live, QUICKSTART)
    path = tmp_path / "tfplan.json"
    save_plan(plan, str(path))
    return plan, str(path)


@pytest.fixture
def run_asr(monkeypatch, capsys):
    """`asr` in process (tests/asr_in_process.py): these commands are offline; what is tested
    is what they print and return, not the program's start-up."""
    from tests.asr_in_process import run_asr as run

    def asr(*args: str, env: dict | None = None):
        return run(list(args), env={**os.environ, **(env or {})}, cwd=ROOT, monkeypatch=monkeypatch, capsys=capsys)

    return asr


@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_show_renders_a_saved_plan_without_azure(saved_plan, fmt, run_asr):
    plan, path = saved_plan
    # an ARM endpoint nobody listens on, and no credential: any Azure call would fail
    env = {"ASR_ARM_ENDPOINT": f"https://127.0.0.1:{_closed_port()}", "IDENTITY_ENDPOINT": f"http://127.0.0.1:{_closed_port()}",
           "NO_COLOR": "1"}
    r = run_asr("show", path, "--format", fmt, env=env)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    if fmt == "json":
        doc = json.loads(r.stdout)
        assert doc["format"] == "asr-plan" and [c["address"] for c in doc["changes"]] == [c.address for c in plan.changes]
    elif fmt == "markdown":
        assert r.stdout.startswith("### asr plan: `contoso-asr-vault`")
        assert "<details><summary>Dependency graph</summary>" in r.stdout and "```mermaid" in r.stdout
    else:
        assert f"Saved plan {path}" in r.stdout
        assert "Plan: 14 to add" in r.stdout and f"asr apply {path}" in r.stdout


def test_show_of_something_that_is_not_a_plan_is_a_clear_error(tmp_path, run_asr):
    bad = tmp_path / "x.json"
    bad.write_text("[1, 2]")
    r = run_asr("show", str(bad))
    assert r.returncode == 1 and "not a saved plan" in r.stderr and "Traceback" not in r.stderr


def _mermaid_edges(text: str) -> set[tuple[str, str]]:
    labels = dict(re.findall(r'^\s+(n\d+)\["(?:[-+~!=/]+ )?([^" ]+)[^"]*"\]$', text, re.M))
    return {(labels[a], labels[b]) for a, b in re.findall(r"^\s+(n\d+) --> (n\d+)$", text, re.M)}


def test_graph_of_a_manifest_is_offline_and_has_every_dependency(run_asr):
    r = run_asr("graph", QUICKSTART, env={"ASR_ARM_ENDPOINT": f"https://127.0.0.1:{_closed_port()}"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("flowchart LR\n")
    changes = manifest_graph(load_manifest(QUICKSTART), QUICKSTART)
    want = {(d, c.address) for c in changes for d in c.depends_on}
    assert want and _mermaid_edges(r.stdout) == want
    assert ("policy_association.vmm01/Gold", "protected_vm.sql01") in want
    assert "+ " not in r.stdout  # a manifest has no actions


def test_graph_of_a_saved_plan_as_dot_shows_actions(saved_plan, run_asr):
    plan, path = saved_plan
    r = run_asr("graph", path, "--format", "dot")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('digraph "asr" {') and r.stdout.rstrip().endswith("}")
    assert '"vault.contoso-asr-vault" [label="+ vault.contoso-asr-vault"' in r.stdout
    assert '"vmm_server.vmm01" [label="! vmm_server.vmm01"' in r.stdout
    edges = set(re.findall(r'^\s+"([^"]+)" -> "([^"]+)";$', r.stdout, re.M))
    assert edges == {(d, c.address) for c in plan.changes for d in c.depends_on}


def test_markdown_plan_has_the_graph_collapsed(saved_plan):
    from reconciler.plan import render

    plan, _ = saved_plan
    md = render(plan, "markdown")
    block = md.split("<details><summary>Dependency graph</summary>", 1)[1].split("</details>", 1)[0]
    assert block.strip().startswith("```mermaid") and block.strip().endswith("```")
    assert ("vault.contoso-asr-vault", "policy.every-5-min") in _mermaid_edges(block)

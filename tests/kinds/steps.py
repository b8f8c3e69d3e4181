"""The steps the kind round-trip tests share: plan as JSON, apply once and expect an empty plan, export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from reconciler.cli.main import main as asr

SUB = "00000000-0000-0000-0000-000000000001"


def fast(emulator: Any, monkeypatch: Any, **reset: Any) -> Any:
    """Job polls and re-plans at the emulator's time scale (600x): settings only, commands run as written."""
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    emulator.reset(time_scale=600.0, **reset)
    return emulator


def plan(path: Path, capsys: Any) -> tuple[int, dict[str, Any]]:
    """(exit code of `asr plan --detailed-exitcode`, the plan as JSON)."""
    capsys.readouterr()
    rc = asr(["plan", str(path), "--format", "json", "--detailed-exitcode"])
    out = capsys.readouterr()
    assert rc in (0, 2), out.err
    return rc, json.loads(out.out)


def work(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The changes of a plan that are not no-ops, by address."""
    return {c["address"]: c for c in doc["changes"] if c["action"] != "noop"}


def apply_converges(path: Path, capsys: Any) -> dict[str, Any]:
    """One `asr apply` reaches the manifest: the next plan is empty. Returns that plan."""
    assert asr(["apply", str(path), "--auto-approve"]) == 0, capsys.readouterr()
    rc, doc = plan(path, capsys)
    assert rc == 0, {a: c["action"] for a, c in work(doc).items()}
    return doc


def export(tmp_path: Path, capsys: Any, resource_group: str = "contoso-dr-rg",
           vault: str = "contoso-asr-vault") -> tuple[Path, dict[str, Any]]:
    """`asr export` of the vault to a file: (the file, its document); the plan of that file is empty."""
    out = tmp_path / "exported.yaml"
    capsys.readouterr()
    assert asr(["export", "--subscription", SUB, "--resource-group", resource_group, "--vault", vault,
                "--out", str(out)]) == 0, capsys.readouterr()
    rc, doc = plan(out, capsys)
    assert rc == 0, {a: c["action"] for a, c in work(doc).items()}
    return out, yaml.safe_load(out.read_text())

"""Public API of reconciler.manifest, secrets, and the validate command's file handling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import reconciler.manifest as manifest_pkg
from reconciler.cli.main import main
from reconciler.errors import ManifestError
from reconciler.manifest import (
    Manifest,
    find_manifests,
    load_manifest,
    manifest_fingerprint,
    resolve_vm,
    validate_file,
    validate_text,
)

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "examples" / "quickstart.yaml"
BASE = (Path(__file__).parent / "good" / "base.yaml").read_text()


def test_exported_members_are_pinned():
    assert manifest_pkg.__all__ == sorted([
        "Diagnostic", "FORMATS", "Manifest", "RULES", "Rule", "find_manifests", "load_manifest",
        "manifest_fingerprint", "print_diagnostics", "render", "resolve_vm", "validate_file", "validate_text",
    ])


def test_load_manifest_returns_the_model():
    m = load_manifest(QUICKSTART)
    assert isinstance(m, Manifest) and m.vault.name == "contoso-asr-vault"
    assert resolve_vm(m, "SQL01").name == "sql01"
    assert resolve_vm(m, "nope") is None


def test_load_manifest_raises_with_positioned_diagnostics():
    with pytest.raises(ManifestError) as info:
        load_manifest(next((Path(__file__).parent / "bad").glob("*-premium-log-account.yaml")))
    err = info.value
    assert err.message.endswith("3 errors in the manifest")
    assert [(d.line, d.rule_id) for d in err.diagnostics] == [(59, "E5005"), (62, "E5005"), (65, "E5005")]


def test_warnings_do_not_make_a_manifest_invalid():
    m, diags = validate_file(Path(__file__).parent / "warn" / "02-unknown-region.yaml")
    assert m is not None and [d.rule_id for d in diags] == ["W3002"]


def test_fingerprint_is_stable_and_sensitive():
    a = load_manifest(QUICKSTART)
    b, _ = validate_text(QUICKSTART.read_text(), "copy.yaml")
    assert manifest_fingerprint(a) == manifest_fingerprint(b)
    assert len(manifest_fingerprint(a)) == 64
    c, _ = validate_text(QUICKSTART.read_text().replace("recoveryPointRetentionHours: 24", "recoveryPointRetentionHours: 12"))
    assert manifest_fingerprint(c) != manifest_fingerprint(a)
    # comments, key order and spelling out defaults do not change it
    d, _ = validate_text(QUICKSTART.read_text().replace("    encryptAtRest: false\n", "") + "# trailing comment\n")
    assert manifest_fingerprint(d) == manifest_fingerprint(a)


def test_env_reference_resolved_in_the_model():
    text = BASE.replace("subscription: 00000000-0000-0000-0000-000000000001", "subscription: ${MY_SUB}")
    m, diags = validate_text(text, env={"MY_SUB": "00000000-0000-0000-0000-000000000009"})
    assert diags == [] and m.subscription == "00000000-0000-0000-0000-000000000009"


def test_env_values_never_reach_messages(capsys, monkeypatch, tmp_path):
    secret = "s3cr3t-Value-That-Must-Not-Leak"
    monkeypatch.setenv("ASR_TEST_SECRET", secret)
    monkeypatch.setenv("NO_COLOR", "1")
    f = tmp_path / "m.yaml"
    f.write_text(
        BASE.replace("subscription: 00000000-0000-0000-0000-000000000001", "subscription: ${ASR_TEST_SECRET}")
        .replace("  name: contoso-asr-vault", "  name: ${ASR_TEST_SECRET}_x")
    )
    for fmt in ("text", "json", "sarif", "github"):
        assert main(["validate", "--format", fmt, str(f)]) == 1
        out, err = capsys.readouterr()
        assert secret not in out + err
        assert "${ASR_TEST_SECRET}" in out + err
    _, diags = validate_file(f)
    assert [(d.line, d.rule_id) for d in diags] == [(4, "E3007"), (6, "E3001")]


def test_unresolved_reference_reports_only_the_missing_variable(monkeypatch):
    monkeypatch.delenv("ASR_TEST_NOPE", raising=False)
    text = BASE.replace("  name: contoso-asr-vault", "  name: ${ASR_TEST_NOPE}")
    _, diags = validate_text(text)
    assert [(d.dotted_path, d.rule_id, d.message) for d in diags] == [
        ("vault.name", "E0004", "environment variable ASR_TEST_NOPE is not set")]


def test_several_files_and_valid_lines(capsys, tmp_path):
    bad = next((Path(__file__).parent / "bad").glob("*-frequency-60.yaml"))
    rc = main(["validate", str(QUICKSTART), str(bad), str(ROOT / "examples" / "hyperv-site.yaml")])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out.splitlines() == [f"{QUICKSTART}: valid", f"{ROOT / 'examples' / 'hyperv-site.yaml'}: valid"]
    assert err.count("error:") == 1 and str(bad) in err


def test_directory_takes_every_asr_manifest(capsys, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").mkdir()
    shutil.copy(QUICKSTART, tmp_path / "a.yaml")
    shutil.copy(ROOT / "examples" / "multi-cloud.yaml", tmp_path / "sub" / "b.yml")
    shutil.copy(QUICKSTART, tmp_path / ".hidden" / "c.yaml")
    (tmp_path / "other.yaml").write_text("apiVersion: v1\nkind: ConfigMap\n")
    (tmp_path / "quoted.yaml").write_text('apiVersion: "asr/v1"\nkind: SiteRecovery\n')
    assert find_manifests([str(tmp_path)]) == [str(tmp_path / "a.yaml"), str(tmp_path / "quoted.yaml"), str(tmp_path / "sub" / "b.yml")]
    rc = main(["validate", str(tmp_path)])
    out, err = capsys.readouterr()
    assert rc == 1  # quoted.yaml is a manifest with missing sections
    assert out.splitlines() == [f"{tmp_path / 'a.yaml'}: valid", f"{tmp_path / 'sub' / 'b.yml'}: valid"]
    assert f"{tmp_path / 'quoted.yaml'}:" in err and "missing required key 'vault'" in err


def test_directory_without_manifests_is_an_error(capsys, tmp_path):
    (tmp_path / "x.yaml").write_text("a: 1\n")
    assert main(["validate", str(tmp_path)]) == 1
    assert "no asr/v1 manifests" in capsys.readouterr().err


def test_only_manifests_skips_other_yaml(capsys, tmp_path):
    other = tmp_path / "ci.yaml"
    other.write_text("on: push\n")
    assert main(["validate", "--only-manifests", str(other), str(QUICKSTART)]) == 0
    assert capsys.readouterr().out == f"{QUICKSTART}: valid\n"
    assert main(["validate", str(other)]) == 1  # named explicitly without the flag: it must be a manifest


def test_unreadable_files(capsys, tmp_path):
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00bad")
    rc = main(["validate", str(tmp_path / "missing.yaml"), str(tmp_path / "bin.yaml")])
    _, err = capsys.readouterr()
    assert rc == 1
    assert f"{tmp_path / 'missing.yaml'}:1:1: error: <document>: no such file" in err
    assert f"{tmp_path / 'bin.yaml'}:1:1: error: <document>: not UTF-8 text" in err
    assert "Traceback" not in err


def test_precommit_hook_definition():
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "asr-validate"]
    assert hook["entry"].split()[:2] == ["asr", "validate"]
    assert "--only-manifests" in hook["entry"]
    assert hook["language"] == "python" and hook["types"] == ["yaml"]


def test_validate_help_mentions_formats(capsys):
    assert main(["validate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "sarif" in out and "github" in out


def test_unknown_key_suggestions_follow_the_source_shape():
    text = BASE.replace("source: {hypervSite: branch-site}", "source: {hypervSite: branch-site, host: HV-HOST-01}")
    _, diags = validate_text(text)
    assert [(d.line, d.column, d.dotted_path, d.message) for d in diags] == [
        (64, 39, "protectedVMs[2].source.host", "unknown key 'host' (allowed: hypervSite)")]


@pytest.mark.slow  # scale: 5,000 VMs (`make test-slow`)
def test_large_manifest_validates():
    """5,000 VMs in 50 recovery plans validate, and 5,000 undefined names are 5,000 located errors.
    Its speed is measured by bench/validate_scale.py (speed targets live in bench/, not in timed tests)."""
    import yaml

    doc = yaml.safe_load(QUICKSTART.read_text())
    vm = doc["protectedVMs"][1]
    doc["protectedVMs"] = [dict(vm, name=f"vm{i:05d}") for i in range(5000)]
    doc["recoveryPlans"] = [{"name": f"rp{j}", "groups": [{"vms": [f"vm{i:05d}" for i in range(j * 100, j * 100 + 100)]}]}
                            for j in range(50)]
    text = yaml.safe_dump(doc, sort_keys=False)
    m, diags = validate_text(text, "big.yaml", env={})
    assert diags == [] and len(m.protected_vms) == 5000
    broken = text.replace("- vm0", "- vx0")
    _, diags = validate_text(broken, "big.yaml", env={})
    assert len(diags) == 5000 and all(d.rule_id == "E2001" for d in diags)


def test_recovery_plan_limit_of_100_vms():
    import yaml

    doc = yaml.safe_load(QUICKSTART.read_text())
    vm = doc["protectedVMs"][1]
    doc["protectedVMs"] = [dict(vm, name=f"vm{i:03d}") for i in range(101)]
    doc["recoveryPlans"] = [{"name": "big", "groups": [{"vms": [f"vm{i:03d}" for i in range(60)]},
                                                       {"vms": [f"vm{i:03d}" for i in range(60, 101)]}]}]
    _, diags = validate_text(yaml.safe_dump(doc, sort_keys=False), "big.yaml")
    assert [(d.rule_id, d.dotted_path, d.message) for d in diags] == [
        ("E2005", "recoveryPlans[0].groups", "recovery plan 'big' holds 101 VMs; ASR allows at most 100")]
    doc["recoveryPlans"][0]["groups"][1]["vms"].pop()
    assert validate_text(yaml.safe_dump(doc, sort_keys=False), "ok.yaml")[1] == []


def test_unforeseen_schema_errors_still_get_a_path_and_rule():
    from reconciler.manifest.validate import _schema_diagnostic

    err = {"type": "something_new", "loc": ("vault", "name"), "msg": "Something new went wrong", "input": "x"}
    d = _schema_diagnostic(err, {"vault": {"name": "x"}})
    assert (d.path, d.rule_id, d.message) == (("vault", "name"), "E1006", "something new went wrong")


def test_every_rule_is_exercised():
    from reconciler.manifest import RULES

    seen = {"E0001", "E2005", "E1006"}  # unreadable files, plan size and the fallback: tested above
    for folder in ("bad", "warn"):
        for p in (Path(__file__).parent / folder).glob("*.yaml"):
            seen |= {d.rule_id for d in validate_file(p)[1]}
    assert set(RULES) - seen == set()


def test_examples_directory_holds_exactly_the_three_manifests(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    names = ["examples/hyperv-site.yaml", "examples/multi-cloud.yaml", "examples/private-vault.yaml",
             "examples/quickstart.yaml"]
    assert find_manifests(["examples"]) == names  # estates and CI pipelines are not manifests
    assert main(["validate", "examples"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{n}: valid" for n in names]

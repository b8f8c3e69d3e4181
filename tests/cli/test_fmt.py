"""`asr fmt`: the canonical layout, comments and data kept, --check / --diff for CI."""

from __future__ import annotations

import os

import yaml

from reconciler.cli.main import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

MESSY = """apiVersion: asr/v1   # the schema
kind:    Manifest
vault:
    name:   contoso-asr-vault     # keep this comment
    resourceGroup: "contoso-dr-rg"

# VMs below
protectedVMs:
- name: sql01
  target: {network: corp-vnet, subnet: app}
-   name: app01
"""


def test_fmt_rewrites_keeps_comments_and_data_and_is_idempotent(tmp_path, capsys):
    f = tmp_path / "m.yaml"
    f.write_text(MESSY)
    assert main(["fmt", "--check", str(f)]) == 1
    assert f.read_text() == MESSY  # --check writes nothing
    assert "not formatted" in capsys.readouterr().err
    assert main(["fmt", str(f)]) == 0
    out = f.read_text()
    assert capsys.readouterr().out.strip() == str(f)
    assert yaml.safe_load(out) == yaml.safe_load(MESSY)
    for comment in ("# the schema", "# keep this comment", "# VMs below"):
        assert comment in out
    assert "  name: contoso-asr-vault" in out and "kind: Manifest\n" in out
    assert "  - name: sql01\n    target: {network: corp-vnet, subnet: app}\n  - name: app01\n" in out
    assert '"contoso-dr-rg"' in out  # quoting as written
    assert main(["fmt", "--check", str(f)]) == 0
    assert main(["fmt", str(f)]) == 0 and f.read_text() == out


def test_fmt_diff_and_examples_are_formatted(tmp_path, capsys):
    f = tmp_path / "m.yaml"
    f.write_text(MESSY)
    assert main(["fmt", "--check", "--diff", str(f)]) == 1
    diff = capsys.readouterr().out
    assert "-kind:    Manifest\n+kind: Manifest\n" in diff
    assert main(["fmt", "--check", os.path.join(ROOT, "examples")]) == 0


def test_fmt_of_broken_yaml_is_located_without_traceback(tmp_path, capsys):
    f = tmp_path / "bad.yaml"
    f.write_text("apiVersion: asr/v1\nvault:\n  name: [unclosed\n")
    assert main(["fmt", str(f)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{f}:") and "error: not valid YAML" in err and "Traceback" not in err

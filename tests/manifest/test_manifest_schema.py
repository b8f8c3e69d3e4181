"""The committed JSON Schema and manifest reference are generated, and current."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from reconciler.manifest.reference import render_reference
from reconciler.manifest.schema import manifest_schema, render_schema

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schema_is_current():
    committed = (ROOT / "schemas" / "asr-manifest.schema.json").read_text()
    assert committed == render_schema(), "stale schema: run `make schema`"


def test_committed_reference_is_current():
    committed = (ROOT / "docs" / "manifest-reference.md").read_text()
    assert committed == render_reference(), (
        "stale docs/manifest-reference.md: run `python -m reconciler.manifest.reference > docs/manifest-reference.md`")


def test_schema_module_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "reconciler.manifest.schema"], capture_output=True, text=True, check=True, cwd=ROOT)
    assert json.loads(out.stdout) == manifest_schema()


def test_schema_is_a_valid_draft_07_schema_with_descriptions():
    schema = manifest_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    nodes = [schema, *schema["$defs"].values()]
    for node in nodes:
        for key, prop in node.get("properties", {}).items():
            assert prop.get("description"), f"{node.get('title')}.{key} has no description"
            assert "title" not in prop
        if "properties" in node:
            assert node["additionalProperties"] is False


def test_schema_rejects_what_validation_rejects():
    v = jsonschema.Draft7Validator(manifest_schema())
    base = {"apiVersion": "asr/v1", "kind": "SiteRecovery", "subscription": "00000000-0000-0000-0000-000000000001",
            "vault": {"name": "v-1", "resourceGroup": "rg", "location": "westeurope"}, "target": {"resourceGroup": "rg2"}}
    assert list(v.iter_errors(base)) == []
    assert list(v.iter_errors({**base, "subscription": "${AZURE_SUBSCRIPTION_ID}"})) == []
    assert list(v.iter_errors({**base, "subscription": "nope"}))
    assert list(v.iter_errors({**base, "extra": 1}))
    assert list(v.iter_errors({**base, "vault": {**base["vault"], "name": "1-bad"}}))
    assert list(v.iter_errors({**base, "policies": [{"name": "p", "replicationFrequencySeconds": 60}]}))
    assert list(v.iter_errors({**base, "target": {"resourceGroup": "rg", "storageAccounts": [{"name": "Upper"}]}}))
    assert list(v.iter_errors({**base, "protectedVMs": [{"name": "a", "source": {"hypervSite": "s"}, "target": {"network": "n", "subnet": "s", "size": "D4s_v5"}}]}))
    assert list(v.iter_errors({**base, "protectedVMs": [{"name": "a", "source": {"hypervSite": "s", "cloud": "c"}, "target": {"network": "n", "subnet": "s"}}]}))
    assert not list(v.iter_errors({**base, "protectedVMs": [{"name": "a", "source": {"vmmServer": "v", "cloud": "c"}, "target": {"network": "n", "subnet": "s", "size": "Standard_D4s_v5"}}]}))


def test_reference_documents_every_key_and_rule():
    text = render_reference()
    schema = manifest_schema()
    for node in [schema, *schema["$defs"].values()]:
        for key in node.get("properties", {}):
            assert f"| `{key}` |" in text
    from reconciler.manifest import RULES

    for rule_id in RULES:
        assert f"| {rule_id} |" in text

"""JSON Schema of the asr/v1 manifest, generated from the pydantic models.

    python -m reconciler.manifest.schema > schemas/asr-manifest.schema.json   (make schema)

Editors (yaml-language-server) use it through the comment on the first line of a
manifest: `# yaml-language-server: $schema=../schemas/asr-manifest.schema.json`.
Draft-07, the dialect editors support best (pydantic's `$defs` are plain JSON
pointers there). Naming rules are added as `pattern`s so editors flag bad names as you type; each
pattern also accepts a `${NAME}` environment reference. `tests/manifest` fails when
the committed file is stale.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from reconciler.manifest import naming
from reconciler.manifest.models import Manifest

SCHEMA_ID = "https://asr.dev/schemas/asr-manifest.schema.json"
SCHEMA_PATH = "schemas/asr-manifest.schema.json"

_ENV_ALT = r".*\$\{[A-Za-z_][A-Za-z0-9_]*\}.*"


def _pattern(rx: re.Pattern) -> str:
    core = rx.pattern
    if core.endswith(r"\Z"):
        core = core[:-2]
    return rf"^(?:{core}|{_ENV_ALT})$"


# ($defs entry, property) -> regular expression of the Azure naming rule
_PATTERNS: dict[tuple[str, str], re.Pattern] = {
    ("Manifest", "subscription"): naming.SUBSCRIPTION,
    ("Vault", "name"): naming.VAULT,
    ("Vault", "resourceGroup"): naming.RESOURCE_GROUP,
    ("Target", "resourceGroup"): naming.RESOURCE_GROUP,
    ("TargetStorageAccount", "name"): naming.STORAGE_ACCOUNT,
    ("TargetNetwork", "name"): naming.VNET,
    ("Subnet", "name"): naming.SUBNET,
    ("VmTarget", "vmName"): naming.VM,
    ("VmTarget", "size"): naming.VM_SIZE,
}


def manifest_schema() -> dict[str, Any]:
    schema = Manifest.model_json_schema(by_alias=True, mode="validation")
    defs = schema.get("$defs", {})
    for (model, prop), rx in _PATTERNS.items():
        target = schema if model == "Manifest" else defs[model]
        target["properties"][prop]["pattern"] = _pattern(rx)
    # property titles are pydantic's capitalised attribute names ("Protectedvms"): noise for editors
    for node in [schema, *defs.values()]:
        for prop in node.get("properties", {}).values():
            prop.pop("title", None)
    out: dict[str, Any] = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "asr manifest (apiVersion: asr/v1)",
        "description": (
            "One Azure Site Recovery vault and everything replicated into it: VMM servers and Hyper-V sites, "
            "target storage and networks, replication policies, protected VMs and recovery plans."
        ),
    }
    out.update({k: v for k, v in schema.items() if k not in ("title", "description")})
    return out


def render_schema() -> str:
    return json.dumps(manifest_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    sys.stdout.write(render_schema())
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

"""The `asr/v1` manifest: loading with positions, validation, diagnostics.

Public API (small and explicit; the planner, applier and day-2 commands use it):

    load_manifest(path) -> Manifest          raises ManifestError(.diagnostics) when invalid
    validate_file(path) -> (Manifest | None, list[Diagnostic])
    validate_text(text, file) -> (Manifest | None, list[Diagnostic])
    manifest_fingerprint(manifest) -> str    sha256 of the canonical JSON of the model
    print_diagnostics(diags, fmt="text", stream=sys.stderr)
    find_manifests(paths) -> list[str]       files as given, directories walked for asr/v1 manifests
    resolve_vm(manifest, name) -> ProtectedVM | None
"""

from __future__ import annotations

from reconciler.manifest.diagnostics import RULES, Diagnostic, Rule
from reconciler.manifest.discover import find_manifests
from reconciler.manifest.formatters import FORMATS, print_diagnostics, render
from reconciler.manifest.models import Manifest, ProtectedVM
from reconciler.manifest.validate import load_manifest, manifest_fingerprint, validate_file, validate_text


def resolve_vm(manifest: Manifest, name: str) -> ProtectedVM | None:
    """The protected VM named `name` (case-insensitive, as VMM and Hyper-V compare names)."""
    folded = name.lower()
    return next((vm for vm in manifest.protected_vms if vm.name.lower() == folded), None)


__all__ = [
    "Diagnostic",
    "FORMATS",
    "Manifest",
    "RULES",
    "Rule",
    "find_manifests",
    "load_manifest",
    "manifest_fingerprint",
    "print_diagnostics",
    "render",
    "resolve_vm",
    "validate_file",
    "validate_text",
]

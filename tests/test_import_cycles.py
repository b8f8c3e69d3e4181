"""No import cycle between reconciler modules, nor between reconciler packages.

Imports are read with `ast` from the source (nothing is imported). They count wherever
they stand: at module level and inside functions (a function-local import only hides a
cycle until the function runs; it does not remove it). Imports under
`if TYPE_CHECKING:` do not count: they never run.

A module edge A -> B exists when A imports B or a name from B (`from pkg import sub`
imports the submodule `pkg.sub`). A package edge is a module edge between two packages
directly under `reconciler` (`reconciler.azure.jobs` -> `reconciler.live.reader` is
`azure -> live`).

There is no allowance list: a cycle is removed by moving code to the layer that owns it
(docs/design.md, "Import cycles"), never by listing it here.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "reconciler"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in ROOT.rglob("*.py"):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods[".".join(parts)] = path
    return mods


_BLOCKS = (ast.stmt, ast.excepthandler, ast.match_case)  # what holds statements (imports are statements)


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every statement except those under `if TYPE_CHECKING:` (expressions, where no
    import can stand, are not walked)."""
    out: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        out.append(node)
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, _BLOCKS):
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                stack.extend(child.orelse)
                continue
            stack.append(child)
    return out


def _edges(mods: dict[str, Path]) -> dict[str, set[str]]:
    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str | None] = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [resolve(f"{base}.{a.name}") if f"{base}.{a.name}" in mods else resolve(base) for a in node.names]
            edges[mod].update(t for t in targets if t and t != mod)
    return edges


@functools.cache
def _source_edges() -> dict[str, frozenset[str]]:
    """The module edges of the source tree, read once for both checks."""
    return {m: frozenset(t) for m, t in _edges(_modules()).items()}


def _cycles(edges: dict[str, set[str]] | dict[str, frozenset[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, ())))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def _describe(cycle: list[str], edges: dict[str, set[str]] | dict[str, frozenset[str]]) -> str:
    members = set(cycle)
    return "; ".join(f"{a} -> {', '.join(sorted(edges[a] & members))}" for a in cycle)


def test_no_import_cycle_between_modules():
    edges = _source_edges()
    cycles = _cycles(edges)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(c, edges) for c in cycles)


def test_no_import_cycle_between_packages():
    edges = _source_edges()

    def top(mod: str) -> str:
        return ".".join(mod.split(".")[:2])

    pkg_edges: dict[str, set[str]] = {}
    for a, targets in edges.items():
        for b in targets:
            if top(a) != top(b) and top(a) != "reconciler" and top(b) != "reconciler":
                pkg_edges.setdefault(top(a), set()).add(top(b))
                pkg_edges.setdefault(top(b), set())
    cycles = _cycles(pkg_edges)
    assert not cycles, "import cycles between packages:\n" + "\n".join(_describe(c, pkg_edges) for c in cycles)


def test_the_checker_finds_a_cycle():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(edges) == [["a", "b", "c"]]
    tree = ast.parse("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import x\ndef f():\n    import y\n")
    names = {a.name for n in _runtime_nodes(tree) if isinstance(n, ast.Import) for a in n.names}
    assert names == {"y"}  # function-local imports count, TYPE_CHECKING ones do not

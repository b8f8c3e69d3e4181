"""Dependency graph of a plan: order, parallel waves, blocked propagation.

- `depends_on` keeps only addresses present in the plan.
- A change waiting (directly or transitively) for a MANUAL change is blocked by it.
- `wave`: 0 when nothing it depends on has work to do, else 1 + the highest wave
  of the dependencies that do. Changes in one wave are independent: apply may run
  them in parallel once every lower wave is done.
- Changes are returned ordered by (wave, kind order, address): a topological order.
"""

from __future__ import annotations

from reconciler.plan.model import Action, Change, Kind

KIND_ORDER = [
    Kind.RESOURCE_GROUP, Kind.VAULT, Kind.ALERT_SETTINGS, Kind.STORAGE_ACCOUNT, Kind.VIRTUAL_NETWORK, Kind.SUBNET,
    Kind.PRIVATE_ENDPOINT,  # before any server registers (Learn: private endpoints first)
    Kind.VMM_SERVER,
    Kind.HYPERV_SITE, Kind.HYPERV_HOST, Kind.POLICY, Kind.POLICY_ASSOCIATION, Kind.NETWORK_MAPPING,
    Kind.PROTECTED_VM, Kind.RECOVERY_PLAN,
]
_RANK = {k: i for i, k in enumerate(KIND_ORDER)}


class CycleError(Exception):
    pass


def order(changes: list[Change]) -> list[Change]:
    by_addr = {c.address: c for c in changes}
    for c in changes:
        seen: list[str] = []
        for d in c.depends_on:
            if d in by_addr and d != c.address and d not in seen:
                seen.append(d)
        c.depends_on = seen

    done: set[str] = set()
    visiting: set[str] = set()

    def finish(c: Change) -> None:
        """Wave and blocked list of `c`, once every dependency is done."""
        wave = 0
        blocked: list[str] = list(c.blocked_by)
        for d in c.depends_on:
            dep = by_addr[d]
            if dep.action == Action.MANUAL and d not in blocked:
                blocked.append(d)
            for b in dep.blocked_by:
                if b not in blocked:
                    blocked.append(b)
            if dep.action != Action.NOOP:
                wave = max(wave, dep.wave + 1)
        c.wave = wave
        if c.action not in (Action.NOOP, Action.DELETE):
            c.blocked_by = blocked

    # depth-first, with an explicit stack (a plan of 10,000 VMs is deeper than Python's recursion limit)
    for root in changes:
        if root.address in done:
            continue
        visiting.add(root.address)
        stack: list[tuple[Change, int]] = [(root, 0)]
        while stack:
            c, i = stack[-1]
            if i < len(c.depends_on):
                stack[-1] = (c, i + 1)
                dep = by_addr[c.depends_on[i]]
                if dep.address in done:
                    continue
                if dep.address in visiting:
                    raise CycleError(f"dependency cycle through {dep.address}")
                visiting.add(dep.address)
                stack.append((dep, 0))
                continue
            stack.pop()
            finish(c)
            visiting.discard(c.address)
            done.add(c.address)
    return sorted(changes, key=lambda c: (c.wave, _RANK.get(c.kind, 99), c.action == Action.NOOP, c.address.lower()))


def waves(changes: list[Change]) -> list[list[Change]]:
    """Changes with work to do, grouped by wave (for renderers and the applier)."""
    out: dict[int, list[Change]] = {}
    for c in changes:
        if c.action != Action.NOOP:
            out.setdefault(c.wave, []).append(c)
    return [out[w] for w in sorted(out)]


# --- drawing the graph (`asr graph`, the Markdown plan) ---------------------------------------------
# An edge goes from what is needed to what needs it (the order apply follows).

GRAPH_FORMATS = ("mermaid", "dot")
_SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-", Action.MANUAL: "!",
           Action.NOOP: "=", Action.AWAIT: "~>"}
_FILL = {Action.CREATE: "#d4f7d4", Action.UPDATE: "#fff3c4", Action.REPLACE: "#f3d4f7", Action.DELETE: "#f7d4d4",
         Action.MANUAL: "#d4ecf7", Action.NOOP: "#eeeeee", Action.AWAIT: "#e4e4f7"}


def _label(c: Change, actions: bool) -> str:
    if not actions:
        return c.address
    return f"{_SYMBOL[c.action]} {c.address}" + (" (blocked)" if c.blocked_by else "")


def _edges(changes: list[Change]) -> list[tuple[str, str]]:
    present = {c.address for c in changes}
    return [(d, c.address) for c in changes for d in c.depends_on if d in present and d != c.address]


def to_mermaid(changes: list[Change], *, actions: bool = True) -> str:
    """A Mermaid flowchart (GitHub and Azure DevOps render it in Markdown)."""
    ids = {c.address: f"n{i}" for i, c in enumerate(changes)}
    lines = ["flowchart LR"]
    for c in changes:
        text = _label(c, actions).replace('"', "#quot;")
        lines.append(f'  {ids[c.address]}["{text}"]')
    for a, b in _edges(changes):
        lines.append(f"  {ids[a]} --> {ids[b]}")
    if actions:
        used = []
        for act in Action:
            members = [ids[c.address] for c in changes if c.action == act]
            if members:
                used.append(act)
                lines.append(f"  class {','.join(members)} {act.value}")
        for act in used:
            lines.append(f"  classDef {act.value} fill:{_FILL[act]},stroke:#555")
    return "\n".join(lines) + "\n"


def to_dot(changes: list[Change], *, actions: bool = True, name: str = "asr") -> str:
    """Graphviz: `asr graph FILE --format dot | dot -Tsvg > graph.svg`."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = [f"digraph {q(name)} {{", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#ffffff"];']
    for c in changes:
        attrs = f"label={q(_label(c, actions))}"
        if actions:
            attrs += f', fillcolor="{_FILL[c.action]}"'
        lines.append(f"  {q(c.address)} [{attrs}];")
    for a, b in _edges(changes):
        lines.append(f"  {q(a)} -> {q(b)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_graph(changes: list[Change], fmt: str = "mermaid", *, actions: bool = True) -> str:
    if fmt == "mermaid":
        return to_mermaid(changes, actions=actions)
    if fmt == "dot":
        return to_dot(changes, actions=actions)
    raise ValueError(f"unknown graph format {fmt!r}; one of {', '.join(GRAPH_FORMATS)}")


# --- targeting (`--target ADDRESS`, `--vm NAME`) ---------------------------------------------------

def resolve_targets(changes: list[Change], targets: list[str]) -> list[str]:
    """The addresses named (exactly, or case-insensitively); a UsageError naming an unknown
    one and the closest addresses otherwise."""
    import difflib

    from reconciler.errors import UsageError

    known = {c.address: c.address for c in changes}
    lower = {c.address.lower(): c.address for c in changes}
    out: list[str] = []
    for t in targets:
        got = known.get(t) or lower.get(t.lower())
        if got is None:
            close = difflib.get_close_matches(t, list(known), n=3, cutoff=0.6)
            if not close and "." not in t:  # a bare name: every object of that name
                close = [a for a in known if a.split(".", 1)[-1].lower() == t.lower()][:3]
            hint = (f"did you mean {', '.join(close)}?" if close else
                    "addresses look like protected_vm.NAME, policy.NAME, recovery_plan.NAME (see `asr plan`)")
            raise UsageError(f"--target {t}: no such object in the manifest or the vault", hint=hint)
        if got not in out:
            out.append(got)
    return out


def restrict(plan, targets: list[str], also: set[str] | frozenset[str] = frozenset()):
    """The plan reduced to `targets` and everything they depend on (transitively), marked
    partial. The order, waves and blocked_by of what stays are unchanged. `also`: addresses
    kept as well when present (an apply's re-plan keeps what its first plan showed, so a
    manual step that got done is seen as done)."""
    wanted = resolve_targets(plan.changes, targets)
    by_addr = plan.by_address()
    keep: set[str] = set()
    stack = list(wanted) + [a for a in also if a in by_addr]
    while stack:
        a = stack.pop()
        if a in keep or a not in by_addr:
            continue
        keep.add(a)
        stack.extend(by_addr[a].depends_on)
    plan.changes = [c for c in plan.changes if c.address in keep]
    plan.partial = True
    plan.targets = wanted
    return plan

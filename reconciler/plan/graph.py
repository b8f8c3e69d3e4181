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
    Kind.RESOURCE_GROUP, Kind.VAULT, Kind.ALERT_SETTINGS, Kind.STORAGE_ACCOUNT, Kind.VIRTUAL_NETWORK,
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

    done: dict[str, bool] = {}
    visiting: set[str] = set()

    def visit(c: Change) -> None:
        if c.address in done:
            return
        if c.address in visiting:
            raise CycleError(f"dependency cycle through {c.address}")
        visiting.add(c.address)
        wave = 0
        blocked: list[str] = list(c.blocked_by)
        for d in c.depends_on:
            dep = by_addr[d]
            visit(dep)
            if dep.action == Action.MANUAL:
                if d not in blocked:
                    blocked.append(d)
            for b in dep.blocked_by:
                if b not in blocked:
                    blocked.append(b)
            if dep.action != Action.NOOP:
                wave = max(wave, dep.wave + 1)
        c.wave = wave
        if c.action not in (Action.NOOP, Action.DELETE):
            c.blocked_by = blocked
        visiting.discard(c.address)
        done[c.address] = True

    import sys

    limit = sys.getrecursionlimit()
    if len(changes) + 100 > limit:
        sys.setrecursionlimit(len(changes) * 2 + 1000)
    for c in changes:
        visit(c)
    return sorted(changes, key=lambda c: (c.wave, _RANK.get(c.kind, 99), c.action == Action.NOOP, c.address.lower()))


def waves(changes: list[Change]) -> list[list[Change]]:
    """Changes with work to do, grouped by wave (for renderers and the applier)."""
    out: dict[int, list[Change]] = {}
    for c in changes:
        if c.action != Action.NOOP:
            out.setdefault(c.wave, []).append(c)
    return [out[w] for w in sorted(out)]

"""Human plan output in Terraform's idiom."""

from __future__ import annotations

from typing import Any

from reconciler.plan.model import Action, Plan, Reason
from reconciler.plan.render.values import format_value

SYMBOL = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.DELETE: "-", Action.MANUAL: "!",
          Action.NOOP: "=", Action.AWAIT: "~>"}
COLOR = {Action.CREATE: "32", Action.UPDATE: "33", Action.REPLACE: "35", Action.DELETE: "31", Action.MANUAL: "36",
         Action.NOOP: "2", Action.AWAIT: "34"}
VERB = {Action.CREATE: "will be created", Action.UPDATE: "will be updated in place",
        Action.REPLACE: "must be replaced", Action.DELETE: "will be destroyed",
        Action.MANUAL: "needs a manual step", Action.NOOP: "is left alone", Action.AWAIT: "is being changed by Azure"}


def awaited_job_name(change: Any) -> str | None:
    """The job an AWAIT change waits for: its request's `job_name`."""
    for r in change.requests:
        if r.operation.endswith("replication_jobs.get"):
            return str(r.args.get("job_name") or "") or None
    return None


class _Out:
    def __init__(self, color: bool) -> None:
        self.color = color
        self.lines: list[str] = []

    def c(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def add(self, line: str = "") -> None:
        self.lines.append(line)


def _attrs(out: _Out, change: Any, subscription: str | None) -> None:
    """Attribute lines: all attributes for create/delete/manual, changed ones for update/replace.

    Values go through values.format_value (ARM ids in `subscription`, the plan's, shown compactly)."""
    def _v(value: Any) -> str:
        return format_value(value, subscription)

    before = change.before or {}
    after = change.after or {}
    keys = list(dict.fromkeys(list(after) + list(before)))
    rows: list[tuple[str, str, str, str]] = []  # (symbol, colour, key, rest)
    for k in keys:
        b, a = before.get(k), after.get(k)
        if change.action in (Action.CREATE, Action.MANUAL):
            if a is not None:
                rows.append(("+", COLOR[Action.CREATE], k, _v(a)))
        elif change.action == Action.DELETE:
            if b is not None:
                rows.append(("-", COLOR[Action.DELETE], k, _v(b)))
        elif k in after and not (k in before and _same(a, b)):
            vb, va = _v(b), _v(a)
            if vb.lower() == va.lower():  # the compact forms hide what changed: show both in full
                vb, va = format_value(b, None), format_value(a, None)
            rest = f"{vb} -> {va}"
            if k in change.replace_fields:
                rest += out.c(COLOR[Action.REPLACE], "  # forces replacement")
            rows.append(("~", COLOR[Action.UPDATE], k, rest))
    width = max((len(r[2]) for r in rows), default=0)
    for sym, col, k, rest in rows:
        out.add(f"      {out.c(col, sym)} {k.ljust(width)} = {rest}")


def _marked(value: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(path, marker) of every value the applier resolves at run time ({"$resolve": ...})."""
    from reconciler.kinds.protected_vm import RESOLVE

    if isinstance(value, dict):
        if RESOLVE in value:
            return [(path, value)]
        return [m for k, v in value.items() for m in _marked(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [m for i, v in enumerate(value) for m in _marked(v, f"{path}[{i}]")]
    return []


def resolutions(change: Any) -> list[str]:
    """Lines saying which request of a change has values resolved at run time, and from what: a new VM's
    NIC update, sent after its enable, names the NICs by the ids Azure gives the item."""
    from reconciler.kinds.protected_vm import RESOLVE, RESOLVERS

    lines: list[str] = []
    for n, r in enumerate(change.requests, 1):
        found = _marked(r.args)
        if not found:
            continue
        what = r.operation.rsplit(".", 2)
        lines.append(f"request {n} of {len(change.requests)} ({what[-2]}.{what[-1]}) is sent once request {n - 1} "
                     "ended, with these values read from the item at that moment:")
        width = max(len(p.split(".", 2)[-1]) for p, _ in found)
        for p, m in found:
            text = RESOLVERS.get(str(m.get(RESOLVE)), f"unknown ({m.get(RESOLVE)})")
            index = m.get("index")
            lines.append(f"  {p.split('.', 2)[-1].ljust(width)} <- {text.format(n=index + 1 if isinstance(index, int) else '?')}")
    return lines


def _same(a: Any, b: Any) -> bool:
    from reconciler.plan.normalize import comparable

    return comparable({"x": a}) == comparable({"x": b})


def unmanaged_label(u: Any) -> str:
    """`subnet.corp-vnet/legacy`, or for a part of a declared object
    `recovery_plan.tier1: groups.Boot[1].endGroupActions.check-sql (ManualActionDetails)`."""
    label = f"{u.kind.value}.{u.name}"
    if getattr(u, "part", None):
        label += f": {u.part}"
    if getattr(u, "note", None):
        label += f" ({u.note})"
    return label


def render_text(plan: Plan, *, color: bool = False) -> str:
    out = _Out(color)
    out.add(f"Vault {plan.vault} (resource group {plan.resource_group}, subscription {plan.subscription})")
    if plan.requests_made:
        out.add(f"Live state read with {plan.requests_made} requests.")
    if getattr(plan, "partial", False):
        out.add(out.c("33", f"Partial plan (--target): only {', '.join(plan.targets)} and what they depend on; "
                            "other changes the manifest may need are not shown and will not be applied."))
    out.add()
    work = [c for c in plan.changes if c.action != Action.NOOP]
    left = [c for c in plan.changes if c.action == Action.NOOP and c.reason != Reason.NONE]
    if not work:
        out.add("No changes. The live state matches the manifest.")
    else:
        out.add("asr will perform the following actions (same step = independent, may run in parallel):")
        for c in work:
            out.add()
            why = VERB[c.action]
            if c.action == Action.CREATE and c.blocked_by:
                why = "will be created once unblocked"
            step = f"step {c.wave + 1}"
            out.add(out.c("1", f"  # {c.address} {why}") + f" [{step}, {c.reason.value}]")
            if c.note:
                out.add(f"  # {c.note}")
            if c.removes:
                out.add(f"  # removes what the manifest never declared (prune; needs --allow-destroy): "
                        f"{', '.join(c.removes)}")
            sym = SYMBOL[c.action]
            if c.action == Action.AWAIT:  # nothing to send: a job to wait for
                out.add(f"{out.c(COLOR[c.action], sym.rjust(3))} await {c.address}: wait for job "
                        f"{awaited_job_name(c) or '?'}")
                continue
            out.add(f"{out.c(COLOR[c.action], sym.rjust(3))} {c.address}" + (" (blocked)" if c.blocked_by else ""))
            _attrs(out, c, plan.subscription)
            for line in resolutions(c):
                out.add(f"      # {line}")
    if left:
        out.add()
        out.add("Left alone:")
        for c in left:
            out.add(f"  = {c.address}: {c.note or c.reason.value}")
    if plan.unmanaged:
        out.add()
        out.add("Unmanaged (in Azure, not in the manifest; left alone unless `prune:` opts in):")
        for u in plan.unmanaged:
            out.add(f"  ? {unmanaged_label(u)}")
    for w in plan.warnings:
        out.add()
        out.add(out.c("33", f"Warning: {w}"))
    out.add()
    out.add(out.c("1", summary_line(plan)))
    return "\n".join(out.lines) + "\n"


def summary_line(plan: Any) -> str:
    s = plan.summary()
    line = (f"Plan: {s['add']} to add, {s['change']} to change, {s['replace']} to replace, "
            f"{s['destroy']} to destroy.")
    extra = []
    if s["manual"]:
        extra.append(f"{s['manual']} manual step{'s' if s['manual'] != 1 else ''}")
    if s["blocked"]:
        extra.append(f"{s['blocked']} blocked")
    if s.get("await"):
        extra.append(f"{s['await']} running job{'s' if s['await'] != 1 else ''} to await")
    return line + (f" ({', '.join(extra)})" if extra else "")

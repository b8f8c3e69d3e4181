"""Plan as a pull-request comment: summary first, destructive changes called out,
details collapsed in <details> blocks (GitHub and Azure DevOps render both)."""

from __future__ import annotations

from reconciler.plan.model import Action, Plan, Reason
from reconciler.plan.render.text import SYMBOL, _attrs, _Out, awaited_job_name, resolutions, summary_line


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plan: Plan) -> str:
    lines: list[str] = []
    lines.append(f"### asr plan: `{plan.vault}` ({plan.resource_group})")
    lines.append("")
    lines.append(f"**{summary_line(plan)}**")
    lines.append("")
    if getattr(plan, "partial", False):
        lines.append("> [!IMPORTANT]")
        lines.append(f"> **Partial plan** (`--target`): only {', '.join(f'`{t}`' for t in plan.targets)} and what "
                     "they depend on; other changes the manifest may need are not shown and will not be applied.")
        lines.append("")
    work = [c for c in plan.changes if c.action != Action.NOOP]
    destructive = [c for c in work if c.destructive or c.removes]
    if destructive:
        lines.append("> [!WARNING]")
        lines.append(f"> **{len(destructive)} destructive change(s)**; `asr apply` refuses them without `--allow-destroy`:")
        for c in destructive:
            what = c.note or c.reason.value
            if c.removes:
                what = f"removes what the manifest never declared (prune): {', '.join(c.removes)}"
            lines.append(f"> - `{SYMBOL[c.action]}` `{c.address}`: {_esc(what)}")
        lines.append("")
    manual = [c for c in work if c.action == Action.MANUAL]
    if manual:
        lines.append("**Manual steps** (no API can do these):")
        for c in manual:
            lines.append(f"- `{c.address}`: {_esc(c.note or '')}")
        lines.append("")
    if not work:
        lines.append("No changes. The live state matches the manifest.")
        lines.append("")
    else:
        lines.append("| | address | action | why |")
        lines.append("|---|---|---|---|")
        for c in work:
            why = c.note or c.reason.value
            if c.action == Action.AWAIT:
                why = f"wait for job {awaited_job_name(c) or '?'}: {why}"
            blocked = " (blocked)" if c.blocked_by else ""
            lines.append(f"| `{SYMBOL[c.action]}` | `{c.address}` | {c.action.value}{blocked} | {_esc(why)} |")
        lines.append("")
        lines.append("<details><summary>Details</summary>")
        lines.append("")
        lines.append("```diff")
        out = _Out(False)
        for c in work:
            if c.action == Action.AWAIT:
                out.add(f"{SYMBOL[c.action]} await {c.address}: wait for job {awaited_job_name(c) or '?'}")
                continue
            out.add(f"{SYMBOL[c.action]} {c.address}")
            _attrs(out, c, plan.subscription)
            for line in resolutions(c):
                out.add(f"      # {line}")
        lines.extend(out.lines)
        lines.append("```")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    left = [c for c in plan.changes if c.action == Action.NOOP and c.reason != Reason.NONE]
    if left or plan.unmanaged:
        lines.append("<details><summary>Left alone</summary>")
        lines.append("")
        for c in left:
            lines.append(f"- `{c.address}`: {_esc(c.note or c.reason.value)}")
        for u in plan.unmanaged:
            what = f"`{u.kind.value}.{u.name}` {_esc(u.part)}" if u.part else f"`{u.kind.value}.{u.name}`"
            lines.append(f"- {what}: unmanaged (not in the manifest)" + (f" ({_esc(u.note)})" if u.note else ""))
        lines.append("")
        lines.append("</details>")
        lines.append("")
    if work:
        lines.extend(_graph_block(plan, work))
    for w in plan.warnings:
        lines.append(f"> [!NOTE]\n> {_esc(w)}")
        lines.append("")
    return "\n".join(lines)


GRAPH_MAX_NODES = 150  # GitHub refuses to draw much bigger Mermaid charts


def _graph_block(plan: Plan, work: list) -> list[str]:
    """The changes with work and what they directly depend on, as a collapsed Mermaid chart."""
    from reconciler.plan.graph import to_mermaid

    wanted = {c.address for c in work} | {d for c in work for d in c.depends_on}
    nodes = [c for c in plan.changes if c.address in wanted]
    lines = ["<details><summary>Dependency graph</summary>", ""]
    if len(nodes) > GRAPH_MAX_NODES:
        lines.append(f"{len(nodes)} objects: too many to draw here; `asr graph PLAN --format dot` draws them all.")
    else:
        lines.append("```mermaid")
        lines.extend(to_mermaid(nodes).rstrip("\n").splitlines())
        lines.append("```")
    lines += ["", "</details>", ""]
    return lines

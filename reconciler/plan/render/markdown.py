"""Plan as a pull-request comment: summary first, destructive changes called out,
details collapsed in <details> blocks (GitHub and Azure DevOps render both)."""

from __future__ import annotations

from reconciler.plan.model import Action, Plan, Reason
from reconciler.plan.render.text import SYMBOL, _attrs, _Out, awaited_job_name


def _esc(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(plan: Plan) -> str:
    from reconciler.plan.render import summary_line

    lines: list[str] = []
    lines.append(f"### asr plan: `{plan.vault}` ({plan.resource_group})")
    lines.append("")
    lines.append(f"**{summary_line(plan)}**")
    lines.append("")
    work = [c for c in plan.changes if c.action != Action.NOOP]
    destructive = [c for c in work if c.destructive]
    if destructive:
        lines.append("> [!WARNING]")
        lines.append(f"> **{len(destructive)} destructive change(s)**; `asr apply` refuses them without `--allow-destroy`:")
        for c in destructive:
            lines.append(f"> - `{SYMBOL[c.action]}` `{c.address}`: {_esc(c.note or c.reason.value)}")
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
            lines.append(f"- `{u.kind.value}.{u.name}`: unmanaged (not in the manifest)")
        lines.append("")
        lines.append("</details>")
        lines.append("")
    for w in plan.warnings:
        lines.append(f"> [!NOTE]\n> {_esc(w)}")
        lines.append("")
    return "\n".join(lines)

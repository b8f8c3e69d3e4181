"""Plan renderers. One factory: `render(plan, fmt, color=False) -> str`.

    text      Terraform's idiom: + ~ -/+ - symbols, attribute-level before/after, summary line
    json      the versioned document described in docs/plan-json.md (schema: render.json.PLAN_JSON_SCHEMA)
    markdown  a pull-request comment: summary first, destructive changes called out, details collapsed

Text and Markdown format attribute values through values.format_value: an ARM id in the
plan's subscription reads `name (resource group)`; JSON (and the Plan) keep full ids.
"""

from __future__ import annotations

from typing import Any

FORMATS = ("text", "json", "markdown")


def render(plan: Any, fmt: str = "text", *, color: bool = False) -> str:
    if fmt == "text":
        from reconciler.plan.render.text import render_text

        return render_text(plan, color=color)
    if fmt == "json":
        from reconciler.plan.render.json import render_json

        return render_json(plan)
    if fmt == "markdown":
        from reconciler.plan.render.markdown import render_markdown

        return render_markdown(plan)
    raise ValueError(f"unknown plan format {fmt!r}; one of {', '.join(FORMATS)}")


def render_text(plan: Any, color: bool = False) -> str:
    from reconciler.plan.render.text import render_text as _rt

    return _rt(plan, color=color)


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


__all__ = ["FORMATS", "render", "render_text", "summary_line"]

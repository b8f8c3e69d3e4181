"""Plan renderers. One factory: `render(plan, fmt, color=False) -> str`.

    text      Terraform's idiom: + ~ -/+ - symbols, attribute-level before/after, summary line
    json      the versioned document described in docs/plan-json.md (schema: render.json.PLAN_JSON_SCHEMA)
    markdown  a pull-request comment: summary first, destructive changes called out, details collapsed

Text and Markdown format attribute values through values.format_value: an ARM id in the
plan's subscription reads `name (resource group)`; JSON (and the Plan) keep full ids.
"""

from __future__ import annotations

from typing import Any

from reconciler.plan.render.text import render_text, summary_line

FORMATS = ("text", "json", "markdown")


def render(plan: Any, fmt: str = "text", *, color: bool = False) -> str:
    if fmt == "text":
        return render_text(plan, color=color)
    if fmt == "json":
        from reconciler.plan.render.json import render_json

        return render_json(plan)
    if fmt == "markdown":
        from reconciler.plan.render.markdown import render_markdown

        return render_markdown(plan)
    raise ValueError(f"unknown plan format {fmt!r}; one of {', '.join(FORMATS)}")


__all__ = ["FORMATS", "render", "render_text", "summary_line"]

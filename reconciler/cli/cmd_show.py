"""Render a plan saved with `asr plan --out PLAN` again, as text, JSON or Markdown.

Reads only the file: no Azure call, no credentials needed (review a plan on a
machine without access, or turn it into a pull-request comment afterwards).
`asr apply PLAN` applies exactly the actions shown.
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  asr plan examples/quickstart.yaml --out tfplan.json
  asr show tfplan.json
  asr show tfplan.json --format markdown > plan.md     # a pull-request comment
  asr show tfplan.json --format json | jq '.summary'"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("plan", metavar="PLAN", help="a plan saved with `asr plan --out PLAN`")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                   help="text (default, for people), json (docs/plan-json.md) or markdown (a pull-request comment)")


def run(args: argparse.Namespace) -> int:
    from reconciler.cli.common import use_color
    from reconciler.plan import load_plan, render

    plan = load_plan(args.plan)
    out = sys.stdout
    if args.format == "text":
        made = plan.created_at or "at an unknown time"
        print(f"Saved plan {args.plan} (made {made} from {plan.manifest_path or 'an unknown manifest'}).", file=out)
    out.write(render(plan, args.format, color=args.format == "text" and use_color(out)))
    if args.format == "text" and plan.has_changes:
        print(f"\n`asr apply {args.plan}` applies exactly these actions (refused if the manifest or Azure moved since).",
              file=out)
    return 0

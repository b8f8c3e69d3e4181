"""The planner: desired vs live state -> a `Plan` value (model.py).

    make_plan(manifest, live, manifest_path) -> Plan
    check_plan_current(plan, manifest, live) -> None     raises PlanStaleError naming what moved
    check_plan_matches(saved, fresh) -> None             raises PlanMismatchError naming what differs
    save_plan(plan, path), load_plan(path) -> Plan
    render(plan, fmt) -> str                             fmt: text | json | markdown
    plan_document(plan) -> dict                          the JSON document (docs/plan-json.md)
    render_graph(changes, fmt), restrict(plan, targets)  `asr graph`, `--target`

The modules are internal (docs/design.md, "Public surface"): other packages use these names.
"""

from reconciler.plan.graph import render_graph, restrict
from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request, Unmanaged
from reconciler.plan.planner import make_plan
from reconciler.plan.render import render
from reconciler.plan.render.json import plan_document
from reconciler.plan.saved import check_plan_current, check_plan_matches, load_plan, save_plan

__all__ = [
    "Action",
    "Change",
    "Kind",
    "Plan",
    "Reason",
    "Request",
    "Unmanaged",
    "check_plan_current",
    "check_plan_matches",
    "load_plan",
    "make_plan",
    "plan_document",
    "render",
    "render_graph",
    "restrict",
    "save_plan",
]

"""The planner: desired vs live state -> a `Plan` value (model.py).

    make_plan(manifest, live, manifest_path) -> Plan
    check_plan_current(plan, manifest, live) -> None     raises PlanStaleError naming what moved
    check_plan_matches(saved, fresh) -> None             raises PlanMismatchError naming what differs
    save_plan(plan, path), load_plan(path) -> Plan
    render(plan, fmt) -> str                             fmt: text | json | markdown
"""

from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request, Unmanaged
from reconciler.plan.planner import make_plan
from reconciler.plan.render import render
from reconciler.plan.saved import check_plan_current, check_plan_matches, load_plan, save_plan

__all__ = sorted(["Action", "Change", "Kind", "Plan", "Reason", "Request", "Unmanaged", "check_plan_current",
                  "check_plan_matches", "load_plan", "make_plan", "render", "save_plan"])

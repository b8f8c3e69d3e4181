"""Renderers of the day-2 results: the drill report (text, JSON, Markdown) and the
per-VM outcome of a failover-family command. The domain objects know nothing about
output; one factory picks the renderer."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from reconciler.ops.drill import DrillReport
from reconciler.ops.failover import OperationResult


def _secs(v: float | None) -> str:
    if v is None:
        return "-"
    v = float(v)
    if v < 120:
        return f"{v:.0f} s"
    m, s = divmod(int(round(v)), 60)
    return f"{m} min {s:02d} s"


_NUM = {"type": ["number", "null"]}
_STR = {"type": ["string", "null"]}

# JSON Schema of `asr drill --format json` (format_version 1). New fields may appear.
DRILL_REPORT_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "asr DR drill report",
    "type": "object",
    "required": ["format", "format_version", "recovery_plan", "vault", "resource_group", "manifest", "test_network",
                 "started_at", "ended_at", "outcome", "ok", "cleanup_state", "groups", "vms", "errors"],
    "properties": {
        "format": {"const": "asr-drill-report"},
        "format_version": {"const": 1},
        "recovery_plan": {"type": "string"}, "vault": {"type": "string"}, "resource_group": {"type": "string"},
        "manifest": {"type": "string"}, "test_network": {"type": "string"},
        "started_at": {"type": "string"}, "ended_at": {"type": "string"},
        "outcome": {"enum": ["not started", "succeeded", "failed", "interrupted"]},
        "ok": {"type": "boolean"},
        "failover_job": _STR, "failover_job_state": _STR, "failover_started_at": _STR, "failover_ended_at": _STR,
        "recovery_time_seconds": _NUM, "cleanup_job": _STR, "cleanup_state": {"type": "string"},
        "groups": {"type": "array", "items": {
            "type": "object", "required": ["group", "vms", "ok", "recovered_seconds"],
            "properties": {"group": {"type": "integer", "minimum": 1}, "vms": {"type": "array", "items": {"type": "string"}},
                           "ok": {"type": "boolean"}, "recovered_seconds": _NUM}}},
        "vms": {"type": "array", "items": {
            "type": "object", "required": ["vm", "group", "ok", "recovered_seconds", "recovery_point_type"],
            "properties": {"vm": {"type": "string"}, "group": {"type": "integer", "minimum": 1}, "ok": {"type": "boolean"},
                           "recovered_seconds": _NUM, "recovery_point_type": {"type": "string"},
                           "recovery_point_id": _STR, "recovery_point_time": _STR, "test_vm_name": _STR,
                           "check": _STR, "message": {"type": "string"}}}},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
}


def drill_json(rep: DrillReport) -> str:
    return json.dumps({"format": "asr-drill-report", "format_version": 1, **rep.as_dict()}, indent=2, sort_keys=False)


def drill_text(rep: DrillReport) -> str:
    lines = [
        f"DR drill of recovery plan {rep.recovery_plan}: {'PASSED' if rep.ok else 'FAILED'}",
        f"  vault            {rep.vault} (resource group {rep.resource_group})",
        f"  manifest         {rep.manifest}",
        f"  test network     {rep.test_network}",
        f"  ran              {rep.started_at} .. {rep.ended_at} (this machine's clock)",
        f"  test failover    {rep.outcome} (job {rep.failover_job or '-'}, {rep.failover_job_state or '-'})",
        f"  failover job     {rep.failover_started_at or '-'} .. {rep.failover_ended_at or '-'} (Azure's clock)",
        f"  time to recover  {_secs(rep.recovery_time_seconds)} (whole plan)",
        f"  cleanup          {rep.cleanup_state}" + (f" (job {rep.cleanup_job})" if rep.cleanup_job else ""),
        "",
        "Groups:",
    ]
    for g in rep.groups:
        lines.append(f"  group {g.group}: {', '.join(g.vms)}  up after {_secs(g.recovered_seconds)}  "
                     f"{'ok' if g.ok else 'NOT OK'}")
    lines += ["", "VMs:"]
    width = max([len(v.vm) for v in rep.vms] + [2])
    for v in rep.vms:
        rp = v.recovery_point_id or v.recovery_point_type
        extra = f"  check {v.check}" if v.check else ""
        msg = f"  {v.message}" if v.message else ""
        lines.append(f"  {v.vm:<{width}}  group {v.group}  up after {_secs(v.recovered_seconds):>12}  "
                     f"recovery point {rp} (replicated {v.recovery_point_time or '-'})"
                     f"  {'ok' if v.ok else 'NOT OK'}{extra}{msg}")
    if rep.errors:
        lines += ["", "Errors:"] + [f"  {e}" for e in rep.errors]
    return "\n".join(lines)


def _md_cell(v: Any) -> str:
    return str(v if v is not None else "-").replace("|", "\\|").replace("\n", " ")


def drill_markdown(rep: DrillReport) -> str:
    out = [
        f"# DR drill report: recovery plan `{rep.recovery_plan}`",
        "",
        f"**Result: {'PASSED' if rep.ok else 'FAILED'}**",
        "",
        "| | |",
        "|---|---|",
        f"| Vault | `{rep.vault}` (resource group `{rep.resource_group}`) |",
        f"| Manifest | `{rep.manifest}` |",
        f"| Test network | `{rep.test_network}` |",
        f"| Drill ran (UTC, this machine's clock) | {rep.started_at} .. {rep.ended_at} |",
        f"| Test failover | {rep.outcome} (job `{rep.failover_job or '-'}`: {rep.failover_job_state or '-'}) |",
        f"| Failover job window (UTC, Azure's clock) | {rep.failover_started_at or '-'} .. {rep.failover_ended_at or '-'} |",
        f"| Time to recover (plan) | {_secs(rep.recovery_time_seconds)} |",
        f"| Cleanup | {_md_cell(rep.cleanup_state)}{f' (job `{rep.cleanup_job}`)' if rep.cleanup_job else ''} |",
        "",
        "## Groups",
        "",
        "| Group | VMs | Time to recover | Status |",
        "|---|---|---|---|",
    ]
    for g in rep.groups:
        out.append(f"| {g.group} | {', '.join(g.vms)} | {_secs(g.recovered_seconds)} | {'ok' if g.ok else 'NOT OK'} |")
    out += ["", "## VMs", "", "| VM | Group | Time to recover | Recovery point | Replicated at | Check | Status |",
            "|---|---|---|---|---|---|---|"]
    for v in rep.vms:
        out.append(f"| {v.vm} | {v.group} | {_secs(v.recovered_seconds)} | {_md_cell(v.recovery_point_id or v.recovery_point_type)} | "
                   f"{_md_cell(v.recovery_point_time)} | {_md_cell(v.check)} | "
                   f"{'ok' if v.ok else 'NOT OK: ' + _md_cell(v.message)} |")
    if rep.errors:
        out += ["", "## Errors", ""] + [f"- {_md_cell(e)}" for e in rep.errors]
    return "\n".join(out) + "\n"


def _drill_html(rep: DrillReport) -> str:
    from reconciler.ops.report_html import drill_html  # the page with RTO and timeline: `asr drill --format html`

    return drill_html(rep)


DRILL_RENDERERS: dict[str, Callable[[DrillReport], str]] = {
    "text": drill_text,
    "json": drill_json,
    "markdown": drill_markdown,
    "html": _drill_html,
}


def render_drill(rep: DrillReport, fmt: str) -> str:
    return DRILL_RENDERERS[fmt](rep)


def operation_text(res: OperationResult) -> str:
    title = res.operation + (f" of recovery plan {res.recovery_plan}" if res.recovery_plan else "")
    lines = [f"{title}: {'succeeded' if res.ok else 'FAILED'}"]
    for o in res.outcomes:
        state = f"{o.state_after or '?'}, active {o.active_location_after or '?'}"
        dur = f", {_secs(o.duration_seconds)}" if o.duration_seconds is not None else ""
        job = f" job {o.job} {o.job_state}" if o.job else ""
        msg = o.message
        if job and msg.startswith(job.strip() + ": "):  # the message already names the job
            msg = msg[len(job.strip()) + 2:]
        lines.append(f"  {o.vm}: {'ok' if o.ok else 'FAILED'} ({state}{dur}){job}" + (f": {msg}" if msg else ""))
    return "\n".join(lines)


def operation_json(res: OperationResult) -> str:
    return json.dumps(res.as_dict(), indent=2)

"""The summary at the end of an apply: what succeeded, failed (with Azure's error
code and message), was skipped (and why), is waiting for a manual step or still
running in Azure, and what the run cost in requests and retries."""

from __future__ import annotations

import json
from typing import Any, TextIO

from reconciler.apply.executor import FAILED, IN_PROGRESS, MANUAL, SKIPPED, SUCCEEDED, UNCHANGED, ApplyResult

OK_LINES = 50  # successes listed one by one; failures, skips and manual steps always all


def counts_line(counts: dict[str, int]) -> str:
    """`3 succeeded, 0 failed, 1 skipped, 0 manual, 0 still running in Azure, 2 unchanged`: the
    words of the final summary, which the live display (progress.LiveCounts) uses too."""
    c = {k: counts.get(k, 0) for k in (SUCCEEDED, FAILED, SKIPPED, MANUAL, IN_PROGRESS, UNCHANGED)}
    return (f"{c[SUCCEEDED]} succeeded, {c[FAILED]} failed, {c[SKIPPED]} skipped, {c[MANUAL]} manual, "
            f"{c[IN_PROGRESS]} still running in Azure, {c[UNCHANGED]} unchanged")


def render_text(result: ApplyResult, out: TextIO) -> None:
    ok = result.by_status(SUCCEEDED)
    failed = result.by_status(FAILED)
    skipped = result.by_status(SKIPPED)
    manual = result.by_status(MANUAL)
    running = result.by_status(IN_PROGRESS)
    unchanged = result.by_status(UNCHANGED)
    print("", file=out)
    if result.interrupted:
        head = "Apply interrupted"
    elif failed:
        head = "Apply failed"
    elif manual or skipped or running:
        head = "Apply incomplete"
    else:
        head = "Apply complete"
    counts = {SUCCEEDED: len(ok), FAILED: len(failed), SKIPPED: len(skipped), MANUAL: len(manual),
              IN_PROGRESS: len(running), UNCHANGED: len(unchanged)}
    print(f"{head}: {counts_line(counts)} ({result.seconds:.1f} s).", file=out)
    for o in ok[:OK_LINES]:
        jobs = ", ".join(f"{j['name']} {j['state']}" for j in o.jobs if j.get("name"))
        print(f"  ok       {o.address} ({o.action}){' [' + jobs + ']' if jobs else ''}", file=out)
    if len(ok) > OK_LINES:
        print(f"  ok       ... and {len(ok) - OK_LINES} more (all listed with --log-format json)", file=out)
    for o in failed:
        print(f"  FAILED   {o.address} ({o.action}): {o.error_code or 'error'}: {o.error_message}", file=out)
        for j in o.jobs:
            for t in j.get("tasks") or []:
                if (t.get("state") or "").lower() in ("failed", "cancelled"):
                    print(f"             task {t.get('name')}: {t.get('state')}", file=out)
    for o in skipped:
        print(f"  skipped  {o.address}: {o.reason}", file=out)
    for o in manual:
        print(f"  manual   {o.address}: {o.reason}", file=out)
    for o in running:
        print(f"  running  {o.address}: {o.reason}", file=out)
    r = result.requests
    if r:
        print(f"Requests: {r.get('requests', 0)} ({r.get('reads', 0)} reads, {r.get('writes', 0)} writes), "
              f"{r.get('throttled', 0)} answered 429 and {r.get('server_errors', 0)} with 5xx, retried by the "
              f"retry policy (at most {r.get('retry_budget_per_request', '?')} retries per request); "
              f"{r.get('job_list_reads', 0)} job list reads; paced {r.get('pacing_wait_seconds', 0)} s.", file=out)
    if failed:
        print("Re-run `asr apply` after fixing the cause: it re-plans from Azure's state and finishes the rest.",
              file=out)
    elif result.interrupted or running:
        print("Re-run `asr apply` to finish: jobs still running in Azure are awaited, not repeated.", file=out)
    elif manual:
        print("Carry out the manual steps above (see `asr vault-credentials`), then re-run `asr apply`.", file=out)


def render_errors(result: ApplyResult, err: TextIO) -> None:
    """Failures again on stderr, as `error:` / `hint:` lines, for logs that keep
    only stderr; each distinct hint once."""
    failed = result.by_status(FAILED)
    for o in result.by_status(MANUAL):
        print(f"error: {o.address}: manual step needed: {o.reason}", file=err)
    waiting = [o for o in result.by_status(SKIPPED) if "manual step" in o.reason]
    if waiting:
        print(f"error: {len(waiting)} action(s) wait for the manual step(s) above; re-run `asr apply` once done",
              file=err)
    if not failed:
        err.flush()
        return
    for o in failed:
        print(f"error: {o.address}: {o.error_message or o.error_code or 'failed'}", file=err)
    seen: list[str] = []
    for o in failed:
        if o.error_hint and o.error_hint not in seen:
            seen.append(o.error_hint)
            print(f"hint: {o.error_hint}", file=err)
    err.flush()


def render_json(result: ApplyResult, out: TextIO) -> None:
    print(json.dumps({"event": "summary", **result.to_dict()}, default=str, sort_keys=True), file=out, flush=True)


def render(result: ApplyResult, out: TextIO, fmt: str = "text") -> None:
    if fmt == "json":
        render_json(result, out)
    else:
        render_text(result, out)


def exit_status(result: ApplyResult) -> int:
    return 0 if result.converged else 1


def counts(result: ApplyResult) -> dict[str, Any]:
    return result.to_dict()["counts"]

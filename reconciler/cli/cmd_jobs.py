"""Site Recovery jobs of the vault, newest first, with what a suspended job waits for
(a recovery plan's manual action, or a test failover's cleanup); and job control:

  asr jobs FILE [--state S] [--vm NAME] [--recovery-plan NAME] [--since TIME] [--format text|json]
  asr jobs resume|restart|cancel FILE JOB [--comment TEXT]

An action the job does not allow now (its allowedActions, shown in the ALLOWS column) is
refused before anything is sent. Exit status: 0 done, 1 refused or error.
"""

from __future__ import annotations

import argparse
import datetime as _dt

EPILOG = """examples:
  asr jobs examples/quickstart.yaml                          # the last 24 hours
  asr jobs examples/quickstart.yaml --state Suspended --format json
  asr jobs examples/quickstart.yaml --vm sql01 --since 7d
  asr jobs resume examples/quickstart.yaml 58776d0b-3141-48b2-a377-9ad863eb160d --comment "SQL answers"
  asr jobs cancel examples/quickstart.yaml 58776d0b-3141-48b2-a377-9ad863eb160d

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("args", nargs="+", metavar="[ACTION] FILE [JOB]",
                   help="FILE to list jobs; or resume|restart|cancel FILE JOB")
    p.add_argument("--state", metavar="S", help="only jobs in this state (InProgress, Suspended, Failed, Succeeded...)")
    p.add_argument("--vm", metavar="NAME", help="only jobs of this VM (its own and its recovery plans' jobs)")
    p.add_argument("--recovery-plan", metavar="NAME", help="only jobs of this recovery plan")
    p.add_argument("--since", metavar="TIME", default="24h",
                   help="jobs started since: an ISO time, or a duration back from now (30m, 24h, 7d; default 24h)")
    p.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    p.add_argument("--comment", metavar="TEXT", help="with resume: the comment recorded on the job")


def _since(text: str) -> str:
    from reconciler.errors import UsageError

    t = text.strip()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    now = _dt.datetime.now(_dt.UTC)
    if t and t[-1] in units and t[:-1].isdigit():
        at = now - _dt.timedelta(seconds=int(t[:-1]) * units[t[-1]])
    else:
        try:
            at = _dt.datetime.fromisoformat(t.replace("Z", "+00:00"))
        except ValueError:
            raise UsageError(f"--since {text!r}: give an ISO time or a duration such as 30m, 24h, 7d") from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=_dt.UTC)
    return at.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    import json

    from reconciler.errors import UsageError
    from reconciler.ops import JOB_ACTIONS as ACTIONS
    from reconciler.ops import OpsContext, list_vault_jobs, waiting_for, waiting_line
    from reconciler.ops import control_job as control
    from reconciler.ops import job_row as row
    from reconciler.ops import render_jobs_text as render_text

    words = list(args.args)
    if words[0].lower() in ACTIONS:
        if len(words) != 3:
            raise UsageError(f"usage: asr jobs {words[0]} FILE JOB [--comment TEXT]")
        action, file, job = words[0].lower(), words[1], words[2]
        if args.comment and action != "resume":
            raise UsageError("--comment goes with resume only")
        ctx = OpsContext.load(file, settings=getattr(args, "settings", None))
        after = control(ctx, action, job, comment=args.comment)
        r = row(after)
        if args.format == "json":
            ctx.say(json.dumps({"action": action, "job": r}, indent=2))
            return 0
        done = {"resume": "resumed", "restart": "restart requested for", "cancel": "cancel requested for"}[action]
        ctx.say(f"{done} job {job}: now {r['state']} ({r['friendlyName'] or r['scenario']}, {r['target']})")
        w = waiting_for(after)
        if w is not None and w.kind == "manual-action":
            ctx.say("  " + waiting_line(w, after.get("name") or job, file))
        if action == "restart":
            ctx.say(f"  the restart runs as a new job (Restart job): asr jobs {file} --state InProgress")
        return 0
    if len(words) != 1:
        raise UsageError(f"unexpected arguments: {' '.join(words[1:])} (to act on a job: asr jobs resume|restart|cancel FILE JOB)")
    if args.comment:
        raise UsageError("--comment goes with resume only")
    file = words[0]
    since = _since(args.since)
    ctx = OpsContext.load(file, settings=getattr(args, "settings", None))
    rows = list_vault_jobs(ctx, since=since, state=args.state, vm=args.vm, plan=args.recovery_plan)
    if args.format == "json":
        ctx.say(json.dumps({"vault": ctx.vault, "since": since, "jobs": rows}, indent=2))
    else:
        ctx.say(render_text(rows, file))
    return 0

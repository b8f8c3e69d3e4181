"""DR drill of a recovery plan: test failover into target.testNetwork, wait for every
group to come up, optional checks (--verify-command, run once per VM with {vm},
{test_vm} and {network} substituted), then test failover cleanup - always, also after
a failure or Ctrl-C - and a report with the measured time to recover per group and
per VM and the recovery point used: the audit evidence of a DR rehearsal.

Asks for confirmation on a terminal (--yes skips it). Exit status: 0 drill passed and
cleaned up, 1 otherwise.
"""

from __future__ import annotations

import argparse

EPILOG = """examples (the DR rehearsal of the quickstart, with a Markdown report):
  asr drill examples/quickstart.yaml --recovery-plan tier1 --yes --out drill-tier1.md
  asr drill examples/quickstart.yaml --recovery-plan tier1 --yes --rto 30m --out drill-tier1.html

How-to and walkthrough on the emulator: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("file", metavar="FILE", help="the manifest")
    p.add_argument("--recovery-plan", required=True, metavar="NAME", help="a recovery plan declared in the manifest")
    from reconciler.cli.common import add_approve_argument

    add_approve_argument(p)
    p.add_argument("--format", choices=["text", "json", "markdown", "html"], default="text",
                   help="report format on stdout; html: one self-contained page with the timeline and the RTO")
    p.add_argument("--out", metavar="REPORT",
                   help="also write the report to this file (format from its extension: .json, .md, .html, else text)")
    p.add_argument("--rto", metavar="DURATION",
                   help="target recovery time objective (e.g. 30m, 1h): each group and VM is shown within or over it")
    p.add_argument("--verify-command", metavar="CMD",
                   help="a check run locally per VM after the failover, e.g. \"./check.sh {test_vm}\"; exit 0 = passed")
    p.add_argument("--test-network", metavar="NAME", help="a network of target.networks instead of target.testNetwork")


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from reconciler.errors import UsageError
    from reconciler.ops import OpsContext, ensure_can_confirm, render_drill, run_drill, select_targets

    rto = None
    if args.rto is not None:
        from reconciler.ops import parse_duration

        try:
            rto = parse_duration(args.rto)
        except ValueError as exc:
            raise UsageError(f"--rto: {exc}") from None
    if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        raise UsageError(f"--out {args.out}: the directory {os.path.dirname(args.out) or '.'} does not exist")
    ctx = OpsContext.load(args.file, settings=getattr(args, "settings", None))
    if args.format != "text":
        ctx.out = sys.stderr  # progress on stderr; stdout carries only the JSON / Markdown report
    select_targets(ctx.manifest, vms=None, recovery_plan=args.recovery_plan, file=ctx.file)
    ensure_can_confirm(args.yes)
    rep = run_drill(ctx, args.recovery_plan, yes=args.yes, verify_command=args.verify_command,
                    test_network=args.test_network)
    ctx.say("")
    ext = os.path.splitext(args.out)[1].lower() if args.out else ""
    out_fmt = ("json" if ext == ".json" else "markdown" if ext in (".md", ".markdown")
               else "html" if ext in (".html", ".htm") else "text")
    html_page = None
    if "html" in (args.format, out_fmt if args.out else None):
        html_page = _html(ctx, rep, rto)
    print(html_page if args.format == "html" else render_drill(rep, args.format), flush=True)
    if args.out:
        fmt = out_fmt
        if fmt == "html":
            assert html_page is not None  # made above whenever --out names an .html file
            text = html_page
        else:
            text = render_drill(rep, fmt)
        try:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            raise UsageError(f"--out {args.out}: {exc.strerror}; the report is printed above") from None
        print(f"Report written to {args.out}", file=sys.stderr if args.format != "text" else sys.stdout)
    return 0 if rep.ok else 1


def _html(ctx, rep, rto):
    """The HTML page: the report plus the jobs' task timeline (one GET per job) and who ran it."""
    from reconciler.ops import drill_html, job_timeline, run_by

    try:
        timeline = job_timeline(ctx.clients, ctx.resource_group, ctx.vault,
                                [("test failover", rep.failover_job), ("cleanup", rep.cleanup_job)])
    except Exception as exc:  # the report stands without the task detail
        ctx.say(f"note: the job timeline could not be read ({type(exc).__name__}); the page shows the report's times")
        timeline = None
    return drill_html(rep, rto_seconds=rto, timeline=timeline, who=run_by(ctx.clients))

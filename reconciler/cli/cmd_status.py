"""Protection state, health and RPO of every declared VM (and of undeclared protected
items, marked unmanaged), plus the registration of VMM servers and Hyper-V hosts.

With --check, exits 2 when any declared VM is not protected, not healthy or over its
RPO threshold, or a declared server is not connected: for monitoring. The threshold
is --max-rpo, by default twice the replication frequency of the VM's policy. Vault
settings that leave it exposed (public network access with no Site Recovery private
endpoint, no alerts) are warnings; they fail --check only with --strict-security.
Exit status: 0 ok, 2 check failed (only with --check), 1 error.
"""

from __future__ import annotations

import argparse

EPILOG = """examples:
  asr status examples/quickstart.yaml
  asr status examples/quickstart.yaml --check --max-rpo 15m     # for monitoring
  asr status examples/quickstart.yaml --format json
  asr status examples/quickstart.yaml --format html > status.html

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("file", metavar="FILE", help="the manifest")
    p.add_argument("--format", choices=["text", "json", "html"], default="text",
                   help="output format (default text); html: one self-contained page (protection state and RPO)")
    p.add_argument("--check", action="store_true",
                   help="exit 2 when a declared VM is unprotected, unhealthy or over the RPO threshold")
    p.add_argument("--strict-security", action="store_true",
                   help="with --check, also exit 2 on vault security warnings (public access without a private "
                        "endpoint, no alerts)")
    p.add_argument("--max-rpo", metavar="DURATION",
                   help="RPO threshold for --check: seconds, or 15m / 1h (default: twice the policy's frequency)")


def run(args: argparse.Namespace) -> int:
    import json

    from reconciler.errors import UsageError
    from reconciler.ops import OpsContext, parse_duration, read_status
    from reconciler.ops import render_status_text as render_text

    max_rpo = None
    if args.max_rpo is not None:
        try:
            max_rpo = parse_duration(args.max_rpo)
        except ValueError as exc:
            raise UsageError(f"--max-rpo: {exc}") from None
    ctx = OpsContext.load(args.file, settings=getattr(args, "settings", None))
    import sys

    from reconciler.azure import heartbeat

    with heartbeat(lambda: f"reading the state of vault {ctx.vault}", every=getattr(getattr(ctx.clients, "config", None), "progress_interval", 30.0),
                   counter=getattr(ctx.clients, "counter", None), say=lambda line: print(line, file=sys.stderr, flush=True)):
        rep = read_status(ctx, max_rpo=max_rpo, strict_security=getattr(args, "strict_security", False))
    if args.format == "json":
        ctx.say(json.dumps(rep.as_dict(), indent=2))
    elif args.format == "html":
        from reconciler.ops import run_by, status_html

        ctx.say(status_html(rep, who=run_by(ctx.clients)))
    else:
        ctx.say(render_text(rep))
    if args.check and not rep.ok:
        return 2
    return 0

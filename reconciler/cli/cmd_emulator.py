"""The local HTTPS Azure Resource Manager emulator with a simulated on-premises estate.

`asr emulator serve` prints `export NAME=VALUE` lines (ASR_ARM_ENDPOINT,
ASR_CA_BUNDLE, IDENTITY_ENDPOINT, IDENTITY_HEADER, AZURE_TOKEN_CREDENTIALS) and a
`# asr emulator ready` comment on stdout, then serves until stopped (Ctrl-C).
"""

from __future__ import annotations

import argparse
import re
import sys

EPILOG = """examples:
  asr emulator serve > emulator.env &
  until grep -q ready emulator.env; do sleep 0.2; done
  . ./emulator.env                                   # asr now talks to the emulator
  asr emulator serve --time-scale 600 --faults throttle=0.2,seed=7

Reference: docs/emulator.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="emulator_command", required=True, metavar="COMMAND")
    s = sub.add_parser("serve", help="serve until stopped", description="Serve the emulator on loopback until stopped (Ctrl-C).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--estate", metavar="FILE", help="estate file (default: the quickstart estate)")
    s.add_argument("--port", type=int, default=0, help="HTTPS port on 127.0.0.1 (0: a free port)")
    s.add_argument("--faults", metavar="SPEC", help="e.g. throttle=0.2,error=0.05,latency=50ms,jobfail=0.02,seed=7")
    s.add_argument("--arm-limits", action="store_true", help="enforce ARM's per-subscription token buckets")
    s.add_argument("--time-scale", type=float, default=1.0, metavar="N", help="simulated time runs N times faster")
    s.add_argument("--page-size", type=int, default=None, metavar="N", help="items per page of every list (default 100)")
    s.add_argument("--log-requests", action="store_true", help="one line per ARM request on stderr (method, path, status, error code)")


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError

    if args.emulator_command != "serve":  # pragma: no cover - argparse enforces it
        raise UsageError(f"unknown emulator command {args.emulator_command!r}")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port: {args.port} is not a TCP port")
    from reconciler.cli.common import require_emulator_extra

    require_emulator_extra()
    from reconciler.emulator import ServeError, serve

    try:
        return serve(
            port=args.port,
            estate_path=args.estate,
            faults_spec=args.faults,
            arm_limits=args.arm_limits,
            time_scale=args.time_scale,
            page_size=args.page_size,
            log_requests=args.log_requests,
        )
    except ServeError as exc:
        text = str(exc)
        # estate problems arrive already formatted as `FILE:LINE:COL: error: path: message`
        if all(re.match(r"^\S.*?: error: ", line) for line in text.splitlines() if line):
            print(text, file=sys.stderr)
            return 1
        raise UsageError(text) from None
    except KeyboardInterrupt:
        return 0

"""Try asr without Azure: start an embedded emulator (a local HTTPS Azure Resource
Manager endpoint with a simulated VMM estate), then run against it, exactly as you
would against Azure:

  asr validate FILE
  asr plan FILE
  asr apply FILE --auto-approve
  asr plan FILE --detailed-exitcode     (expected: no changes)
  asr status FILE

Simulated time runs fast (--time-scale) so initial replication completes in
seconds. The emulator stops when the demo ends; to keep one running, use
`asr emulator serve` and eval its export lines.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

EPILOG = """examples:
  asr demo                                           # the quickstart (what `make demo` runs)
  asr demo examples/hyperv-site.yaml --time-scale 1200"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", nargs="?", default="examples/quickstart.yaml", help="example manifest (default: the quickstart)")
    p.add_argument("--estate", help="emulator estate file (default: examples/estates/<name of FILE>, else the built-in one)")
    p.add_argument("--time-scale", type=float, default=600.0, help="simulated seconds per real second (default 600)")


def _banner(text: str) -> None:
    print(f"\n$ {text}", flush=True)


def run(args: argparse.Namespace) -> int:
    from reconciler.cli.common import require_emulator_extra
    from reconciler.cli.main import main as asr_main

    require_emulator_extra()
    from reconciler.emulator import EmulatorProcess
    from reconciler.errors import UsageError

    manifest = args.file
    if not os.path.exists(manifest):
        raise UsageError(f"{manifest}: no such file", hint="run `make demo` from the repository root, or pass an example path")
    estate = args.estate
    if estate is None:
        guess = os.path.join(os.path.dirname(manifest) or ".", "estates", os.path.basename(manifest))
        estate = guess if os.path.exists(guess) else None

    emu_args = ["--time-scale", str(args.time_scale)]
    if estate:
        emu_args += ["--estate", estate]
    print(f"Starting the embedded emulator (estate: {estate or 'built-in quickstart'}, time scale {args.time_scale:g}x)...", flush=True)
    with EmulatorProcess(args=emu_args) as emu:
        saved = {k: os.environ.get(k) for k in emu.env}
        os.environ.update(emu.env)
        print(f"Azure Resource Manager endpoint: {emu.env.get('ASR_ARM_ENDPOINT')}", flush=True)
        try:
            steps = [
                ["validate", manifest],
                ["plan", manifest],
                ["apply", manifest, "--auto-approve"],
                ["plan", manifest, "--detailed-exitcode"],
                ["status", manifest],
            ]
            for step in steps:
                _banner("asr " + " ".join(step))
                t0 = time.monotonic()
                rc = asr_main(step)
                sys.stdout.flush()
                sys.stderr.flush()
                if step[0] == "plan" and "--detailed-exitcode" in step:
                    if rc == 0:
                        print("(no changes: the live state matches the manifest)")
                    elif rc == 2:
                        print("error: the second plan still shows changes; apply did not converge", file=sys.stderr)
                        return 1
                if rc not in (0,) and not (step[0] == "plan" and rc == 2):
                    print(f"error: `asr {' '.join(step)}` exited {rc}", file=sys.stderr)
                    return rc
                print(f"({time.monotonic() - t0:.1f} s)", flush=True)
            stats = emu.stats()
            print(f"\nDemo complete. The emulator served {stats.get('requests')} ARM requests ({stats.get('writes')} writes).")
            print("Next: keep an emulator running (`asr emulator serve --time-scale 600`, eval its export lines), apply the")
            print("quickstart, then rehearse a failover with `asr drill examples/quickstart.yaml --recovery-plan tier1`;")
            print("README \"Use it\" and docs/operations.md walk through it.")
            return 0
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

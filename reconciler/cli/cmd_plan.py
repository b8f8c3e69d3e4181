"""Read the live Azure state, diff it against the manifest and print the ordered actions.

FILE is one manifest; DIR plans every asr/v1 manifest under it, concurrently, with
one combined summary. With --detailed-exitcode: 0 no changes, 2 changes, 1 error.
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from reconciler.cli.common import add_target_arguments, load_manifest, targets_of
from reconciler.cli.common import use_color as _use_color  # tests call cmd_plan._use_color

EPILOG = """examples:
  asr plan examples/quickstart.yaml
  asr plan examples/quickstart.yaml --out tfplan.json      # review it, then `asr apply tfplan.json`
  asr plan examples/quickstart.yaml --format markdown > plan.md   # a pull-request comment
  asr plan examples/quickstart.yaml --detailed-exitcode    # 0 no changes, 2 changes
  asr plan manifests/ --out plans/                         # every manifest of a folder
  asr plan examples/quickstart.yaml --vm sql01 --out sql01.json   # only sql01 and what it needs

Show a saved plan again (no Azure call): asr show tfplan.json"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE|DIR", help="a manifest, or a folder: every asr/v1 manifest under it")
    p.add_argument("--out", metavar="PLAN",
                   help="save the plan (JSON, with fingerprints) for `asr apply PLAN`; with DIR, a folder that "
                        "receives one <manifest>.plan.json per manifest")
    p.add_argument("--format", choices=["text", "json", "markdown"], default="text",
                   help="text (default, for people), json (docs/plan-json.md, for programs) or markdown "
                        "(a pull-request comment)")
    p.add_argument("--detailed-exitcode", action="store_true",
                   help="exit 0 when there are no changes, 2 when there are, 1 on error")
    add_target_arguments(p)


def plan_file(path: str, manifest: Any = None, targets: list[str] | None = None, settings: Any = None) -> Any:
    """Load, read live state and plan one manifest (only `targets` and what they need,
    when given). Raises AsrError subclasses."""
    from reconciler.azure import Clients, azure_errors, heartbeat
    from reconciler.live import read_live_state
    from reconciler.plan import make_plan

    manifest = manifest if manifest is not None else load_manifest(path)
    clients = Clients(manifest.subscription, settings=settings)
    try:
        with azure_errors(f"read live state of vault {manifest.vault.name}"), heartbeat(
                lambda: f"reading the live state of vault {manifest.vault.name} from {clients.settings.endpoint}",
                every=clients.config.progress_interval, counter=clients.counter,
                say=lambda line: print(line, file=sys.stderr, flush=True)):
            live = read_live_state(clients, manifest)
    finally:
        clients.close()
    plan = make_plan(manifest, live, path)
    if targets:
        from reconciler.plan import restrict

        restrict(plan, targets)
    return plan


def _quiet_sdk_logs() -> None:
    """azure-identity logs every credential it tries at WARNING; errors are reported by us, once."""
    import logging

    for name in ("azure", "azure.identity", "azure.core"):
        logging.getLogger(name).setLevel(logging.ERROR)


def run(args: argparse.Namespace) -> int:
    _quiet_sdk_logs()
    from reconciler.errors import UsageError
    from reconciler.plan import render, save_plan

    path = args.file
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such file or directory")
    if os.path.isdir(path):
        if targets_of(args):
            raise UsageError("--target and --vm take one manifest, not a folder")
        return _run_dir(args)
    plan = plan_file(path, targets=targets_of(args), settings=getattr(args, "settings", None))
    out = sys.stdout
    out.write(render(plan, args.format, color=args.format == "text" and _use_color(out)))
    if args.out:
        try:
            save_plan(plan, args.out)
        except OSError as exc:
            raise UsageError(f"{args.out}: cannot write the plan: {exc.strerror or exc}") from exc
        if args.format == "text":
            print(f"\nSaved the plan to {args.out}; apply exactly these actions with `asr apply {args.out}`.", file=out)
    if args.detailed_exitcode:
        return 2 if plan.has_changes else 0
    return 0


def _run_dir(args: argparse.Namespace) -> int:
    from reconciler.errors import AsrError, ManifestError, UsageError
    from reconciler.manifest import find_manifests
    from reconciler.plan import plan_document, render, save_plan

    paths = find_manifests([args.file])
    if not paths:
        raise UsageError(f"{args.file}: no asr/v1 manifests found")
    if args.out:
        os.makedirs(args.out, exist_ok=True)

    def one(p: str) -> tuple[str, Any, AsrError | None]:
        try:
            return p, plan_file(p, settings=getattr(args, "settings", None)), None
        except AsrError as err:
            return p, None, err

    with ThreadPoolExecutor(max_workers=min(4, len(paths)), thread_name_prefix="asr-plan") as pool:
        results = list(pool.map(one, paths))
    out = sys.stdout
    color = args.format == "text" and _use_color(out)
    errors = 0
    changed = 0
    docs: list[dict] = []
    totals = {"add": 0, "change": 0, "replace": 0, "destroy": 0, "manual": 0, "blocked": 0, "await": 0}
    for p, plan, err in results:
        if err is not None:
            errors += 1
            if not (isinstance(err, ManifestError) and err.diagnostics):
                print(f"error: {p}: {err.message}", file=sys.stderr)
                if err.hint:
                    print(f"hint: {err.hint}", file=sys.stderr)
            continue
        if args.format == "json":
            docs.append(plan_document(plan))
        else:
            if args.format == "text":
                out.write(f"=== {p}\n")
            out.write(render(plan, args.format, color=color))
            out.write("\n")
        if plan.has_changes:
            changed += 1
        for k, v in plan.summary().items():
            totals[k] = totals.get(k, 0) + v
        if args.out:
            base = os.path.splitext(os.path.basename(p))[0]
            save_plan(plan, os.path.join(args.out, f"{base}.plan.json"))
    if args.format != "json":
        extra = [f"{totals['manual']} manual"] if totals["manual"] else []
        if totals["blocked"]:
            extra.append(f"{totals['blocked']} blocked")
        if totals["await"]:
            extra.append(f"{totals['await']} to await")
        line = (f"All {len(paths)} manifests: {totals['add']} to add, {totals['change']} to change, "
                f"{totals['replace']} to replace, {totals['destroy']} to destroy"
                + (f" ({', '.join(extra)})" if extra else "") + f"; {errors} failed.")
        print(line, file=out)
    if args.format == "json":
        import json

        doc = {"format": "asr-plan-set", "plans": docs, "summary": totals,
               "failed": [{"manifest_path": p, "error": e.message} for p, _, e in results if e is not None]}
        out.write(json.dumps(doc, indent=2, default=str) + "\n")
    if errors:
        return 1
    if args.detailed_exitcode:
        return 2 if changed else 0
    return 0

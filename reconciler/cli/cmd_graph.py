"""Print the dependency graph of a manifest or of a saved plan, as Mermaid or
Graphviz DOT. An arrow goes from what is needed to what needs it: the order
`asr apply` follows (independent objects run in parallel).

FILE (a manifest): every declared object and its dependencies, offline (no Azure call).
PLAN (a file written by `asr plan --out`): the plan's objects, each with its action
(+ create, ~ update, -/+ replace, - destroy, ! manual step, = unchanged).
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  asr graph examples/quickstart.yaml                         # Mermaid, paste into Markdown
  asr graph examples/quickstart.yaml --format dot | dot -Tsvg > graph.svg
  asr graph tfplan.json                                      # a saved plan, with actions"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FILE|PLAN", help="a manifest, or a plan saved with `asr plan --out`")
    p.add_argument("--format", choices=["mermaid", "dot"], default="mermaid",
                   help="mermaid (default; GitHub and Azure DevOps render it) or dot (Graphviz)")


def run(args: argparse.Namespace) -> int:
    from reconciler.cli.cmd_apply import _is_saved_plan
    from reconciler.cli.common import load_manifest
    from reconciler.errors import UsageError
    from reconciler.plan import load_plan, render_graph

    try:
        with open(args.file, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as exc:
        raise UsageError(f"{args.file}: cannot read: {exc.strerror or exc}") from exc
    if _is_saved_plan(text) is not None:
        changes, actions = load_plan(args.file).changes, True
    else:
        changes, actions = manifest_graph(load_manifest(args.file), args.file), False
    sys.stdout.write(render_graph(changes, args.format, actions=actions))
    return 0


def manifest_graph(manifest, path: str) -> list:
    """Every declared object with its dependencies: the plan against an empty
    subscription, which only the manifest decides (no Azure call)."""
    from reconciler.live import LiveState
    from reconciler.plan import make_plan

    live = LiveState(subscription=manifest.subscription, resource_group=manifest.vault.resource_group,
                     vault_name=manifest.vault.name, target_resource_group=manifest.target.resource_group)
    return make_plan(manifest, live, path).changes

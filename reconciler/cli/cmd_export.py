"""Write a manifest for an existing vault (to stdout, or --out FILE). The manifest is
valid and `asr plan` of it shows no changes right away: the vault, its VMM servers
and Hyper-V sites with their clouds, policies and network mappings, the storage
accounts and virtual networks of the target resource group, the protected VMs and
the recovery plans.
"""

from __future__ import annotations

import argparse

EPILOG = """examples:
  asr export --subscription 00000000-0000-0000-0000-000000000001 --resource-group contoso-dr-rg \\
             --vault contoso-asr-vault --out contoso.yaml

How-to: docs/operations.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = EPILOG
    p.add_argument("--subscription", required=True, help="subscription id of the vault")
    p.add_argument("--resource-group", required=True, help="resource group of the vault")
    p.add_argument("--vault", required=True, help="Recovery Services vault name")
    p.add_argument("--out", metavar="FILE", help="write the manifest to FILE instead of stdout")


def run(args: argparse.Namespace) -> int:
    import os
    import sys

    from reconciler.azure import Clients
    from reconciler.errors import UsageError

    if args.out and not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        raise UsageError(f"--out {args.out}: the directory {os.path.dirname(args.out) or '.'} does not exist")
    from reconciler.ops import export

    result = export(Clients(args.subscription, settings=getattr(args, "settings", None)), args.subscription,
                    args.resource_group, args.vault)
    for w in result.warnings:
        print(f"warning: {w}", file=sys.stderr)
    text = result.text
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"Manifest written to {args.out}; check it with `asr validate {args.out}` and `asr plan {args.out}`.",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0

"""Check manifests offline: YAML, schema, references, Azure naming rules.

Every FILE is validated; a DIR contributes every *.yaml / *.yml under it that
declares `apiVersion: asr/v1`. Text output: "FILE: valid" on stdout for each
valid file, diagnostics as FILE:LINE:COL: error: path: message on stderr.
Machine formats (json, sarif, github) write everything to stdout.
Exit status 0 when every file is valid (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  asr validate examples/quickstart.yaml
  asr validate examples/                        # every asr/v1 manifest under a folder
  asr validate manifests/ --format sarif > asr.sarif
  asr validate --only-manifests $(git diff --name-only)   # a pre-commit hook

Manifest reference: docs/manifest-reference.md"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", metavar="FILE|DIR", help="manifests, or folders searched for asr/v1 manifests")
    p.add_argument("--format", choices=["text", "json", "sarif", "github"], default="text",
                   help="output format (default: text)")
    p.add_argument("--only-manifests", action="store_true",
                   help="skip named files that do not declare apiVersion: asr/v1 (for pre-commit hooks)")


def run(args: argparse.Namespace) -> int:
    from reconciler.manifest import find_manifests, print_diagnostics, render, validate_file

    files = find_manifests(args.files, only_manifests=args.only_manifests)
    all_diags = []
    ok = True
    for f in files:
        _, diags = validate_file(f)
        valid = not any(d.is_error for d in diags)
        ok = ok and valid
        all_diags.extend(diags)
        if args.format == "text":
            if diags:
                print_diagnostics(diags, "text", sys.stderr)
            if valid:
                warn = sum(1 for d in diags if not d.is_error)
                suffix = f" ({warn} warning{'s' if warn != 1 else ''})" if warn else ""
                print(f"{f}: valid{suffix}", flush=True)
    if args.format != "text":
        sys.stdout.write(render(all_diags, args.format, files=files))
        sys.stdout.flush()
    return 0 if ok else 1

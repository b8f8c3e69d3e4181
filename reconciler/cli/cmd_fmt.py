"""Rewrite manifests in the canonical layout, like `terraform fmt`: two-space indents,
list items indented under their key, one space after `:`, a final newline. Comments,
blank lines, key order, quoting and flow-style `{...}` mappings are kept as written;
the data never changes (checked: the file is parsed before and after, and a rewrite
that would change a value is refused).

FILE is formatted as given; a DIR contributes every asr/v1 manifest under it.
With --check nothing is written: exit 1 when a file needs formatting (for CI and
pre-commit hooks). Exit status 0 formatted (or already), 1 otherwise.
"""

from __future__ import annotations

import argparse
import difflib
import io
import os
import sys

EPILOG = """examples:
  asr fmt examples/quickstart.yaml
  asr fmt manifests/                         # every asr/v1 manifest under a folder
  asr fmt --check --diff manifests/          # CI: list and show what is not formatted, change nothing"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", default=["."], metavar="FILE|DIR",
                   help="manifests, or folders searched for asr/v1 manifests (default: the current folder)")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is not formatted")
    p.add_argument("--diff", action="store_true", help="print a unified diff of the changes")


def format_text(text: str) -> str:
    """The canonical layout of one manifest's YAML text (ruamel.yaml round trip)."""
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never fold long lines
    y.indent(mapping=2, sequence=4, offset=2)
    buf = io.StringIO()
    docs = list(y.load_all(text))
    if len(docs) == 1:
        y.dump(docs[0], buf)
    else:
        y.explicit_start = True
        y.dump_all(docs, buf)
    out = buf.getvalue()
    return out if out.endswith("\n") else out + "\n"


def _same_data(a: str, b: str) -> bool:
    import yaml

    return list(yaml.safe_load_all(a)) == list(yaml.safe_load_all(b))


def run(args: argparse.Namespace) -> int:
    from reconciler.errors import UsageError
    from reconciler.manifest import find_manifests

    files = find_manifests(args.files)
    changed, failed = [], 0
    for f in files:
        try:
            with open(f, encoding="utf-8") as fh:
                before = fh.read()
        except OSError as exc:
            print(f"error: {f}: cannot read: {exc.strerror or exc}", file=sys.stderr)
            failed += 1
            continue
        try:
            after = format_text(before)
        except Exception as exc:  # ruamel's YAML errors: say where, never a traceback
            mark = getattr(exc, "problem_mark", None)
            where = f"{f}:{mark.line + 1}:{mark.column + 1}" if mark is not None else f
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            print(f"{where}: error: not valid YAML: {problem}; run `asr validate {f}`", file=sys.stderr)
            failed += 1
            continue
        if after == before:
            continue
        if not _same_data(before, after):
            print(f"error: {f}: formatting would change its data; left as it is (please report it)", file=sys.stderr)
            failed += 1
            continue
        changed.append(f)
        if args.diff:
            sys.stdout.writelines(difflib.unified_diff(before.splitlines(True), after.splitlines(True),
                                                       f"{f} (as written)", f"{f} (formatted)"))
        if args.check:
            print(f"{f}: not formatted", file=sys.stderr)
            continue
        tmp = f"{f}.asr-fmt.{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(after)
            os.replace(tmp, f)
        except OSError as exc:
            raise UsageError(f"{f}: cannot write: {exc.strerror or exc}") from None
        print(f)
    if failed:
        return 1
    if args.check and changed:
        print(f"{len(changed)} of {len(files)} manifest(s) not formatted; `asr fmt` rewrites them", file=sys.stderr)
        return 1
    return 0

"""`asr` entry point: builds the argparse tree from the command modules and maps
errors to exit statuses. Nothing here knows about Azure."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from reconciler import __version__
from reconciler.cli.settings import AZURE_COMMANDS
from reconciler.cli.settings import add_arguments as add_settings_arguments
from reconciler.cli.settings import from_args as settings_from_args
from reconciler.errors import AsrError, ManifestError

# name -> (module, one-line help). Order is the order in `asr --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("reconciler.cli.cmd_validate", "check manifests offline"),
    "fmt": ("reconciler.cli.cmd_fmt", "rewrite manifests in the canonical layout, comments kept (--check for CI)"),
    "plan": ("reconciler.cli.cmd_plan", "read live state and print the ordered actions"),
    "apply": ("reconciler.cli.cmd_apply", "carry out a plan (from a manifest or a saved plan)"),
    "force-unlock": ("reconciler.cli.cmd_force_unlock", "remove the lock an apply left on a vault (names the holder)"),
    "show": ("reconciler.cli.cmd_show", "render a saved plan again (no Azure call)"),
    "graph": ("reconciler.cli.cmd_graph", "print the dependency graph of a manifest or a saved plan (Mermaid, DOT)"),
    "status": ("reconciler.cli.cmd_status", "protection state, health and RPO of every VM"),
    "failover": ("reconciler.cli.cmd_failover", "test / planned / unplanned failover, commit, cleanup"),
    "reprotect": ("reconciler.cli.cmd_reprotect", "reverse replication after a failover"),
    "failback": ("reconciler.cli.cmd_failback", "planned failover back to the primary site, then reprotect"),
    "drill": ("reconciler.cli.cmd_drill", "DR drill: test failover, verify, clean up, report"),
    "repair": ("reconciler.cli.cmd_repair", "resynchronise a VM's replication or resolve its health errors"),
    "recovery-points": ("reconciler.cli.cmd_recovery_points", "recovery points of a VM, newest first"),
    "jobs": ("reconciler.cli.cmd_jobs", "Site Recovery jobs, what a suspended job waits for; resume, restart, cancel"),
    "vault-credentials": ("reconciler.cli.cmd_vault_credentials", "write the registration kit for VMM servers and Hyper-V hosts"),
    "export": ("reconciler.cli.cmd_export", "write a manifest for an existing vault"),
    "emulator": ("reconciler.cli.cmd_emulator", "run the local Azure Resource Manager emulator"),
    "demo": ("reconciler.cli.cmd_demo", "validate, plan, apply and re-plan an example against an embedded emulator"),
    "completion": ("reconciler.cli.cmd_completion", "print a shell completion script (bash, zsh, fish)"),
}


EPILOG = """examples:
  asr validate examples/quickstart.yaml
  asr plan examples/quickstart.yaml --out tfplan.json
  asr apply tfplan.json
  asr <command> --help          # every command's options and examples

Colour is off with --no-color, NO_COLOR=1 or TERM=dumb; --yes and --auto-approve are the same flag."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="asr",
        description="Infrastructure-as-code for Azure Site Recovery: Hyper-V and VMM to Azure.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"asr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (modname, help_text) in COMMANDS.items():
        mod = importlib.import_module(modname)
        p = sub.add_parser(name, help=help_text, description=(mod.__doc__ or help_text).strip(),
                           epilog=getattr(mod, "EPILOG", None), formatter_class=argparse.RawDescriptionHelpFormatter)
        mod.add_arguments(p)
        if name not in ("completion", "emulator"):  # the emulator logs with --log-requests
            from reconciler.cli.common import add_no_color_argument

            add_no_color_argument(p)
            p.add_argument("--debug", action="store_true",
                           help="log every HTTP request and response to stderr, secrets redacted (also ASR_LOG=debug)")
        if name in AZURE_COMMANDS:
            add_settings_arguments(p)
        p.set_defaults(_run=mod.run, _command=name)
    return parser


class _Parser(argparse.ArgumentParser):
    pass


def _print_error(err: AsrError) -> None:
    if isinstance(err, ManifestError) and err.diagnostics:
        # diagnostics were already printed by the command
        return
    print(f"error: {err.message}", file=sys.stderr)
    if err.hint:
        print(f"hint: {err.hint}", file=sys.stderr)
    if os.environ.get("ASR_DEBUG"):
        _print_debug(err)


def _print_debug(err: AsrError) -> None:
    """ASR_DEBUG=1: the error's own detail lines, then the chain of underlying exceptions (redacted)."""
    from reconciler.azure import redact

    for line in err.debug:
        print(f"debug: {line}", file=sys.stderr)
    cause = err.__cause__
    seen: set[int] = set()
    while cause is not None and id(cause) not in seen and len(seen) < 5:
        seen.add(id(cause))
        text = " | ".join(str(cause).strip().splitlines()[:6])[:600]
        print(f"debug: caused by {type(cause).__module__}.{type(cause).__name__}: {redact(text)}", file=sys.stderr)
        cause = cause.__cause__ or cause.__context__


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2; the contract says 1
        code = exc.code if isinstance(exc.code, int) else 1
        return 0 if code == 0 else 1
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return 1
    no_color_was, log_was = os.environ.get("NO_COLOR"), os.environ.get("ASR_LOG")
    if getattr(args, "no_color", False):
        os.environ["NO_COLOR"] = "1"  # one switch for every renderer (ours, rich's, the diagnostics')
    if getattr(args, "debug", False):
        os.environ["ASR_LOG"] = "debug"  # read where the SDK clients are built (reconciler/azure/clients.py)
    try:
        if getattr(args, "_command", None) in AZURE_COMMANDS:
            args.settings = settings_from_args(args)  # a bad value: error naming it, exit 1
        return int(args._run(args) or 0)
    except AsrError as err:
        _print_error(err)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:  # never a traceback for users; ASR_DEBUG=1 shows it
        if os.environ.get("ASR_DEBUG"):
            raise
        print(f"error: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("hint: re-run with ASR_DEBUG=1 for details and report it", file=sys.stderr)
        return 1
    finally:
        for flag, name, was in (("no_color", "NO_COLOR", no_color_was), ("debug", "ASR_LOG", log_was)):
            if getattr(args, flag, False):
                if was is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = was


def entry() -> None:  # pragma: no cover
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

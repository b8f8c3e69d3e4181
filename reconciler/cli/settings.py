"""Flags shared by the commands that talk to Azure, and the one place the
`Settings` value is built: flags, then the environment, then the defaults."""

from __future__ import annotations

import argparse
import os

from reconciler.settings import SETTINGS, Settings

# commands that reach Azure (or wait for it) get the settings flags
AZURE_COMMANDS = frozenset({"plan", "apply", "status", "failover", "reprotect", "failback", "drill",
                            "vault-credentials", "export", "jobs", "recovery-points", "repair"})


def add_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("timeouts (also from the environment; see docs/settings.md)")
    for s in SETTINGS:
        if s.flag:
            g.add_argument(s.flag, dest=f"setting_{s.field}", metavar="SECONDS", default=None,
                           help=f"{s.meaning} (default {s.default:g} s; {s.env})")


def from_args(args: argparse.Namespace) -> Settings:
    flags = {s.field: getattr(args, f"setting_{s.field}", None) for s in SETTINGS if s.flag}
    return Settings.load(env=os.environ, flags=flags)

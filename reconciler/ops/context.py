"""Shared plumbing of the day-2 commands: the manifest, the clients, target selection
and the confirmation prompt.

    ctx = OpsContext.load("examples/quickstart.yaml")
    targets = select_targets(ctx.manifest, vms=["sql01"], recovery_plan=None, file=ctx.file)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from reconciler.errors import UsageError
from reconciler.ops.states import NotInManifestError


def load_manifest_file(path: str) -> Any:
    """The validated manifest (FILE:LINE:COL diagnostics on bad input come from the loader)."""
    from reconciler.errors import ManifestError
    from reconciler.manifest import load_manifest, print_diagnostics  # the manifest layer's public API

    try:
        return load_manifest(path)
    except ManifestError as err:
        if err.diagnostics:  # FILE:LINE:COL lines on stderr; cli/main.py then prints nothing more
            print_diagnostics(err.diagnostics, stream=sys.stderr)
        raise


@dataclass
class OpsContext:
    file: str
    manifest: Any  # reconciler.manifest.models.Manifest
    clients: Any  # reconciler.azure.clients.Clients
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)

    @classmethod
    def load(cls, path: str, *, clients: Any = None, settings: Any = None) -> OpsContext:
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such file")
        manifest = load_manifest_file(path)
        if clients is None:
            from reconciler.azure.clients import Clients

            clients = Clients(manifest.subscription, settings=settings)
        return cls(file=path, manifest=manifest, clients=clients)

    @property
    def resource_group(self) -> str:
        return self.manifest.vault.resource_group

    @property
    def vault(self) -> str:
        return self.manifest.vault.name

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)


@dataclass
class Targets:
    """What a failover-family command acts on: VMs (in order) and, for
    --recovery-plan, the plan and its groups."""

    vms: list[str]
    recovery_plan: str | None = None
    groups: list[list[str]] = field(default_factory=list)


def select_targets(manifest: Any, *, vms: list[str] | None, recovery_plan: str | None, file: str) -> Targets:
    """Resolve --vm / --recovery-plan against the manifest; names not declared are
    refused (all of them at once) before anything is read from Azure."""
    vms = list(vms or [])
    if vms and recovery_plan:
        raise UsageError("give either --vm or --recovery-plan, not both")
    if not vms and not recovery_plan:
        raise UsageError("nothing selected: give --vm NAME (repeatable) or --recovery-plan NAME")
    declared = {v.name.lower(): v.name for v in manifest.protected_vms}
    if recovery_plan:
        plans = {p.name.lower(): p for p in manifest.recovery_plans}
        plan = plans.get(recovery_plan.lower())
        if plan is None:
            known = ", ".join(p.name for p in manifest.recovery_plans) or "none"
            raise NotInManifestError(
                f"recovery plan {recovery_plan!r} is not declared in {file} (declared: {known})",
            )
        groups = [[declared.get(n.lower(), n) for n in g.vms] for g in plan.groups]
        ordered = [n for g in groups for n in g]
        return Targets(vms=ordered, recovery_plan=plan.name, groups=groups)
    missing = [n for n in vms if n.lower() not in declared]
    if missing:
        known = ", ".join(v.name for v in manifest.protected_vms) or "none"
        names = ", ".join(missing)
        raise NotInManifestError(
            f"{'VM' if len(missing) == 1 else 'VMs'} not in {file}: {names} (declared: {known})",
            hint="day-2 commands act only on VMs the manifest declares under protectedVMs",
        )
    seen: list[str] = []
    for n in vms:
        canon = declared[n.lower()]
        if canon not in seen:
            seen.append(canon)
    return Targets(vms=seen, groups=[seen])


def ensure_can_confirm(yes: bool, *, stdin: TextIO | None = None, isatty: Callable[[], bool] | None = None) -> None:
    """Refuse up front (before reading Azure) when a confirmation will be impossible."""
    if yes:
        return
    stdin = stdin or sys.stdin
    tty = isatty() if isatty else (hasattr(stdin, "isatty") and stdin.isatty())
    if not tty:
        raise UsageError(
            "refusing to continue without confirmation: no terminal to ask on",
            hint="re-run with --yes to confirm non-interactively",
        )


def confirm(question: str, *, yes: bool, stdin: TextIO | None = None, out: TextIO | None = None,
            isatty: Callable[[], bool] | None = None) -> None:
    """Ask on a terminal; --yes skips the question; no terminal and no --yes refuses."""
    if yes:
        return
    stdin = stdin or sys.stdin
    out = out or sys.stderr
    tty = isatty() if isatty else (hasattr(stdin, "isatty") and stdin.isatty())
    if not tty:
        raise UsageError(
            "refusing to continue without confirmation: no terminal to ask on",
            hint="re-run with --yes to confirm non-interactively",
        )
    print(f"{question}\n  Only 'yes' is accepted to continue: ", end="", file=out, flush=True)
    answer = stdin.readline().strip().lower()
    if answer != "yes":
        raise UsageError("cancelled: the answer was not 'yes'")

"""The public surface of every reconciler package (httpx's test_exported_members idea).

Each package's `__init__.py` has an explicit `__all__`; it is pinned here, sorted. A
change to a package's public names changes this test on purpose. Every name in it exists.

`reconciler/cli/` uses only these public names of the other packages (and of the
top-level modules `reconciler.errors` / `reconciler.settings`): `from reconciler.X import Y`
in cli/ needs Y in `reconciler.X.__all__`; importing a submodule `reconciler.X.sub` from
cli/ is refused unless ALLOWED_PRIVATE names it with a reason.
"""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "reconciler"

PUBLIC = {
    "reconciler": ["__version__"],
    "reconciler.apply": ["Applier", "LOCK_TAG", "LeaseInfo", "VaultLock", "actionable", "exit_status", "force_unlock",
                         "make_progress", "refuse_destroy", "render_errors", "render_summary", "strip_lock_tag",
                         "wait_protected"],
    "reconciler.azure": ["Clients", "azure_errors", "heartbeat", "redact", "translate"],
    "reconciler.cli": [],
    "reconciler.emulator": ["EmulatorProcess", "ServeError", "serve"],
    "reconciler.emulator.providers": [],
    "reconciler.emulator.siterecovery": ["SiteRecovery", "attach", "get_sr", "register"],
    "reconciler.errors": ["AsrError", "AuthenticationError", "AuthorizationError", "AzureError", "ConfigurationError",
                          "ConflictError", "ManifestError", "NotFoundError", "OperationFailedError", "PlanMismatchError",
                          "PlanStaleError", "ThrottledError", "UnreachableError", "UsageError", "UserError"],
    "reconciler.kinds": ["CONVERTED", "NOT_CONVERTED", "module"],
    "reconciler.live": ["LiveState", "norm_id", "parse_id", "read_live_state"],
    "reconciler.manifest": ["Diagnostic", "FORMATS", "Manifest", "RULES", "Rule", "find_manifests", "load_manifest",
                            "manifest_fingerprint", "print_diagnostics", "render", "resolve_vm", "validate_file",
                            "validate_text"],
    "reconciler.ops": ["DrillReport", "ItemState", "JOB_ACTIONS", "Kit", "NotInManifestError", "Operation",
                       "OperationNotAllowedError", "OperationResult", "OpsContext", "PlanState", "Proxy",
                       "StatusReport", "Targets", "VmOutcome", "check_allowed", "confirm", "control_job",
                       "drill_html", "ensure_can_confirm", "export", "export_manifest", "job_row", "job_timeline",
                       "list_recovery_points", "list_vault_jobs", "operation_json", "operation_text",
                       "parse_duration", "raise_for", "read_inventory",
                       "read_status", "render_drill", "render_jobs_text", "render_recovery_points_text",
                       "render_status_text", "run_by", "run_change_point", "run_drill", "run_operation", "run_repair", "select_targets",
                       "status_html", "waiting_for", "waiting_line", "write_kit"],
    "reconciler.plan": ["Action", "Change", "Kind", "Plan", "Reason", "Request", "Unmanaged", "check_plan_current",
                        "check_plan_matches", "load_plan", "make_plan", "plan_document", "render", "render_graph",
                        "restrict", "save_plan"],
    "reconciler.plan.render": ["FORMATS", "render", "render_text", "summary_line"],
    "reconciler.settings": ["SETTINGS", "Setting", "Settings", "SettingsError", "format_seconds"],
}

# Submodules the CLI may import directly, and why.
ALLOWED_PRIVATE: dict[str, str] = {}


def _packages() -> list[str]:
    return sorted(".".join(p.parent.relative_to(ROOT.parent).parts) for p in ROOT.rglob("__init__.py"))


def test_every_package_is_pinned():
    assert set(_packages()) <= set(PUBLIC), f"packages without a pinned __all__: {sorted(set(_packages()) - set(PUBLIC))}"


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_exported_members(module):
    mod = importlib.import_module(module)
    assert "__all__" in vars(mod), f"{module} has no explicit __all__"
    assert sorted(mod.__all__) == PUBLIC[module]
    assert len(set(mod.__all__)) == len(mod.__all__), f"{module}.__all__ repeats a name"
    missing = [name for name in mod.__all__ if not hasattr(mod, name)]
    assert not missing, f"{module}.__all__ names what it does not have: {missing}"


@functools.cache
def _cli_imports() -> tuple[tuple[str, int, str, str | None], ...]:
    """(file, line, module, name or None for `import module`) of every reconciler import in cli/,
    module level and function-local alike."""
    out = []
    for path in sorted((ROOT / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("reconciler"):
                out.extend((path.name, node.lineno, node.module or "", a.name) for a in node.names)
            elif isinstance(node, ast.Import):
                out.extend((path.name, node.lineno, a.name, None) for a in node.names if a.name.startswith("reconciler"))
    return tuple(out)  # read once for both checks


def test_cli_uses_only_public_names():
    bad = []
    for file, line, module, name in _cli_imports():
        if module == "reconciler.cli" or module.startswith("reconciler.cli."):
            continue
        if module in ALLOWED_PRIVATE:
            continue
        if module not in PUBLIC:
            bad.append(f"cli/{file}:{line}: imports the internal module {module}")
        elif name is not None and name not in PUBLIC[module]:
            bad.append(f"cli/{file}:{line}: {module}.{name} is not in {module}.__all__")
    assert not bad, "\n".join(bad)


def test_allowed_private_imports_are_still_used():
    used = {module for _, _, module, _ in _cli_imports()}
    assert set(ALLOWED_PRIVATE) <= used, f"no longer imported by cli/, remove: {sorted(set(ALLOWED_PRIVATE) - used)}"


def test_importing_the_lazy_packages_loads_neither_the_sdk_nor_the_emulator_extra():
    """`apply`, `azure` and `emulator` export lazily (reconciler/lazy.py): `asr --help` and
    `asr validate` stay fast and a runtime install without the `emulator` extra works."""
    import subprocess
    import sys

    code = ("import sys, reconciler.apply, reconciler.azure, reconciler.emulator\n"
            "heavy = sorted(m for m in sys.modules if m.startswith(('azure.mgmt', 'azure.identity', 'starlette', 'uvicorn')))\n"
            "assert not heavy, heavy\n"
            "from reconciler.azure import Clients\n"
            "assert 'reconciler.azure.clients' in sys.modules and Clients.__name__ == 'Clients'  # loaded on use\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("package", sorted(PUBLIC))
def test_no_public_name_is_also_a_submodule(package):
    """Importing a submodule sets it as an attribute of its package: a lazily exported public name (a package
    `__getattr__`) that is also a submodule's name would be shadowed by the module once anything imported it
    first (`from reconciler.azure import heartbeat` gave the module). Eager imports in `__init__` rebind it."""
    path = ROOT.parent.joinpath(*package.split("."))
    if not path.is_dir() or "__getattr__" not in vars(importlib.import_module(package)):
        return  # a module, or a package whose names are bound when it is imported
    submodules = {p.stem for p in path.glob("*.py")} | {p.name for p in path.iterdir() if (p / "__init__.py").exists()}
    assert not set(PUBLIC[package]) & submodules, package

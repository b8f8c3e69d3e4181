"""The Site Recovery tree of the emulator (Microsoft.RecoveryServices/vaults/replication*).

    register(routes)        add every Site Recovery route (handlers.py) and the vault hooks
    attach(state, estate)   a fresh SiteRecovery for an EmulatorState (app.install_estate calls it)
    get_sr(state)           the SiteRecovery of a state (created empty if absent)

Modules: ids (ARM ids), jobs (replication jobs, $filter), statemachine (protection and
failover states), model (objects and their REST JSON), service (operations and
validation), handlers (routes), registration (the estate's servers and hosts registering).
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.siterecovery import handlers
from reconciler.emulator.siterecovery.service import KEY, SiteRecovery, attach, get_sr

__all__ = ["SiteRecovery", "attach", "get_sr", "register"]


def _on_vault_created(state: Any, vault: dict) -> None:
    sr = get_sr(state)
    sr.sync()


def _on_vault_deleted(state: Any, vault_id: str) -> None:
    sr = state.extras.get(KEY)
    if sr is not None:
        sr.vaults.pop(vault_id.rstrip("/").lower(), None)


def _delete_blocker(state: Any, vault_id: str) -> str | None:
    sr = state.extras.get(KEY)
    if sr is None:
        return None
    v = sr.vaults.get(vault_id.rstrip("/").lower())
    if v is None:
        return None
    if v.protected_items():
        return "the vault has replicated items"
    if any(f.kind == "HyperVSite" for f in v.fabrics.values()):
        return "the vault has Hyper-V sites"
    if any(f.kind == "VMM" for f in v.fabrics.values()):
        return "VMM servers are registered to the vault"
    if any(c.mappings for f in v.fabrics.values() for c in f.containers.values()):
        return "clouds are associated with replication policies"
    return None


def register(routes: Any) -> None:
    handlers.register(routes)
    routes.add_hook("vault.created", _on_vault_created)
    routes.add_hook("vault.deleted", _on_vault_deleted)
    routes.add_hook("vault.delete_blocker", _delete_blocker)

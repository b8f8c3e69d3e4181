"""Resource kinds declared once: one module per kind, with a field table that drives desired state,
normalisation of live state, diff classification (in place or replace), request bodies and export.

`CONVERTED` maps a `reconciler.plan.model.Kind` value to its module; `NOT_CONVERTED` would list the
kinds whose fields still flow through hand-written code (none: every kind has its table).
tests/plan/test_protected_vm_fields.py checks that every Kind is in exactly one of them, and
tests/kinds/test_round_trip.py that every field of every table round-trips.
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["CONVERTED", "NOT_CONVERTED", "module"]

CONVERTED: dict[str, str] = {
    "protected_vm": "reconciler.kinds.protected_vm",
    "policy": "reconciler.kinds.policy",
    "storage_account": "reconciler.kinds.storage_account",
    "virtual_network": "reconciler.kinds.virtual_network",
    "subnet": "reconciler.kinds.subnet",
    "network_mapping": "reconciler.kinds.network_mapping",
    "vmm_server": "reconciler.kinds.vmm_server",
    "hyperv_site": "reconciler.kinds.hyperv_site",
    "hyperv_host": "reconciler.kinds.hyperv_host",
    "policy_association": "reconciler.kinds.policy_association",
    "recovery_plan": "reconciler.kinds.recovery_plan",
    "resource_group": "reconciler.kinds.resource_group",
    "vault": "reconciler.kinds.vault",
    "private_endpoint": "reconciler.kinds.private_endpoint",
    "alert_settings": "reconciler.kinds.alert_settings",
}

NOT_CONVERTED: frozenset[str] = frozenset()  # every kind has its table


def module(kind: str) -> ModuleType:
    """The module declaring `kind` (a Kind value); KeyError if it is not converted yet."""
    import importlib

    return importlib.import_module(CONVERTED[kind])

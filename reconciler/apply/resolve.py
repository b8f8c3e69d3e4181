"""Values of a planned request that only exist once an earlier request of the same change ran.

A new VM's NIC settings are an update that follows its enable (the enable input has no NICs), and that
update names the item's NICs by the ids Site Recovery gives them when it creates the item. The plan carries
the update with a marker, `{"$resolve": NAME, ...}`, where such a value goes (reconciler/kinds/protected_vm.py,
"the NIC update after an enable"); the plan shows it, a saved plan holds it and `apply PLAN` compares it
with the plan made again, like any other argument. Right before the request is sent, `resolve_args` reads the
item it updates (one GET of that item, after the enable's job ended) and replaces every marker with the value
it stands for. Only the operations of `RESOLVABLE` may carry markers, and only the names `protected_vm.resolve`
knows: anything else is refused before any request of the plan is sent (`check_markers`).
"""

from __future__ import annotations

from typing import Any

from reconciler.errors import UsageError
from reconciler.kinds import protected_vm as pvm

__all__ = ["RESOLVABLE", "has_markers", "check_markers", "resolve_args"]

# operation -> the SDK read of the object its markers are resolved from (same keyword arguments, minus the body)
RESOLVABLE = {"site_recovery.replication_protected_items.begin_update": "update_protection_input"}


def _markers(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        if pvm.RESOLVE in value:
            return [value]
        return [m for v in value.values() for m in _markers(v)]
    if isinstance(value, list):
        return [m for v in value for m in _markers(v)]
    return []


def has_markers(args: dict[str, Any]) -> bool:
    return bool(_markers(args))


def check_markers(operation: str, args: dict[str, Any]) -> None:
    """Refuse markers where this asr cannot resolve them (before anything is sent)."""
    found = _markers(args)
    if not found:
        return
    if operation not in RESOLVABLE:
        raise UsageError(f"{operation}: the plan asks to resolve a value at run time ({found[0].get(pvm.RESOLVE)!r}), "
                         "which asr apply does only for protected item updates",
                         hint="the plan may come from a newer asr, or was edited by hand")
    for m in found:
        if m.get(pvm.RESOLVE) not in pvm.RESOLVERS:
            raise UsageError(f"{operation}: unknown value to resolve at run time {m.get(pvm.RESOLVE)!r}",
                             hint="the plan may come from a newer asr, or was edited by hand")


def _substitute(value: Any, held_psd: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        if pvm.RESOLVE in value:
            return pvm.resolve(value, held_psd)
        return {k: _substitute(v, held_psd) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(v, held_psd) for v in value]
    return value


def read_item_psd(clients: Any, args: dict[str, Any]) -> dict[str, Any]:
    """The providerSpecificDetails of the protected item a begin_update names, as Azure holds it now."""
    keys = ("resource_group_name", "resource_name", "fabric_name", "protection_container_name",
            "replicated_protected_item_name")
    item = clients.site_recovery().replication_protected_items.get(**{k: args[k] for k in keys})
    data = item.as_dict() if hasattr(item, "as_dict") else dict(item)
    return dict((data.get("properties") or {}).get("providerSpecificDetails") or {})


def resolve_args(clients: Any, operation: str, args: dict[str, Any]) -> dict[str, Any]:
    """`args` with every marker replaced (the args themselves when there is none). Raises ValueError naming
    what could not be resolved."""
    if not has_markers(args):
        return args
    check_markers(operation, args)
    psd = read_item_psd(clients, args)
    body = RESOLVABLE[operation]
    return {**args, body: _substitute(args[body], psd)}

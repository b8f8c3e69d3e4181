"""What day-2 commands read from a vault: a handful of vault-wide paged lists, fetched
concurrently (never one GET per VM).

    inv = read_inventory(clients, "contoso-dr-rg", "contoso-asr-vault")
    inv.item_for("sql01")          # ItemState or None
    inv.plan_for("tier1")          # PlanState or None

Every list is one `list(resource_group_name, resource_name)` of the site recovery
client; azure-core follows `nextLink`. Models are turned into REST-shaped dicts with
`as_dict()` so the rest of `ops` works on plain JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from reconciler.azure.errors import azure_errors
from reconciler.errors import NotFoundError, UsageError
from reconciler.ops.states import ItemState, PlanState

ALL_PARTS = ("items", "plans", "fabrics", "providers", "policies", "containers", "mappings", "network_mappings")


def items_or_refuse(inv: Any, vms: Iterable[str], refusal: Callable[[ItemState], str | None], *, vault: str,
                    hint: str) -> list[ItemState]:
    """The protected items of `vms`, or a UsageError naming every VM that is not protected in `vault` or
    whose item `refusal` refuses (it returns why, or None), before anything is sent."""
    items, problems = [], []
    for vm in vms:
        it = inv.item_for(vm)
        why = f"not protected in vault {vault}" if it is None else refusal(it)
        if why is not None:
            problems.append(f"{vm}: {why}")
        else:
            items.append(it)
    if problems:
        raise UsageError("; ".join(problems), hint=hint)
    return items


def as_json(model: Any) -> dict[str, Any]:
    """SDK model (TypeSpec MutableMapping) -> REST-shaped dict."""
    if model is None:
        return {}
    if isinstance(model, dict):
        return model
    as_dict = getattr(model, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    return dict(model)


def same_id(a: str | None, b: str | None) -> bool:
    """ARM ids compare case-insensitively (ASR answers /Subscriptions/... with a capital S)."""
    return (a or "").rstrip("/").lower() == (b or "").rstrip("/").lower()


@dataclass
class Inventory:
    resource_group: str
    vault: str
    items: list[ItemState] = field(default_factory=list)
    plans: list[PlanState] = field(default_factory=list)
    fabrics: list[dict[str, Any]] = field(default_factory=list)
    providers: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    containers: list[dict[str, Any]] = field(default_factory=list)
    mappings: list[dict[str, Any]] = field(default_factory=list)  # protection container mappings
    network_mappings: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0

    def _index(self) -> tuple[dict[str, ItemState], dict[str, ItemState]]:
        """(by lower-cased VM name, by lower-cased ARM id), rebuilt when `items` changes."""
        key = (id(self.items), len(self.items))
        cached = getattr(self, "_idx", None)
        if cached is None or cached[0] != key:
            by_name: dict[str, ItemState] = {}
            by_id: dict[str, ItemState] = {}
            for it in self.items:
                by_name.setdefault(it.vm_name.lower(), it)
                by_id[it.id.rstrip("/").lower()] = it
            cached = self._idx = (key, by_name, by_id)
        return cached[1], cached[2]

    def item_for(self, vm_name: str) -> ItemState | None:
        return self._index()[0].get(vm_name.lower())

    def item_by_id(self, arm_id: str) -> ItemState | None:
        return self._index()[1].get((arm_id or "").rstrip("/").lower())

    def plan_for(self, name: str) -> PlanState | None:
        want = name.lower()
        for p in self.plans:
            if p.name.lower() == want:
                return p
        return None

    def policy_by_id(self, arm_id: str) -> dict[str, Any] | None:
        for p in self.policies:
            if same_id(p.get("id"), arm_id):
                return p
        return None

    def fabric_by_name(self, name: str) -> dict[str, Any] | None:
        for f in self.fabrics:
            if (f.get("name") or "").lower() == name.lower():
                return f
        return None


def list_jobs(clients: Any, resource_group: str, vault: str, since: str) -> list[dict[str, Any]]:
    """The vault's jobs started since `since` (ISO time), as REST JSON: one paged
    `replication_jobs.list` with the `startTime` filter, bounded even where Azure ignores
    the filter: paging stops after a page whose jobs all started before `since` (the list
    is not in time order, docs/fidelity.md L-024), and older jobs are dropped."""
    from reconciler.live.jobs import parse_time
    from reconciler.live.reader import page_is_older_than

    sr = clients.site_recovery()
    limit = parse_time(since)
    out: list[dict[str, Any]] = []
    with azure_errors(f"list jobs of vault {vault}"):
        for page in sr.replication_jobs.list(resource_group, vault, filter=f"startTime ge '{since}'").by_page():
            rows = [as_json(j) for j in page]
            out += [j for j in rows if limit is None or (parse_time((j.get("properties") or {}).get("startTime"))
                                                          or limit) >= limit]
            if page_is_older_than(rows, since):
                break
    return out


def _list(call: Any) -> list[dict[str, Any]]:
    return [as_json(x) for x in call()]


def read_inventory(clients: Any, resource_group: str, vault: str, parts: Iterable[str] = ALL_PARTS) -> Inventory:
    """Read the requested vault-wide lists concurrently."""
    sr = clients.site_recovery()
    rg, v = resource_group, vault
    readers = {
        "items": lambda: sr.replication_protected_items.list(rg, v),
        "plans": lambda: sr.replication_recovery_plans.list(rg, v),
        "fabrics": lambda: sr.replication_fabrics.list(rg, v),
        "providers": lambda: sr.replication_recovery_services_providers.list(rg, v),
        "policies": lambda: sr.replication_policies.list(rg, v),
        "containers": lambda: sr.replication_protection_containers.list(rg, v),
        "mappings": lambda: sr.replication_protection_container_mappings.list(rg, v),
        "network_mappings": lambda: sr.replication_network_mappings.list(rg, v),
    }
    wanted = [p for p in parts if p in readers]
    before = clients.counter.snapshot()["requests"]
    try:
        with azure_errors(f"read vault {vault} in resource group {resource_group}"):
            with ThreadPoolExecutor(max_workers=min(len(wanted), 6) or 1) as pool:
                futures = {p: pool.submit(_list, readers[p]) for p in wanted}
                results = {p: f.result() for p, f in futures.items()}
    except NotFoundError as err:
        what = f"resource group {resource_group}" if err.code == "ResourceGroupNotFound" else f"vault {vault}"
        raise NotFoundError(
            f"{what} not found (subscription {clients.subscription_id}): there is no vault {vault} in resource group "
            f"{resource_group} yet", status=404, code=err.code,
            hint="create it with `asr apply FILE`, or check subscription, vault.name and vault.resourceGroup in the manifest",
        ) from err
    inv = Inventory(resource_group=rg, vault=v)
    inv.items = [ItemState.from_json(d) for d in results.get("items", [])]
    inv.plans = [PlanState.from_json(d) for d in results.get("plans", [])]
    for p in ("fabrics", "providers", "policies", "containers", "mappings", "network_mappings"):
        setattr(inv, p, results.get(p, []))
    # Items name their policy by id; fill in the friendly name where ASR left it out.
    for it in inv.items:
        if not it.policy_name and it.policy_id:
            pol = inv.policy_by_id(it.policy_id)
            if pol:
                it.policy_name = pol.get("name") or ""
    inv.requests = clients.counter.snapshot()["requests"] - before
    return inv

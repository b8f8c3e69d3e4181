"""`LiveState`: what exists in Azure, as plain REST dicts (`model.as_dict()`).

A value: no clients, no I/O. Built by `reconciler.live.reader.read_live_state`,
consumed by the planner and by day-2 ops. Lookups are case-insensitive
(friendly names and ARM ids) and computed once on first use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from reconciler.live.ids import norm_id, parse_id

_IN_PROGRESS_JOB_STATES = {"notstarted", "inprogress", "suspended", "cancelling", "running"}


def props(obj: dict[str, Any] | None) -> dict[str, Any]:
    return (obj or {}).get("properties") or {}


def friendly_name(obj: dict[str, Any]) -> str:
    """An ASR object's friendlyName, or its name when it has none."""
    return str(props(obj).get("friendlyName") or obj.get("name") or "")


def _lower(s: Any) -> str:
    return str(s or "").lower()


@dataclass
class LiveState:
    subscription: str
    resource_group: str  # of the vault
    vault_name: str
    target_resource_group: str
    resource_groups: dict[str, dict] = field(default_factory=dict)  # lower name -> RG
    vault: dict | None = None
    storage_accounts: dict[str, dict] = field(default_factory=dict)  # lower name -> account (target RG)
    virtual_networks: dict[str, dict] = field(default_factory=dict)  # lower name -> vnet (target RG)
    fabrics: list[dict] = field(default_factory=list)
    providers: list[dict] = field(default_factory=list)  # registered VMM servers / Hyper-V hosts
    containers: list[dict] = field(default_factory=list)
    protectable_items: dict[str, list[dict]] = field(default_factory=dict)  # norm container id -> items
    replication_networks: list[dict] = field(default_factory=list)
    policies: list[dict] = field(default_factory=list)
    container_mappings: list[dict] = field(default_factory=list)
    network_mappings: list[dict] = field(default_factory=list)
    protected_items: list[dict] = field(default_factory=list)
    recovery_plans: list[dict] = field(default_factory=list)
    jobs: list[dict] = field(default_factory=list)  # jobs not finished yet
    # additive (vault security; read only when the manifest declares them): Site Recovery private
    # endpoints of the vault (in the vault's resource group), and its replicationAlertSettings
    private_endpoints: list[dict] = field(default_factory=list)
    alert_settings: list[dict] = field(default_factory=list)
    requests_made: int = 0
    read_seconds: float = 0.0

    # --- serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LiveState:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    # --- lookups ---------------------------------------------------------
    @property
    def vault_exists(self) -> bool:
        return self.vault is not None

    @cached_property
    def fabrics_by_name(self) -> dict[str, dict]:
        """lower friendly name (VMM server / Hyper-V site) -> fabric."""
        out: dict[str, dict] = {}
        for f in self.fabrics:
            out.setdefault(_lower(props(f).get("friendlyName") or f.get("name")), f)
        return out

    def fabric(self, friendly_name: str) -> dict | None:
        return self.fabrics_by_name.get(_lower(friendly_name))

    @cached_property
    def _fabric_names_by_id(self) -> dict[str, str]:
        return {_lower(f.get("name")): friendly_name(f) for f in self.fabrics}

    def fabric_friendly_of(self, arm_id: str | None) -> str | None:
        """Friendly name of the fabric an object id lives under."""
        fname = parse_id(arm_id).get("replicationfabrics")
        if fname is None:
            return None
        return self._fabric_names_by_id.get(_lower(fname), fname)

    def providers_of(self, fabric_friendly: str) -> list[dict]:
        f = self.fabric(fabric_friendly)
        fname = _lower(f.get("name")) if f else None
        out = []
        for p in self.providers:
            pp = props(p)
            in_fabric = (fname is not None and _lower(parse_id(p.get("id")).get("replicationfabrics")) == fname) or (
                _lower(pp.get("fabricFriendlyName")) == _lower(fabric_friendly))
            if in_fabric:
                out.append(p)
        return out

    def provider(self, fabric_friendly: str, server_name: str) -> dict | None:
        for p in self.providers_of(fabric_friendly):
            pp = props(p)
            if _lower(server_name) in (_lower(pp.get("friendlyName")), _lower(pp.get("machineName"))):
                return p
        return None

    @cached_property
    def _containers_by_fabric(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for c in self.containers:
            out.setdefault(_lower(parse_id(c.get("id")).get("replicationfabrics")), []).append(c)
        return out

    @cached_property
    def containers_by_id(self) -> dict[str, dict]:
        return {norm_id(c.get("id")): c for c in self.containers}

    def containers_of(self, fabric_friendly: str) -> list[dict]:
        f = self.fabric(fabric_friendly)
        if not f:
            return []
        return self._containers_by_fabric.get(_lower(f.get("name")), [])

    def container(self, fabric_friendly: str, container_friendly: str | None = None) -> dict | None:
        """The container named `container_friendly` (a VMM cloud) of a fabric; for a
        Hyper-V site (container_friendly None) the site's only container."""
        cs = self.containers_of(fabric_friendly)
        if container_friendly is None:
            return cs[0] if cs else None
        for c in cs:
            if _lower(props(c).get("friendlyName") or c.get("name")) == _lower(container_friendly):
                return c
        return None

    @cached_property
    def _protectable_index(self) -> dict[tuple[str, str], dict]:
        out: dict[tuple[str, str], dict] = {}
        for cid, items in self.protectable_items.items():
            for it in items:
                out.setdefault((norm_id(cid), _lower(props(it).get("friendlyName") or it.get("name"))), it)
        return out

    def protectable_item(self, container_id: str, vm_name: str) -> dict | None:
        return self._protectable_index.get((norm_id(container_id), _lower(vm_name)))

    def replication_network(self, fabric_friendly: str, vm_network: str) -> dict | None:
        f = self.fabric(fabric_friendly)
        if not f:
            return None
        fname = _lower(f.get("name"))
        for n in self.replication_networks:
            if _lower(parse_id(n.get("id")).get("replicationfabrics")) == fname and _lower(
                    props(n).get("friendlyName") or n.get("name")) == _lower(vm_network):
                return n
        return None

    @cached_property
    def policies_by_name(self) -> dict[str, dict]:
        return {_lower(p.get("name")): p for p in self.policies}

    def policy(self, name: str) -> dict | None:
        return self.policies_by_name.get(_lower(name))

    @cached_property
    def policies_by_id(self) -> dict[str, dict]:
        return {norm_id(p.get("id")): p for p in self.policies}

    def mappings_of_container(self, container_id: str) -> list[dict]:
        cid = norm_id(container_id)
        return [m for m in self.container_mappings if norm_id(m.get("id", "")).startswith(cid + "/")]

    def network_mapping(self, fabric_friendly: str, vm_network: str) -> dict | None:
        net = self.replication_network(fabric_friendly, vm_network)
        for m in self.network_mappings:
            mp = props(m)
            if net is not None and norm_id(m.get("id", "")).startswith(norm_id(net.get("id")) + "/"):
                return m
            if net is None and _lower(mp.get("primaryNetworkFriendlyName")) == _lower(vm_network) and _lower(
                    mp.get("primaryFabricFriendlyName")) == _lower(fabric_friendly):
                return m
        return None

    @cached_property
    def protected_items_by_name(self) -> dict[str, dict]:
        """lower VM friendly name -> protected item (the first, if a name repeats)."""
        out: dict[str, dict] = {}
        for it in self.protected_items:
            out.setdefault(_lower(props(it).get("friendlyName") or it.get("name")), it)
        return out

    def protected_item(self, vm_name: str) -> dict | None:
        return self.protected_items_by_name.get(_lower(vm_name))

    @cached_property
    def protected_items_by_id(self) -> dict[str, dict]:
        return {norm_id(it.get("id")): it for it in self.protected_items}

    @cached_property
    def recovery_plans_by_name(self) -> dict[str, dict]:
        return {_lower(p.get("name")): p for p in self.recovery_plans}

    def recovery_plan(self, name: str) -> dict | None:
        return self.recovery_plans_by_name.get(_lower(name))

    def running_jobs_for(self, object_name: str | None = None, object_id: str | None = None) -> list[dict]:
        out = []
        for j in self.jobs:
            jp = props(j)
            if _lower(jp.get("state")) not in _IN_PROGRESS_JOB_STATES:
                continue
            if _lower(jp.get("stateDescription")) == "waitingforstoptestfailover":
                continue  # a test failover waiting for its cleanup: nothing to wait for (docs/fidelity.md L-001)
            if object_id and norm_id(jp.get("targetObjectId")) == norm_id(object_id):
                out.append(j)
            elif object_name and _lower(jp.get("targetObjectName")) == _lower(object_name):
                out.append(j)
        return out

"""Live state -> the normalized shape the differ compares (and desired.py builds).

Every object becomes `{"kind", "address", "id", "attrs", "status"}`:

- `attrs`: the settings a manifest declares, under manifest-like names, with
  read-side renames folded in (`recoveryPointHistoryDurationInHours` ->
  `recoveryPointRetentionHours`, `recoveryAzureVmName` -> `targetVmName`,
  `onlineReplicationStartTime: null` -> `"immediately"`), order-insensitive
  collections as sorted lists or dicts (subnets, address spaces, VMs inside a
  recovery-plan group) and order-sensitive ones kept in order (recovery-plan
  boot groups, with the Shutdown/Failover groups ASR adds dropped).
- `status`: state the planner reads but never "corrects" (failover state, a
  running job); part of the fingerprint, not of the diff.

`comparable()` is applied to both sides before diffing: ARM ids and names are
compared case-insensitively (everything lower-cased except tag values), so an
id whose case changes (`/Subscriptions/` vs `/subscriptions/`) never shows a diff.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from reconciler.kinds import alert_settings as alert_kind
from reconciler.kinds import hyperv_host as hyperv_host_kind
from reconciler.kinds import hyperv_site as hyperv_site_kind
from reconciler.kinds import network_mapping as nm_kind
from reconciler.kinds import policy as policy_kind
from reconciler.kinds import policy_association as association_kind
from reconciler.kinds import private_endpoint as pe_kind
from reconciler.kinds import protected_vm as pvm
from reconciler.kinds import recovery_plan as rp_kind
from reconciler.kinds import resource_group as rg_kind
from reconciler.kinds import storage_account as storage_kind
from reconciler.kinds import vault as vault_kind
from reconciler.kinds import virtual_network as vnet_kind
from reconciler.kinds import vmm_server as vmm_server_kind
from reconciler.kinds.base import canonical, norm_location
from reconciler.kinds.policy import norm_start_time
from reconciler.kinds.recovery_plan import ACTION_KEYS, live_rp_actions, live_rp_groups, rp_group_label
from reconciler.kinds.tags import LOCK_TAG, merged_tags
from reconciler.live.ids import norm_id, parse_id
from reconciler.live.state import LiveState, friendly_name, props
from reconciler.plan.model import Kind

__all__ = ["norm_id", "comparable", "normalize_live", "norm_location", "norm_start_time", "vm_status",
           "IDLE_SCENARIOS", "in_failover", "scenario_in_progress", "live_rp_groups",
           "live_rp_actions", "rp_group_label", "ACTION_KEYS", "merged_tags", "LOCK_TAG", "canonical",
           "vnet_settings"]

IDLE_SCENARIOS = {"", "none"}


def comparable(value: Any, _key: str | None = None) -> Any:
    """Case-folded copy used only for comparison (never shown)."""
    if isinstance(value, str):
        return value.rstrip("/").lower() if value.startswith("/") else value.lower()
    if isinstance(value, dict):
        if _key == "tags":
            return {str(k).lower(): v for k, v in value.items()}
        out = {}
        for k, v in value.items():
            if v is None:
                continue
            if isinstance(v, str):
                out[k] = v.rstrip("/").lower() if v[:1] == "/" else v.lower()
            elif isinstance(v, (dict, list, tuple)):
                out[k] = comparable(v, k)
            else:
                out[k] = v
        return out
    if isinstance(value, (list, tuple)):
        return [comparable(v, _key) for v in value]
    return value


def _fabric_type(fabric: dict) -> str:
    return str((props(fabric).get("customDetails") or {}).get("instanceType") or "")


def _is_site(fabric: dict | None) -> bool:
    return fabric is not None and _fabric_type(fabric).lower() == "hypervsite"


def vm_status(item: dict) -> dict[str, Any]:
    p = props(item)
    cs = p.get("currentScenario") or {}
    return {
        "protectionState": p.get("protectionState"),
        "activeLocation": p.get("activeLocation"),
        "testFailoverState": p.get("testFailoverState"),
        "currentScenario": cs.get("scenarioName"),
        "jobId": cs.get("jobId") if str(cs.get("scenarioName") or "").lower() not in IDLE_SCENARIOS else None,
        "allowedOperations": [str(x) for x in (p.get("allowedOperations") or [])],
    }


def in_failover(status: dict[str, Any]) -> str | None:
    """A human description if the VM is failed over / in a test failover, else None."""
    active = str(status.get("activeLocation") or "").lower()
    tfo = str(status.get("testFailoverState") or "").lower()
    state = str(status.get("protectionState") or "")
    if active == "recovery":
        return f"failed over to Azure (protection state {state or 'unknown'})"
    # A test failover is up while the item waits for its cleanup: WaitingForCompletion, or
    # TestFailoverCleanup allowed (ReplicationProtectedItems_TestFailover.json). MarkedForDeletion
    # is what an idle item keeps after the cleanup, through later failovers
    # (..._TestFailoverCleanup.json, ..._PlannedFailover.json...): not a test failover, and
    # neither is a value this code does not know (never a reason to freeze a VM).
    waiting = "testfailovercleanup" in {str(a).lower() for a in status.get("allowedOperations") or []}
    if tfo == "waitingforcompletion" or waiting:
        return f"in a test failover (test failover state {status.get('testFailoverState')})"
    if "failover" in state.lower() or "failedover" in state.lower():
        return f"in failover (protection state {state})"
    return None


def scenario_in_progress(status: dict[str, Any]) -> bool:
    return str(status.get("currentScenario") or "").lower() not in IDLE_SCENARIOS


def _fabrics_by_id(live: LiveState) -> dict[str, dict]:
    cache = live.__dict__.get("_norm_fabrics_by_id")
    if cache is None or len(cache) != len(live.fabrics):
        cache = {norm_id(f.get("id") or ""): f for f in live.fabrics}
        live.__dict__["_norm_fabrics_by_id"] = cache
    return cache


def vm_attrs(live: LiveState, item: dict) -> dict[str, Any]:
    p = props(item)
    psd = p.get("providerSpecificDetails") or {}
    iid = norm_id(item.get("id") or "")
    cid = iid.split("/replicationprotecteditems/")[0]
    fabric_key = cid.split("/replicationprotectioncontainers/")[0]
    fabric = _fabrics_by_id(live).get(fabric_key)
    fname = fabric_key.rsplit("/", 1)[-1] if "/replicationfabrics/" in fabric_key else None
    fabric_friendly = (props(fabric).get("friendlyName") if fabric else None) or p.get("primaryFabricFriendlyName") or fname
    if _is_site(fabric):
        source = fabric_friendly
    else:
        cont = live.containers_by_id.get(cid)
        cloud = (props(cont).get("friendlyName") if cont else None) or p.get("primaryProtectionContainerFriendlyName")
        source = f"{fabric_friendly}/{cloud}"
    policy = p.get("policyFriendlyName") or parse_id(p.get("policyId")).get("replicationpolicies")
    return {"source": source, "policy": policy, **pvm.live_attrs(psd)}


# what a vnet update sends back as read (reconciler/kinds/virtual_network.py); kept importable from here
VNET_READ_ONLY = vnet_kind.VNET_READ_ONLY
SUBNET_READ_ONLY = vnet_kind.SUBNET_READ_ONLY
vnet_settings = vnet_kind.settings


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()).hexdigest()[:16]


def _obj(kind: Kind, address: str, arm_id: str | None, attrs: dict, status: dict | None = None) -> dict[str, Any]:
    return {"kind": kind.value, "address": address, "id": arm_id, "attrs": attrs, "status": status or {}}


def normalize_live(live: LiveState) -> dict[str, dict[str, Any]]:
    """Every live object by plan address, in the normalized shape."""
    out: dict[str, dict[str, Any]] = {}

    def put(o: dict[str, Any]) -> None:
        out.setdefault(o["address"], o)

    # the vault's, the target's, and those failed-over VMs are set to (a protected VM's target.resourceGroup)
    vm_rgs = {str(parse_id((props(it).get("providerSpecificDetails") or {}).get("recoveryAzureResourceGroupId"))
                  .get("resourcegroups") or "").lower() for it in live.protected_items}
    for name, g in live.resource_groups.items():
        if name in (live.resource_group.lower(), live.target_resource_group.lower()) or name in vm_rgs:
            put(_obj(Kind.RESOURCE_GROUP, f"resource_group.{g.get('name')}", g.get("id"), rg_kind.live_attrs(g)))
    if live.vault is not None:
        v = live.vault
        # the applier's vault lease tag is not configuration (docs/design.md, Applier): kinds/vault.py leaves it out
        put(_obj(Kind.VAULT, f"vault.{v.get('name')}", v.get("id"), vault_kind.live_attrs(v)))
        for o in security_objects(live):
            put(o)
    for a in live.storage_accounts.values():
        put(_obj(Kind.STORAGE_ACCOUNT, f"storage_account.{a.get('name')}", a.get("id"), storage_kind.live_attrs(a)))
    for n in live.virtual_networks.values():
        put(_obj(Kind.VIRTUAL_NETWORK, f"virtual_network.{n.get('name')}", n.get("id"), vnet_kind.live_attrs(n),
                 {"settings": _digest(vnet_kind.settings(n))}))  # what an update keeps: a saved plan is stale if it moved
    for f in live.fabrics:
        friendly = friendly_name(f)
        if _is_site(f):
            put(_obj(Kind.HYPERV_SITE, f"hyperv_site.{friendly}", f.get("id"), hyperv_site_kind.live_attrs(f)))
            for prov in live.providers_of(friendly):
                put(_obj(Kind.HYPERV_HOST, f"hyperv_host.{friendly}/{props(prov).get('friendlyName')}", prov.get("id"),
                         hyperv_host_kind.live_attrs(prov), hyperv_host_kind.live_status(prov)))
        else:
            provs = live.providers_of(friendly)
            put(_obj(Kind.VMM_SERVER, f"vmm_server.{friendly}", f.get("id"), vmm_server_kind.live_attrs(f, provs),
                     vmm_server_kind.live_status(provs)))
    for p in live.policies:
        put(_obj(Kind.POLICY, f"policy.{p.get('name')}", p.get("id"), policy_kind.live_attrs(p)))
    for m in live.container_mappings:
        mp = props(m)
        ids = parse_id(m.get("id"))
        fabric_friendly = live.fabric_friendly_of(m.get("id")) or mp.get("sourceFabricFriendlyName")
        cont = None
        for c in live.containers:
            if norm_id(m.get("id", "")).startswith(norm_id(c.get("id", "")) + "/"):
                cont = c
        cfriendly = (props(cont).get("friendlyName") if cont else None) or mp.get(
            "sourceProtectionContainerFriendlyName") or ids.get("replicationprotectioncontainers")
        put(_obj(Kind.POLICY_ASSOCIATION, f"policy_association.{fabric_friendly}/{cfriendly}", m.get("id"),
                 association_kind.live_attrs(m), association_kind.live_status(m)))
    for m in live.network_mappings:
        mp = props(m)
        fabric_friendly = live.fabric_friendly_of(m.get("id")) or mp.get("primaryFabricFriendlyName")
        net_name = mp.get("primaryNetworkFriendlyName")
        if not net_name:
            nid = "/".join(norm_id(m.get("id", "")).split("/")[:-2])
            net = next((n for n in live.replication_networks if norm_id(n.get("id")) == nid), None)
            net_name = (props(net).get("friendlyName") if net else None) or parse_id(m.get("id")).get("replicationnetworks")
        put(_obj(Kind.NETWORK_MAPPING, f"network_mapping.{fabric_friendly}/{net_name}", m.get("id"),
                 nm_kind.live_attrs(m), {"state": mp.get("state")}))
    for it in live.protected_items:
        name = friendly_name(it)
        st = vm_status(it)
        put(_obj(Kind.PROTECTED_VM, f"protected_vm.{name}", it.get("id"), vm_attrs(live, it), {
            "activeLocation": st["activeLocation"],
            "testFailoverState": st["testFailoverState"],
            "currentScenario": st["currentScenario"] if scenario_in_progress(st) else "None",
        }))
    for rp in live.recovery_plans:
        attrs = rp_kind.live_attrs(live, rp)
        status: dict[str, Any] | None = None
        if "actions" in attrs:  # group actions set in Azure: a saved plan is stale if they moved
            status = {"actions": _digest([[g.get(k) for k in ACTION_KEYS] for g in props(rp).get("groups") or []])}
        put(_obj(Kind.RECOVERY_PLAN, f"recovery_plan.{rp.get('name')}", rp.get("id"), attrs, status))
    return out


# ---------------------------------------------------------------- vault security


def security_objects(live: LiveState) -> list[dict[str, Any]]:
    """Private endpoints (Site Recovery, this vault) and the email alert setting, normalized
    (reconciler/kinds/private_endpoint.py, alert_settings.py)."""
    out = []
    for pe in live.private_endpoints:
        state = (props(pe_kind.connection(pe)).get("privateLinkServiceConnectionState") or {}).get("status")
        out.append(_obj(Kind.PRIVATE_ENDPOINT, f"private_endpoint.{pe.get('name')}", pe.get("id"),
                        pe_kind.live_attrs(pe), {"connection": state, "provisioningState": props(pe).get("provisioningState")}))
    for a in live.alert_settings[:1]:
        out.append(_obj(Kind.ALERT_SETTINGS, f"alert_settings.{live.vault_name}", a.get("id"), alert_kind.live_attrs(a)))
    return out

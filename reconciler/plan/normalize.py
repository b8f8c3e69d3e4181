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

from typing import Any

from reconciler.live.ids import norm_id, parse_id
from reconciler.live.state import LiveState, props
from reconciler.plan.model import Kind

__all__ = ["norm_id", "comparable", "normalize_live", "norm_location", "norm_start_time", "vm_status",
           "IDLE_SCENARIOS", "in_failover", "scenario_in_progress", "live_rp_groups"]

IDLE_SCENARIOS = {"", "none"}
LOCK_TAG = "asr-lock"


def norm_location(loc: Any) -> str | None:
    if loc is None:
        return None
    return str(loc).replace(" ", "").lower()


def norm_start_time(value: Any) -> str:
    """Policy start time: None / "" -> "immediately"; "23:00", "23:00:00" -> "23:00"."""
    if value in (None, "", "immediately"):
        return "immediately"
    s = str(value)
    if "T" in s:  # a full timestamp: keep the time of day
        s = s.split("T", 1)[1]
    return s[:5]


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
    return bool(fabric) and _fabric_type(fabric).lower() == "hypervsite"


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


def _first_nic_ip(psd: dict) -> tuple[dict, dict]:
    nics = psd.get("vmNics") or []
    nic = nics[0] if nics else {}
    ips = nic.get("ipConfigs") or []
    primary = next((i for i in ips if i.get("isPrimary")), ips[0] if ips else {})
    return nic, primary


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
    nic, ip = _first_nic_ip(psd)
    disk_types = sorted({d.get("targetDiskAccountType") or d.get("replicaDiskType")
                         for d in (psd.get("protectedManagedDisks") or [])
                         if d.get("targetDiskAccountType") or d.get("replicaDiskType")})
    return {
        "source": source,
        "policy": policy,
        "targetVmName": psd.get("recoveryAzureVmName") or psd.get("recoveryAzureVMName"),
        "size": psd.get("recoveryAzureVMSize"),
        "targetNetwork": psd.get("selectedRecoveryAzureNetworkId") or nic.get("recoveryVMNetworkId"),
        "subnet": ip.get("recoverySubnetName") or nic.get("recoveryVMSubnetName"),
        "diskType": disk_types[0] if len(disk_types) == 1 else (disk_types or None),
        "logStorageAccount": psd.get("recoveryAzureLogStorageAccountId"),
        "targetResourceGroup": psd.get("recoveryAzureResourceGroupId"),
    }


def live_rp_groups(live: LiveState, plan: dict) -> list[list[str]]:
    """Boot groups of a live recovery plan as lists of VM names (sorted within a group)."""
    out = []
    for g in props(plan).get("groups") or []:
        if str(g.get("groupType") or "").lower() != "boot":
            continue
        names = []
        for it in g.get("replicationProtectedItems") or []:
            pi = live.protected_items_by_id.get(norm_id(it.get("id") or ""))
            names.append((props(pi).get("friendlyName") if pi else None) or it.get("virtualMachineId") or it.get("id"))
        if names:
            out.append(sorted(names, key=str.lower))
    return out


def _obj(kind: Kind, address: str, arm_id: str | None, attrs: dict, status: dict | None = None) -> dict[str, Any]:
    return {"kind": kind.value, "address": address, "id": arm_id, "attrs": attrs, "status": status or {}}


def normalize_live(live: LiveState) -> dict[str, dict[str, Any]]:
    """Every live object by plan address, in the normalized shape."""
    out: dict[str, dict[str, Any]] = {}

    def put(o: dict[str, Any]) -> None:
        out.setdefault(o["address"], o)

    for name, g in live.resource_groups.items():
        if name in (live.resource_group.lower(), live.target_resource_group.lower()):
            put(_obj(Kind.RESOURCE_GROUP, f"resource_group.{g.get('name')}", g.get("id"),
                     {"location": norm_location(g.get("location"))}))
    if live.vault is not None:
        v = live.vault
        red = ((props(v).get("redundancySettings") or {}).get("standardTierStorageRedundancy"))
        put(_obj(Kind.VAULT, f"vault.{v.get('name')}", v.get("id"), {
            "location": norm_location(v.get("location")),
            "storageRedundancy": red,
            # the applier's vault lease tag is not configuration (docs/design.md, Applier)
            "tags": dict(sorted((k, val) for k, val in (v.get("tags") or {}).items() if k.lower() != LOCK_TAG)),
        }))
    for a in live.storage_accounts.values():
        put(_obj(Kind.STORAGE_ACCOUNT, f"storage_account.{a.get('name')}", a.get("id"), {
            "location": norm_location(a.get("location")),
            "sku": (a.get("sku") or {}).get("name"),
        }))
    for n in live.virtual_networks.values():
        np_ = props(n)
        subnets = {}
        for s in np_.get("subnets") or []:
            sp = props(s)
            prefix = sp.get("addressPrefix") or ((sp.get("addressPrefixes") or [None])[0])
            subnets[s.get("name")] = prefix
        put(_obj(Kind.VIRTUAL_NETWORK, f"virtual_network.{n.get('name')}", n.get("id"), {
            "location": norm_location(n.get("location")),
            "addressSpace": sorted((np_.get("addressSpace") or {}).get("addressPrefixes") or []),
            "subnets": dict(sorted(subnets.items())),
        }))
    for f in live.fabrics:
        fp = props(f)
        friendly = fp.get("friendlyName") or f.get("name")
        if _is_site(f):
            put(_obj(Kind.HYPERV_SITE, f"hyperv_site.{friendly}", f.get("id"), {"type": "HyperVSite"}))
            for prov in live.providers_of(friendly):
                pp = props(prov)
                put(_obj(Kind.HYPERV_HOST, f"hyperv_host.{friendly}/{pp.get('friendlyName')}", prov.get("id"),
                         {"registered": True}, {"connectionStatus": pp.get("connectionStatus")}))
        else:
            provs = live.providers_of(friendly)
            status = {"connectionStatus": props(provs[0]).get("connectionStatus")} if provs else {}
            put(_obj(Kind.VMM_SERVER, f"vmm_server.{friendly}", f.get("id"), {"registered": bool(provs)}, status))
    for p in live.policies:
        psd = props(p).get("providerSpecificDetails") or {}
        put(_obj(Kind.POLICY, f"policy.{p.get('name')}", p.get("id"), {
            "replicationFrequencySeconds": psd.get("replicationInterval"),
            "recoveryPointRetentionHours": psd.get("recoveryPointHistoryDurationInHours"),
            "appConsistentSnapshotFrequencyHours": psd.get("applicationConsistentSnapshotFrequencyInHours"),
            "initialReplicationStart": norm_start_time(psd.get("onlineReplicationStartTime")),
        }))
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
        policy = mp.get("policyFriendlyName") or parse_id(mp.get("policyId")).get("replicationpolicies")
        put(_obj(Kind.POLICY_ASSOCIATION, f"policy_association.{fabric_friendly}/{cfriendly}", m.get("id"),
                 {"policy": policy}, {"state": mp.get("state")}))
    for m in live.network_mappings:
        mp = props(m)
        fabric_friendly = live.fabric_friendly_of(m.get("id")) or mp.get("primaryFabricFriendlyName")
        net_name = mp.get("primaryNetworkFriendlyName")
        if not net_name:
            nid = "/".join(norm_id(m.get("id", "")).split("/")[:-2])
            net = next((n for n in live.replication_networks if norm_id(n.get("id")) == nid), None)
            net_name = (props(net).get("friendlyName") if net else None) or parse_id(m.get("id")).get("replicationnetworks")
        put(_obj(Kind.NETWORK_MAPPING, f"network_mapping.{fabric_friendly}/{net_name}", m.get("id"),
                 {"targetNetwork": mp.get("recoveryNetworkId")}, {"state": mp.get("state")}))
    for it in live.protected_items:
        name = props(it).get("friendlyName") or it.get("name")
        st = vm_status(it)
        put(_obj(Kind.PROTECTED_VM, f"protected_vm.{name}", it.get("id"), vm_attrs(live, it), {
            "activeLocation": st["activeLocation"],
            "testFailoverState": st["testFailoverState"],
            "currentScenario": st["currentScenario"] if scenario_in_progress(st) else "None",
        }))
    for rp in live.recovery_plans:
        put(_obj(Kind.RECOVERY_PLAN, f"recovery_plan.{rp.get('name')}", rp.get("id"),
                 {"groups": live_rp_groups(live, rp)}))
    return out

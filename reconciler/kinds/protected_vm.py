"""Protected VMs, declared once: one row per target setting.

Each `Field` row says, for one setting of the Azure VM that a failover creates:

- `attr`: its key in the normalized attributes the planner diffs (and prints);
- `manifest`: its key under `protectedVMs[].target`;
- `live`: where a replicated item's `providerSpecificDetails` (HyperVReplicaAzureReplicationDetails) holds it;
- `enable`: its key in HyperVReplicaAzureEnableProtectionInput (enable protection, PUT);
- `update`: its path in UpdateReplicationProtectedItemInputProperties (PATCH), `providerSpecificDetails.x`
  for HyperVReplicaAzureUpdateReplicationProtectedItemInput; None when the update input cannot change it;
- `mode`: "update" (changed in place) or "replace" (disable + re-enable: initial replication restarts);
- `ref`: how a manifest name becomes an ARM id (a bare name is looked up in the VM's target resource group,
  an ARM id is taken as it is);
- `merge`: tag maps are merged with what Azure holds (undeclared keys are kept, as for the vault's tags).

That table drives desired state (`desired_attrs`), normalisation of live state (`live_attrs`), the enable
and update request bodies (`enable_settings`, `update_body`) and export (`export_target`). A setting the
manifest does not declare is left as Azure holds it (not compared), except those with a `default`.
Settings with a shape of their own (the subnet and NICs, the disks) have functions of their own below,
used by the same five entry points.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from reconciler.kinds.base import get_path as _get
from reconciler.kinds.base import put_path as _put
from reconciler.kinds.base import snake as _snake
from reconciler.live.ids import norm_id

__all__ = ["Field", "FIELDS", "ROOTS", "REPLACE_FIELDS", "UPDATABLE", "desired_attrs", "live_attrs", "enable_settings",
           "update_body", "export_target", "ref_id", "field", "nic_entries", "nic_followup", "resolve", "RESOLVE"]


def _same(v: Any) -> Any:
    return v


def _tags(v: Any) -> Any:
    if not isinstance(v, dict):
        return None if v in (None, {}) else v
    return {str(k): str(x) for k, x in sorted(v.items(), key=lambda kv: str(kv[0]).lower())} or None


def _zone(v: Any) -> Any:
    return None if v in (None, "") else str(v)


def _license(v: Any) -> Any:
    # Azure reads NotSpecified where nothing was chosen: the same as the default NoLicenseType
    return "NoLicenseType" if v in (None, "", "NotSpecified") else v


_SECURITY = (("type", "targetVmSecurityType"), ("secureBoot", "targetVmSecureBoot"), ("vTpm", "targetVmTpm"),
             ("integrityMonitoring", "targetVmMonitoring"))


def _security(v: Any) -> Any:
    """A security profile in the manifest's shape, from either shape (targetVmSecurityProfile or the manifest's)."""
    if not isinstance(v, dict):
        return None
    out: dict[str, Any] = {}
    for key, api in _SECURITY:
        x = v.get(key, v.get(api))
        if key != "type":
            x = str(x).lower() == "enabled" if isinstance(x, str) else bool(x)
        out[key] = x
    if out["type"] in (None, "None") and not any(out[k] for k in ("secureBoot", "vTpm", "integrityMonitoring")):
        return None if out["type"] is None else {"type": "None", "secureBoot": False, "vTpm": False,
                                                  "integrityMonitoring": False}
    return out


def _security_api(v: Any) -> Any:
    return {api: (v[key] if key == "type" else ("Enabled" if v[key] else "Disabled")) for key, api in _SECURITY}


def _model_security(p: Any) -> Any:
    if p is None:
        return None
    on = p.type.value == "TrustedLaunch"
    return {"type": p.type.value, "secureBoot": bool(p.secure_boot and on), "vTpm": bool(p.v_tpm and on),
            "integrityMonitoring": bool(p.integrity_monitoring and on)}


@dataclass(frozen=True)
class Field:
    attr: str
    manifest: str
    live: str | None
    enable: str | None
    update: str | None
    mode: str = "update"
    ref: str | None = None
    default: Any = None
    norm: Callable[[Any], Any] = _same
    merge: bool = False
    to_api: Callable[[Any], Any] = _same  # the normalized value as the enable / update input takes it
    from_model: Callable[[Any], Any] | None = None  # the manifest model's value -> the normalized shape


# The table. Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models (HyperVReplicaAzureEnableProtectionInput,
# UpdateReplicationProtectedItemInputProperties, HyperVReplicaAzureUpdateReplicationProtectedItemInput,
# HyperVReplicaAzureReplicationDetails); docs/fidelity.md T-001...
FIELDS: tuple[Field, ...] = (
    Field("targetVmName", "vmName", "recoveryAzureVmName", "targetAzureVmName", "recoveryAzureVMName"),
    Field("size", "size", "recoveryAzureVMSize", "targetVmSize", "recoveryAzureVMSize"),
    Field("targetResourceGroup", "resourceGroup", "recoveryAzureResourceGroupId", "targetAzureV2ResourceGroupId",
          "providerSpecificDetails.recoveryAzureV2ResourceGroupId", ref="rg"),
    Field("targetNetwork", "network", "selectedRecoveryAzureNetworkId", "targetAzureNetworkId",
          "selectedRecoveryAzureNetworkId", ref="vnet"),
    Field("availabilityZone", "availabilityZone", "targetAvailabilityZone", "targetAvailabilityZone",
          "providerSpecificDetails.targetAvailabilityZone", norm=_zone),
    Field("availabilitySet", "availabilitySet", "recoveryAvailabilitySetId", "targetAvailabilitySetId",
          "recoveryAvailabilitySetId", ref="availabilitySets"),
    Field("proximityPlacementGroup", "proximityPlacementGroup", "targetProximityPlacementGroupId",
          "targetProximityPlacementGroupId", "providerSpecificDetails.targetProximityPlacementGroupId",
          ref="proximityPlacementGroups"),
    Field("licenseType", "licenseType", "licenseType", "licenseType", "licenseType", norm=_license),
    Field("sqlServerLicenseType", "sqlServerLicenseType", "sqlServerLicenseType", "sqlServerLicenseType",
          "providerSpecificDetails.sqlServerLicenseType", norm=_license),
    Field("tags", "tags", "targetVmTags", "targetVmTags", "providerSpecificDetails.targetVmTags", norm=_tags, merge=True),
    Field("diskTags", "diskTags", "targetManagedDiskTags", "targetManagedDiskTags",
          "providerSpecificDetails.targetManagedDiskTags", norm=_tags, merge=True),
    Field("nicTags", "nicTags", "targetNicTags", "targetNicTags", "providerSpecificDetails.targetNicTags",
          norm=_tags, merge=True),
    Field("logStorageAccount", "logStorageAccount", "recoveryAzureLogStorageAccountId", "logStorageAccountId", None,
          mode="replace", ref="storage"),
    Field("osName", "osName", "oSDetails.userSelectedOSName", "userSelectedOSName",
          "providerSpecificDetails.userSelectedOSName"),
    # the OS type at enable (PowerShell's -OS, New-AzRecoveryServicesAsrReplicationProtectedItem): where Site
    # Recovery did not discover it; read back as the OS the item reports
    Field("osType", "osType", "oSDetails.osType", "osType", None, mode="replace"),
    Field("securityProfile", "securityProfile", "targetVmSecurityProfile", "targetVmSecurityProfile", None,
          mode="replace", norm=_security, to_api=_security_api, from_model=_model_security),
    # the disk encryption set of every replicated disk (protectedManagedDisks[].diskEncryptionSetId); the update
    # input's diskIdToDiskEncryptionMap is not used: a change is a replace (unconfirmed that Azure re-keys in place)
    Field("diskEncryptionSet", "diskEncryptionSet", None, "diskEncryptionSetId", None, mode="replace",
          ref="diskEncryptionSets"),
)
ROOTS = {"read from": "the replicated item's properties.providerSpecificDetails (HyperVReplicaAzureReplicationDetails)",
         "create input": "EnableProtectionInput properties.providerSpecificDetails (HyperVReplicaAzureEnableProtectionInput)",
         "update input": "UpdateReplicationProtectedItemInput properties"}
# with shapes of their own (functions below): "subnet" (in place, vmNics), "nics" (in place, vmNics),
# "testNetwork" (in place: the update's selectedTfoAzureNetworkId, read back per NIC as vmNics[].tfoVMNetworkId),
# "diskType", "disks", "replicatedDisks" (replace: diskType + disksToInclude / disksToIncludeForManagedDisks,
# read from protectedManagedDisks and azureVmDiskDetails)
SPECIAL = (("subnet", "update"), ("nics", "update"), ("testNetwork", "update"), ("diskType", "replace"),
           ("disks", "replace"), ("replicatedDisks", "replace"))
REPLACE_FIELDS = ("source", "policy", *(f.attr for f in FIELDS if f.mode == "replace"),
                  *(a for a, m in SPECIAL if m == "replace"))
UPDATABLE = tuple(f.attr for f in FIELDS if f.mode == "update") + tuple(a for a, m in SPECIAL if m == "update")
_BY_ATTR = {f.attr: f for f in FIELDS}


def field(attr: str) -> Field:
    return _BY_ATTR[attr]


_PROVIDERS = {"vnet": "Microsoft.Network/virtualNetworks", "storage": "Microsoft.Storage/storageAccounts",
              "availabilitySets": "Microsoft.Compute/availabilitySets",
              "proximityPlacementGroups": "Microsoft.Compute/proximityPlacementGroups",
              "diskEncryptionSets": "Microsoft.Compute/diskEncryptionSets",
              "networkSecurityGroups": "Microsoft.Network/networkSecurityGroups",
              "publicIPAddresses": "Microsoft.Network/publicIPAddresses"}


def ref_id(kind: str, value: str, sub: str, rg: str) -> str:
    """A manifest reference as an ARM id: an id is kept, a bare name is in resource group `rg`."""
    if value.startswith("/"):
        return value
    if kind == "rg":
        return f"/subscriptions/{sub}/resourceGroups/{value}"
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{_PROVIDERS[kind]}/{value}"


def _declared(tg: Any, key: str) -> Any:
    """A target setting as the manifest model holds it (camelCase key)."""
    v: Any = getattr(tg, _snake(key), None)
    if isinstance(v, Enum):
        v = v.value
    if isinstance(v, dict):
        v = dict(v)
    return v


# ---------------------------------------------------------------- disks and NICs


def _live_disks(psd: dict) -> dict[str, dict[str, Any]]:
    """Replicated disks by VHD file name: {type, diskEncryptionSet}."""
    names = {str(d.get("diskId") or d.get("vhdId") or "").lower(): d.get("vhdName") or d.get("diskId")
             for d in psd.get("azureVmDiskDetails") or []}
    out: dict[str, dict[str, Any]] = {}
    for d in psd.get("protectedManagedDisks") or []:
        name = names.get(str(d.get("diskId") or "").lower()) or d.get("diskId")
        out[str(name)] = {"type": d.get("targetDiskAccountType") or d.get("replicaDiskType"),
                          "diskEncryptionSet": d.get("diskEncryptionSetId")}
    return out


def _disk_map(psd: dict) -> dict[str, str]:
    return {n: str(v["type"]) for n, v in sorted(_live_disks(psd).items(), key=lambda kv: kv[0].lower())}


def _disk_attrs(types: dict[str, str]) -> dict[str, Any]:
    """diskType (the type most disks have; a tie goes to the first type by name), disks (the disks of
    another type) and replicatedDisks (names) from {disk name: type}: the same on both sides of a diff,
    so a change of diskType alone shows as diskType."""
    if not types:
        return {"diskType": None, "disks": None, "replicatedDisks": None}
    counts = Counter(types.values())
    default = sorted(counts, key=lambda t: (-counts[t], t))[0]
    return {"diskType": default,
            "disks": {n: t for n, t in sorted(types.items(), key=lambda kv: kv[0].lower()) if t != default},
            "replicatedDisks": sorted(types, key=str.lower)}


def _live_des(psd: dict) -> Any:
    sets = {norm_id(v["diskEncryptionSet"]) for v in _live_disks(psd).values() if v.get("diskEncryptionSet")}
    if not sets:
        return None
    return next(v["diskEncryptionSet"] for v in _live_disks(psd).values() if v.get("diskEncryptionSet")) \
        if len(sets) == 1 else sorted(sets)


def _primary_ip(nic: dict) -> dict:
    ips = nic.get("ipConfigs") or []
    return next((i for i in ips if i.get("isPrimary")), ips[0] if ips else {})


NIC_KEYS = (("staticIp", "recoveryStaticIPAddress"), ("subnet", "recoverySubnetName"),
            ("testStaticIp", "tfoStaticIPAddress"), ("testSubnet", "tfoSubnetName"), ("publicIp", "recoveryPublicIPAddressId"))
NIC_ATTRS = ("staticIp", "subnet", "testStaticIp", "testSubnet", "networkSecurityGroup", "publicIp", "primary")


def _live_nics(psd: dict) -> list[dict[str, Any]]:
    out = []
    for nic in psd.get("vmNics") or []:
        ip = _primary_ip(nic)
        n = {k: ip.get(src) for k, src in NIC_KEYS}
        n["networkSecurityGroup"] = nic.get("recoveryNetworkSecurityGroupId")
        n["publicIp"] = ip.get("recoveryPublicIPAddressId")
        n["primary"] = bool(nic.get("nicId")) and str(nic.get("nicId")).lower() == str(psd.get("selectedSourceNicId") or "").lower()
        out.append(n)
    return out


def _desired_nics(tg: Any, sub: str, rg: str, live_nics: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """NICs as declared, keys not declared taken from Azure (left as found); None: none declared."""
    if not getattr(tg, "nics", None):
        return None
    out = []
    for i, n in enumerate(tg.nics):
        held = live_nics[i] if i < len(live_nics) else {}
        want = {k: held.get(k) for k in NIC_ATTRS}
        for key in ("staticIp", "subnet", "testStaticIp", "testSubnet"):
            v = getattr(n, {"staticIp": "static_ip", "subnet": "subnet", "testStaticIp": "test_static_ip",
                            "testSubnet": "test_subnet"}[key])
            if v is not None:
                want[key] = str(v)
        if i == 0 and n.subnet is None:
            want["subnet"] = tg.subnet
        if n.network_security_group is not None:
            want["networkSecurityGroup"] = ref_id("networkSecurityGroups", n.network_security_group, sub, rg)
        if n.public_ip is not None:
            want["publicIp"] = ref_id("publicIPAddresses", n.public_ip, sub, rg)
        out.append(want)
    out += [dict(x) for x in live_nics[len(out):]]
    chosen = [i for i, n in enumerate(tg.nics) if n.primary]
    if chosen:  # one primary NIC: the others are not
        for i, want in enumerate(out):
            want["primary"] = i == chosen[0]
    return out


# ---------------------------------------------------------------- the five entry points


def live_attrs(psd: dict) -> dict[str, Any]:
    """The table's settings of a replicated item (providerSpecificDetails), normalized."""
    out: dict[str, Any] = {}
    for f in FIELDS:
        if f.live is not None:
            out[f.attr] = f.norm(_get(psd, f.live))
    out["diskEncryptionSet"] = _live_des(psd)
    nics = psd.get("vmNics") or []
    out["subnet"] = _primary_ip(nics[0]).get("recoverySubnetName") if nics else None
    if not out["subnet"] and nics:
        out["subnet"] = nics[0].get("recoveryVMSubnetName")
    out["nics"] = _live_nics(psd)
    out["testNetwork"] = live_test_network(psd)
    out.update(_disk_attrs(_disk_map(psd)))
    return out


def live_test_network(psd: dict) -> str | None:
    """The VM's test failover network: the update input's selectedTfoAzureNetworkId, which the read model
    (HyperVReplicaAzureReplicationDetails) holds per NIC only, as vmNics[].tfoVMNetworkId (VMNicDetails: "the
    network to be used by NIC during test failover"); the first NIC that has one."""
    return next((n["tfoVMNetworkId"] for n in psd.get("vmNics") or [] if n.get("tfoVMNetworkId")), None)


def desired_attrs(vm: Any, *, sub: str, target_rg: str, held: dict[str, Any] | None,
                  disk_names: list[str], test_network_id: str | None = None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(attrs, skip_compare) of a manifest VM. `held`: the live attrs (live_attrs) when protected;
    `disk_names`: the VM's disks (VHD file names) when known; `test_network_id`: target.testNetwork's id."""
    tg = vm.target
    rg = tg.resource_group or target_rg
    attrs: dict[str, Any] = {}
    skip: list[str] = []
    for f in FIELDS:
        v = f.from_model(getattr(tg, _snake(f.manifest), None)) if f.from_model else _declared(tg, f.manifest)
        if f.attr == "targetVmName":
            v = v or vm.name
        if f.attr == "targetResourceGroup":
            v = v or target_rg
        if v is not None and f.ref:
            v = ref_id(f.ref, str(v), sub, rg if f.ref != "vnet" and f.ref != "storage" else target_rg)
        if v is not None and f.merge:
            from reconciler.kinds.tags import merged_tags

            v = merged_tags((held or {}).get(f.attr), v)
        if v is None and f.default is not None:
            v = f.default
        v = f.norm(v) if v is not None else None
        attrs[f.attr] = v
        if v is None:
            skip.append(f.attr)
    attrs["subnet"] = tg.subnet
    nics = _desired_nics(tg, sub, rg, (held or {}).get("nics") or [])
    attrs["nics"] = nics
    if nics is None:
        skip.append("nics")
    # the test failover network is target.testNetwork for a VM whose NICs declare test failover settings (testSubnet /
    # testStaticIp need it; validate, E5008); otherwise it is left as Azure holds it
    attrs["testNetwork"] = test_network_id if test_network_id and any(
        n.get("testSubnet") or n.get("testStaticIp") for n in nics or []) else None
    if attrs["testNetwork"] is None:
        skip.append("testNetwork")
    # every replicated disk with its type: diskType, overridden by `disks`; excluded disks are not replicated
    declared = {d.name.lower(): d for d in tg.disks}
    held_names = list((held or {}).get("replicatedDisks") or [])
    names = list(disk_names) or held_names
    names += [d.name for d in tg.disks if not d.exclude and d.name.lower() not in {n.lower() for n in names}]
    types: dict[str, str] = {}
    for n in names:
        d = declared.get(n.lower())
        if d is not None and d.exclude:
            continue
        types[n] = d.type.value if d is not None and d.type is not None else tg.disk_type.value
    if names:
        attrs.update(_disk_attrs(types))
    else:
        attrs.update({"diskType": tg.disk_type.value, "disks": None, "replicatedDisks": None})
        skip += ["disks", "replicatedDisks"]
    return attrs, tuple(skip)


def enable_settings(attrs: dict[str, Any], tg: Any, disks: list[dict[str, Any]], subnet_id: str) -> dict[str, Any]:
    """HyperVReplicaAzureEnableProtectionInput entries for the table's settings. `disks`: the protectable
    item's diskDetails ({vhdId, vhdName})."""
    psd: dict[str, Any] = {}
    for f in FIELDS:
        if f.enable is None or attrs.get(f.attr) is None:
            continue
        _put(psd, f.enable, f.to_api(attrs[f.attr]))
    psd["targetAzureSubnetId"] = subnet_id
    psd["useManagedDisks"] = "true"
    psd["diskType"] = attrs.get("diskType") or tg.disk_type.value
    by_name = {str(d.get("vhdName") or "").lower(): d for d in disks}
    want = {n: (attrs.get("disks") or {}).get(n, attrs.get("diskType")) for n in attrs.get("replicatedDisks") or []}
    included = [d for d in disks if str(d.get("vhdName") or "").lower() in {n.lower() for n in want}] if want else disks
    ids = [d["vhdId"] for d in included if d.get("vhdId")]
    overrides = bool(attrs.get("disks")) or len(included) != len(disks)
    if overrides:
        psd["disksToIncludeForManagedDisks"] = [
            {"diskId": by_name[n.lower()]["vhdId"], "diskType": t,
             **({"diskEncryptionSetId": attrs["diskEncryptionSet"]} if attrs.get("diskEncryptionSet") else {})}
            for n, t in want.items() if n.lower() in by_name]
    else:
        psd["disksToInclude"] = ids
    return psd


def nic_entries(want_nics: list[dict[str, Any]], subnet: str | None, held_psd: dict[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """(vmNics, selectedSourceNicId) of an update: the NICs as Azure holds them (`held_psd`: the item's
    providerSpecificDetails), each with its declared settings (`want_nics`, by position) set; the primary NIC's
    nicId when one is declared primary, else None."""
    nics = []
    primary_id = None
    for i, nic in enumerate(held_psd.get("vmNics") or []):
        w = want_nics[i] if i < len(want_nics) else {}
        ips = nic.get("ipConfigs") or [{}]
        entry: dict[str, Any] = {"nicId": nic.get("nicId"), "selectionType": "SelectedByUser", "ipConfigs": []}
        for ip in ips:
            primary = bool(ip.get("isPrimary", True))
            cfg: dict[str, Any] = {"ipConfigName": ip.get("name") or "ipconfig1", "isPrimary": primary}
            sub = w.get("subnet") if w else None
            cfg["recoverySubnetName"] = sub or (subnet if i == 0 else ip.get("recoverySubnetName"))
            if primary and w:
                for key, dst in NIC_KEYS:
                    if key != "subnet" and w.get(key) is not None:
                        cfg[dst] = w[key]
            entry["ipConfigs"].append(cfg)
        if w.get("networkSecurityGroup"):
            entry["recoveryNetworkSecurityGroupId"] = w["networkSecurityGroup"]
        if w.get("primary") and nic.get("nicId"):
            primary_id = nic["nicId"]
        nics.append(entry)
    return nics, primary_id


def update_body(attrs: dict[str, Any], held_psd: dict[str, Any]) -> dict[str, Any]:
    """UpdateReplicationProtectedItemInputProperties with every in-place setting the manifest declares
    (what it leaves to Azure is not sent) and the NICs as Azure holds them with the declared ones set."""
    body: dict[str, Any] = {"providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"}}
    for f in FIELDS:
        if f.update is None or f.mode != "update" or attrs.get(f.attr) is None:
            continue
        _put(body, f.update, f.to_api(attrs[f.attr]))
    nics, primary_id = nic_entries(attrs.get("nics") or [], attrs.get("subnet"), held_psd)
    if primary_id:
        body["selectedSourceNicId"] = primary_id
    if nics:
        body["vmNics"] = nics
    if attrs.get("testNetwork"):
        body["selectedTfoAzureNetworkId"] = attrs["testNetwork"]
    return body


# ---------------------------------------------------------------- the NIC update after an enable
#
# HyperVReplicaAzureEnableProtectionInput has no NICs: a new VM's NIC settings (static IP, NSG, public IP,
# test failover subnet / IP, primary NIC) need an update once the item exists. Its NIC ids are the item's
# (vmNics[].nicId, known once Site Recovery created it), so the plan carries that update with markers in
# place of the values that depend on them: {"$resolve": NAME, ...}. The applier replaces each marker, right
# before sending the request, with `resolve(marker, psd)` of the item as Azure holds it then (one read of
# that item, after the enable's job ended). The markers are part of the plan (shown, saved, compared with the
# plan made again like any argument); only the NIC ids come from Azure.

RESOLVE = "$resolve"
RESOLVE_NICS = "protectedItem.vmNics"  # nic_entries(marker["nics"], marker["subnet"], item's psd)[0]
RESOLVE_PRIMARY = "protectedItem.primaryNicId"  # the nicId of the item's NIC at marker["index"]
RESOLVERS = {RESOLVE_NICS: "the vmNics Azure lists on the item once it exists, with the declared NIC settings set",
             RESOLVE_PRIMARY: "the nicId of the item's NIC number {n} (declared primary), once the item exists"}


def nic_followup(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """The update a new VM needs after its enable (UpdateReplicationProtectedItemInputProperties): its
    declared NIC settings, with the NIC ids left to resolve; None when it declares no NIC."""
    want = attrs.get("nics")
    if not want:
        return None
    body: dict[str, Any] = {"providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"},
                            "vmNics": {RESOLVE: RESOLVE_NICS, "subnet": attrs.get("subnet"),
                                       "nics": [{k: v for k, v in n.items() if v is not None} for n in want]}}
    chosen = [i for i, n in enumerate(want) if n.get("primary")]
    if chosen:
        body["selectedSourceNicId"] = {RESOLVE: RESOLVE_PRIMARY, "index": chosen[0]}
    if attrs.get("testNetwork"):
        body["selectedTfoAzureNetworkId"] = attrs["testNetwork"]
    return body


def resolve(marker: dict[str, Any], held_psd: dict[str, Any]) -> Any:
    """The value a marker stands for, from the item's providerSpecificDetails as Azure holds it now.
    Raises ValueError for a marker this asr does not know or that the item cannot answer."""
    name = marker.get(RESOLVE)
    if name == RESOLVE_NICS:
        want = list(marker.get("nics") or [])
        nics, _ = nic_entries(want, marker.get("subnet"), held_psd)
        if not nics:
            raise ValueError("the item lists no NICs (vmNics) yet")
        if len(want) > len(nics):
            raise ValueError(nic_count_problem(len(want), len(nics)))
        return nics
    if name == RESOLVE_PRIMARY:
        held = held_psd.get("vmNics") or []
        i = marker.get("index")
        if not isinstance(i, int) or not 0 <= i < len(held) or not held[i].get("nicId"):
            raise ValueError(f"the item has no NIC number {i} (it lists {len(held)})")
        return held[i]["nicId"]
    raise ValueError(f"unknown value to resolve {name!r}")


def _last(arm_id: Any) -> Any:
    return str(arm_id).rstrip("/").split("/")[-1] if arm_id else None


def _rg(arm_id: Any) -> str | None:
    parts = str(arm_id or "").split("/")
    low = [p.lower() for p in parts]
    return parts[low.index("resourcegroups") + 1] if "resourcegroups" in low and low.index("resourcegroups") + 1 < len(parts) else None


# Why export leaves osType out. Azure reads a VM's OS type as `oSDetails.osType`: the OS Site Recovery
# discovered on the VM (the protectable item's osDetails, null when it discovered none: PowerShell's
# TestEnableDR.json), and, after an override at enable (PowerShell -OS), perhaps the override: no recording
# shows which (ReplicationProtectedItems_Get.json has no oSDetails at all; docs/fidelity.md T-007). Export
# cannot tell an override from a discovery, and osType is a replace field (enable input only). Written out, it
# would declare for every VM an override nobody made, and a later change in what Azure reports (a
# rediscovery) would plan a disable + re-enable that restarts initial replication; left out, the plan
# compares nothing (a setting the manifest does not declare is left as Azure holds it), so an exported
# manifest never diffs on it. An override someone did declare is not exported either: the manifest's author
# adds it back by hand.
OS_TYPE_NOT_EXPORTED = True


def export_target(name: str, a: dict[str, Any], target_rg: str) -> dict[str, Any]:
    """protectedVMs[].target from normalized live attrs (documented key order). References in the VM's
    resource group are written as names, others as ARM ids."""
    out: dict[str, Any] = {}
    vm_rg = _rg(a.get("targetResourceGroup")) or target_rg
    for f in FIELDS:
        v = a.get(f.attr)
        if v is None or f.attr == "diskEncryptionSet" and isinstance(v, list):
            continue
        if f.attr == "targetVmName" and v == name:
            continue
        if f.attr == "targetResourceGroup":
            if (_last(v) or "").lower() != target_rg.lower():
                out["resourceGroup"] = _last(v)
            continue
        if f.attr in ("licenseType", "sqlServerLicenseType") and v == "NoLicenseType":
            continue
        if f.attr == "osType":  # never exported: see OS_TYPE_NOT_EXPORTED
            continue
        if f.attr == "securityProfile":
            if v.get("type") != "None":
                out["securityProfile"] = {k: x for k, x in v.items() if k == "type" or x != {"secureBoot": True, "vTpm": True,
                                                                                            "integrityMonitoring": False}[k]}
            continue
        if f.ref:
            home = target_rg if f.ref in ("vnet", "storage") else vm_rg
            v = _last(v) if (_rg(v) or "").lower() == home.lower() else v
        if f.attr == "targetNetwork":
            out["network"] = v
            if a.get("subnet"):
                out["subnet"] = a["subnet"]
            continue
        out[f.manifest] = v
    if a.get("diskType"):
        out["diskType"] = a["diskType"]
    if a.get("disks"):
        out["disks"] = [{"name": n, "type": t} for n, t in a["disks"].items()]
    nics = []
    for i, n in enumerate(a.get("nics") or []):
        e = {k: n[k] for k in NIC_ATTRS if n.get(k)}
        if i == 0 and e.get("subnet") == a.get("subnet"):
            e.pop("subnet")
        if len(a.get("nics") or []) < 2:
            e.pop("primary", None)
        for key in ("networkSecurityGroup", "publicIp"):
            if e.get(key) and (_rg(e[key]) or "").lower() == vm_rg.lower():
                e[key] = _last(e[key])
        nics.append(e)
    while nics and not nics[-1]:
        nics.pop()
    if nics:
        out["nics"] = nics
    return out


def nic_count_problem(declared: int, held: int) -> str:
    return (f"target.nics declares {declared} NICs, and Site Recovery lists {held} on the VM (vmNics): "
            f"declare at most {held}, in the order Azure lists them")


def update_problems(tg: Any, held_psd: dict[str, Any]) -> list[str]:
    """What an update of a protected VM cannot do, given the item as Azure holds it: more NICs declared than
    the VM has (the update could set only those it has, and the plan would never converge)."""
    declared, held = len(getattr(tg, "nics", None) or []), len(held_psd.get("vmNics") or [])
    return [nic_count_problem(declared, held)] if declared > held else []


def enable_problems(tg: Any, protectable: dict[str, Any]) -> list[str]:
    """What Azure would refuse in this VM's target settings, given the discovered VM (protectable item)."""
    cd = (protectable.get("properties") or {}).get("customDetails") or {}
    out = []
    sec = _model_security(getattr(tg, "security_profile", None))
    gen = str(cd.get("generation") or "")
    if sec and sec["type"] == "TrustedLaunch" and gen and gen != "2":
        out.append(f"securityProfile TrustedLaunch needs a generation 2 VM; this one is generation {gen}")
    names = {str(d.get("vhdName") or "").lower(): d for d in cd.get("diskDetails") or []}
    for d in getattr(tg, "disks", []) or []:
        disk = names.get(d.name.lower())
        if names and disk is None and not d.exclude:  # excluding a disk the VM does not have changes nothing
            out.append(f"the VM has no disk '{d.name}' (its disks: {', '.join(sorted(n for n in names if n))})")
        elif disk is not None and d.exclude and str(disk.get("vhdType") or "").lower() == "operatingsystem":
            out.append(f"disk '{d.name}' is the VM's OS disk: it cannot be excluded")
    return out

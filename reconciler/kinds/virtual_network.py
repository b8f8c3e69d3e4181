"""Target virtual networks (`target.networks[]`), declared once.

Sources: azure-mgmt-network 33.1.0 models VirtualNetwork / VirtualNetworkPropertiesFormat / AddressSpace
(create and update are the same PUT, `virtual_networks.begin_create_or_update`; read alike) and Subnet
(reconciler/kinds/subnet.py); spec examples VirtualNetworkCreate.json, VirtualNetworkCreateSubnet.json,
VirtualNetworkCreateSubnetWithDelegation.json (Microsoft.Network); docs/fidelity.md R-001, R-002.

Fields:

- `location`: the vnet's region. A manifest does not write it per network: it is the vault's region
  (`vault.location`), normalized as ARM names regions. A vnet cannot move: a change is a replace.
- `addressSpace`: `target.networks[].addressSpace`, `properties.addressSpace.addressPrefixes`; compared
  as a set (sorted), changed in place.
- `subnets`: `target.networks[].subnets[]` as a map name -> address prefix (each entry through the
  subnet table), `properties.subnets`; changed in place. Subnets Azure holds that the manifest does not
  list are part of the desired state as they are (an update keeps them; they are listed as unmanaged, and
  deleted only by a change of their own, kind `subnet`, under `prune: {subnets: true}`). A declared subnet
  is looked up by name case-insensitively and shown under the spelling Azure holds.

The network's name is `target.networks[].name`, looked up in `target.resourceGroup`
(reconciler.live.ids.vnet_id).

A vnet PUT replaces the whole resource (R-001), so an update is a read-modify-write (`update_body`): the
vnet as read (`settings`: every settable property, read-only ones out, R-002), with only the table's
in-place fields changed. `settings` is also what a plan's status records (a digest): a saved plan is stale
when what an update would send back has moved.

`existing` (`DIRECTIVES`) is an instruction to asr, not a setting: a network declared `existing: true` must
already exist and is never created nor changed. Azure does not record it, so export never writes it.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds import subnet as subnet_kind
from reconciler.kinds.base import Field, canonical, norm_location

__all__ = ["FIELDS", "REPLACE_FIELDS", "DIRECTIVES", "VNET_READ_ONLY", "SUBNET_READ_ONLY", "settings",
           "desired_attrs", "live_attrs", "create_body", "update_body", "export_entry"]

_SUBNETS = "properties.subnets"


def _prefixes(v: Any) -> list[Any]:
    return sorted(v or [])


def _subnet_map(v: Any) -> dict[str, Any]:
    """name -> address prefix, sorted by name: from a map, or from manifest `subnets[]` entries."""
    if isinstance(v, dict):
        return dict(sorted(v.items()))
    entries = [subnet_kind.desired_attrs(s) for s in v or []]
    return dict(sorted((e["name"], e["addressPrefix"]) for e in entries))


def _subnets_read(v: Any) -> dict[str, Any]:
    entries = [subnet_kind.live_attrs(s) for s in v or [] if isinstance(s, dict)]
    return {e["name"]: e["addressPrefix"] for e in entries}


def _subnets_api(v: dict[str, Any]) -> list[dict[str, Any]]:
    return [subnet_kind.body({"name": n, "addressPrefix": p}) for n, p in v.items()]


def _subnets_manifest(v: dict[str, Any]) -> list[dict[str, Any]]:
    return [subnet_kind.export_entry({"name": n, "addressPrefix": p}) for n, p in v.items()]


FIELDS: tuple[Field, ...] = (
    Field("location", None, "location", "location", None, mode="replace", norm=norm_location),
    Field("addressSpace", "addressSpace", "properties.addressSpace.addressPrefixes",
          "properties.addressSpace.addressPrefixes", "properties.addressSpace.addressPrefixes",
          norm=_prefixes, from_api=lambda v: v or []),
    Field("subnets", "subnets", _SUBNETS, _SUBNETS, _SUBNETS, norm=_subnet_map, from_api=_subnets_read,
          to_api=_subnets_api, to_manifest=_subnets_manifest),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)
DIRECTIVES = ("existing",)

# Read-only properties (Microsoft.Network 2026-03-01 VirtualNetwork / Subnet) that a read returns
# and a PUT ignores: left out of a read-modify-write body, so that the body depends only on what
# can be configured (a NIC of a failed-over VM joining a subnet does not change it).
VNET_READ_ONLY = ("etag", "provisioningState", "resourceGuid", "systemData", "type")
SUBNET_READ_ONLY = ("etag", "type", "provisioningState", "ipConfigurations", "ipConfigurationProfiles",
                    "privateEndpoints", "resourceNavigationLinks", "serviceAssociationLinks", "purpose")


def settings(live_vnet: dict[str, Any]) -> dict[str, Any]:
    """A live vnet as a PUT body would carry it: every settable property (tags, dhcpOptions, each
    subnet's NSG, route table, service endpoints, delegations, NAT gateway...), read-only ones out."""
    out = {k: v for k, v in live_vnet.items() if k not in ("id", "name", *VNET_READ_ONLY)}
    p = {k: v for k, v in (live_vnet.get("properties") or {}).items() if k not in VNET_READ_ONLY}
    subnets = []
    for sn in p.get("subnets") or []:
        sn = {k: v for k, v in sn.items() if k not in SUBNET_READ_ONLY}
        sn["properties"] = {k: v for k, v in (sn.get("properties") or {}).items() if k not in SUBNET_READ_ONLY}
        subnets.append(sn)
    p["subnets"] = subnets
    out["properties"] = p
    result: dict[str, Any] = canonical(out)
    return result


def desired_attrs(net: Any, location: str, live_vnet: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """A `target.networks[]` entry (`location`: the vault's), with the subnets `live_vnet` holds that it
    does not list; and those subnets' names (unmanaged)."""
    attrs = {"location": norm_location(location), **base.desired_attrs(FIELDS, net)}
    held = [subnet_kind.live_attrs(sn) for sn in base.get_path(live_vnet, _SUBNETS) or []] if live_vnet else []
    declared = {str(n).lower() for n in attrs["subnets"]}
    unmanaged = {s["name"]: s["addressPrefix"] for s in held if str(s["name"] or "").lower() not in declared}
    spelled = {str(s["name"] or "").lower(): s["name"] for s in held}
    subnets = {spelled.get(str(n).lower(), n): p for n, p in attrs["subnets"].items()}
    attrs["subnets"] = dict(sorted({**unmanaged, **subnets}.items()))
    return attrs, sorted(unmanaged, key=str.lower)


def live_attrs(vnet: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, vnet)


def create_body(attrs: dict[str, Any]) -> dict[str, Any]:
    """VirtualNetwork for a create (PUT): location, address space, subnets."""
    return base.body(FIELDS, attrs)


def _put(body: dict[str, Any], path: str, value: Any) -> None:
    node = body
    for part in path.split(".")[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path.rsplit(".", 1)[-1]] = value


def update_body(attrs: dict[str, Any], live_vnet: dict[str, Any]) -> dict[str, Any]:
    """Read-modify-write of a virtual network: a vnet PUT replaces the whole resource (tags,
    dhcpOptions, and every subnet with its NSG, route table, service endpoints, delegations...),
    so the body is the vnet as read, with only the in-place fields of the table changed: the address
    space, and the subnets' prefixes (a subnet missing in Azure is appended). A subnet Azure holds
    that `attrs` does not change stays in the body untouched."""
    out = settings(live_vnet)  # a fresh copy: tags, dhcpOptions, subnets..., read-only values out
    for f in FIELDS:
        if f.mode != "update" or f.update is None or f.attr == "subnets" or attrs.get(f.attr) is None:
            continue
        _put(out, f.update, f.to_api(attrs[f.attr]))
    subnets = out["properties"]["subnets"]
    by_name = {str(sn.get("name") or "").lower(): sn for sn in subnets}
    for name, prefix in (attrs.get("subnets") or {}).items():
        want = {"name": name, "addressPrefix": prefix}
        sn = by_name.get(str(name).lower())
        if sn is None:
            subnets.append(subnet_kind.body(want))
        else:
            subnet_kind.update_in_place(sn, want)
    out.setdefault("location", attrs.get("location"))
    result: dict[str, Any] = canonical(out)
    return result


def export_entry(name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """target.networks[] entry: address space and every subnet written out."""
    return {"name": name, **base.export_entry(FIELDS, attrs, keep_defaults=True)}

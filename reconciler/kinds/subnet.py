"""Subnets of a target virtual network (`target.networks[].subnets[]`), declared once.

A subnet is written inline in its virtual network, and read inline too: the vnet's table
(reconciler/kinds/virtual_network.py) holds them as one field, `subnets` (name -> address prefix), built
from this table entry by entry. The kind `subnet` of a plan is a subnet's own change: the delete of a
subnet the manifest does not list, under `prune: {subnets: true}` (network.subnets.begin_delete), never
an update of the vnet that drops it.

Sources: azure-mgmt-network 33.1.0 models Subnet / SubnetPropertiesFormat (inline in VirtualNetwork's
`properties.subnets`, create and read alike); spec examples VirtualNetworkCreateSubnet.json,
SubnetDelete.json (Microsoft.Network); docs/fidelity.md R-001, R-002.

Fields:

- `name`: `subnets[].name`, the subnet's identity inside its vnet (compared case-insensitively, as ARM
  names are; a declared subnet is shown under the spelling Azure holds). A subnet under another name is
  another subnet, so there is no in-place rename.
- `addressPrefix`: `subnets[].addressPrefix`, read from `properties.addressPrefix`, or the first of
  `properties.addressPrefixes` where Azure holds a list; written as `properties.addressPrefix` (an update
  that changes it drops `addressPrefixes`).

Every other property of a subnet (NSG, route table, service endpoints, delegations, NAT gateway...) is not
asr's: an update of the vnet sends it back as read (virtual_network.update_body).
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field

__all__ = ["FIELDS", "REPLACE_FIELDS", "prefix", "desired_attrs", "live_attrs", "body", "update_in_place",
           "export_entry"]


def prefix(properties: Any) -> Any:
    """The address prefix of a subnet's `properties` (addressPrefix, else the first of addressPrefixes)."""
    if not isinstance(properties, dict):
        return None
    return properties.get("addressPrefix") or ((properties.get("addressPrefixes") or [None])[0])


FIELDS: tuple[Field, ...] = (
    Field("name", "name", "name", "name", None, mode="replace"),
    Field("addressPrefix", "addressPrefix", "properties", "properties.addressPrefix", "properties.addressPrefix",
          from_api=prefix),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(subnet: Any) -> dict[str, Any]:
    """A manifest `subnets[]` entry."""
    return base.desired_attrs(FIELDS, subnet)


def live_attrs(subnet: dict[str, Any]) -> dict[str, Any]:
    """An inline subnet of a live vnet (ARM JSON)."""
    return base.live_attrs(FIELDS, subnet)


def body(attrs: dict[str, Any]) -> dict[str, Any]:
    """A new subnet, inline in a vnet's PUT body."""
    return base.body(FIELDS, attrs)


def update_in_place(subnet: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Set the in-place fields of `attrs` on `subnet` (an inline subnet of a vnet body, as read) where they
    differ; everything else of it is left as it is."""
    for f in FIELDS:
        if f.update is None or f.live is None or attrs.get(f.attr) is None:
            continue
        current = f.from_api(base.get_path(subnet, f.live))
        if str(current or "").lower() == str(attrs[f.attr]).lower():
            continue
        if f.attr == "addressPrefix":
            (subnet.get("properties") or {}).pop("addressPrefixes", None)
        base.put_path(subnet, f.update, f.to_api(attrs[f.attr]))


def export_entry(attrs: dict[str, Any]) -> dict[str, Any]:
    """A manifest `subnets[]` entry."""
    return base.export_entry(FIELDS, attrs)

"""Hyper-V sites (a fabric of type HyperVSite), declared once.

A manifest declares a site by name (`source.hypervSites[].name`); asr creates it (a PUT of the fabric
under that name; the friendly name is the name) and looks it up among the vault's fabrics (the
`replicationFabrics` list) by `properties.friendlyName`, those whose `customDetails.instanceType` is
HyperVSite. The site's `hosts[]` are the kind `hyperv_host` (registered on-premises, not by asr), its
`policy` the kind `policy_association` (the site's one protection container).

Fields:
- `type`: the fabric's type, `HyperVSite`. Not a manifest key (every declared site is one). Read from
  `properties.customDetails.instanceType`; the create input carries the base type of the polymorphic
  FabricSpecificCreationInput, `{"instanceType": "FabricSpecificCreationInput"}`, which is what Azure's
  own clients send and what reads back as HyperVSite (ReplicationFabrics_Create.json, PowerShell
  CreateFabricTests.json; docs/fidelity.md F-002). A fabric's type cannot change: `replace`.

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models Fabric / FabricProperties (friendlyName,
customDetails), HyperVSiteDetails (instanceType "HyperVSite"), FabricCreationInput /
FabricCreationInputProperties / FabricSpecificCreationInput; ReplicationFabrics_Create.json,
ReplicationFabrics_List.json.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field

__all__ = ["FIELDS", "REPLACE_FIELDS", "SITE_TYPE", "desired_attrs", "live_attrs", "create_input", "export_entry"]

SITE_TYPE = "HyperVSite"

FIELDS: tuple[Field, ...] = (
    Field("type", None, "properties.customDetails.instanceType", "properties.customDetails.instanceType", None,
          mode="replace", default=SITE_TYPE, to_api=lambda _v: "FabricSpecificCreationInput"),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(site: Any) -> dict[str, Any]:
    """A declared site: a HyperVSite fabric (the table's defaults; hosts and policy are their own kinds)."""
    return {**base.desired_attrs(FIELDS, site), **{f.attr: f.default for f in FIELDS if f.manifest is None}}


def live_attrs(fabric: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, fabric)


def create_input(attrs: dict[str, Any]) -> dict[str, Any]:
    """FabricCreationInput of a site (ReplicationFabrics_Create)."""
    return base.body(FIELDS, attrs)


def export_entry(name: str, attrs: dict[str, Any], hosts: list[str], policy: str | None) -> dict[str, Any]:
    """source.hypervSites[] entry: name, hosts (kind hyperv_host), policy (kind policy_association)."""
    entry: dict[str, Any] = {"name": name, **base.export_entry(FIELDS, attrs), "hosts": hosts}
    if policy:
        entry["policy"] = policy
    return entry

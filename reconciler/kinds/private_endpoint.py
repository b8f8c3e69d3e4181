"""Site Recovery private endpoints of the vault (`vault.privateEndpoints[]`), declared once.

Sources: azure-mgmt-network 33.1.0 models PrivateEndpoint (`private_endpoints.begin_create_or_update`, a PUT)
and PrivateLinkServiceConnection; PrivateEndpointCreate.json (network spec examples); Learn "Replicate
on-premises machines by using private endpoints"; docs/fidelity.md V-004..V-012.

A manifest entry is `{name, network, subnet}`; the endpoint is created in the vault's resource group. Rows
(live and request paths in the endpoint; `connection.` stands for its one private link service connection,
`properties.privateLinkServiceConnections[0].properties`, or the manual one when that is what Azure holds):

- `location` (`location`): the vault's region (`vault.location`, not written in the entry).
- `subnet` (`properties.subnet.id`): the subnet's ARM id, from the entry's `network` and `subnet`: a `network`
  that is a name is looked up among `target.networks` (in `target.resourceGroup`); an ARM id is taken as it is.
- `vault` (`connection.privateLinkServiceId`): the vault's ARM id (not written in the entry).
- `groupIds` (`connection.groupIds`): always `[AzureSiteRecovery]` (not written in the entry).

Nothing of an endpoint changes in place: every row is a replace (delete + create, under `--allow-destroy`).
Export writes `network` by name when it is one of the exported `target.networks`, else as an ARM id.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field, norm_location
from reconciler.live.ids import parse_id, subnet_id

__all__ = ["FIELDS", "ROOTS", "REPLACE_FIELDS", "SITE_RECOVERY_GROUP", "connection", "subnet_of", "desired_attrs",
           "live_attrs", "create_body", "export_entry"]

SITE_RECOVERY_GROUP = "AzureSiteRecovery"
# where the manifest keys of the table start, and what `connection.` in the read and create paths stands for
ROOTS = {"manifest key": "vault.privateEndpoints[]",
         "`connection.`": "properties.privateLinkServiceConnections[0].properties (the manual one when Azure holds that)"}


def _sorted(v: Any) -> list[Any]:
    return sorted(v or [])


FIELDS: tuple[Field, ...] = (
    Field("location", None, "location", "location", None, mode="replace", norm=norm_location),
    Field("subnet", "subnet", "properties.subnet.id", "properties.subnet.id", None, mode="replace"),
    Field("vault", None, "connection.privateLinkServiceId", "connection.privateLinkServiceId", None, mode="replace"),
    Field("groupIds", None, "connection.groupIds", "connection.groupIds", None, mode="replace",
          default=[SITE_RECOVERY_GROUP], norm=_sorted, from_api=lambda v: v or []),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def connection(pe: dict[str, Any]) -> dict[str, Any]:
    """The endpoint's (first) private link service connection, automatic or manual; {} when it has none."""
    p = pe.get("properties") or {}
    conns = (p.get("privateLinkServiceConnections") or []) + (p.get("manualPrivateLinkServiceConnections") or [])
    return conns[0] if conns else {}


def subnet_of(manifest: Any, pe: Any) -> str:
    """The ARM id of the entry's subnet (`network`: a name in target.resourceGroup, or an ARM id)."""
    if pe.network.startswith("/"):
        return f"{pe.network.rstrip('/')}/subnets/{pe.subnet}"
    return subnet_id(manifest.subscription, manifest.target.resource_group, pe.network, pe.subnet)


def desired_attrs(manifest: Any, pe: Any, vault_arm_id: str) -> dict[str, Any]:
    """The entry's attributes: its subnet resolved, the vault's region and id, the Site Recovery group."""
    values = {"location": manifest.vault.location, "subnet": subnet_of(manifest, pe), "vault": vault_arm_id,
              "groupIds": [SITE_RECOVERY_GROUP]}
    return {f.attr: f.norm(values[f.attr]) for f in FIELDS}


def live_attrs(pe: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, {**pe, "connection": connection(pe).get("properties") or {}})


def create_body(name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """The PUT: every row, the connection (named as the endpoint) as the one entry of
    privateLinkServiceConnections. `attrs["location"]` is sent as given (the manifest's spelling)."""
    out = base.body(FIELDS, attrs)
    conn = out.pop("connection", {})
    out.setdefault("properties", {})["privateLinkServiceConnections"] = [{"name": name, "properties": conn}]
    return out


def export_entry(name: str, attrs: dict[str, Any], *, target_resource_group: str,
                 networks: Container[str]) -> dict[str, Any]:
    """The `vault.privateEndpoints[]` entry: the subnet id split into `network` and `subnet`; `network` by name
    when it is in `target_resource_group` and among `networks` (lower-cased names export declares), else by id."""
    vnet, _, subnet = str(attrs.get("subnet") or "").partition("/subnets/")
    vnet_name = vnet.rstrip("/").rsplit("/", 1)[-1] if vnet else ""
    declared = str(parse_id(vnet).get("resourcegroups") or "").lower() == target_resource_group.lower() \
        and vnet_name.lower() in networks
    return {"name": name, "network": vnet_name if declared else vnet, "subnet": subnet}

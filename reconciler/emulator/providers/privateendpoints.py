"""Microsoft.Network/privateEndpoints (azure-mgmt-network 33.1.x, 2026-03-01), as far as
a Site Recovery private endpoint of a Recovery Services vault needs it.

Shapes follow PrivateEndpointCreate.json (network spec examples): PUT answers 201
(create) / 200 (update) with provisioningState "Updating" and Azure-AsyncOperation,
like the virtual networks of this emulator; the connection of a
`privateLinkServiceConnections[]` entry is auto-approved
(`{"status": "Approved", "description": "Auto-approved", "actionsRequired": "None"}`);
`networkInterfaces[]`, `customDnsConfigs[]` (one FQDN per Site Recovery member:
SiteRecovery-id1, -prot2, -rcm1, -srs1, -tel1) and private IPs from the subnet are
generated.

When the target is a vault (`privateLinkServiceId` .../Microsoft.RecoveryServices/vaults/X)
with group id AzureSiteRecovery, the vault reflects it (docs/fidelity.md, "Vault
security"): `properties.privateEndpointConnections[]` gains the connection and
`privateEndpointStateForSiteRecovery` becomes "Enabled" (back to "None" when the last
one is deleted). Refused, as Learn's caveats describe (error codes are guesses): a
vault without a system-assigned identity, and a vault where a VMM server or Hyper-V
host has already registered ("private endpoints can be created only for new Recovery
Services vaults that don't have any items registered to the vault").
A subnet holding a private endpoint is in use (the "subnet.in_use" hook).
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any

from reconciler.emulator.framework import (
    ArmError,
    Ctx,
    Reply,
    RouteTable,
    accepted,
    finishes_now,
    list_in_resource_group,
    list_in_subscription,
    not_found,
)
from reconciler.emulator.providers.common import canonical_rg, check_location, check_tags, location_conflict
from reconciler.emulator.state import EmulatorState

API = ("2026-03-01",)
TYPE = "Microsoft.Network/privateEndpoints"
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
PE = RG + "/providers/Microsoft.Network/privateEndpoints/{privateEndpointName}"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$")
PROVISION_SECONDS = 1.0
VAULT_TYPE = "microsoft.recoveryservices/vaults"
SITE_RECOVERY_GROUP = "AzureSiteRecovery"
# member names of the AzureSiteRecovery group (Azure Verified Modules, avm/res/recovery-services/vault
# README, "privateEndpoints[].ipConfigurations": SiteRecovery-tel1, -prot2, -srs1, -rcm1, -id1)
SITE_RECOVERY_MEMBERS = ("id1", "prot2", "rcm1", "srs1", "tel1")
DNS_ZONE = "privatelink.siterecovery.windowsazure.com"


def register(routes: RouteTable) -> None:
    routes.add("PUT", PE, put_endpoint, api_versions=API)
    routes.add("GET", PE, get_endpoint, api_versions=API)
    routes.add("DELETE", PE, delete_endpoint, api_versions=API)
    routes.add("GET", RG + "/providers/Microsoft.Network/privateEndpoints", lambda ctx: list_in_resource_group(ctx, TYPE),
               api_versions=API)
    routes.add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Network/privateEndpoints",
               lambda ctx: list_in_subscription(ctx, TYPE), api_versions=API)
    routes.add_hook("subnet.in_use", subnet_user)


def pe_id(subscription_id: str, resource_group: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{TYPE}/{name}"


def subnet_user(state: EmulatorState, subnet_id: str) -> str | None:
    for pe in state.find(TYPE):
        sid = ((pe.get("properties") or {}).get("subnet") or {}).get("id") or ""
        if sid.lower() == subnet_id.lower():
            return f"private endpoint {pe['name']}"
    return None


def _bad(message: str, code: str = "InvalidRequestFormat", target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target=target)


def _subnet(state: EmulatorState, subnet_id: object) -> dict:
    if not isinstance(subnet_id, str) or "/subnets/" not in subnet_id.lower():
        raise _bad("Cannot parse the request: 'properties.subnet.id' must be the id of a subnet.", target="properties.subnet.id")
    subnet = state.get(subnet_id)
    if subnet is None:
        raise _bad(f"Resource {subnet_id} referenced by the private endpoint was not found.", "InvalidResourceReference")
    return subnet


def _free_ips(state: EmulatorState, subnet: dict, count: int) -> list[str]:
    """The next `count` addresses of the subnet not used by another private endpoint
    (Azure keeps the first four and the last of every subnet)."""
    sp = subnet.get("properties") or {}
    prefix = sp.get("addressPrefix") or (sp.get("addressPrefixes") or [None])[0]
    net = ipaddress.ip_network(prefix)
    used: set[Any] = set()
    for pe in state.find(TYPE):
        for cfg in (pe.get("properties") or {}).get("customDnsConfigs") or []:
            used.update(cfg.get("ipAddresses") or [])
    out = []
    for i, host in enumerate(net.hosts()):
        if i < 3:
            continue
        if str(host) not in used:
            out.append(str(host))
        if len(out) == count:
            return out
    raise ArmError(400, "SubnetIsFull", f"Subnet {subnet['id']} has no free IP addresses left for the private endpoint.")


def _vault_of(state: EmulatorState, target: str) -> dict | None:
    return state.get(target) if VAULT_TYPE in target.lower() else None


def _check_vault_target(state: EmulatorState, vault: dict, groups: list) -> None:
    if not any(str(g).lower() == SITE_RECOVERY_GROUP.lower() for g in groups):
        return
    identity = vault.get("identity") or {}
    if "systemassigned" not in str(identity.get("type", "")).replace(" ", "").lower():
        # guess: Learn has the identity enabled first; the code and wording are ours
        raise ArmError(400, "PrivateEndpointCreationNotAllowedWithoutIdentity",
                       f"Private endpoint for Site Recovery cannot be created for vault '{vault['name']}': enable a "
                       "system-assigned managed identity on the vault first.")
    reason = registered_reason(state, vault["id"])
    if reason:
        # Learn: private endpoints can be created only for vaults with no items registered (code is a guess)
        raise ArmError(400, "PrivateEndpointCreationNotAllowed",
                       f"Private endpoints can be created only for Recovery Services vaults that have no items "
                       f"registered; vault '{vault['name']}' has {reason}.")


def registered_reason(state: EmulatorState, vault_id: str) -> str | None:
    """A VMM server or Hyper-V host registered into the vault (site recovery simulation), or None."""
    sr = state.extras.get("siterecovery")
    vault = getattr(sr, "vaults", {}).get(vault_id.rstrip("/").lower()) if sr is not None else None
    if vault is None:
        return None
    for fabric in vault.fabrics.values():
        for prov in fabric.providers.values():
            return f"registered server {prov.friendly}"
    return None


def _connections(ctx: Ctx, rid: str, props: dict) -> tuple[list[dict], list[tuple[dict, list]]]:
    """The endpoint's connections (auto-approved) and the vaults they point at."""
    given = props.get("privateLinkServiceConnections") or []
    manual = props.get("manualPrivateLinkServiceConnections") or []
    if not isinstance(given, list) or not isinstance(manual, list) or not (given or manual):
        raise _bad("Cannot parse the request: a private endpoint needs one privateLinkServiceConnections entry.",
                   target="properties.privateLinkServiceConnections")
    out, vaults = [], []
    for i, c in enumerate(given + manual):
        cp = (c or {}).get("properties") or {}
        target = cp.get("privateLinkServiceId")
        groups = cp.get("groupIds") or []
        if not isinstance(target, str) or not target.startswith("/"):
            raise _bad(f"Cannot parse the request: privateLinkServiceConnections[{i}].properties.privateLinkServiceId is required.")
        if not isinstance(groups, list):
            raise _bad("Cannot parse the request: 'groupIds' must be a list.")
        vault = _vault_of(ctx.state, target)
        if VAULT_TYPE in target.lower():
            if vault is None:
                raise _bad(f"Private link service {target} referenced by the private endpoint was not found.",
                           "PrivateLinkServiceNotFound")
            if len(groups) != 1 or str(groups[0]).lower() not in ("azuresiterecovery", "azurebackup", "azurebackup_secondary"):
                raise _bad(f"Group id(s) {groups} are not supported by {target}; use AzureSiteRecovery or AzureBackup.",
                           "PrivateEndpointBadRequest")
            _check_vault_target(ctx.state, vault, groups)
            vaults.append((vault, groups))
        name = (c or {}).get("name") or f"{rid.rsplit('/', 1)[-1]}_{i}"
        out.append({
            "name": name,
            "id": f"{rid}/privateLinkServiceConnections/{name}",
            "type": "Microsoft.Network/privateEndpoints/privateLinkServiceConnections",
            "etag": f'W/"{uuid.uuid4()}"',
            "properties": {
                "provisioningState": "Succeeded",
                "privateLinkServiceId": target,
                "groupIds": groups,
                "requestMessage": cp.get("requestMessage") or "",
                "privateLinkServiceConnectionState": {"status": "Approved", "description": "Auto-approved",
                                                      "actionsRequired": "None"},
            },
        })
    return out, vaults


def _geo(location: str) -> str:
    return {"westeurope": "we", "northeurope": "ne", "eastus": "eus", "eastus2": "eus2", "westus": "wus",
            "westus2": "wus2", "uksouth": "uks", "southcentralus": "scus"}.get(location, location)


def _dns_configs(state: EmulatorState, subnet: dict, vaults: list, location: str) -> list[dict]:
    if not vaults:
        return [{"fqdn": None, "ipAddresses": _free_ips(state, subnet, 1)}]
    out = []
    ips = _free_ips(state, subnet, len(SITE_RECOVERY_MEMBERS))
    for vault, _ in vaults:
        for member, ip in zip(SITE_RECOVERY_MEMBERS, ips, strict=False):  # fewer IPs when the subnet is full
            out.append({"fqdn": f"{vault['_resourceId']}-asr-pod01-{member}.{_geo(vault['location'])}.{DNS_ZONE}",
                        "ipAddresses": [ip]})
    return out


def _reflect_on_vaults(state: EmulatorState, pe: dict, vaults: list, *, remove: bool = False) -> None:
    """The vault's privateEndpointConnections / privateEndpointStateForSiteRecovery. The vault
    dict is replaced (not edited), so the site recovery simulation sees that it changed."""
    for vault, groups in vaults:
        current = state.get(vault["id"])
        if current is None:
            continue
        new = dict(current)
        props = dict(current.get("properties") or {})
        conns = [c for c in props.get("privateEndpointConnections") or []
                 if ((c.get("properties") or {}).get("privateEndpoint") or {}).get("id", "").lower() != pe["id"].lower()]
        if not remove:
            cname = f"{pe['name']}.{uuid.UUID(int=state.rng.getrandbits(128), version=4)}"
            conns.append({
                "id": f"{current['id']}/privateEndpointConnections/{cname}",
                "name": cname,
                "type": "Microsoft.RecoveryServices/vaults/privateEndpointConnections",
                "location": current["location"],
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateEndpoint": {"id": pe["id"]},
                    "privateLinkServiceConnectionState": {"status": "Approved", "description": "Auto-approved",
                                                          "actionsRequired": "None"},
                    "groupIds": list(groups),
                },
            })
        props["privateEndpointConnections"] = conns
        sr = [c for c in conns if any(str(g).lower() == "azuresiterecovery" for g in (c["properties"].get("groupIds") or []))]
        props["privateEndpointStateForSiteRecovery"] = "Enabled" if sr else "None"
        if sr and not props.get("_siteRecoveryPrivateEndpointAt"):
            props["_siteRecoveryPrivateEndpointAt"] = state.now()
        if not sr:
            props.pop("_siteRecoveryPrivateEndpointAt", None)
        if not conns:
            props.pop("privateEndpointConnections", None)
        new["properties"] = props
        state.put(current["id"], new)


def _rid(ctx: Ctx) -> str:
    return pe_id(ctx.subscription_id, ctx.params["resourceGroupName"], ctx.params["privateEndpointName"])


def put_endpoint(ctx: Ctx) -> Reply:
    name = ctx.params["privateEndpointName"]
    if not NAME.match(name):
        raise ArmError(400, "InvalidResourceName", f"Resource name {name} is invalid. The name can be up to 64 characters long.")
    body = ctx.require_body()
    state = ctx.state
    current = state.get(_rid(ctx))
    location = check_location(body.get("location"))
    if current is not None and current["location"] != location:
        raise location_conflict(name, ctx.params["resourceGroupName"], current["location"], location)
    props = body.get("properties")
    if not isinstance(props, dict):
        raise _bad("Cannot parse the request: 'properties' is required.", target="properties")
    subnet_id = (props.get("subnet") or {}).get("id")
    if current is not None:
        old = current["properties"]["subnet"]["id"]
        if str(subnet_id).lower() != old.lower():
            # guess: Azure does not move a private endpoint to another subnet (the NIC stays where it was made)
            raise _bad(f"Subnet of private endpoint {name} cannot be changed from {old} to {subnet_id}.",
                       "PrivateEndpointSubnetCannotBeChanged")
        return Reply(200, current)  # same endpoint again: nothing to do
    subnet = _subnet(state, subnet_id)
    vnet = state.get(subnet["id"].rsplit("/subnets/", 1)[0]) or {}
    if vnet.get("location") and vnet["location"] != location:
        raise _bad(f"Private endpoint {name} must be in the location of its virtual network ({vnet['location']}).",
                   "PrivateEndpointLocationMismatch")
    rg = canonical_rg(state, ctx.subscription_id, ctx.params["resourceGroupName"])
    rid = pe_id(ctx.subscription_id, rg, name)
    conns, vaults = _connections(ctx, rid, props)
    manual = bool(props.get("manualPrivateLinkServiceConnections"))
    nic = f"{name}.nic.{uuid.UUID(int=state.rng.getrandbits(128), version=4)}"
    pe: dict = {
        "name": name,
        "id": rid,
        "type": TYPE,
        "location": location,
        "etag": f'W/"{uuid.uuid4()}"',
        "properties": {
            "provisioningState": "Updating",
            "resourceGuid": str(uuid.UUID(int=state.rng.getrandbits(128), version=4)),
            "privateLinkServiceConnections": [] if manual else conns,
            "manualPrivateLinkServiceConnections": conns if manual else [],
            "subnet": {"id": subnet["id"]},
            "networkInterfaces": [{"id": f"/subscriptions/{ctx.subscription_id}/resourceGroups/{rg}/providers/"
                                         f"Microsoft.Network/networkInterfaces/{nic}"}],
            "customDnsConfigs": _dns_configs(state, subnet, vaults, location),
            "applicationSecurityGroups": [],
            "ipConfigurations": [],
            "customNetworkInterfaceName": props.get("customNetworkInterfaceName") or "",
        },
    }
    tags = check_tags(body.get("tags"))
    if tags:
        pe["tags"] = tags
    state.put(rid, pe)
    _reflect_on_vaults(state, pe, vaults)
    return _provision(ctx, rid, location)


def _provision(ctx: Ctx, rid: str, location: str) -> Reply:
    state = ctx.state
    if finishes_now(state, PROVISION_SECONDS):
        res = state.get(rid)
        assert res is not None  # stored just above
        res["properties"]["provisioningState"] = "Succeeded"
        return Reply(201, res)
    op = state.new_operation("network/privateEndpoint", retry_after=10, data={"location": location})
    op.eta = op.start + PROVISION_SECONDS

    def finish() -> None:
        res = state.get(rid)
        if res is not None:
            res["properties"]["provisioningState"] = "Succeeded"
        op.succeed(lambda: state.get(rid))

    state.schedule(op.eta, finish)
    return accepted(ctx, op, status=201, body=state.get(rid), location=False, namespace="Microsoft.Network",
                    async_operation=ctx.url(f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Network/locations/{location}/operations/{op.id}"))


def get_endpoint(ctx: Ctx) -> dict:
    pe = ctx.state.get(_rid(ctx))
    if pe is None:
        raise not_found(ctx, TYPE, ctx.params["privateEndpointName"])
    return pe


def delete_endpoint(ctx: Ctx) -> Reply:
    state = ctx.state
    current = state.get(_rid(ctx))
    if current is None:
        return Reply(204, None)
    p = current["properties"]
    vaults = []
    for c in (p.get("privateLinkServiceConnections") or []) + (p.get("manualPrivateLinkServiceConnections") or []):
        v = _vault_of(state, c["properties"]["privateLinkServiceId"])
        if v is not None:
            vaults.append((v, c["properties"].get("groupIds") or []))
    state.delete(current["id"])
    _reflect_on_vaults(state, current, vaults, remove=True)
    if finishes_now(state, PROVISION_SECONDS):
        return Reply(200, None)
    op = state.new_operation("network/delete", result=None, done_in=PROVISION_SECONDS, retry_after=10,
                             data={"location": current["location"]})
    base = f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Network/locations/{current['location']}"
    return accepted(ctx, op, location=ctx.url(f"{base}/operationResults/{op.id}"), async_operation=ctx.url(f"{base}/operations/{op.id}"))

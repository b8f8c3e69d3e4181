"""Microsoft.RecoveryServices vaults (azure-mgmt-recoveryservices 4.3.0, 2026-11-01).

PUT: 201 + Location/Retry-After on create (final result from the vault's
operationResults URL), 200 on update; GET; list by resource group and subscription;
PATCH 200; DELETE 202 + Location/Azure-AsyncOperation (204 when already gone); ETag on
every vault, If-Match / If-None-Match honoured (412). A vault holding replicated
items, registered servers or policy associations cannot be deleted (400
ServiceResourceNotEmpty). Vault certificates (registration credentials) upload
returns ResourceCertificateAndAadDetails. checkNameAvailability per location.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import uuid
from datetime import UTC
from typing import Any
from urllib.parse import quote

from reconciler.emulator.framework import (
    ArmError,
    Ctx,
    Reply,
    RouteTable,
    accepted,
    check_if_match,
    finishes_now,
    list_in_resource_group,
    list_in_subscription,
    not_found,
    operation_result,
    operation_status,
)
from reconciler.emulator.providers.common import check_location, check_tags
from reconciler.emulator.state import EmulatorState, iso

API = ("2026-11-01",)
TYPE = "Microsoft.RecoveryServices/vaults"
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
V = RG + "/providers/Microsoft.RecoveryServices/vaults/{vaultName}"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,49}$")
REDUNDANCY = ("LocallyRedundant", "GeoRedundant", "ZoneRedundant")
CREATE_SECONDS = 1.0
DELETE_SECONDS = 1.0


def register(routes: RouteTable) -> None:
    routes.add("PUT", V, create_or_update, api_versions=API)
    routes.add("GET", V, get, api_versions=API)
    routes.add("PATCH", V, update, api_versions=API)
    routes.add("DELETE", V, delete, api_versions=API)
    routes.add("GET", RG + "/providers/Microsoft.RecoveryServices/vaults", list_by_resource_group, api_versions=API)
    routes.add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.RecoveryServices/vaults", list_by_subscription, api_versions=API)
    routes.add("PUT", V + "/certificates/{certificateName}", upload_certificate, api_versions=API)
    routes.add("GET", V + "/operationResults/{operationId}", lambda ctx: operation_result(ctx, ctx.params["operationId"]), api_versions=API)
    routes.add("GET", V + "/operationStatus/{operationId}", lambda ctx: operation_status(ctx, ctx.params["operationId"]), api_versions=API)
    routes.add("POST", RG + "/providers/Microsoft.RecoveryServices/locations/{location}/checkNameAvailability",
               check_name_availability, api_versions=API, write=False)


# --------------------------------------------------------------------------- helpers


def vault_id(subscription_id: str, resource_group: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{TYPE}/{name}"


def _etag(state: EmulatorState) -> str:
    stamp = iso(state.now())[:-2] + "Z"  # ...HH:MM:SS.ffffffZ
    state.extras["vault_etag_seq"] = seq = state.extras.get("vault_etag_seq", 0) + 1
    return f'W/"datetime\'{quote(stamp)}-{seq}\'"'


def make_vault(state: EmulatorState, rid: str, name: str, location: str, redundancy: str = "GeoRedundant",
               tags: dict | None = None, created_by: str = "estate") -> dict:
    """A vault as a PUT leaves it (also used to seed estates)."""
    now = state.now_iso()
    vault: dict = {
        "id": rid,
        "name": name,
        "type": TYPE,
        "location": location,
        "etag": _etag(state),
        "sku": {"name": "RS0", "tier": "Standard"},
        "properties": {
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
            "redundancySettings": {"standardTierStorageRedundancy": redundancy, "crossRegionRestore": "Disabled"},
            "privateEndpointStateForBackup": "None",
            "privateEndpointStateForSiteRecovery": "None",
            "secureScore": "None",
            "bcdrSecurityLevel": "Poor",
        },
        "systemData": {"createdBy": created_by, "createdByType": "Application", "createdAt": now,
                       "lastModifiedBy": created_by, "lastModifiedByType": "Application", "lastModifiedAt": now},
        "_resourceId": state.rng.getrandbits(62),
        "_servicePrincipal": [str(uuid.UUID(int=state.rng.getrandbits(128), version=4)) for _ in range(2)],
    }
    if tags:
        vault["tags"] = tags
    return vault


def delete_blocker(state: EmulatorState, vid: str) -> str | None:
    """Why `vid` cannot be deleted now, or None. Site recovery content is reported by
    the "vault.delete_blocker" hooks; resources stored under the vault id count too."""
    for reason in state.hooks.call("vault.delete_blocker", state, vid):
        if reason:
            return reason
    for t in ("replicationFabrics", "replicationProtectedItems"):
        if any(True for _ in state.find(f"{TYPE}/{t}", vid)) or any(
            True for _ in state.find(f"{TYPE}/replicationFabrics/replicationProtectionContainers/{t}", vid)
        ):
            return "Vault cannot be deleted as there are existing resources within the vault."
    return None


def _not_empty(name: str, reason: str) -> ArmError:
    return ArmError(
        400,
        "ServiceResourceNotEmpty",
        f"Vault '{name}' cannot be deleted as there are existing resources within the vault. Please delete any "
        "replicated items, registered servers, Hyper-V sites (Used for Site Recovery), policy associations for "
        f"System Center VMM clouds (Used for Site Recovery) and then delete the vault. ({reason})",
    )


def _sku(body_sku: object, current: dict | None) -> dict:
    if body_sku is None:
        return current["sku"] if current else {"name": "RS0", "tier": "Standard"}
    if not isinstance(body_sku, dict) or not isinstance(body_sku.get("name"), str):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'sku.name' is required.", target="sku.name")
    name = body_sku["name"]
    if name.lower() not in ("standard", "rs0"):
        raise ArmError(400, "InvalidSkuName", f"The sku name '{name}' is not supported for Recovery Services vaults. Supported: Standard, RS0.")
    return {"name": "RS0", "tier": "Standard"}


def _redundancy(props: dict, current: dict | None) -> dict:
    cur = (current or {}).get("properties", {}).get("redundancySettings") or {
        "standardTierStorageRedundancy": "GeoRedundant",
        "crossRegionRestore": "Disabled",
    }
    given = props.get("redundancySettings")
    if given is None:
        return dict(cur)
    if not isinstance(given, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties.redundancySettings' must be an object.")
    out = dict(cur)
    st = given.get("standardTierStorageRedundancy")
    if st is not None:
        match = [r for r in REDUNDANCY if r.lower() == str(st).lower()]
        if not match:
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: standardTierStorageRedundancy '{st}' is not one of {', '.join(REDUNDANCY)}.", target="properties.redundancySettings.standardTierStorageRedundancy")
        out["standardTierStorageRedundancy"] = match[0]
    crr = given.get("crossRegionRestore")
    if crr is not None:
        if str(crr) not in ("Enabled", "Disabled"):
            raise ArmError(400, "InvalidRequestContent", f"crossRegionRestore '{crr}' must be Enabled or Disabled.")
        out["crossRegionRestore"] = str(crr)
    return out


def _identity(given: object, current: dict | None, state: EmulatorState) -> dict | None:
    if given is None:
        return (current or {}).get("identity")
    if not isinstance(given, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'identity' must be an object.")
    typ = str(given.get("type", "None"))
    if typ == "None":
        return None
    if typ not in ("SystemAssigned", "UserAssigned", "SystemAssigned, UserAssigned"):
        raise ArmError(400, "InvalidIdentityType", f"The identity type '{typ}' is not supported.")
    prev = (current or {}).get("identity") or {}
    out: dict[str, Any] = {"type": typ}
    if "SystemAssigned" in typ:
        out["principalId"] = prev.get("principalId") or str(uuid.UUID(int=state.rng.getrandbits(128), version=4))
        out["tenantId"] = state.tenant_id
    if "UserAssigned" in typ and isinstance(given.get("userAssignedIdentities"), dict):
        out["userAssignedIdentities"] = {
            k: {"principalId": str(uuid.uuid4()), "clientId": str(uuid.uuid4())} for k in given["userAssignedIdentities"]
        }
    return out


def _public_access(value: object) -> str | None:
    """VaultProperties.publicNetworkAccess: Enabled | Disabled (PublicNetworkAccess enum)."""
    if value is None:
        return None
    match = [v for v in ("Enabled", "Disabled") if v.lower() == str(value).lower()]
    if not match:
        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: publicNetworkAccess '{value}' is not one of Enabled, Disabled.",
                       target="properties.publicNetworkAccess")
    return match[0]


def _monitoring(given: object, current: dict | None) -> dict:
    """monitoringSettings merged into what the vault holds (a PATCH of one alert setting keeps the others);
    every state is Enabled | Disabled (AlertsState)."""
    if not isinstance(given, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties.monitoringSettings' must be an object.")
    out = {k: dict(v) for k, v in ((current or {}).get("properties", {}).get("monitoringSettings") or {}).items() if isinstance(v, dict)}
    for group, keys in (("azureMonitorAlertSettings", ("alertsForAllJobFailures", "alertsForAllReplicationIssues", "alertsForAllFailoverIssues")),
                        ("classicAlertSettings", ("alertsForCriticalOperations", "emailNotificationsForSiteRecovery"))):
        g = given.get(group)
        if g is None:
            continue
        if not isinstance(g, dict):
            raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: 'monitoringSettings.{group}' must be an object.")
        for k in keys:
            if g.get(k) is None:
                continue
            if str(g[k]) not in ("Enabled", "Disabled"):
                raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: {group}.{k} '{g[k]}' must be Enabled or Disabled.",
                               target=f"properties.monitoringSettings.{group}.{k}")
            out.setdefault(group, {})[k] = str(g[k])
    return out


def _keep_private_endpoints(vault: dict, current: dict | None) -> None:
    """Private endpoint connections are made by the network provider, never by a vault PUT: keep them."""
    cp = (current or {}).get("properties") or {}
    for key in ("privateEndpointConnections", "privateEndpointStateForSiteRecovery", "privateEndpointStateForBackup",
                "_siteRecoveryPrivateEndpointAt"):
        if key in cp:
            vault["properties"][key] = cp[key]


def _system_data(ctx: Ctx, current: dict | None) -> dict:
    who = ctx.principal.client_id if ctx.principal else "unknown"
    now = ctx.state.now_iso()
    sd = dict((current or {}).get("systemData") or {"createdBy": who, "createdByType": "Application", "createdAt": now})
    sd.update({"lastModifiedBy": who, "lastModifiedByType": "Application", "lastModifiedAt": now})
    return sd


def _get_existing(ctx: Ctx) -> dict:
    v = ctx.state.get(_id(ctx))
    if v is None:
        raise not_found(ctx, TYPE, ctx.params["vaultName"])
    return v


def _id(ctx: Ctx) -> str:
    return vault_id(ctx.subscription_id, ctx.params["resourceGroupName"], ctx.params["vaultName"])


def _canonical_id(ctx: Ctx) -> str:
    """The id in the case the resource group was created with."""
    rg = ctx.state.get(f"/subscriptions/{ctx.subscription_id}/resourceGroups/{ctx.params['resourceGroupName']}")
    rg_name = rg["name"] if rg else ctx.params["resourceGroupName"]
    return vault_id(ctx.subscription_id, rg_name, ctx.params["vaultName"])


# --------------------------------------------------------------------------- handlers


def create_or_update(ctx: Ctx) -> Reply:
    name = ctx.params["vaultName"]
    if not NAME.match(name):
        raise ArmError(400, "InvalidResourceName", f"The vault name '{name}' is invalid. Vault names are 2 to 50 characters: letters, digits and hyphens, starting with a letter.")
    body = ctx.require_body()
    state = ctx.state
    current = state.get(_id(ctx))
    check_if_match(ctx, current)
    location = check_location(body.get("location"))
    if current is not None and current["location"] != location:
        raise ArmError(409, "InvalidResourceLocation", f"The resource '{name}' already exists in location '{current['location']}' in resource group '{ctx.params['resourceGroupName']}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.")
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties' must be an object.")
    redundancy = _redundancy(props, current)
    if current is not None and redundancy.get("standardTierStorageRedundancy") != current["properties"]["redundancySettings"].get("standardTierStorageRedundancy"):
        reason = delete_blocker(state, current["id"])
        if reason:
            raise ArmError(400, "BadRequest", f"Storage redundancy of vault '{name}' cannot be changed once servers are registered or items are protected. ({reason})")
    vault: dict = {
        "id": current["id"] if current else _canonical_id(ctx),
        "name": current["name"] if current else name,
        "type": TYPE,
        "location": location,
        "etag": _etag(state),
        "sku": _sku(body.get("sku"), current),
        "properties": {
            "provisioningState": "Succeeded",
            "publicNetworkAccess": _public_access(props.get("publicNetworkAccess")) or (current or {}).get("properties", {}).get("publicNetworkAccess", "Enabled"),
            "redundancySettings": redundancy,
            "privateEndpointStateForBackup": "None",
            "privateEndpointStateForSiteRecovery": "None",
            "secureScore": "None",
            "bcdrSecurityLevel": "Poor",
        },
        "systemData": _system_data(ctx, current),
    }
    for key in ("monitoringSettings", "securitySettings", "restoreSettings", "encryption"):
        if props.get(key) is not None:
            vault["properties"][key] = _monitoring(props[key], current) if key == "monitoringSettings" else props[key]
        elif current and key in current["properties"]:
            vault["properties"][key] = current["properties"][key]
    _keep_private_endpoints(vault, current)
    tags = check_tags(body.get("tags"))
    if tags:
        vault["tags"] = tags
    identity = _identity(body.get("identity"), current, state)
    if identity:
        vault["identity"] = identity
    vault["_resourceId"] = (current or {}).get("_resourceId") or state.rng.getrandbits(62)
    vault["_servicePrincipal"] = (current or {}).get("_servicePrincipal") or [str(uuid.UUID(int=state.rng.getrandbits(128), version=4)) for _ in range(2)]
    state.put(vault["id"], vault)
    if current is not None:
        return Reply(200, vault)
    state.hooks.call("vault.created", state, vault)
    if finishes_now(state, CREATE_SECONDS):
        return Reply(201, vault)
    rid = vault["id"]
    op = state.new_operation("vaults/create", result=lambda: state.get(rid), done_in=CREATE_SECONDS, retry_after=10,
                             data={"location": location})
    return accepted(ctx, op, status=201, body=vault,
                    location=ctx.url(f"{rid}/operationResults/{op.id}"), async_operation=False)


def get(ctx: Ctx) -> dict:
    return _get_existing(ctx)


def update(ctx: Ctx) -> dict:
    current = _get_existing(ctx)
    check_if_match(ctx, current)
    body = ctx.require_body()
    state = ctx.state
    vault = dict(current)
    vault["properties"] = dict(current["properties"])
    if "tags" in body:
        tags = check_tags(body.get("tags"))
        if tags:
            vault["tags"] = tags
        else:
            vault.pop("tags", None)
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties' must be an object.")
    if props.get("redundancySettings") is not None:
        red = _redundancy(props, current)
        if red.get("standardTierStorageRedundancy") != current["properties"]["redundancySettings"].get("standardTierStorageRedundancy"):
            reason = delete_blocker(state, current["id"])
            if reason:
                raise ArmError(400, "BadRequest", f"Storage redundancy of vault '{current['name']}' cannot be changed once servers are registered or items are protected. ({reason})")
        vault["properties"]["redundancySettings"] = red
    for key in ("publicNetworkAccess", "monitoringSettings", "securitySettings", "restoreSettings", "encryption"):
        if props.get(key) is not None:
            vault["properties"][key] = {"publicNetworkAccess": lambda v: _public_access(v),
                                        "monitoringSettings": lambda v: _monitoring(v, current)}.get(key, lambda v: v)(props[key])
    if body.get("sku") is not None:
        vault["sku"] = _sku(body["sku"], current)
    if "identity" in body:
        identity = _identity(body.get("identity"), current, state)
        if identity:
            vault["identity"] = identity
        else:
            vault.pop("identity", None)
    vault["etag"] = _etag(state)
    vault["systemData"] = _system_data(ctx, current)
    state.put(current["id"], vault)
    return vault


def delete(ctx: Ctx) -> Reply:
    state = ctx.state
    current = state.get(_id(ctx))
    if current is None:
        return Reply(204, None)
    check_if_match(ctx, current)
    reason = delete_blocker(state, current["id"])
    if reason:
        raise _not_empty(current["name"], reason)
    rid = current["id"]
    state.delete(rid)
    state.hooks.call("vault.deleted", state, rid)
    if finishes_now(state, DELETE_SECONDS):
        return Reply(204, None)
    op = state.new_operation("vaults/delete", result=None, done_in=DELETE_SECONDS, retry_after=10, data={"location": current["location"]})
    return accepted(ctx, op, location=ctx.url(f"{rid}/operationResults/{op.id}"), async_operation=ctx.url(f"{rid}/operationStatus/{op.id}"))


def list_by_resource_group(ctx: Ctx) -> dict:
    return list_in_resource_group(ctx, TYPE)


def list_by_subscription(ctx: Ctx) -> dict:
    return list_in_subscription(ctx, TYPE)


def check_name_availability(ctx: Ctx) -> dict:
    body = ctx.require_body()
    name = body.get("name")
    typ = body.get("type")
    if not isinstance(name, str) or not name:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'name' is required.", target="name")
    if typ is not None and str(typ).lower() != TYPE.lower():
        raise ArmError(400, "InvalidResourceType", f"The resource type '{typ}' is not supported; use '{TYPE}'.")
    if not NAME.match(name):
        return {"nameAvailable": False, "reason": "Invalid", "message": f"The vault name '{name}' is invalid."}
    rg = f"/subscriptions/{ctx.subscription_id}/resourceGroups/{ctx.params['resourceGroupName']}"
    for v in ctx.state.find(TYPE, rg):
        if v["name"].lower() == name.lower():
            return {"nameAvailable": False, "reason": "AlreadyExists", "message": "Resource already exists"}
    return {"nameAvailable": True}


# --------------------------------------------------------------------------- certificates


def _parse_certificate(data: object):
    """The uploaded certificate: base64 (of DER, or of the base64 text of DER, as
    PowerShell sends it), or PEM."""
    from cryptography import x509

    if not isinstance(data, str) or not data:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties.certificate' is required.", target="properties.certificate")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise ArmError(400, "InvalidCertificate", "The certificate data is not valid base64.") from None
    candidates = [raw]
    try:
        candidates.append(base64.b64decode(raw, validate=True))
    except (binascii.Error, ValueError):
        pass
    for blob in candidates:
        try:
            if blob.lstrip().startswith(b"-----BEGIN"):
                return x509.load_pem_x509_certificate(blob)
            return x509.load_der_x509_certificate(blob)
        except Exception:
            continue
    raise ArmError(400, "InvalidCertificate", "The certificate could not be parsed as an X.509 certificate.")


def upload_certificate(ctx: Ctx) -> dict:
    from cryptography.hazmat.primitives import serialization

    vault = _get_existing(ctx)
    body = ctx.require_body()
    props = body.get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties' is required.", target="properties")
    auth_type = str(props.get("authType") or "AAD")
    if auth_type.lower() in ("aad", "azureactivedirectory"):
        out_type = "AzureActiveDirectory"
    elif auth_type.lower() in ("acs", "accesscontrolservice"):
        out_type = "AccessControlService"
    else:
        raise ArmError(400, "InvalidRequestContent", f"authType '{auth_type}' is not supported (AAD, ACS).", target="properties.authType")
    cert = _parse_certificate(props.get("certificate"))
    der = cert.public_bytes(serialization.Encoding.DER)
    name = ctx.params["certificateName"]
    rid = f"{vault['id']}/certificates/{name}"
    loc = vault["location"]
    details: dict = {
        "authType": out_type,
        "certificate": props["certificate"],
        "friendlyName": "",
        "issuer": cert.issuer.rfc4514_string(),
        "subject": cert.subject.rfc4514_string(),
        "thumbprint": hashlib.sha1(der).hexdigest().upper(),
        "validFrom": cert.not_valid_before_utc.astimezone(UTC).isoformat(),
        "validTo": cert.not_valid_after_utc.astimezone(UTC).isoformat(),
        "resourceId": vault["_resourceId"],
    }
    if out_type == "AzureActiveDirectory":
        sp_client, sp_object = vault["_servicePrincipal"]
        details.update({
            "aadAuthority": "https://login.windows.net",
            "aadTenantId": ctx.state.tenant_id,
            "servicePrincipalClientId": sp_client,
            "servicePrincipalObjectId": sp_object,
            "azureManagementEndpointAudience": f"https://{loc}-id1.siterecovery.windowsazure.com/restapi/",
            "aadAudience": f"api://{ctx.state.tenant_id}/RecoveryServiceVault/{loc}/{vault['name']}/{vault['_resourceId']}",
        })
    else:
        details.update({
            "globalAcsNamespace": "seabreezeprod",
            "globalAcsHostName": "accesscontrol.windows.net",
            "globalAcsRPRealm": f"http://windowscloudbackup/m3/{vault['_resourceId']}",
        })
    ctx.state.put(rid, {"_certificate": True, "id": rid, "name": name, "thumbprint": details["thumbprint"]})
    return {
        "name": name,
        "type": f"{TYPE}/certificates",
        "id": "/S" + rid[2:],  # ARM answers this one as /Subscriptions/...
        "properties": details,
    }

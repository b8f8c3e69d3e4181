"""Microsoft.Storage storage accounts (azure-mgmt-storage 25.3.x, 2026-09-01).

Create is a long-running operation: 202 + Location (.../locations/{loc}/asyncoperations/{id})
+ Retry-After, the Location answering 202 until done and then 200 with the account;
a PUT on an existing account of the same group answers 200 at once. Names are
globally unique (409 StorageAccountAlreadyTaken; same subscription, other group:
409 StorageAccountInAnotherResourceGroup). checkNameAvailability, get_properties,
list (subscription / group), update (PATCH), delete (200 / 204), listKeys.
"""

from __future__ import annotations

import base64
import re

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

API = ("2026-09-01",)
TYPE = "Microsoft.Storage/storageAccounts"
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
SA = RG + "/providers/Microsoft.Storage/storageAccounts/{accountName}"
NAME = re.compile(r"^[a-z0-9]{3,24}$")
SKUS = {
    "Standard_LRS", "Standard_GRS", "Standard_RAGRS", "Standard_ZRS", "Premium_LRS", "Premium_ZRS",
    "Standard_GZRS", "Standard_RAGZRS", "StandardV2_LRS", "StandardV2_GRS", "StandardV2_ZRS", "StandardV2_GZRS",
    "PremiumV2_LRS", "PremiumV2_ZRS",
}
KINDS = {"Storage", "StorageV2", "BlobStorage", "FileStorage", "BlockBlobStorage"}
CREATE_SECONDS = 2.0
PAIRS = {
    "westeurope": "northeurope", "northeurope": "westeurope", "uksouth": "ukwest", "ukwest": "uksouth",
    "eastus": "westus", "westus": "eastus", "eastus2": "centralus", "centralus": "eastus2",
    "westus2": "westcentralus", "francecentral": "francesouth", "germanywestcentral": "germanynorth",
    "swedencentral": "swedensouth", "southeastasia": "eastasia", "eastasia": "southeastasia",
}


def register(routes: RouteTable) -> None:
    routes.add("PUT", SA, create, api_versions=API)
    routes.add("GET", SA, get_properties, api_versions=API)
    routes.add("PATCH", SA, update, api_versions=API)
    routes.add("DELETE", SA, delete, api_versions=API)
    routes.add("GET", RG + "/providers/Microsoft.Storage/storageAccounts", list_by_resource_group, api_versions=API)
    routes.add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/storageAccounts", list_all, api_versions=API)
    routes.add("POST", "/subscriptions/{subscriptionId}/providers/Microsoft.Storage/checkNameAvailability",
               check_name_availability, api_versions=API, action="Microsoft.Storage/checknameavailability/read")
    routes.add("POST", SA + "/listKeys", list_keys, api_versions=API)


def account_id(subscription_id: str, resource_group: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{TYPE}/{name}"


def _find_by_name(state: EmulatorState, name: str) -> dict | None:
    """Storage account names are global: look in every subscription."""
    low = name.lower()
    for acc in state.find(TYPE):
        if acc["name"].lower() == low:
            return acc
    return None


def _reserved(state: EmulatorState, name: str) -> bool:
    return name.lower() in {n.lower() for n in (state.estate.get("azure") or {}).get("takenStorageAccountNames", []) or []}


def _invalid_name(name: str) -> ArmError:
    return ArmError(400, "AccountNameInvalid", f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only.")


def _sku(value: object) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'sku.name' is required.", target="sku.name")
    match = [s for s in SKUS if s.lower() == value["name"].lower()]
    if not match:
        raise ArmError(400, "InvalidRequestContent", f"The value '{value['name']}' is not valid for sku.name. Valid values: {', '.join(sorted(SKUS))}.", target="sku.name")
    name = match[0]
    return {"name": name, "tier": "Premium" if name.startswith("Premium") else "Standard"}


def _kind(value: object) -> str:
    if not isinstance(value, str):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'kind' is required.", target="kind")
    match = [k for k in KINDS if k.lower() == value.lower()]
    if not match:
        raise ArmError(400, "InvalidRequestContent", f"The value '{value}' is not valid for kind. Valid values: {', '.join(sorted(KINDS))}.", target="kind")
    return match[0]


def _keys(state: EmulatorState) -> list[str]:
    return [base64.b64encode(state.rng.getrandbits(512).to_bytes(64, "big")).decode() for _ in range(2)]


def make_account(state: EmulatorState, rid: str, name: str, location: str, sku: dict, kind: str, tags: dict | None,
                 props: dict | None = None, provisioning: str = "Succeeded") -> dict:
    props = props or {}
    now = state.now_iso()
    acc: dict = {
        "id": rid,
        "name": name,
        "type": TYPE,
        "location": location,
        "sku": sku,
        "kind": kind,
        "properties": {
            "provisioningState": provisioning,
            "creationTime": now,
            "primaryLocation": location,
            "statusOfPrimary": "available",
            "primaryEndpoints": {
                "blob": f"https://{name}.blob.core.windows.net/",
                "queue": f"https://{name}.queue.core.windows.net/",
                "table": f"https://{name}.table.core.windows.net/",
                "file": f"https://{name}.file.core.windows.net/",
                "dfs": f"https://{name}.dfs.core.windows.net/",
                "web": f"https://{name}.z6.web.core.windows.net/",
            },
            "supportsHttpsTrafficOnly": props.get("supportsHttpsTrafficOnly", True),
            "minimumTlsVersion": props.get("minimumTlsVersion", "TLS1_2"),
            "allowBlobPublicAccess": props.get("allowBlobPublicAccess", False),
            "allowSharedKeyAccess": props.get("allowSharedKeyAccess", True),
            "networkAcls": props.get("networkAcls") or {"bypass": "AzureServices", "virtualNetworkRules": [], "ipRules": [], "defaultAction": "Allow"},
            "encryption": {
                "services": {
                    "blob": {"keyType": "Account", "enabled": True, "lastEnabledTime": now},
                    "file": {"keyType": "Account", "enabled": True, "lastEnabledTime": now},
                },
                "keySource": "Microsoft.Storage",
            },
            "keyCreationTime": {"key1": now, "key2": now},
        },
        "_keys": _keys(state),
    }
    if kind in ("StorageV2", "BlobStorage"):
        acc["properties"]["accessTier"] = props.get("accessTier", "Hot")
    if any(g in sku["name"] for g in ("GRS", "GZRS")):
        acc["properties"]["secondaryLocation"] = PAIRS.get(location, location)
        acc["properties"]["statusOfSecondary"] = "available"
    if tags:
        acc["tags"] = tags
    return acc


def _rid(ctx: Ctx) -> str:
    return account_id(ctx.subscription_id, ctx.params["resourceGroupName"], ctx.params["accountName"])


def _existing(ctx: Ctx) -> dict:
    acc = ctx.state.get(_rid(ctx))
    if acc is None:
        raise not_found(ctx, TYPE, ctx.params["accountName"])
    return acc


def create(ctx: Ctx) -> Reply:
    name = ctx.params["accountName"]
    if not NAME.match(name):
        raise _invalid_name(name)
    body = ctx.require_body()
    state = ctx.state
    location = check_location(body.get("location"))
    sku = _sku(body.get("sku"))
    kind = _kind(body.get("kind"))
    tags = check_tags(body.get("tags"))
    props = body.get("properties") or {}
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'properties' must be an object.")
    current = state.get(_rid(ctx))
    if current is None:
        other = _find_by_name(state, name)
        if other is not None:
            if other["id"].split("/")[2].lower() == ctx.subscription_id.lower():
                raise ArmError(409, "StorageAccountInAnotherResourceGroup", f"The account {name} is already in another resource group in this subscription.")
            raise ArmError(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
        if _reserved(state, name):
            raise ArmError(409, "StorageAccountAlreadyTaken", f"The storage account named {name} is already taken.")
    else:
        if current["location"] != location:
            raise location_conflict(name, ctx.params["resourceGroupName"], current["location"], location)
        if current["properties"]["provisioningState"] != "Succeeded":
            op = state.get_operation(current.get("_createOp", ""))
            if op is None or current["sku"] != sku or current["kind"] != kind:
                raise ArmError(409, "OperationNotAllowed", f"The storage account {name} is being created with other settings; retry when the operation completes.")
            # the same create again (a client retrying after a lost answer): the same operation
            return accepted(ctx, op, location=_op_location(ctx, location, op), async_operation=False)
        if current["kind"] != kind:
            raise ArmError(409, "OperationNotAllowed", f"The kind of storage account {name} cannot be changed from {current['kind']} to {kind} with a PUT.")
        _check_sku_change(current["sku"]["name"], sku["name"])
        acc = dict(current, sku=sku)
        if tags:
            acc["tags"] = tags
        else:
            acc.pop("tags", None)
        acc["properties"] = dict(current["properties"])
        for key in ("supportsHttpsTrafficOnly", "minimumTlsVersion", "allowBlobPublicAccess", "allowSharedKeyAccess", "accessTier", "networkAcls"):
            if key in props:
                acc["properties"][key] = props[key]
        state.put(acc["id"], acc)
        return Reply(200, acc)
    rid = account_id(ctx.subscription_id, canonical_rg(state, ctx.subscription_id, ctx.params["resourceGroupName"]), name)
    if finishes_now(state, CREATE_SECONDS):
        acc = make_account(state, rid, name, location, sku, kind, tags, props)
        state.put(rid, acc)
        return Reply(200, acc)
    acc = make_account(state, rid, name, location, sku, kind, tags, props, provisioning="Creating")
    state.put(rid, acc)
    op = state.new_operation("storageAccounts/create", retry_after=17, data={"location": location})
    op.eta = op.start + CREATE_SECONDS
    acc["_createOp"] = op.id

    def finish() -> None:
        cur = state.get(rid)
        if cur is None:
            op.fail(ArmError(404, "ResourceNotFound", f"The storage account {name} was deleted during creation."))
            return
        cur["properties"]["provisioningState"] = "Succeeded"
        op.succeed(lambda: state.get(rid))

    state.schedule(op.eta, finish)
    return accepted(ctx, op, location=_op_location(ctx, location, op), async_operation=False)


def _op_location(ctx: Ctx, location: str, op) -> str:
    return ctx.url(f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Storage/locations/{location}/asyncoperations/{op.id}",
                   monitor="true")


def _check_sku_change(old: str, new: str) -> None:
    if old == new:
        return
    if old.startswith("Premium") != new.startswith("Premium"):
        raise ArmError(400, "OperationNotAllowed",
                       f"Storage account type cannot be changed from {old} to {new}.")


def get_properties(ctx: Ctx) -> dict:
    return _existing(ctx)


def update(ctx: Ctx) -> dict:
    current = _existing(ctx)
    body = ctx.require_body()
    acc = dict(current)
    acc["properties"] = dict(current["properties"])
    if "tags" in body:
        tags = check_tags(body.get("tags"))
        if tags:
            acc["tags"] = tags
        else:
            acc.pop("tags", None)
    if body.get("sku") is not None:
        sku = _sku(body["sku"])
        _check_sku_change(current["sku"]["name"], sku["name"])
        acc["sku"] = sku
        if any(g in sku["name"] for g in ("GRS", "GZRS")):
            acc["properties"]["secondaryLocation"] = PAIRS.get(acc["location"], acc["location"])
            acc["properties"]["statusOfSecondary"] = "available"
        else:
            acc["properties"].pop("secondaryLocation", None)
            acc["properties"].pop("statusOfSecondary", None)
    if body.get("kind") is not None:
        kind = _kind(body["kind"])
        if not (current["kind"] == "Storage" and kind == "StorageV2") and kind != current["kind"]:
            raise ArmError(400, "OperationNotAllowed", f"The kind of storage account {current['name']} can only be upgraded from Storage to StorageV2.")
        acc["kind"] = kind
    props = body.get("properties") or {}
    for key in ("supportsHttpsTrafficOnly", "minimumTlsVersion", "allowBlobPublicAccess", "allowSharedKeyAccess", "accessTier", "networkAcls"):
        if key in props:
            acc["properties"][key] = props[key]
    ctx.state.put(current["id"], acc)
    return acc


def delete(ctx: Ctx) -> Reply:
    current = ctx.state.get(_rid(ctx))
    if current is None:
        return Reply(204, None)
    ctx.state.delete(current["id"])
    return Reply(200, None)


def list_by_resource_group(ctx: Ctx) -> dict:
    return list_in_resource_group(ctx, TYPE)


def list_all(ctx: Ctx) -> dict:
    return list_in_subscription(ctx, TYPE)


def check_name_availability(ctx: Ctx) -> dict:
    body = ctx.require_body()
    name = body.get("name")
    typ = body.get("type")
    if not isinstance(name, str):
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: 'name' is required.", target="name")
    if typ is None or str(typ).lower() != TYPE.lower():
        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: 'type' must be '{TYPE}'.", target="type")
    if not NAME.match(name):
        err = _invalid_name(name)
        return {"nameAvailable": False, "reason": "AccountNameInvalid", "message": err.message}
    if _find_by_name(ctx.state, name) is not None or _reserved(ctx.state, name):
        return {"nameAvailable": False, "reason": "AlreadyExists", "message": f"The storage account named {name} is already taken."}
    return {"nameAvailable": True}


def list_keys(ctx: Ctx) -> dict:
    acc = _existing(ctx)
    created = acc["properties"]["creationTime"]
    return {"keys": [
        {"keyName": f"key{i + 1}", "value": v, "permissions": "FULL", "creationTime": created}
        for i, v in enumerate(acc["_keys"])
    ]}

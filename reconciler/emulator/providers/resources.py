"""Microsoft.Resources: resource groups (azure-mgmt-resource 26.0.x, 2025-04-01).

PUT 201 (created) / 200 (updated); GET; HEAD (check_existence: 204 / 404); PATCH
(tags, managedBy); DELETE 202 + Location (.../operationresults/{id}) then the group
and everything in it is gone; list with nextLink paging.
"""

from __future__ import annotations

import re

from reconciler.emulator.framework import ArmError, Ctx, Reply, RouteTable, accepted, finishes_now, paged, rg_id, rg_not_found
from reconciler.emulator.providers.common import check_location, check_tags

API = ("2025-04-01",)
DELETE_SECONDS = 2.0  # simulated
RG = "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}"
RG_NAME = re.compile(r"^[-\w._()]{1,90}$")


def register(routes: RouteTable) -> None:
    routes.add("PUT", RG, create_or_update, api_versions=API)
    routes.add("GET", RG, get, api_versions=API)
    routes.add("HEAD", RG, check_existence, api_versions=API)
    routes.add("PATCH", RG, update, api_versions=API)
    routes.add("DELETE", RG, delete, api_versions=API)
    routes.add("GET", "/subscriptions/{subscriptionId}/resourcegroups", list_groups, api_versions=API)
    routes.add("GET", RG + "/resources", list_resources, api_versions=API)


def make_group(subscription_id: str, name: str, location: str, tags: dict | None = None, managed_by: str | None = None) -> dict:
    rg: dict = {
        "id": rg_id(subscription_id, name),
        "name": name,
        "type": "Microsoft.Resources/resourceGroups",
        "location": location,
        "properties": {"provisioningState": "Succeeded"},
    }
    if tags:
        rg["tags"] = tags
    if managed_by:
        rg["managedBy"] = managed_by
    return rg


def _id(ctx: Ctx) -> str:
    return rg_id(ctx.subscription_id, ctx.params["resourceGroupName"])


def _existing(ctx: Ctx) -> dict:
    rg = ctx.state.get(_id(ctx))
    if rg is None:
        raise rg_not_found(ctx.params["resourceGroupName"])
    return rg


def create_or_update(ctx: Ctx) -> Reply:
    name = ctx.params["resourceGroupName"]
    if not RG_NAME.match(name) or name.endswith("."):
        raise ArmError(400, "InvalidResourceGroupName", f"The resource group name '{name}' is invalid. It can include alphanumeric, underscore, parentheses, hyphen, period (except at end), and Unicode characters that match the allowed characters.")
    body = ctx.require_body()
    location = check_location(body.get("location"), code="LocationNotAvailableForResourceGroup", what="resource group")
    tags = check_tags(body.get("tags"))
    current = ctx.state.get(_id(ctx))
    if current is not None:
        if current["properties"].get("provisioningState") == "Deleting":
            raise ArmError(409, "ResourceGroupBeingDeleted", f"The resource group '{current['name']}' is in deprovisioning state and cannot perform this operation.")
        if current["location"] != location:
            raise ArmError(409, "InvalidResourceGroupLocation", f"Invalid resource group location '{body.get('location')}'. The Resource group already exists in location '{current['location']}'.")
        current = dict(current)
        if tags is not None:
            current["tags"] = tags
        elif "tags" in current:
            current.pop("tags")
        if body.get("managedBy"):
            current["managedBy"] = body["managedBy"]
        ctx.state.put(_id(ctx), current)
        return Reply(200, current)
    rg = make_group(ctx.subscription_id, name, location, tags, body.get("managedBy"))
    ctx.state.put(_id(ctx), rg)
    return Reply(201, rg)


def get(ctx: Ctx) -> dict:
    return _existing(ctx)


def check_existence(ctx: Ctx) -> Reply:
    if ctx.state.get(_id(ctx)) is None:
        return Reply(404, None)
    return Reply(204, None)


def update(ctx: Ctx) -> dict:
    current = dict(_existing(ctx))
    body = ctx.require_body()
    if "tags" in body:
        tags = check_tags(body.get("tags"))
        if tags:
            current["tags"] = tags
        else:
            current.pop("tags", None)
    if body.get("managedBy"):
        current["managedBy"] = body["managedBy"]
    if body.get("location") and check_location(body["location"]) != current["location"]:
        raise ArmError(409, "InvalidResourceGroupLocation", f"Invalid resource group location '{body['location']}'. The Resource group already exists in location '{current['location']}'.")
    ctx.state.put(_id(ctx), current)
    return current


def delete(ctx: Ctx) -> Reply:
    rid = _id(ctx)
    current = ctx.state.get(rid)
    if current is None:
        raise rg_not_found(ctx.params["resourceGroupName"])
    _check_deletable(ctx, rid)
    state = ctx.state
    if finishes_now(state, DELETE_SECONDS):
        state.delete(rid)
        return Reply(200, None)
    if current["properties"].get("provisioningState") != "Deleting":
        deleting = dict(current, properties=dict(current["properties"], provisioningState="Deleting"))
        state.put(rid, deleting)

    op = state.new_operation("resourceGroups/delete", retry_after=15, data={"location": current["location"]})
    op.eta = state.now() + DELETE_SECONDS

    def finish() -> None:
        state.delete(rid)
        op.succeed(None)

    state.schedule(op.eta, finish)
    loc = ctx.url(f"/subscriptions/{ctx.subscription_id}/operationresults/{op.id}")
    return accepted(ctx, op, location=loc, async_operation=False)


def _check_deletable(ctx: Ctx, rid: str) -> None:
    """A vault holding protected items blocks the deletion of its group (the vault
    provider knows; see vaults.delete_blockers)."""
    try:
        from reconciler.emulator.providers.vaults import delete_blocker
    except ImportError:
        return
    for vault in ctx.state.find("Microsoft.RecoveryServices/vaults", rid):
        reason = delete_blocker(ctx.state, vault["id"])
        if reason:
            raise ArmError(409, "ResourceGroupDeletionBlocked", f"Deletion of resource group '{ctx.params['resourceGroupName']}' failed as resources with identifiers '{vault['id']}' could not be deleted. {reason}")


def list_groups(ctx: Ctx) -> dict:
    groups = list(ctx.state.find("Microsoft.Resources/resourceGroups", f"/subscriptions/{ctx.subscription_id}"))
    flt = ctx.q("$filter")
    if flt:
        m = re.fullmatch(r"\s*tagName\s+eq\s+'([^']*)'(?:\s+and\s+tagValue\s+eq\s+'([^']*)')?\s*", flt)
        if not m:
            raise ArmError(400, "InvalidFilterInQueryString", f"Invalid $filter '{flt}' specified in the query string.")
        tn, tv = m.group(1), m.group(2)
        groups = [g for g in groups if tn in (g.get("tags") or {}) and (tv is None or g["tags"][tn] == tv)]
    top = ctx.q("$top")
    if top:
        groups = groups[: int(top)]
    return paged(ctx, groups)


def list_resources(ctx: Ctx) -> dict:
    """Generic resources of a group (id, name, type, location, tags)."""
    rid = _id(ctx)
    _existing(ctx)
    out = []
    prefix = rid.lower() + "/providers/"
    for key in ctx.state.all_ids():
        if key.startswith(prefix):
            res = ctx.state.get(key)
            # top-level resources only: providers/NS/type/name
            if res and len(key[len(prefix):].split("/")) == 3:
                item = {k: res[k] for k in ("id", "name", "type", "location", "tags", "kind", "sku") if k in res}
                out.append(item)
    return paged(ctx, out)

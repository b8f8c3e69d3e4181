"""Microsoft.Network virtual networks and subnets (azure-mgmt-network 33.1.x, 2026-03-01).

PUT answers 201 (create) / 200 (update) with the resource in provisioningState
"Updating" plus Azure-AsyncOperation (.../locations/{loc}/operations/{id}) and
Retry-After; the status URL reports InProgress then Succeeded and the SDK ends with a
GET of the resource. Subnets are both inline (`properties.subnets`, replaced by a vnet
PUT) and child resources. Checks as Azure makes them: CIDR notation, address spaces
overlapping, a subnet outside the vnet's address space, subnets overlapping each other.
DELETE answers 202 + Azure-AsyncOperation + Location (204 when already gone).
"""

from __future__ import annotations

import ipaddress
import re
import uuid

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
    paged,
)
from reconciler.emulator.providers.common import canonical_rg, check_location, check_tags, location_conflict
from reconciler.emulator.state import EmulatorState

API = ("2026-03-01",)
TYPE = "Microsoft.Network/virtualNetworks"
SUBNET_TYPE = "Microsoft.Network/virtualNetworks/subnets"
RG = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}"
VNET = RG + "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}"
SUBNET = VNET + "/subnets/{subnetName}"
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
PROVISION_SECONDS = 1.0
# not copied from a PUT body as given: read-only in the 2026-03-01 Subnet / VirtualNetwork schemas
# (ignored in a PUT), or built by the handlers below
SUBNET_NOT_COPIED = {"provisioningState", "ipConfigurations", "ipConfigurationProfiles", "privateEndpoints",
                    "resourceNavigationLinks", "serviceAssociationLinks", "purpose", "addressPrefix", "addressPrefixes"}
VNET_NOT_COPIED = {"provisioningState", "resourceGuid", "addressSpace", "dhcpOptions", "subnets",
                  "virtualNetworkPeerings", "enableDdosProtection", "privateEndpointVNetPolicies"}


def _stored(state: EmulatorState, rid: str) -> dict:
    """The stored resource `rid`, which the caller knows exists."""
    res = state.get(rid)
    if res is None:
        raise ArmError(404, "NotFound", f"{rid} was not found.")
    return res


def register(routes: RouteTable) -> None:
    routes.add("PUT", VNET, put_vnet, api_versions=API)
    routes.add("GET", VNET, get_vnet, api_versions=API)
    routes.add("PATCH", VNET, update_tags, api_versions=API)
    routes.add("DELETE", VNET, delete_vnet, api_versions=API)
    routes.add("GET", RG + "/providers/Microsoft.Network/virtualNetworks", list_vnets, api_versions=API)
    routes.add("GET", "/subscriptions/{subscriptionId}/providers/Microsoft.Network/virtualNetworks", list_all, api_versions=API)
    routes.add("PUT", SUBNET, put_subnet, api_versions=API)
    routes.add("GET", SUBNET, get_subnet, api_versions=API)
    routes.add("DELETE", SUBNET, delete_subnet, api_versions=API)
    routes.add("GET", VNET + "/subnets", list_subnets, api_versions=API)


def vnet_id(subscription_id: str, resource_group: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}/providers/{TYPE}/{name}"


def _etag() -> str:
    return f'W/"{uuid.uuid4()}"'


def _bad_name(kind: str, name: str) -> ArmError:
    return ArmError(400, "InvalidResourceName", f"Resource name {name} is invalid. The name can be up to 80 characters long. It must begin with a word character, and it must end with a word character or with '_'. The name may contain word characters or '.', '-', '_'.")


def parse_prefix(value: object, rid: str, target: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(value, str):
        raise ArmError(400, "InvalidRequestFormat", f"Cannot parse the request: '{target}' must be a string address prefix.", target=target)
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise ArmError(400, "InvalidAddressPrefixFormat", f"Address prefix {value} of resource {rid} is not formatted correctly. It should follow CIDR notation, for example 10.0.0.0/24.", target=target) from None
    if str(net) != value.strip():
        raise ArmError(400, "InvalidCIDRNotation", f"The address prefix {value} in resource {rid} has an invalid CIDR notation. For the given prefix length, the address prefix should be {net}.", target=target)
    return net


def _subnet_prefixes(props: dict, sid: str) -> list:
    if props.get("addressPrefixes"):
        if not isinstance(props["addressPrefixes"], list):
            raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request: 'addressPrefixes' must be a list.")
        return [parse_prefix(p, sid, "properties.addressPrefixes") for p in props["addressPrefixes"]]
    if props.get("addressPrefix") is None:
        raise ArmError(400, "InvalidRequestFormat", f"Cannot parse the request: subnet {sid} has no addressPrefix.", target="properties.addressPrefix")
    return [parse_prefix(props["addressPrefix"], sid, "properties.addressPrefix")]


def _validate_subnets(vnet_name: str, vid: str, space: list, subnets: list[tuple[str, list]]) -> None:
    seen: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for name, prefixes in subnets:
        for p in prefixes:
            if not any(p.version == s.version and p.subnet_of(s) for s in space):
                raise ArmError(400, "NetcfgSubnetRangeOutsideVnet",
                               f"Subnet '{name}' is not valid because its IP address range is outside the IP address range of virtual network '{vnet_name}'.")
            for other_name, q in seen:
                if p.version == q.version and p.overlaps(q):
                    raise ArmError(400, "NetcfgSubnetRangesOverlap",
                                   f"Subnet '{name}' is not valid because its IP address range overlaps with that of an existing subnet '{other_name}' in virtual network '{vnet_name}'.")
            seen.append((name, p))


def _subnet_json(vid: str, name: str, props: dict, prefixes: list, state_label: str) -> dict:
    p: dict = {"provisioningState": state_label}
    if props.get("addressPrefixes"):
        p["addressPrefixes"] = [str(x) for x in prefixes]
    else:
        p["addressPrefix"] = str(prefixes[0])
    p["delegations"] = props.get("delegations") or []
    p["privateEndpointNetworkPolicies"] = props.get("privateEndpointNetworkPolicies") or "Disabled"
    p["privateLinkServiceNetworkPolicies"] = props.get("privateLinkServiceNetworkPolicies") or "Enabled"
    for key in ("networkSecurityGroup", "routeTable", "serviceEndpoints", "defaultOutboundAccess"):
        if props.get(key) is not None:
            p[key] = props[key]
    # every other settable property is stored and returned as given (natGateway,
    # serviceEndpointPolicies, applicationGatewayIPConfigurations, sharingScope, ...): a vnet PUT
    # replaces subnets whole, so what a client leaves out is gone, and what it sends back stays
    for key, value in props.items():
        if key not in p and key not in SUBNET_NOT_COPIED and not key.startswith("_") and value is not None:
            p[key] = value
    return {"name": name, "id": f"{vid}/subnets/{name}", "etag": _etag(), "type": SUBNET_TYPE, "properties": p}


def check_subnet_free(state: EmulatorState, subnet: dict) -> None:
    """400 InUseSubnetCannotBeDeleted when a "subnet.in_use" hook names a user
    (e.g. the NIC of a failed-over VM): the check Azure makes on subnet and vnet
    deletion, and on a vnet PUT that drops the subnet."""
    for reason in state.hooks.call("subnet.in_use", state, subnet["id"]):
        if reason:
            raise ArmError(400, "InUseSubnetCannotBeDeleted",
                           f"Subnet {subnet['name']} is in use by {reason} and cannot be deleted. In order to delete the subnet, "
                           "delete all the resources within the subnet. See aka.ms/deletesubnet.")


def _provision(ctx: Ctx, rid: str, location: str, status: int, subnet_ids: list[str] | None = None) -> Reply:
    """Mark `rid` (and inline subnets) Updating, answer with Azure-AsyncOperation;
    everything turns Succeeded after PROVISION_SECONDS of simulated time."""
    state = ctx.state
    if finishes_now(state, PROVISION_SECONDS):
        res = _stored(state, rid)
        res["properties"]["provisioningState"] = "Succeeded"
        for sub in res["properties"].get("subnets", []) or []:
            sub["properties"]["provisioningState"] = "Succeeded"
        return Reply(status, res)
    op = state.new_operation("network/put", retry_after=10, data={"location": location})
    op.eta = op.start + PROVISION_SECONDS

    def finish() -> None:
        res = state.get(rid)
        if res is not None:
            res["properties"]["provisioningState"] = "Succeeded"
            for sub in res["properties"].get("subnets", []) or []:
                sub["properties"]["provisioningState"] = "Succeeded"
                stored = state.get(sub["id"])
                if stored is not None:
                    stored["properties"]["provisioningState"] = "Succeeded"
        op.succeed(lambda: state.get(rid))

    state.schedule(op.eta, finish)
    return accepted(ctx, op, status=status, body=state.get(rid), location=False, namespace="Microsoft.Network",
                    async_operation=ctx.url(f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Network/locations/{location}/operations/{op.id}"))


def _rid(ctx: Ctx) -> str:
    return vnet_id(ctx.subscription_id, ctx.params["resourceGroupName"], ctx.params["virtualNetworkName"])


def _existing(ctx: Ctx) -> dict:
    v = ctx.state.get(_rid(ctx))
    if v is None:
        raise not_found(ctx, TYPE, ctx.params["virtualNetworkName"])
    return v


def _store_vnet(state: EmulatorState, vnet: dict) -> None:
    """The vnet plus each inline subnet as its own child resource (ids index them)."""
    vid = vnet["id"]
    keep = {s["name"].lower() for s in vnet["properties"].get("subnets", [])}
    for old in state.children(vid, "subnets"):
        if old["name"].lower() not in keep:
            state.delete(old["id"])
    state.put(vid, vnet)
    for s in vnet["properties"].get("subnets", []):
        state.put(s["id"], s)


def build_vnet(state: EmulatorState, ctx_sub: str, rg: str, name: str, body: dict, current: dict | None, label: str) -> dict:
    """Validated vnet JSON from a PUT body (also used to seed estates)."""
    vid = current["id"] if current else vnet_id(ctx_sub, canonical_rg(state, ctx_sub, rg), name)
    location = check_location(body.get("location"))
    if current is not None and current["location"] != location:
        raise location_conflict(name, rg, current["location"], location)
    props = body.get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request: 'properties' is required.", target="properties")
    space_prefixes = ((props.get("addressSpace") or {}).get("addressPrefixes"))
    if not isinstance(space_prefixes, list):
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request: 'properties.addressSpace.addressPrefixes' is required.",
                       target="properties.addressSpace.addressPrefixes")
    if not space_prefixes:
        raise ArmError(400, "VnetAddressSpaceMustHaveAtLeastOneAddressPrefix",
                       f"Virtual network {vid} address space must have at least one address prefix.", target="properties.addressSpace.addressPrefixes")
    space = [parse_prefix(p, vid, "properties.addressSpace.addressPrefixes") for p in space_prefixes]
    for i, a in enumerate(space):
        for b in space[i + 1:]:
            if a.version == b.version and a.overlaps(b):
                raise ArmError(400, "VnetAddressSpacesOverlap", f"Cannot create or update virtual network {vid} since it has address spaces {a}, {b} which overlap.")
    subnets_in = props.get("subnets") or []
    if not isinstance(subnets_in, list):
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request: 'properties.subnets' must be a list.")
    parsed: list[tuple[str, dict, list]] = []
    names: set[str] = set()
    for i, s in enumerate(subnets_in):
        if not isinstance(s, dict) or not isinstance(s.get("name"), str) or not s["name"]:
            raise ArmError(400, "InvalidRequestFormat", f"Cannot parse the request: properties.subnets[{i}].name is required.", target=f"properties.subnets[{i}].name")
        if not NAME.match(s["name"]):
            raise _bad_name("subnet", s["name"])
        if s["name"].lower() in names:
            raise ArmError(400, "DuplicateResourceName", f"Resource {vid} has two child resources with the same name ({s['name']}).")
        names.add(s["name"].lower())
        sprops = s.get("properties") or {}
        parsed.append((s["name"], sprops, _subnet_prefixes(sprops, f"{vid}/subnets/{s['name']}")))
    _validate_subnets(name, vid, space, [(n, p) for n, _, p in parsed])
    vnet: dict = {
        "name": current["name"] if current else name,
        "id": vid,
        "etag": _etag(),
        "type": TYPE,
        "location": location,
        "properties": {
            "provisioningState": label,
            "resourceGuid": (current or {}).get("properties", {}).get("resourceGuid") or str(uuid.UUID(int=state.rng.getrandbits(128), version=4)),
            "addressSpace": {"addressPrefixes": [str(p) for p in space]},
            "dhcpOptions": props.get("dhcpOptions") or {"dnsServers": []},
            "subnets": [_subnet_json(vid, n, p, pre, label) for n, p, pre in parsed],
            "virtualNetworkPeerings": [],
            "enableDdosProtection": bool(props.get("enableDdosProtection", False)),
            "privateEndpointVNetPolicies": props.get("privateEndpointVNetPolicies") or "Disabled",
        },
    }
    for key, value in props.items():  # other settable properties (encryption, ddosProtectionPlan, ...) as given
        if key not in VNET_NOT_COPIED and not key.startswith("_") and value is not None:
            vnet["properties"][key] = value
    tags = check_tags(body.get("tags"))
    if tags:
        vnet["tags"] = tags
    return vnet


def put_vnet(ctx: Ctx) -> Reply:
    name = ctx.params["virtualNetworkName"]
    if not NAME.match(name):
        raise _bad_name("virtual network", name)
    body = ctx.require_body()
    state = ctx.state
    current = state.get(_rid(ctx))
    vnet = build_vnet(state, ctx.subscription_id, ctx.params["resourceGroupName"], name, body, current, "Updating")
    if current is not None:
        keep = {s["name"].lower() for s in vnet["properties"]["subnets"]}
        for old in current["properties"].get("subnets", []):
            if old["name"].lower() not in keep:
                check_subnet_free(state, old)
    _store_vnet(state, vnet)
    return _provision(ctx, vnet["id"], vnet["location"], 200 if current else 201)


def get_vnet(ctx: Ctx) -> dict:
    return _existing(ctx)


def update_tags(ctx: Ctx) -> dict:
    current = _existing(ctx)
    body = ctx.require_body()
    vnet = dict(current, etag=_etag())
    tags = check_tags(body.get("tags"))
    if tags:
        vnet["tags"] = tags
    else:
        vnet.pop("tags", None)
    ctx.state.put(current["id"], vnet)
    return vnet


def delete_vnet(ctx: Ctx) -> Reply:
    state = ctx.state
    current = state.get(_rid(ctx))
    if current is None:
        return Reply(204, None)
    for sub in current["properties"].get("subnets", []):
        check_subnet_free(state, sub)
    state.delete(current["id"])
    if finishes_now(state, PROVISION_SECONDS):
        return Reply(200, None)
    op = state.new_operation("network/delete", result=None, done_in=PROVISION_SECONDS, retry_after=10, data={"location": current["location"]})
    base = f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Network/locations/{current['location']}"
    return accepted(ctx, op, location=ctx.url(f"{base}/operationResults/{op.id}"), async_operation=ctx.url(f"{base}/operations/{op.id}"))


def list_vnets(ctx: Ctx) -> dict:
    return list_in_resource_group(ctx, TYPE)


def list_all(ctx: Ctx) -> dict:
    return list_in_subscription(ctx, TYPE)


# --------------------------------------------------------------------------- subnets as child resources


def put_subnet(ctx: Ctx) -> Reply:
    vnet = _existing(ctx)
    name = ctx.params["subnetName"]
    if not NAME.match(name):
        raise _bad_name("subnet", name)
    body = ctx.require_body()
    props = body.get("properties")
    if not isinstance(props, dict):
        raise ArmError(400, "InvalidRequestFormat", "Cannot parse the request: 'properties' is required.", target="properties")
    vid = vnet["id"]
    prefixes = _subnet_prefixes(props, f"{vid}/subnets/{name}")
    space = [ipaddress.ip_network(p) for p in vnet["properties"]["addressSpace"]["addressPrefixes"]]
    others = [s for s in vnet["properties"]["subnets"] if s["name"].lower() != name.lower()]
    existing = [s for s in vnet["properties"]["subnets"] if s["name"].lower() == name.lower()]
    other_prefixes = [
        (s["name"], [ipaddress.ip_network(p) for p in (s["properties"].get("addressPrefixes") or [s["properties"]["addressPrefix"]])])
        for s in others
    ]
    _validate_subnets(vnet["name"], vid, space, other_prefixes + [(name, prefixes)])
    subnet = _subnet_json(vid, existing[0]["name"] if existing else name, props, prefixes, "Updating")
    new_vnet = dict(vnet, etag=_etag())
    new_vnet["properties"] = dict(vnet["properties"])
    new_vnet["properties"]["subnets"] = [s if s["name"].lower() != name.lower() else subnet for s in vnet["properties"]["subnets"]]
    if not existing:
        new_vnet["properties"]["subnets"].append(subnet)
    _store_vnet(ctx.state, new_vnet)
    state = ctx.state
    if finishes_now(state, PROVISION_SECONDS):
        subnet["properties"]["provisioningState"] = "Succeeded"
        return Reply(200 if existing else 201, subnet)
    op = state.new_operation("network/subnet", retry_after=10, data={"location": vnet["location"]})
    op.eta = op.start + PROVISION_SECONDS
    sid = subnet["id"]

    def finish() -> None:
        s = state.get(sid)
        if s is not None:
            s["properties"]["provisioningState"] = "Succeeded"
        op.succeed(lambda: state.get(sid))

    state.schedule(op.eta, finish)
    return accepted(ctx, op, status=200 if existing else 201, body=subnet, location=False, namespace="Microsoft.Network",
                    async_operation=ctx.url(f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Network/locations/{vnet['location']}/operations/{op.id}"))


def _subnet(ctx: Ctx) -> tuple[dict, dict]:
    vnet = _existing(ctx)
    sid = f"{vnet['id']}/subnets/{ctx.params['subnetName']}"
    s = ctx.state.get(sid)
    if s is None:  # a child resource: the network RP answers, not ARM, in its own words
        raise ArmError(404, "NotFound", f"Resource {sid} not found.", details=[])
    return vnet, s


def get_subnet(ctx: Ctx) -> dict:
    return _subnet(ctx)[1]


def list_subnets(ctx: Ctx) -> dict:
    vnet = _existing(ctx)
    return paged(ctx, [ctx.state.get(s["id"]) or s for s in vnet["properties"]["subnets"]])


def delete_subnet(ctx: Ctx) -> Reply:
    vnet = _existing(ctx)
    sid = f"{vnet['id']}/subnets/{ctx.params['subnetName']}"
    if ctx.state.get(sid) is None:
        return Reply(204, None)
    check_subnet_free(ctx.state, _stored(ctx.state, sid))
    new_vnet = dict(vnet, etag=_etag())
    new_vnet["properties"] = dict(vnet["properties"])
    new_vnet["properties"]["subnets"] = [s for s in vnet["properties"]["subnets"] if s["id"].lower() != sid.lower()]
    _store_vnet(ctx.state, new_vnet)
    state = ctx.state
    if finishes_now(state, PROVISION_SECONDS):
        return Reply(200, None)
    op = state.new_operation("network/delete", result=None, done_in=PROVISION_SECONDS, retry_after=10, data={"location": vnet["location"]})
    base = f"/subscriptions/{ctx.subscription_id}/providers/Microsoft.Network/locations/{vnet['location']}"
    return accepted(ctx, op, location=ctx.url(f"{base}/operationResults/{op.id}"), async_operation=ctx.url(f"{base}/operations/{op.id}"))

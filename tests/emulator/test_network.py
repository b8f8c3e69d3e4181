"""Virtual networks and subnets through the real SDK, and Azure's network checks."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from reconciler.azure.clients import Clients
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.testing import call

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
API = "api-version=2026-03-01"
URL = f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/corp-vnet?{API}"


def vnet_body(space=("10.10.0.0/16",), subnets=(("servers", "10.10.1.0/24"),), location="westeurope"):
    return {"location": location, "properties": {"addressSpace": {"addressPrefixes": list(space)},
                                                 "subnets": [{"name": n, "properties": {"addressPrefix": p}} for n, p in subnets]}}


@pytest.fixture
def app():
    a = EmulatorApp(estate={"subscription": SUB})
    call(a, "PUT", f"/subscriptions/{SUB}/resourcegroups/rg1?api-version=2025-04-01", json={"location": "westeurope"})
    return a


def test_vnet_and_subnets_through_sdk(emulator):
    emulator.reset(time_scale=100)
    c = Clients(SUB)
    c.resources.resource_groups.create_or_update("contoso-failover-rg", {"location": "westeurope"})
    vn = c.network.virtual_networks
    v = vn.begin_create_or_update("contoso-failover-rg", "corp-vnet", {
        "location": "westeurope", "tags": {"role": "dr"},
        "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
                       "subnets": [{"name": "servers", "properties": {"addressPrefix": "10.10.1.0/24"}}]},
    }).result()
    assert v.id == f"/subscriptions/{SUB}/resourceGroups/contoso-failover-rg/providers/Microsoft.Network/virtualNetworks/corp-vnet"
    assert v.properties.provisioning_state == "Succeeded" and v.etag
    assert v.properties.address_space.address_prefixes == ["10.10.0.0/16"]
    (s,) = v.properties.subnets
    assert (s.name, s.properties.address_prefix, s.id) == ("servers", "10.10.1.0/24", v.id + "/subnets/servers")
    sn = c.network.subnets.begin_create_or_update("contoso-failover-rg", "corp-vnet", "db",
                                                  {"properties": {"addressPrefix": "10.10.2.0/24"}}).result()
    assert sn.properties.provisioning_state == "Succeeded" and sn.id == v.id + "/subnets/db"
    assert [x.name for x in c.network.subnets.list("contoso-failover-rg", "corp-vnet")] == ["servers", "db"]
    assert c.network.subnets.get("contoso-failover-rg", "corp-vnet", "servers").properties.address_prefix == "10.10.1.0/24"
    assert [x.name for x in vn.get("contoso-failover-rg", "corp-vnet").properties.subnets] == ["servers", "db"]
    tagged = vn.update_tags("contoso-failover-rg", "corp-vnet", {"tags": {"role": "test"}})
    assert tagged.tags == {"role": "test"}
    assert [x.name for x in vn.list("contoso-failover-rg")] == ["corp-vnet"]
    assert [x.name for x in vn.list_all()] == ["corp-vnet"]
    with pytest.raises(HttpResponseError) as e:
        c.network.subnets.begin_create_or_update("contoso-failover-rg", "corp-vnet", "outside",
                                                 {"properties": {"addressPrefix": "10.99.0.0/24"}}).result()
    assert e.value.status_code == 400 and e.value.error.code == "NetcfgSubnetRangeOutsideVnet"
    c.network.subnets.begin_delete("contoso-failover-rg", "corp-vnet", "db").result()
    vn.begin_delete("contoso-failover-rg", "corp-vnet").result()
    with pytest.raises(ResourceNotFoundError):
        vn.get("contoso-failover-rg", "corp-vnet")


def test_put_answers_201_updating_then_async_status_succeeded(app):
    r = call(app, "PUT", URL, json=vnet_body())
    assert r.status_code == 201 and r.json()["properties"]["provisioningState"] == "Updating"
    status_url = r.headers["azure-asyncoperation"].split("127.0.0.1:1", 1)[1]
    assert "/providers/Microsoft.Network/locations/westeurope/operations/" in status_url
    assert call(app, "GET", status_url).json()["status"] == "InProgress"
    app.state.advance(5)
    assert call(app, "GET", status_url).json()["status"] == "Succeeded"
    got = call(app, "GET", URL).json()
    assert got["properties"]["provisioningState"] == "Succeeded"
    assert got["properties"]["subnets"][0]["properties"]["provisioningState"] == "Succeeded"
    assert call(app, "PUT", URL, json=vnet_body()).status_code == 200


@pytest.mark.parametrize("body, code", [
    (vnet_body(subnets=(("servers", "10.11.1.0/24"),)), "NetcfgSubnetRangeOutsideVnet"),
    (vnet_body(subnets=(("a", "10.10.1.0/24"), ("b", "10.10.1.128/25"))), "NetcfgSubnetRangesOverlap"),
    (vnet_body(space=("10.10.0.1/16",)), "InvalidCIDRNotation"),
    (vnet_body(space=("10.10.0.0/16", "10.10.5.0/24")), "VnetAddressSpacesOverlap"),
    (vnet_body(space=("banana",)), "InvalidAddressPrefixFormat"),
    (vnet_body(space=()), "VnetAddressSpaceMustHaveAtLeastOneAddressPrefix"),
    ({"location": "westeurope"}, "InvalidRequestFormat"),
])
def test_invalid_vnets_are_400(app, body, code):
    r = call(app, "PUT", URL, json=body)
    assert (r.status_code, r.json()["error"]["code"]) == (400, code)
    assert call(app, "GET", URL).status_code == 404


def test_vnet_put_replaces_inline_subnets(app):
    call(app, "PUT", URL, json=vnet_body(subnets=(("a", "10.10.1.0/24"), ("b", "10.10.2.0/24"))))
    call(app, "PUT", URL, json=vnet_body(subnets=(("a", "10.10.1.0/24"),)))
    sub_url = URL.replace("?", "/subnets/b?")
    r = call(app, "GET", sub_url)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "NotFound")
    assert r.json()["error"]["message"].endswith("/virtualNetworks/corp-vnet/subnets/b not found.")
    r = call(app, "GET", URL.replace("corp-vnet", "ghost-vnet").replace("?", "/subnets/b?"))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "ResourceNotFound")
    assert [s["name"] for s in call(app, "GET", URL.replace("?", "/subnets?")).json()["value"]] == ["a"]


def test_vnet_location_cannot_change(app):
    call(app, "PUT", URL, json=vnet_body())
    r = call(app, "PUT", URL, json=vnet_body(location="northeurope"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "InvalidResourceLocation")


def test_subnet_in_use_cannot_be_deleted(app):
    call(app, "PUT", URL, json=vnet_body(subnets=(("a", "10.10.1.0/24"), ("b", "10.10.2.0/24"))))
    app.state.advance(5)
    used = {"a"}

    def in_use(state, subnet_id):
        name = subnet_id.rsplit("/", 1)[1]
        return f"/subscriptions/{SUB}/.../networkInterfaces/{name}-nic/ipConfigurations/ipconfig1" if name in used else None

    app.state.hooks.add("subnet.in_use", in_use)  # this state only: nothing to undo
    r = call(app, "DELETE", URL.replace("?", "/subnets/a?"))
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InUseSubnetCannotBeDeleted")
    r = call(app, "PUT", URL, json=vnet_body(subnets=(("b", "10.10.2.0/24"),)))
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InUseSubnetCannotBeDeleted")
    assert (call(app, "DELETE", URL).status_code) == 400
    assert call(app, "DELETE", URL.replace("?", "/subnets/b?")).status_code == 202
    used.clear()
    assert call(app, "DELETE", URL).status_code == 202

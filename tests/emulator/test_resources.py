"""Resource groups through the real SDK, and ARM's generic error answers (route,
api-version, subscription, resource group, body) in process."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure.clients import Clients
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.state import EmulatorConfig
from reconciler.emulator.testing import call

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
RG_API = "api-version=2025-04-01"
ST_API = "api-version=2026-09-01"


@pytest.fixture
def app():
    return EmulatorApp(config=EmulatorConfig(page_size=2), estate={"subscription": SUB})


def test_resource_group_lifecycle_through_sdk(emulator):
    emulator.reset(time_scale=100)
    c = Clients(SUB)
    rgs = c.resources.resource_groups
    created = rgs.create_or_update("contoso-dr-rg", {"location": "West Europe", "tags": {"env": "prod"}})
    assert created.name == "contoso-dr-rg" and created.location == "westeurope"
    assert created.id == f"/subscriptions/{SUB}/resourceGroups/contoso-dr-rg"
    assert created.properties.provisioning_state == "Succeeded"
    assert created.tags == {"env": "prod"}
    again = rgs.create_or_update("contoso-dr-rg", {"location": "westeurope", "tags": {"env": "prod"}})
    assert again.id == created.id
    assert rgs.get("CONTOSO-DR-RG").name == "contoso-dr-rg"
    assert rgs.check_existence("CONTOSO-DR-RG") is True
    assert rgs.check_existence("nope") is False
    updated = rgs.update("contoso-dr-rg", {"tags": {"env": "dev"}})
    assert updated.tags == {"env": "dev"}
    assert [g.name for g in rgs.list()] == ["contoso-dr-rg"]
    c.storage.storage_accounts.begin_create("contoso-dr-rg", "contosoasrlogs01", {
        "location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}).result()
    (res,) = list(c.resources.resources.list_by_resource_group("contoso-dr-rg"))
    assert (res.name, res.type, res.location) == ("contosoasrlogs01", "Microsoft.Storage/storageAccounts", "westeurope")
    rgs.begin_delete("contoso-dr-rg").result()
    assert rgs.check_existence("contoso-dr-rg") is False
    with pytest.raises(ResourceNotFoundError) as e:
        rgs.get("contoso-dr-rg")
    assert e.value.error.code == "ResourceGroupNotFound"
    stats = emulator.stats()
    assert stats["writes"] == 4 and stats["deletes"] == 1
    assert stats["by_status"]["201"] == 1  # delete: 200 at once at this time scale (202 + Location at scale 1, below)


def test_list_pages_through_sdk_with_page_size_2(emulator):
    emulator.reset(page_size=2)
    c = Clients(SUB)
    names = [f"rg-{i}" for i in range(5)]
    for n in names:
        c.resources.resource_groups.create_or_update(n, {"location": "uksouth"})
    emulator.reset_stats()
    assert sorted(g.name for g in c.resources.resource_groups.list()) == names
    assert emulator.stats()["by_route"]["GET /subscriptions/{subscriptionId}/resourcegroups"] == 3


def test_resource_group_delete_removes_its_resources(app):
    assert call(app, "PUT", f"/subscriptions/{SUB}/resourcegroups/rg1?{RG_API}", json={"location": "westeurope"}).status_code == 201
    r = call(app, "PUT", f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/acct1?{ST_API}",
             json={"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"})
    assert r.status_code == 202
    r = call(app, "DELETE", f"/subscriptions/{SUB}/resourcegroups/rg1?{RG_API}")
    assert r.status_code == 202 and "/operationresults/" in r.headers["location"] and int(r.headers["retry-after"]) >= 1
    app.state.advance(10)
    assert call(app, "GET", r.headers["location"].split("127.0.0.1:1", 1)[1]).status_code in (200, 204)
    assert call(app, "GET", f"/subscriptions/{SUB}/resourcegroups/rg1?{RG_API}").status_code == 404
    assert app.state.all_ids() == []


def test_missing_resource_group_answers_resource_group_not_found(app):
    r = call(app, "GET", f"/subscriptions/{SUB}/resourceGroups/nope/providers/Microsoft.Storage/storageAccounts/x?{ST_API}")
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "ResourceGroupNotFound", "message": "Resource group 'nope' could not be found."}}


def test_missing_resource_answers_resource_not_found_in_arm_words(app):
    call(app, "PUT", f"/subscriptions/{SUB}/resourcegroups/rg1?{RG_API}", json={"location": "westeurope"})
    r = call(app, "GET", f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/ghost?{ST_API}")
    assert r.status_code == 404
    err = r.json()["error"]
    assert err["code"] == "ResourceNotFound"
    assert err["message"].startswith("The Resource 'Microsoft.Storage/storageAccounts/ghost' under resource group 'rg1' was not found.")


def test_unknown_routes(app):
    r = call(app, "GET", f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Storage/fileShares/x?{ST_API}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "InvalidResourceType")
    r = call(app, "GET", f"/subscriptions/{SUB}/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/x?api-version=2024-01-01")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "NoRegisteredProviderFound")
    r = call(app, "POST", f"/subscriptions/{SUB}/resourcegroups/rg1?{RG_API}")
    assert r.status_code == 405 and "PUT" in r.headers["allow"] and r.json()["error"]["code"] == "MethodNotAllowed"


def test_wrong_or_missing_api_version(app):
    r = call(app, "GET", f"/subscriptions/{SUB}/resourcegroups?api-version=2019-01-01")
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "InvalidApiVersionParameter" and "'2025-04-01'" in err["message"] and "'2019-01-01'" in err["message"]
    r = call(app, "GET", f"/subscriptions/{SUB}/resourcegroups")
    assert (r.status_code, r.json()["error"]["code"]) == (400, "MissingApiVersionParameter")


def test_unknown_subscription(app):
    r = call(app, "GET", f"/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups?{RG_API}")
    assert (r.status_code, r.json()["error"]["code"]) == (404, "SubscriptionNotFound")


def test_invalid_bodies(app):
    url = f"/subscriptions/{SUB}/resourcegroups/rg1?{RG_API}"
    r = call(app, "PUT", url, body=b"{not json", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidRequestContent")
    r = call(app, "PUT", url, json={"tags": {}})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "LocationRequired")
    r = call(app, "PUT", url, json={"location": "atlantis"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "LocationNotAvailableForResourceGroup")
    r = call(app, "PUT", f"/subscriptions/{SUB}/resourcegroups/bad%20name!?{RG_API}", json={"location": "westeurope"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidResourceGroupName")


def test_resource_group_location_cannot_change(app):
    url = f"/subscriptions/{SUB}/resourcegroups/rg1?{RG_API}"
    assert call(app, "PUT", url, json={"location": "westeurope"}).status_code == 201
    assert call(app, "PUT", url, json={"location": "westeurope"}).status_code == 200
    r = call(app, "PUT", url, json={"location": "northeurope"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "InvalidResourceGroupLocation")


def test_every_arm_answer_carries_request_ids_and_ratelimit_headers(app):
    r = call(app, "GET", f"/subscriptions/{SUB}/resourcegroups?{RG_API}", headers={"x-ms-client-request-id": "abc"})
    assert r.status_code == 200 and r.json() == {"value": []}
    for h in ("x-ms-request-id", "x-ms-correlation-request-id", "x-ms-ratelimit-remaining-subscription-reads",
              "x-ms-ratelimit-remaining-subscription-writes", "x-ms-ratelimit-remaining-subscription-deletes"):
        assert h in r.headers, h
    assert r.headers["x-ms-client-request-id"] == "abc"


def test_paths_are_case_insensitive(app):
    call(app, "PUT", f"/subscriptions/{SUB}/resourcegroups/Rg1?{RG_API}", json={"location": "westeurope"})
    r = call(app, "GET", f"/SUBSCRIPTIONS/{SUB}/ResourceGroups/RG1?{RG_API}")
    assert r.status_code == 200 and r.json()["name"] == "Rg1"


def test_estate_azure_section_seeds_resources(emulator):
    emulator.reset(estate={
        "subscription": SUB,
        "azure": {
            "resourceGroups": [{"name": "contoso-dr-rg", "location": "westeurope", "tags": {"owner": "ops"}}],
            "storageAccounts": [{"name": "contosoasrlogs01", "resourceGroup": "contoso-failover-rg", "location": "westeurope"}],
            "virtualNetworks": [{"name": "corp-vnet", "resourceGroup": "contoso-failover-rg", "location": "westeurope",
                                 "addressSpace": ["10.10.0.0/16"], "subnets": [{"name": "servers", "addressPrefix": "10.10.1.0/24"}]}],
            "vaults": [{"name": "contoso-asr-vault", "resourceGroup": "contoso-dr-rg", "location": "westeurope",
                        "storageRedundancy": "LocallyRedundant"}],
        },
    })
    c = Clients(SUB)
    assert sorted(g.name for g in c.resources.resource_groups.list()) == ["contoso-dr-rg", "contoso-failover-rg"]
    assert c.storage.storage_accounts.get_properties("contoso-failover-rg", "contosoasrlogs01").sku.name == "Standard_LRS"
    vnet = c.network.virtual_networks.get("contoso-failover-rg", "corp-vnet")
    assert [s.name for s in vnet.properties.subnets] == ["servers"] and vnet.properties.provisioning_state == "Succeeded"
    assert c.network.subnets.get("contoso-failover-rg", "corp-vnet", "servers").properties.address_prefix == "10.10.1.0/24"
    v = c.vaults.vaults.get("contoso-dr-rg", "contoso-asr-vault")
    assert v.properties.redundancy_settings.standard_tier_storage_redundancy == "LocallyRedundant" and v.etag


@pytest.mark.parametrize("azure, fragment", [
    ({"storageAccounts": [{"name": "Bad_Name", "resourceGroup": "rg"}]}, "azure.storageAccounts[0].name"),
    ({"virtualNetworks": [{"name": "v", "resourceGroup": "rg", "addressSpace": ["10.0.0.0/16"],
                           "subnets": [{"name": "s", "addressPrefix": "10.1.0.0/24"}]}]}, "azure.virtualNetworks[0]"),
    ({"vaults": [{"name": "v1", "resourceGroup": "rg", "storageRedundancy": "Triple"}]}, "azure.vaults[0].storageRedundancy"),
    ({"resourceGroups": [{"name": "rg", "location": "mars"}]}, "azure.resourceGroups[0].location"),
    ({"bogus": []}, "unknown key"),
])
def test_estate_azure_section_errors_name_the_path(emulator, azure, fragment):
    with pytest.raises(RuntimeError) as ei:  # the reset control call answered 400
        emulator.reset(estate={"subscription": SUB, "azure": azure})
    assert "reset: 400" in str(ei.value) and fragment in str(ei.value), str(ei.value)

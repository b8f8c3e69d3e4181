"""Storage accounts through the real SDK, and their error answers in process."""

from __future__ import annotations

import pytest
from azure.core.exceptions import ResourceNotFoundError

from reconciler.azure.clients import Clients
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.testing import call

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
SUB2 = "00000000-0000-0000-0000-000000000002"
API = "api-version=2026-09-01"
BODY = {"location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2"}


def _url(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Storage/storageAccounts/{name}?{API}"


@pytest.fixture
def app():
    a = EmulatorApp(estate={"subscriptions": [SUB, SUB2], "azure": {"takenStorageAccountNames": ["someoneelses01"]}})
    for sub, rg in ((SUB, "rg1"), (SUB, "rg2"), (SUB2, "rg1")):
        call(a, "PUT", f"/subscriptions/{sub}/resourcegroups/{rg}?api-version=2025-04-01", json={"location": "westeurope"})
    return a


def test_storage_account_lifecycle_through_sdk(emulator):
    # time scale 1: create goes through 202 + Location polling, as on Azure
    c = Clients(SUB)
    c.resources.resource_groups.create_or_update("contoso-failover-rg", {"location": "westeurope"})
    sa = c.storage.storage_accounts
    avail = sa.check_name_availability({"name": "contosoasrlogs01", "type": "Microsoft.Storage/storageAccounts"})
    assert avail.name_available is True
    acct = sa.begin_create("contoso-failover-rg", "contosoasrlogs01", {
        "location": "westeurope", "sku": {"name": "Standard_LRS"}, "kind": "StorageV2", "tags": {"asr": "logs"},
        "properties": {"minimumTlsVersion": "TLS1_2"},
    }).result()
    assert acct.id == f"/subscriptions/{SUB}/resourceGroups/contoso-failover-rg/providers/Microsoft.Storage/storageAccounts/contosoasrlogs01"
    assert acct.sku.name == "Standard_LRS" and acct.kind == "StorageV2" and acct.location == "westeurope"
    assert acct.properties.provisioning_state == "Succeeded"
    assert acct.properties.primary_endpoints.blob == "https://contosoasrlogs01.blob.core.windows.net/"
    got = sa.get_properties("contoso-failover-rg", "contosoasrlogs01")
    assert got.tags == {"asr": "logs"}
    taken = sa.check_name_availability({"name": "contosoasrlogs01", "type": "Microsoft.Storage/storageAccounts"})
    assert taken.name_available is False and taken.reason == "AlreadyExists"
    invalid = sa.check_name_availability({"name": "Bad_Name", "type": "Microsoft.Storage/storageAccounts"})
    assert invalid.name_available is False and invalid.reason == "AccountNameInvalid"
    updated = sa.update("contoso-failover-rg", "contosoasrlogs01", {"tags": {"asr": "logs", "x": "y"}, "sku": {"name": "Standard_GRS"}})
    assert updated.tags == {"asr": "logs", "x": "y"} and updated.sku.name == "Standard_GRS"
    assert updated.properties.secondary_location == "northeurope"
    keys = sa.list_keys("contoso-failover-rg", "contosoasrlogs01")
    assert [k.key_name for k in keys.keys_property] == ["key1", "key2"] and all(k.value for k in keys.keys_property)
    assert [a.name for a in sa.list_by_resource_group("contoso-failover-rg")] == ["contosoasrlogs01"]
    assert [a.name for a in sa.list()] == ["contosoasrlogs01"]
    assert emulator.stats()["by_route"]["GET /subscriptions/{subscriptionId}/providers/{namespace}/locations/{location}/asyncoperations/{operationId}"] >= 1
    sa.delete("contoso-failover-rg", "contosoasrlogs01")
    with pytest.raises(ResourceNotFoundError):
        sa.get_properties("contoso-failover-rg", "contosoasrlogs01")


def test_create_is_an_lro_with_location(app):
    r = call(app, "PUT", _url(SUB, "rg1", "acct01"), json=BODY)
    assert r.status_code == 202 and not r.content
    assert "/providers/Microsoft.Storage/locations/westeurope/asyncoperations/" in r.headers["location"]
    assert "azure-asyncoperation" not in r.headers and int(r.headers["retry-after"]) >= 1
    loc = r.headers["location"].split("127.0.0.1:1", 1)[1]
    assert call(app, "GET", loc).status_code == 202
    assert call(app, "GET", _url(SUB, "rg1", "acct01")).json()["properties"]["provisioningState"] == "Creating"
    # a client retrying the same create meanwhile is handed the same operation
    again = call(app, "PUT", _url(SUB, "rg1", "acct01"), json=BODY)
    assert again.status_code == 202 and again.headers["location"] == r.headers["location"]
    other = call(app, "PUT", _url(SUB, "rg1", "acct01"), json=dict(BODY, sku={"name": "Premium_LRS"}))
    assert (other.status_code, other.json()["error"]["code"]) == (409, "OperationNotAllowed")
    app.state.advance(10)
    done = call(app, "GET", loc)
    assert done.status_code == 200 and done.json()["properties"]["provisioningState"] == "Succeeded"
    # an existing account answers 200 at once
    assert call(app, "PUT", _url(SUB, "rg1", "acct01"), json=BODY).status_code == 200


def test_names_are_global(app):
    call(app, "PUT", _url(SUB, "rg1", "acct01"), json=BODY)
    r = call(app, "PUT", _url(SUB, "rg2", "acct01"), json=BODY)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "StorageAccountInAnotherResourceGroup")
    r = call(app, "PUT", _url(SUB2, "rg1", "acct01"), json=BODY)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "StorageAccountAlreadyTaken")
    r = call(app, "PUT", _url(SUB, "rg1", "someoneelses01"), json=BODY)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "StorageAccountAlreadyTaken")


def test_invalid_storage_bodies(app):
    r = call(app, "PUT", _url(SUB, "rg1", "Invalid-Name"), json=BODY)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "AccountNameInvalid")
    r = call(app, "PUT", _url(SUB, "rg1", "acct02"), json={"location": "westeurope", "kind": "StorageV2"})
    assert r.status_code == 400 and r.json()["error"]["target"] == "sku.name"
    r = call(app, "PUT", _url(SUB, "rg1", "acct02"), json=dict(BODY, sku={"name": "Gold_LRS"}))
    assert r.status_code == 400
    r = call(app, "PUT", _url(SUB, "rg1", "acct02"), json={"location": "westeurope", "sku": {"name": "Standard_LRS"}})
    assert r.status_code == 400 and r.json()["error"]["target"] == "kind"


def test_premium_standard_switch_refused(app):
    call(app, "PUT", _url(SUB, "rg1", "acct01"), json=BODY)
    app.state.advance(10)
    r = call(app, "PATCH", _url(SUB, "rg1", "acct01"), json={"sku": {"name": "Premium_LRS"}})
    assert r.status_code == 400


def test_fast_time_scale_answers_synchronously():
    from reconciler.emulator.state import EmulatorConfig

    fast = EmulatorApp(config=EmulatorConfig(time_scale=1000), estate={"subscription": SUB})
    call(fast, "PUT", f"/subscriptions/{SUB}/resourcegroups/rg1?api-version=2025-04-01", json={"location": "westeurope"})
    r = call(fast, "PUT", _url(SUB, "rg1", "acct01"), json=BODY)
    assert r.status_code == 200 and "location" not in r.headers
    assert r.json()["properties"]["provisioningState"] == "Succeeded"

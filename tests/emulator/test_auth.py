"""Authentication (401), the managed-identity token endpoint, and authorisation (403
for a Reader) through raw HTTP and the real SDK."""

from __future__ import annotations

import pytest
import requests
from azure.core.exceptions import HttpResponseError

from reconciler.azure.clients import Clients

SUB = "00000000-0000-0000-0000-000000000001"
READER = "11111111-2222-3333-4444-555555555555"
CONTRIB = "66666666-7777-8888-9999-000000000000"
ESTATE = {"subscription": SUB, "principals": [{"clientId": READER, "role": "Reader"}, {"clientId": CONTRIB, "role": "Contributor"}]}


def _get(emulator, path, token=None, **kw):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(emulator.url + path, headers=headers, verify=emulator.ca_bundle, timeout=10, **kw)


def _token(emulator, client_id=None, resource="https://management.azure.com", header=True, api="2019-08-01"):
    params = {"api-version": api, "resource": resource}
    if client_id:
        params["client_id"] = client_id
    headers = {"X-IDENTITY-HEADER": emulator.env["IDENTITY_HEADER"]} if header else {}
    return requests.get(emulator.env["IDENTITY_ENDPOINT"], params=params, headers=headers, timeout=10)


def test_request_without_token_is_401(emulator):
    r = _get(emulator, f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "AuthenticationFailed"
    assert r.headers["WWW-Authenticate"].startswith("Bearer ")
    assert emulator.stats()["by_status"] == {"401": 1}


def test_forged_and_foreign_tokens_are_401(emulator):
    r = _get(emulator, f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01", token="abc.def.ghi")
    assert (r.status_code, r.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")
    other = _token(emulator, resource="https://vault.azure.net").json()["access_token"]
    r = _get(emulator, f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01", token=other)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "InvalidAuthenticationTokenAudience")
    good = _token(emulator).json()["access_token"]
    head, claims, sig = good.split(".")
    r = _get(emulator, f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01", token=f"{head}.{claims}x.{sig}")
    assert r.status_code == 401
    r = _get(emulator, f"/subscriptions/{SUB}/resourcegroups?api-version=2025-04-01", token=good)
    assert r.status_code == 200


def test_token_endpoint_speaks_app_service_protocol(emulator):
    r = _token(emulator)
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= {"access_token", "expires_on", "resource", "token_type"}
    assert body["token_type"] == "Bearer" and int(body["expires_on"]) > 0
    assert _token(emulator, header=False).status_code == 401
    assert _token(emulator, api="2017-09-01").status_code == 400
    assert _token(emulator, client_id="99999999-9999-9999-9999-999999999999").status_code == 400


def test_reader_reads_but_cannot_write(emulator, monkeypatch):
    emulator.reset(estate=ESTATE)
    Clients(SUB).resources.resource_groups.create_or_update("contoso-dr-rg", {"location": "westeurope"})  # default principal
    monkeypatch.setenv("AZURE_CLIENT_ID", READER)
    c = Clients(SUB)
    assert [g.name for g in c.resources.resource_groups.list()] == ["contoso-dr-rg"]
    # a POST that is a read action is allowed
    assert c.storage.storage_accounts.check_name_availability({"name": "abcabc123", "type": "Microsoft.Storage/storageAccounts"}).name_available
    with pytest.raises(HttpResponseError) as e:
        c.resources.resource_groups.create_or_update("other-rg", {"location": "westeurope"})
    assert e.value.status_code == 403 and e.value.error.code == "AuthorizationFailed"
    msg = e.value.error.message
    assert f"The client '{READER}'" in msg
    assert "'Microsoft.Resources/subscriptions/resourceGroups/write'" in msg
    assert f"over scope '/subscriptions/{SUB}/resourcegroups/other-rg'" in msg


def test_reader_write_to_site_recovery_names_the_action(emulator, monkeypatch):
    emulator.reset(estate=ESTATE)
    monkeypatch.setenv("AZURE_CLIENT_ID", READER)
    token = _token(emulator, client_id=READER).json()["access_token"]
    path = (f"/subscriptions/{SUB}/resourceGroups/contoso-dr-rg/providers/Microsoft.RecoveryServices/vaults/"
            "contoso-asr-vault/replicationPolicies/every-5-min?api-version=2025-08-01")
    r = requests.put(emulator.url + path, json={"properties": {}}, headers={"Authorization": f"Bearer {token}"},
                     verify=emulator.ca_bundle, timeout=10)
    assert r.status_code == 403
    err = r.json()["error"]
    assert err["code"] == "AuthorizationFailed"
    assert "'Microsoft.RecoveryServices/vaults/replicationPolicies/write'" in err["message"]
    assert "/vaults/contoso-asr-vault/replicationPolicies/every-5-min'" in err["message"]


def test_contributor_principal_and_default_principal_may_write(emulator, monkeypatch):
    emulator.reset(estate=ESTATE)
    assert Clients(SUB).resources.resource_groups.create_or_update("a-rg", {"location": "westeurope"}).name == "a-rg"
    monkeypatch.setenv("AZURE_CLIENT_ID", CONTRIB)
    assert Clients(SUB).resources.resource_groups.create_or_update("b-rg", {"location": "westeurope"}).name == "b-rg"


def test_unknown_client_id_cannot_get_a_token(emulator, monkeypatch):
    from azure.core.exceptions import ClientAuthenticationError

    monkeypatch.setenv("AZURE_CLIENT_ID", "99999999-9999-9999-9999-999999999999")
    with pytest.raises(ClientAuthenticationError):
        Clients(SUB).resources.resource_groups.check_existence("x")

"""Recovery Services vaults and vault certificates through the real SDK, plus ETag
preconditions and the delete guard in process."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reconciler.azure.clients import Clients
from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.testing import call

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
API = "api-version=2026-11-01"
VAULT_URL = f"/subscriptions/{SUB}/resourceGroups/contoso-dr-rg/providers/Microsoft.RecoveryServices/vaults/contoso-asr-vault?{API}"
VAULT_BODY = {"location": "westeurope", "sku": {"name": "Standard"},
              "properties": {"redundancySettings": {"standardTierStorageRedundancy": "GeoRedundant"}}}


@pytest.fixture
def app():
    a = EmulatorApp(estate={"subscription": SUB})
    call(a, "PUT", f"/subscriptions/{SUB}/resourcegroups/contoso-dr-rg?api-version=2025-04-01", json={"location": "westeurope"})
    return a


def _der_cert() -> bytes:
    import tempfile

    from reconciler.emulator import certs

    files = certs.generate(tempfile.mkdtemp())
    cert = x509.load_pem_x509_certificate(open(files.ca_cert, "rb").read())
    return cert.public_bytes(serialization.Encoding.DER)


def test_vault_lifecycle_through_sdk(emulator):
    emulator.reset(estate={"subscription": SUB}, time_scale=100)  # no VMM server registering into the vault
    c = Clients(SUB)
    c.resources.resource_groups.create_or_update("contoso-dr-rg", {"location": "westeurope"})
    vaults = c.vaults.vaults
    v = vaults.begin_create_or_update("contoso-dr-rg", "contoso-asr-vault", {
        "location": "West Europe", "sku": {"name": "Standard"}, "tags": {"env": "prod"},
        "identity": {"type": "SystemAssigned"},
        "properties": {"redundancySettings": {"standardTierStorageRedundancy": "LocallyRedundant"}},
    }).result()
    assert v.id == f"/subscriptions/{SUB}/resourceGroups/contoso-dr-rg/providers/Microsoft.RecoveryServices/vaults/contoso-asr-vault"
    assert (v.name, v.type, v.location) == ("contoso-asr-vault", "Microsoft.RecoveryServices/vaults", "westeurope")
    assert v.sku.name == "RS0" and v.sku.tier == "Standard"
    assert v.properties.provisioning_state == "Succeeded"
    assert v.properties.redundancy_settings.standard_tier_storage_redundancy == "LocallyRedundant"
    assert v.identity.type == "SystemAssigned" and v.identity.principal_id
    assert v.etag and v.tags == {"env": "prod"}
    got = vaults.get("contoso-dr-rg", "contoso-asr-vault")
    assert got.etag == v.etag
    patched = vaults.begin_update("contoso-dr-rg", "contoso-asr-vault", {"tags": {"env": "prod", "asr-lock": "run-1"}}).result()
    assert patched.tags == {"env": "prod", "asr-lock": "run-1"} and patched.etag != v.etag
    assert [x.name for x in vaults.list_by_resource_group("contoso-dr-rg")] == ["contoso-asr-vault"]
    assert [x.name for x in vaults.list_by_subscription_id()] == ["contoso-asr-vault"]
    avail = c.vaults.recovery_services.check_name_availability("contoso-dr-rg", "westeurope",
                                                               {"type": "Microsoft.RecoveryServices/Vaults", "name": "contoso-asr-vault"})
    assert avail.name_available is False and avail.reason == "AlreadyExists"
    vaults.begin_delete("contoso-dr-rg", "contoso-asr-vault").result()
    with pytest.raises(ResourceNotFoundError) as e:
        vaults.get("contoso-dr-rg", "contoso-asr-vault")
    assert e.value.error.code == "ResourceNotFound"
    # deleting what is gone is a no-op (204)
    vaults.begin_delete("contoso-dr-rg", "contoso-asr-vault").result()


def test_vault_certificate_upload_returns_aad_details(emulator):
    c = Clients(SUB)
    c.resources.resource_groups.create_or_update("contoso-dr-rg", {"location": "westeurope"})
    c.vaults.vaults.begin_create_or_update("contoso-dr-rg", "contoso-asr-vault", VAULT_BODY).result()
    der = _der_cert()
    resp = c.vaults.vault_certificates.create("contoso-dr-rg", "contoso-asr-vault", "vmm01-cred",
                                              {"properties": {"authType": "AAD", "certificate": der}})
    assert resp.name == "vmm01-cred" and resp.type == "Microsoft.RecoveryServices/vaults/certificates"
    assert resp.id.startswith("/Subscriptions/")
    p = resp.properties
    assert type(p).__name__ == "ResourceCertificateAndAadDetails"
    assert p.auth_type == "AzureActiveDirectory"
    import hashlib

    assert p.thumbprint == hashlib.sha1(der).hexdigest().upper()
    assert p.aad_tenant_id and p.service_principal_client_id and p.aad_authority == "https://login.windows.net"
    assert isinstance(p.resource_id, int) and str(p.resource_id) in p.aad_audience
    assert p.valid_from is not None and p.valid_to > p.valid_from
    assert p.certificate == der
    # the same vault always answers the same identity
    again = c.vaults.vault_certificates.create("contoso-dr-rg", "contoso-asr-vault", "hv-cred",
                                               {"properties": {"authType": "AAD", "certificate": der}})
    assert again.properties.service_principal_client_id == p.service_principal_client_id


def test_vault_etag_preconditions_through_sdk(emulator):
    c = Clients(SUB)
    c.resources.resource_groups.create_or_update("contoso-dr-rg", {"location": "westeurope"})
    v = c.vaults.vaults.begin_create_or_update("contoso-dr-rg", "contoso-asr-vault", VAULT_BODY).result()
    stale = v.etag
    c.vaults.vaults.begin_update("contoso-dr-rg", "contoso-asr-vault", {"tags": {"asr-lock": "a"}},
                                 headers={"If-Match": stale}).result()
    with pytest.raises(HttpResponseError) as e:
        c.vaults.vaults.begin_update("contoso-dr-rg", "contoso-asr-vault", {"tags": {"asr-lock": "b"}},
                                     headers={"If-Match": stale}).result()
    assert e.value.status_code == 412 and e.value.error.code == "PreconditionFailed"
    assert c.vaults.vaults.get("contoso-dr-rg", "contoso-asr-vault").tags == {"asr-lock": "a"}


def test_if_none_match_star_refuses_to_overwrite(app):
    assert call(app, "PUT", VAULT_URL, json=VAULT_BODY).status_code == 201
    r = call(app, "PUT", VAULT_URL, json=VAULT_BODY, headers={"If-None-Match": "*"})
    assert (r.status_code, r.json()["error"]["code"]) == (412, "PreconditionFailed")
    r = call(app, "DELETE", VAULT_URL, headers={"If-Match": 'W/"nope"'})
    assert r.status_code == 412


def test_create_answers_201_with_location_then_200(app):
    r = call(app, "PUT", VAULT_URL, json=VAULT_BODY)
    assert r.status_code == 201
    assert "/operationResults/" in r.headers["location"] and int(r.headers["retry-after"]) >= 1
    assert r.json()["properties"]["provisioningState"] == "Succeeded"
    assert "_resourceId" not in r.json()
    loc = r.headers["location"].split("127.0.0.1:1", 1)[1]
    assert call(app, "GET", loc).status_code == 202
    app.state.advance(5)
    done = call(app, "GET", loc)
    assert done.status_code == 200 and done.json()["name"] == "contoso-asr-vault"
    assert call(app, "PUT", VAULT_URL, json=VAULT_BODY).status_code == 200


def test_invalid_vault_bodies(app):
    r = call(app, "PUT", VAULT_URL, json={"sku": {"name": "Standard"}})
    assert r.status_code == 400
    bad = dict(VAULT_BODY, properties={"redundancySettings": {"standardTierStorageRedundancy": "Triple"}})
    r = call(app, "PUT", VAULT_URL, json=bad)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "InvalidRequestContent")
    r = call(app, "PUT", VAULT_URL.replace("contoso-asr-vault", "9bad_name"), json=VAULT_BODY)
    assert r.status_code == 400
    call(app, "PUT", VAULT_URL, json=VAULT_BODY)
    r = call(app, "PUT", VAULT_URL, json=dict(VAULT_BODY, location="northeurope"))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "InvalidResourceLocation")


def test_vault_with_protected_items_cannot_be_deleted(app):
    call(app, "PUT", VAULT_URL, json=VAULT_BODY)
    busy: set[str] = set()

    def blocker(state, vault_id):
        return "1 replicated item" if vault_id.lower() in busy else None

    app.state.hooks.add("vault.delete_blocker", blocker)  # this state only: nothing to undo
    vid = f"/subscriptions/{SUB}/resourceGroups/contoso-dr-rg/providers/Microsoft.RecoveryServices/vaults/contoso-asr-vault"
    busy.add(vid.lower())
    r = call(app, "DELETE", VAULT_URL)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "ServiceResourceNotEmpty")
    # the resource group cannot go either
    r = call(app, "DELETE", f"/subscriptions/{SUB}/resourcegroups/contoso-dr-rg?api-version=2025-04-01")
    assert r.status_code == 409
    # nor can the storage redundancy change
    lrs = dict(VAULT_BODY, properties={"redundancySettings": {"standardTierStorageRedundancy": "LocallyRedundant"}})
    assert call(app, "PUT", VAULT_URL, json=lrs).status_code == 400
    busy.clear()
    r = call(app, "DELETE", VAULT_URL)
    assert r.status_code == 202 and "azure-asyncoperation" in r.headers


def test_vault_operation_status_and_result_through_sdk(emulator):
    c = Clients(SUB)
    c.resources.resource_groups.create_or_update("contoso-dr-rg", {"location": "westeurope"})
    r = call(emulator.app, "PUT", VAULT_URL, json=VAULT_BODY)  # raw: the 201's Location names the operation
    assert r.status_code == 201
    op_id = r.headers["Location"].split("/operationResults/")[1].split("?")[0]
    st = c.vaults.get_operation_status("contoso-dr-rg", "contoso-asr-vault", op_id)
    assert st.name == op_id and st.status in ("InProgress", "Succeeded") and st.start_time is not None
    emulator.advance(60)
    assert c.vaults.get_operation_status("contoso-dr-rg", "contoso-asr-vault", op_id).status == "Succeeded"
    v = c.vaults.get_operation_result("contoso-dr-rg", "contoso-asr-vault", op_id)
    assert v.name == "contoso-asr-vault"

"""Every key the providers answer exists in the pinned SDK's model for that resource
(recursively): the emulator's JSON is the SDK's REST shape, nothing invented."""

from __future__ import annotations

import base64
import tempfile

import pytest

from reconciler.emulator.app import EmulatorApp
from reconciler.emulator.state import EmulatorConfig
from reconciler.emulator.testing import call
from reconciler.emulator.testing import sdk_unknown_keys as unknown_keys

SUB = "00000000-0000-0000-0000-000000000001"


@pytest.fixture(scope="module")
def answers():
    app = EmulatorApp(config=EmulatorConfig(time_scale=1000), estate={"subscription": SUB})

    def j(method, path, body=None):
        r = call(app, method, path, json=body)
        assert r.status_code < 300, (path, r.status_code, r.text)
        return r.json()

    rg = f"/subscriptions/{SUB}/resourceGroups/rg1"
    out = {"rg": j("PUT", f"/subscriptions/{SUB}/resourcegroups/rg1?api-version=2025-04-01", {"location": "westeurope", "tags": {"a": "b"}})}
    out["vault"] = j("PUT", f"{rg}/providers/Microsoft.RecoveryServices/vaults/v1?api-version=2026-11-01",
                     {"location": "westeurope", "sku": {"name": "Standard"}, "identity": {"type": "SystemAssigned"}, "tags": {"x": "y"},
                      "properties": {"redundancySettings": {"standardTierStorageRedundancy": "ZoneRedundant"}}})
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from reconciler.emulator import certs

    files = certs.generate(tempfile.mkdtemp())
    der = x509.load_pem_x509_certificate(open(files.ca_cert, "rb").read()).public_bytes(serialization.Encoding.DER)
    out["cert"] = j("PUT", f"{rg}/providers/Microsoft.RecoveryServices/vaults/v1/certificates/c1?api-version=2026-11-01",
                    {"properties": {"authType": "AAD", "certificate": base64.b64encode(der).decode()}})
    out["storage"] = j("PUT", f"{rg}/providers/Microsoft.Storage/storageAccounts/acct1?api-version=2026-09-01",
                       {"location": "westeurope", "sku": {"name": "Standard_GRS"}, "kind": "StorageV2", "tags": {"a": "b"}})
    out["keys"] = j("POST", f"{rg}/providers/Microsoft.Storage/storageAccounts/acct1/listKeys?api-version=2026-09-01")
    out["name"] = j("POST", f"/subscriptions/{SUB}/providers/Microsoft.Storage/checkNameAvailability?api-version=2026-09-01",
                    {"name": "acct1", "type": "Microsoft.Storage/storageAccounts"})
    out["vnet"] = j("PUT", f"{rg}/providers/Microsoft.Network/virtualNetworks/vn?api-version=2026-03-01",
                    {"location": "westeurope", "tags": {"a": "b"}, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                     "subnets": [{"name": "s", "properties": {"addressPrefix": "10.0.1.0/24"}}]}})
    out["subnet"] = j("PUT", f"{rg}/providers/Microsoft.Network/virtualNetworks/vn/subnets/t?api-version=2026-03-01",
                      {"properties": {"addressPrefix": "10.0.2.0/24"}})
    out["vault_name"] = j("POST", f"{rg}/providers/Microsoft.RecoveryServices/locations/westeurope/checkNameAvailability?api-version=2026-11-01",
                          {"name": "v1", "type": "Microsoft.RecoveryServices/vaults"})
    return out


@pytest.mark.parametrize("key, model", [
    ("rg", "azure.mgmt.resource.resources.models:ResourceGroup"),
    ("vault", "azure.mgmt.recoveryservices.models:Vault"),
    ("cert", "azure.mgmt.recoveryservices.models:VaultCertificateResponse"),
    ("storage", "azure.mgmt.storage.models:StorageAccount"),
    ("keys", "azure.mgmt.storage.models:StorageAccountListKeysResult"),
    ("name", "azure.mgmt.storage.models:CheckNameAvailabilityResult"),
    ("vnet", "azure.mgmt.network.models:VirtualNetwork"),
    ("subnet", "azure.mgmt.network.models:Subnet"),
    ("vault_name", "azure.mgmt.recoveryservices.models:CheckNameAvailabilityResult"),
])
def test_answers_use_only_sdk_model_keys(answers, key, model):
    import importlib

    mod, cls = model.split(":")
    assert unknown_keys(answers[key], getattr(importlib.import_module(mod), cls), key) == []


def test_certificate_details_match_the_aad_model(answers):
    from azure.mgmt.recoveryservices.models import ResourceCertificateAndAadDetails

    assert unknown_keys(answers["cert"]["properties"], ResourceCertificateAndAadDetails, "cert.properties") == []


def test_checker_catches_invented_keys(answers):
    from azure.mgmt.recoveryservices.models import Vault

    bogus = dict(answers["vault"], properties=dict(answers["vault"]["properties"], invented=1))
    assert unknown_keys(bogus, Vault, "vault") == ["vault.properties.invented"]

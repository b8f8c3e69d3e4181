"""Vault security through the real SDK: identity, public network access, monitoring
settings, Site Recovery alert settings and the Site Recovery private endpoint
(docs/fidelity.md, "Vault security")."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.azure.clients import Clients

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
RG = "contoso-dr-rg"
VAULT = "contoso-asr-vault"
VID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"


def _setup(c: Clients, identity: bool = True) -> None:
    c.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    body = {"location": "westeurope", "sku": {"name": "Standard"},
            "properties": {"publicNetworkAccess": "Disabled",
                           "monitoringSettings": {"azureMonitorAlertSettings": {"alertsForAllReplicationIssues": "Enabled"}}}}
    if identity:
        body["identity"] = {"type": "SystemAssigned"}
    c.vaults.vaults.begin_create_or_update(RG, VAULT, body).result()
    c.network.virtual_networks.begin_create_or_update(RG, "corp-vnet", {
        "location": "westeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
                       "subnets": [{"name": "endpoints", "properties": {"addressPrefix": "10.10.2.0/24"}}]}}).result()


def _pe_body(subnet: str = "endpoints") -> dict:
    return {"location": "westeurope", "properties": {
        "subnet": {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/corp-vnet/subnets/{subnet}"},
        "privateLinkServiceConnections": [{"name": "contoso-asr-pe", "properties": {
            "privateLinkServiceId": VID, "groupIds": ["AzureSiteRecovery"]}}]}}


def test_identity_network_access_and_monitoring(emulator):
    emulator.reset(time_scale=100)
    c = Clients(SUB)
    _setup(c)
    v = c.vaults.vaults.get(RG, VAULT)
    assert v.identity.type == "SystemAssigned" and v.identity.principal_id and v.identity.tenant_id
    assert v.properties.public_network_access == "Disabled"
    assert v.properties.private_endpoint_state_for_site_recovery == "None"
    mon = v.properties.monitoring_settings.azure_monitor_alert_settings
    assert mon.alerts_for_all_replication_issues == "Enabled"
    # a PATCH of one alert keeps the others; the principal id survives updates
    principal = v.identity.principal_id
    c.vaults.vaults.begin_update(RG, VAULT, {"properties": {
        "monitoringSettings": {"azureMonitorAlertSettings": {"alertsForAllFailoverIssues": "Enabled"}},
        "publicNetworkAccess": "Enabled"}}).result()
    v = c.vaults.vaults.get(RG, VAULT)
    mon = v.properties.monitoring_settings.azure_monitor_alert_settings
    assert (mon.alerts_for_all_replication_issues, mon.alerts_for_all_failover_issues) == ("Enabled", "Enabled")
    assert v.properties.public_network_access == "Enabled" and v.identity.principal_id == principal
    with pytest.raises(HttpResponseError) as e:
        c.vaults.vaults.begin_update(RG, VAULT, {"properties": {"publicNetworkAccess": "Sometimes"}}).result()
    assert e.value.status_code == 400


def test_alert_settings(emulator):
    emulator.reset(time_scale=100)
    c = Clients(SUB)
    _setup(c)
    sr = c.site_recovery()
    default = sr.replication_alert_settings.get(RG, VAULT, "defaultAlertSetting")
    assert default.properties.send_to_owners == "DoNotSend" and not default.properties.custom_email_addresses
    out = sr.replication_alert_settings.create(RG, VAULT, "defaultAlertSetting", {"properties": {
        "sendToOwners": "Send", "customEmailAddresses": ["dr-team@contoso.com"], "locale": "en-US"}})
    assert out.id == f"{VID}/replicationAlertSettings/defaultAlertSetting"
    assert out.type == "Microsoft.RecoveryServices/vaults/replicationAlertSettings"
    (listed,) = list(sr.replication_alert_settings.list(RG, VAULT))
    assert listed.properties.custom_email_addresses == ["dr-team@contoso.com"]
    assert listed.properties.send_to_owners == "Send"


def test_private_endpoint_reflected_on_the_vault(emulator):
    emulator.reset(time_scale=100)
    c = Clients(SUB)
    _setup(c)
    pe = c.network.private_endpoints.begin_create_or_update(RG, "contoso-asr-pe", _pe_body()).result()
    assert pe.properties.provisioning_state == "Succeeded"
    (conn,) = pe.properties.private_link_service_connections
    assert conn.properties.group_ids == ["AzureSiteRecovery"]
    assert conn.properties.private_link_service_connection_state.status == "Approved"
    fqdns = [d.fqdn for d in pe.properties.custom_dns_configs]
    assert len(fqdns) == 5 and all(f.endswith(".privatelink.siterecovery.windowsazure.com") for f in fqdns)
    v = c.vaults.vaults.get(RG, VAULT)
    assert v.properties.private_endpoint_state_for_site_recovery == "Enabled"
    (vc,) = v.properties.private_endpoint_connections
    assert vc.properties.private_endpoint.id.lower() == pe.id.lower()
    assert [p.name for p in c.network.private_endpoints.list(RG)] == ["contoso-asr-pe"]
    # a vault PUT (as the planner's read-modify-write sends it) keeps the connection
    c.vaults.vaults.begin_create_or_update(RG, VAULT, {"location": "westeurope", "sku": {"name": "Standard"},
                                                       "properties": {"publicNetworkAccess": "Disabled"}}).result()
    assert c.vaults.vaults.get(RG, VAULT).properties.private_endpoint_state_for_site_recovery == "Enabled"
    # the subnet is in use
    with pytest.raises(HttpResponseError) as e:
        c.network.subnets.begin_delete(RG, "corp-vnet", "endpoints").result()
    assert e.value.error.code == "InUseSubnetCannotBeDeleted"
    c.network.private_endpoints.begin_delete(RG, "contoso-asr-pe").result()
    v = c.vaults.vaults.get(RG, VAULT)
    assert v.properties.private_endpoint_state_for_site_recovery == "None"
    assert not v.properties.private_endpoint_connections


def test_private_endpoint_needs_identity(emulator):
    emulator.reset(time_scale=100)
    c = Clients(SUB)
    _setup(c, identity=False)
    with pytest.raises(HttpResponseError) as e:
        c.network.private_endpoints.begin_create_or_update(RG, "contoso-asr-pe", _pe_body()).result()
    assert e.value.status_code == 400 and "managed identity" in str(e.value)
    assert list(c.network.private_endpoints.list(RG)) == []

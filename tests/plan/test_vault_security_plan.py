"""Planner rules of vault security on hand-built live state (no emulator): what is left to
Azure, read-modify-write of the vault, endpoint replacement and ordering."""

from __future__ import annotations

import yaml
from livebuilder import applied, clone, example_path

from reconciler.manifest import validate_text
from reconciler.plan.model import Action, Kind
from reconciler.plan.planner import make_plan


def manifest(**vault):
    data = yaml.safe_load(open(example_path("quickstart"), encoding="utf-8"))
    data["vault"].update(vault)
    m, diags = validate_text(yaml.safe_dump(data, sort_keys=False), "m.yaml")
    assert m is not None, [d.message for d in diags]
    return m


def by_addr(plan):
    return {c.address: c for c in plan.changes}


def test_undeclared_security_settings_are_left_to_azure():
    m = manifest()
    live = applied(m)
    live.vault["identity"] = {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"}
    live.vault["properties"]["publicNetworkAccess"] = "Disabled"
    live.vault["properties"]["monitoringSettings"] = {"azureMonitorAlertSettings": {"alertsForAllReplicationIssues": "Disabled"}}
    plan = make_plan(m, live)
    assert by_addr(plan)["vault.contoso-asr-vault"].action == Action.NOOP


def test_security_update_is_a_read_modify_write_patch():
    m = manifest(alerts={"azureMonitor": {"replicationIssues": True}}, publicNetworkAccess="Disabled")
    live = applied(m)
    held = {"azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled", "alertsForAllReplicationIssues": "Disabled"},
            "classicAlertSettings": {"alertsForCriticalOperations": "Enabled"}}
    live.vault["properties"]["monitoringSettings"] = held
    live.vault["tags"] = {"env": "test", "owner": "it-ops"}
    c = by_addr(make_plan(m, live))["vault.contoso-asr-vault"]
    assert c.action == Action.UPDATE
    tags_req, sec_req = c.requests
    assert tags_req.args["vault"] == {"tags": {"env": "prod", "owner": "it-ops"}}
    assert sec_req.operation == "vaults.vaults.begin_update"
    assert sec_req.args["vault"] == {"properties": {
        "publicNetworkAccess": "Disabled",
        "monitoringSettings": {
            "azureMonitorAlertSettings": {"alertsForAllJobFailures": "Enabled", "alertsForAllReplicationIssues": "Enabled"},
            "classicAlertSettings": {"alertsForCriticalOperations": "Enabled"}}}}


def _pe(name, subnet, vault_id, rg="contoso-dr-rg"):
    return {"id": f"/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/{rg}/providers/Microsoft.Network/privateEndpoints/{name}",
            "name": name, "location": "westeurope", "type": "Microsoft.Network/privateEndpoints",
            "properties": {"provisioningState": "Succeeded", "subnet": {"id": subnet}, "privateLinkServiceConnections": [
                {"name": name, "properties": {"privateLinkServiceId": vault_id, "groupIds": ["AzureSiteRecovery"],
                                              "privateLinkServiceConnectionState": {"status": "Approved"}}}]}}


def test_endpoint_subnet_change_is_a_replace_and_an_arm_id_network_needs_no_vnet():
    vnet = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/hub-rg/providers/Microsoft.Network/virtualNetworks/hub"
    m = manifest(identity="SystemAssigned", privateEndpoints=[{"name": "pe1", "network": vnet, "subnet": "pe"}])
    live = applied(m)
    live.vault["identity"] = {"type": "SystemAssigned"}
    live.private_endpoints = [_pe("pe1", vnet + "/subnets/old", live.vault["id"])]
    c = by_addr(make_plan(m, live))["private_endpoint.pe1"]
    assert c.action == Action.REPLACE and c.replace_fields == ["subnet"] and c.destructive
    assert [r.operation for r in c.requests] == ["network.private_endpoints.begin_delete",
                                                  "network.private_endpoints.begin_create_or_update"]
    assert c.requests[1].args["parameters"]["properties"]["subnet"] == {"id": vnet + "/subnets/pe"}
    assert not any(d.startswith("virtual_network.") for d in c.depends_on)
    live2 = clone(live)
    live2.private_endpoints = [_pe("pe1", vnet.upper() + "/subnets/pe", live.vault["id"].upper())]
    assert by_addr(make_plan(m, live2))["private_endpoint.pe1"].action == Action.NOOP  # ids compare case-insensitively


def test_every_registration_waits_for_the_endpoints():
    data = yaml.safe_load(open(example_path("hyperv-site"), encoding="utf-8"))
    data["vault"].update(identity="SystemAssigned",
                         privateEndpoints=[{"name": "pe1", "network": "office-vnet", "subnet": "lan"}])
    m, _ = validate_text(yaml.safe_dump(data, sort_keys=False), "m.yaml")
    from reconciler.live.state import LiveState

    empty = LiveState(subscription=m.subscription, resource_group=m.vault.resource_group, vault_name=m.vault.name,
                      target_resource_group=m.target.resource_group)
    plan = make_plan(m, empty)
    pe = by_addr(plan)["private_endpoint.pe1"]
    for c in plan.changes:
        if c.kind in (Kind.HYPERV_SITE, Kind.HYPERV_HOST, Kind.VMM_SERVER):
            assert c.wave > pe.wave, c.address
    assert pe.depends_on == ["vault.smallbiz-asr-vault", "virtual_network.office-vnet"]


def test_turning_public_access_off_without_an_endpoint_warns():
    m = manifest(publicNetworkAccess="Disabled")
    live = applied(m)
    plan = make_plan(m, live)
    c = by_addr(plan)["vault.contoso-asr-vault"]
    assert c.action == Action.UPDATE and c.after["publicNetworkAccess"] == "Disabled"
    (w,) = [w for w in plan.warnings if w.startswith("vault.contoso-asr-vault")]
    assert "vmm01 can no longer reach it" in w

"""A private vault end to end over the emulator (real SDK, CLI): public network access
Disabled, a Site Recovery private endpoint, managed identity and alerts converge from
nothing in the documented order (the endpoint before the VMM server registers), the
plan is then empty, export round-trips it, and turning public access back on or
removing the endpoint shows in the plan (the removal refused without --allow-destroy)."""

from __future__ import annotations

import json
import os

import pytest
import yaml
from livebuilder import ROOT, example_path

from reconciler.cli.main import main as asr

SUB = "00000000-0000-0000-0000-000000000001"
SCALE = 600.0
RG, VAULT = "fabrikam-dr-rg", "fabrikam-asr-vault"
VID = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{VAULT}"
ESTATE = os.path.join(ROOT, "examples", "estates", "private-vault.yaml")


def plan_json(path: str, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    rc = asr(["plan", str(path), "--format", "json", "--detailed-exitcode", *extra])
    captured = capsys.readouterr()
    assert rc in (0, 2), captured.err
    return rc, json.loads(captured.out)


def work(doc: dict) -> dict[str, dict]:
    return {c["address"]: c for c in doc["changes"] if c["action"] != "noop"}


@pytest.fixture
def emu(emulator, monkeypatch):
    monkeypatch.setenv("ASR_JOB_POLL_MIN", "0.1")
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "0.3")
    monkeypatch.setenv("ASR_REPLAN_INTERVAL", "0.3")
    emulator.reset(estate=yaml.safe_load(open(ESTATE, encoding="utf-8")), time_scale=SCALE)
    return emulator


@pytest.fixture
def applied(emu, capsys):
    capsys.readouterr()
    rc = asr(["apply", example_path("private-vault"), "--auto-approve", "--log-format", "text"])
    out = capsys.readouterr()
    assert rc == 0, out.out + out.err
    return emu


def test_plan_from_nothing_puts_the_endpoint_before_registration(emu, capsys):
    rc, doc = plan_json(example_path("private-vault"), capsys)
    assert rc == 2
    w = work(doc)
    pe, vmm, vault = w["private_endpoint.fabrikam-asr-pe"], w["vmm_server.vmm01"], w[f"vault.{VAULT}"]
    assert pe["action"] == "create" and vmm["action"] == "manual"
    assert "private_endpoint.fabrikam-asr-pe" in vmm["depends_on"]
    assert pe["wave"] < vmm["wave"] and vault["wave"] < pe["wave"]
    assert "privatelink.siterecovery.windowsazure.com" in pe["note"]
    (req,) = pe["requests"]
    assert req["operation"] == "network.private_endpoints.begin_create_or_update"
    (conn,) = req["args"]["parameters"]["properties"]["privateLinkServiceConnections"]
    assert conn["properties"] == {"privateLinkServiceId": VID, "groupIds": ["AzureSiteRecovery"]}
    body = vault["requests"][0]["args"]["vault"]
    assert body["identity"] == {"type": "SystemAssigned"}
    assert body["properties"]["publicNetworkAccess"] == "Disabled"
    assert body["properties"]["monitoringSettings"]["azureMonitorAlertSettings"] == {
        "alertsForAllReplicationIssues": "Enabled", "alertsForAllFailoverIssues": "Enabled"}
    alerts = w[f"alert_settings.{VAULT}"]
    assert alerts["requests"][0]["args"]["request"]["properties"]["customEmailAddresses"] == ["dr-team@fabrikam.com"]


def test_converges_in_order_and_plans_empty(emu, capsys):
    from reconciler.azure.clients import Clients

    capsys.readouterr()
    rc = asr(["apply", example_path("private-vault"), "--auto-approve", "--log-format", "json"])
    out = capsys.readouterr()
    assert rc == 0, out.out + out.err
    events = [json.loads(line) for line in out.out.splitlines() if line.startswith("{")]
    at = {}
    for i, e in enumerate(events):
        at.setdefault((e.get("address"), e.get("event")), i)
    # the endpoint is in place before the server is found registered: the first round still sees
    # vmm01 unregistered (a manual step), the cloud is paired only in a later round
    assert at[("private_endpoint.fabrikam-asr-pe", "done")] < at[("vmm_server.vmm01", "manual")]
    assert at[("vmm_server.vmm01", "manual")] < at[("policy_association.vmm01/Gold", "start")]
    rc, doc = plan_json(example_path("private-vault"), capsys)
    assert rc == 0, {a: (c["action"], c["note"]) for a, c in work(doc).items()}
    c = Clients(SUB)
    v = c.vaults.vaults.get(RG, VAULT)
    assert v.properties.public_network_access == "Disabled" and v.identity.type == "SystemAssigned"
    assert v.properties.private_endpoint_state_for_site_recovery == "Enabled"
    mon = v.properties.monitoring_settings
    assert mon.azure_monitor_alert_settings.alerts_for_all_failover_issues == "Enabled"
    assert mon.classic_alert_settings.email_notifications_for_site_recovery == "Enabled"
    sr = c.site_recovery()
    (setting,) = list(sr.replication_alert_settings.list(RG, VAULT))
    assert (setting.properties.send_to_owners, setting.properties.custom_email_addresses) == ("Send", ["dr-team@fabrikam.com"])
    assert [p.properties.friendly_name for p in sr.replication_recovery_services_providers.list(RG, VAULT)] == ["vmm01"]
    c.close()


def test_server_registers_only_once_the_endpoint_exists(emu):
    """The emulator side of the order: with public access Disabled, vmm01 cannot reach the vault
    (it does not register however long we wait) until the Site Recovery private endpoint exists."""
    from reconciler.azure.clients import Clients

    c = Clients(SUB)
    sr = c.site_recovery()
    c.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    c.vaults.vaults.begin_create_or_update(RG, VAULT, {"location": "westeurope", "sku": {"name": "Standard"},
                                                       "identity": {"type": "SystemAssigned"},
                                                       "properties": {"publicNetworkAccess": "Disabled"}}).result()
    emu.advance(3600)
    assert list(sr.replication_recovery_services_providers.list(RG, VAULT)) == []
    c.network.virtual_networks.begin_create_or_update(RG, "bypass", {"location": "westeurope", "properties": {
        "addressSpace": {"addressPrefixes": ["10.31.0.0/16"]},
        "subnets": [{"name": "endpoints", "properties": {"addressPrefix": "10.31.1.0/24"}}]}}).result()
    c.network.private_endpoints.begin_create_or_update(RG, "pe", {"location": "westeurope", "properties": {
        "subnet": {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/bypass/subnets/endpoints"},
        "privateLinkServiceConnections": [{"name": "pe", "properties": {"privateLinkServiceId": VID,
                                                                         "groupIds": ["AzureSiteRecovery"]}}]}}).result()
    assert [p.properties.friendly_name for p in sr.replication_recovery_services_providers.list(RG, VAULT)] == ["vmm01"]
    # and now that a server is registered, Azure refuses another Site Recovery endpoint (Learn's caveat)
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError) as e:
        c.network.private_endpoints.begin_create_or_update(RG, "pe2", {"location": "westeurope", "properties": {
            "subnet": {"id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.Network/virtualNetworks/bypass/subnets/endpoints"},
            "privateLinkServiceConnections": [{"name": "pe2", "properties": {"privateLinkServiceId": VID,
                                                                              "groupIds": ["AzureSiteRecovery"]}}]}}).result()
    assert e.value.status_code == 400 and "registered" in str(e.value)
    c.close()


def test_export_round_trips_the_private_vault(emu, capsys, tmp_path):
    capsys.readouterr()
    assert asr(["apply", example_path("private-vault"), "--auto-approve", "--log-format", "text"]) == 0
    capsys.readouterr()
    assert asr(["export", "--subscription", SUB, "--resource-group", RG, "--vault", VAULT]) == 0
    exported = capsys.readouterr().out
    doc = yaml.safe_load(exported)
    v = doc["vault"]
    assert v["identity"] == "SystemAssigned" and v["publicNetworkAccess"] == "Disabled"
    assert v["privateEndpoints"] == [{"name": "fabrikam-asr-pe", "network": "fabrikam-bypass-vnet", "subnet": "endpoints"}]
    assert v["alerts"] == {"azureMonitor": {"replicationIssues": True, "failoverIssues": True},
                           "email": {"sendToOwners": True, "recipients": ["dr-team@fabrikam.com"]}}
    path = tmp_path / "exported.yaml"
    path.write_text(exported)
    assert asr(["validate", str(path)]) == 0
    rc, plan = plan_json(path, capsys)
    assert rc == 0, work(plan)


def test_public_access_back_on_and_endpoint_removal_show_in_the_plan(emu, capsys, tmp_path):
    capsys.readouterr()
    assert asr(["apply", example_path("private-vault"), "--auto-approve", "--log-format", "text"]) == 0
    data = yaml.safe_load(open(example_path("private-vault"), encoding="utf-8"))
    data["vault"]["publicNetworkAccess"] = "Enabled"
    data["vault"]["privateEndpoints"] = []
    path = tmp_path / "open.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rc, doc = plan_json(path, capsys)
    assert rc == 2
    w = work(doc)
    vault, pe = w[f"vault.{VAULT}"], w["private_endpoint.fabrikam-asr-pe"]
    assert (vault["action"], vault["before"]["publicNetworkAccess"], vault["after"]["publicNetworkAccess"]) == (
        "update", "Disabled", "Enabled")
    assert "public networks again" in vault["note"]
    (req,) = vault["requests"]
    assert req["operation"] == "vaults.vaults.begin_update"
    assert req["args"]["vault"] == {"properties": {"publicNetworkAccess": "Enabled"}}
    assert (pe["action"], pe["reason"]) == ("delete", "not_in_manifest")
    assert pe["requests"] == [{"operation": "network.private_endpoints.begin_delete",
                               "args": {"resource_group_name": RG, "private_endpoint_name": "fabrikam-asr-pe"}}]
    assert doc["summary"]["destroy"] == 1
    capsys.readouterr()
    assert asr(["apply", str(path), "--auto-approve", "--log-format", "text"]) == 1
    assert "--allow-destroy" in capsys.readouterr().err
    assert asr(["apply", str(path), "--auto-approve", "--allow-destroy", "--log-format", "text"]) == 0
    capsys.readouterr()
    rc, doc = plan_json(path, capsys)
    assert rc == 0, work(doc)
    # omitting the key leaves endpoints made elsewhere alone
    del data["vault"]["privateEndpoints"]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    rc, doc = plan_json(path, capsys)
    assert rc == 0, work(doc)


def test_kit_uses_the_private_endpoint(emu, capsys, tmp_path):
    import xml.etree.ElementTree as ET

    capsys.readouterr()
    assert asr(["apply", example_path("private-vault"), "--auto-approve", "--log-format", "text"]) == 0
    capsys.readouterr()
    out = tmp_path / "kit"
    assert asr(["vault-credentials", example_path("private-vault"), "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    (creds,) = [p for p in os.listdir(out) if p.endswith(".VaultCredentials")]
    ns = {"a": "http://schemas.datacontract.org/2004/07/Microsoft.Azure.Portal.RecoveryServices.Models.Common"}
    assert ET.parse(out / creds).getroot().find("a:PrivateEndpointStateForSiteRecovery", ns).text == "Enabled"
    script = (out / "register-vmm-vmm01.ps1").read_text()
    assert script.count("privatelink.siterecovery.windowsazure.com'; Ip = '10.31.1.") == 5
    assert "Resolve-DnsName" in script
    assert script.index("Resolve-DnsName") < script.index("DRConfigurator.exe")
    assert "private endpoint" in stdout and "privatelink.siterecovery.windowsazure.com -> 10.31.1." in stdout
    # and the applied private vault has nothing to warn about
    assert asr(["status", example_path("private-vault"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["security"]["warnings"] == []


def test_status_warns_about_an_exposed_vault(emu, capsys):
    """A vault with public access and no alerts: warnings in status; --check fails on them only with
    --strict-security."""
    from reconciler.azure.clients import Clients

    c = Clients(SUB)
    c.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    c.vaults.vaults.begin_create_or_update(RG, VAULT, {"location": "westeurope", "sku": {"name": "Standard"},
                                                       "properties": {}}).result()
    c.close()
    capsys.readouterr()
    assert asr(["status", example_path("private-vault"), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    warnings = doc["security"]["warnings"]
    assert any("public network access is Enabled" in w for w in warnings)
    assert any("no alerts for replication issues" in w for w in warnings)
    assert not any("vault fabrikam-asr-vault" in p for p in doc["check"]["problems"])
    assert asr(["status", example_path("private-vault"), "--check", "--strict-security", "--format", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert any(p.startswith(f"vault {VAULT}: public network access") for p in doc["check"]["problems"])
    # vmm01 registered over the public endpoint meanwhile: the plan warns that the endpoint comes too late
    # and says what re-registration takes; Azure then refuses the endpoint
    emu.advance(60)
    rc, plan = plan_json(example_path("private-vault"), capsys)
    (warning,) = [w for w in plan["warnings"] if w.startswith("private_endpoint.fabrikam-asr-pe")]
    assert "vmm01 registered with the vault before it had a private endpoint" in warning
    assert "re-run the provider registration" in warning and "asr vault-credentials" in warning

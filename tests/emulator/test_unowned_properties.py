"""The emulator stores and returns, as Azure does, what asr does not own: every settable
subnet / vnet property (a vnet PUT replaces them whole), and recovery-plan group actions on
every group (checked as the RecoveryPlanAction definition requires). docs/emulator.md,
"Properties asr does not own"."""

from __future__ import annotations

import pytest
from azure.core.exceptions import HttpResponseError

from reconciler.azure.clients import Clients
from reconciler.emulator.estate import quickstart_estate

pytestmark = [pytest.mark.inproc, pytest.mark.simsleep]  # the SDK in process, its waits in simulated time (tests/conftest.py)

SUB = "00000000-0000-0000-0000-000000000001"
RG, V, TRG = "contoso-dr-rg", "contoso-asr-vault", "contoso-failover-rg"
NG = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Network/natGateways/ng1"
NSG = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Network/networkSecurityGroups/nsg1"


@pytest.fixture
def clients(emulator):
    emulator.reset(estate=quickstart_estate(applied=True), time_scale=600)
    c = Clients(SUB)
    yield c
    c.close()


def test_vnet_put_stores_every_settable_property_and_replaces_subnets_whole(clients):
    vn, subnets = clients.network.virtual_networks, clients.network.subnets
    body = vn.get(TRG, "corp-vnet").as_dict()
    body["tags"] = {"owner": "netops"}
    body["properties"]["dhcpOptions"] = {"dnsServers": ["10.10.0.4"]}
    body["properties"]["flowTimeoutInMinutes"] = 10
    body["properties"]["subnets"][0]["properties"].update({
        "networkSecurityGroup": {"id": NSG}, "natGateway": {"id": NG},
        "delegations": [{"name": "d", "properties": {"serviceName": "Microsoft.Web/serverFarms"}}],
        "serviceEndpoints": [{"service": "Microsoft.Storage"}], "privateEndpointNetworkPolicies": "Enabled"})
    vn.begin_create_or_update(TRG, "corp-vnet", body).result()
    got = vn.get(TRG, "corp-vnet").as_dict()
    assert got["tags"] == {"owner": "netops"} and got["properties"]["dhcpOptions"]["dnsServers"] == ["10.10.0.4"]
    assert got["properties"]["flowTimeoutInMinutes"] == 10
    sp = got["properties"]["subnets"][0]["properties"]
    assert sp["networkSecurityGroup"]["id"] == NSG and sp["natGateway"]["id"] == NG
    assert sp["delegations"][0]["properties"]["serviceName"] == "Microsoft.Web/serverFarms"
    assert sp["privateEndpointNetworkPolicies"] == "Enabled"
    assert subnets.get(TRG, "corp-vnet", "servers").as_dict()["properties"]["natGateway"]["id"] == NG

    # what a PUT leaves out is gone: that is why asr sends the vnet back as it read it
    bare = {"location": got["location"], "properties": {"addressSpace": got["properties"]["addressSpace"],
                                                        "subnets": [{"name": "servers", "properties": {"addressPrefix": "10.10.1.0/24"}}]}}
    vn.begin_create_or_update(TRG, "corp-vnet", bare).result()
    got = vn.get(TRG, "corp-vnet").as_dict()
    assert "tags" not in got and got["properties"]["dhcpOptions"]["dnsServers"] == []
    sp = got["properties"]["subnets"][0]["properties"]
    assert "networkSecurityGroup" not in sp and "natGateway" not in sp and sp["delegations"] == []


def _action(**over):
    a = {"actionName": "check", "failoverTypes": ["TestFailover"], "failoverDirections": ["PrimaryToRecovery"],
         "customDetails": {"instanceType": "ManualActionDetails", "description": "Check the app"}}
    a.update(over)
    return a


def test_recovery_plan_actions_on_every_group(clients):
    plans = clients.site_recovery().replication_recovery_plans
    groups = plans.get(RG, V, "tier1").as_dict()["properties"]["groups"]
    assert [g["groupType"] for g in groups] == ["Shutdown", "Failover", "Boot", "Boot"]
    groups[0]["startGroupActions"] = [_action(actionName="announce")]
    groups[1]["endGroupActions"] = [_action(actionName="after-failover")]
    groups[3]["endGroupActions"] = [_action()]
    plans.begin_update(RG, V, "tier1", {"properties": {"groups": groups}}).result()
    got = plans.get(RG, V, "tier1").as_dict()["properties"]["groups"]
    assert [a["actionName"] for a in got[0]["startGroupActions"]] == ["announce"]
    assert [a["actionName"] for a in got[1]["endGroupActions"]] == ["after-failover"]
    assert got[3]["endGroupActions"][0]["customDetails"] == {"instanceType": "ManualActionDetails", "description": "Check the app"}

    # an update replaces every group: actions left out are removed
    plans.begin_update(RG, V, "tier1", {"properties": {"groups": [
        {"groupType": "Boot", "replicationProtectedItems": g["replicationProtectedItems"]} for g in got[2:]]}}).result()
    assert all(not g["startGroupActions"] and not g["endGroupActions"] for g in plans.get(RG, V, "tier1").as_dict()["properties"]["groups"])


@pytest.mark.parametrize("bad", [
    {"actionName": ""},
    {"failoverTypes": None},
    {"failoverDirections": "PrimaryToRecovery"},
    {"customDetails": {"instanceType": "Unknown"}},
    {"customDetails": None},
])
def test_malformed_recovery_plan_action_is_400(clients, bad):
    plans = clients.site_recovery().replication_recovery_plans
    groups = plans.get(RG, V, "tier1").as_dict()["properties"]["groups"]
    groups[2]["startGroupActions"] = [{k: v for k, v in _action(**bad).items() if v is not None}]
    with pytest.raises(HttpResponseError) as ei:
        plans.begin_update(RG, V, "tier1", {"properties": {"groups": groups}}).result()
    assert ei.value.status_code == 400


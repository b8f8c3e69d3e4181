"""The planner's read-modify-write requests (hand-built live states): updates carry what
Azure holds with only declared fields changed, as a deterministic function of manifest +
live state; undeclared parts are listed as unmanaged, removed only under `prune:`."""

from __future__ import annotations

import copy
import json

import pytest
from livebuilder import Builder, clone

from reconciler.apply.runner import destroying, refuse_destroy
from reconciler.errors import UsageError
from reconciler.plan import make_plan, render
from reconciler.plan.model import Action, Kind

NSG = "/subscriptions/s/resourceGroups/r/providers/Microsoft.Network/networkSecurityGroups/nsg1"


def work(plan):
    return {c.address: c for c in plan.changes if c.action != Action.NOOP}


def _live_with_settings(quickstart):
    live = Builder(quickstart).azure_resources().register().applied_vault_objects().build()
    net = live.virtual_networks["corp-vnet"]
    net["etag"] = 'W/"1"'
    net["tags"] = {"costCenter": "42"}
    net["properties"]["resourceGuid"] = "guid-1"
    net["properties"]["dhcpOptions"] = {"dnsServers": ["10.10.0.4"]}
    servers = net["properties"]["subnets"][0]
    servers["etag"] = 'W/"2"'
    servers["properties"].update({
        "provisioningState": "Succeeded", "networkSecurityGroup": {"id": NSG},
        "natGateway": {"id": NSG.replace("networkSecurityGroups/nsg1", "natGateways/ng1")},
        "delegations": [{"name": "d", "properties": {"serviceName": "Microsoft.Web/serverFarms"}}],
        "ipConfigurations": [{"id": "/nic1/ipConfigurations/ipconfig1"}]})
    net["properties"]["subnets"].append({"name": "legacy", "id": servers["id"].replace("servers", "legacy"),
                                          "properties": {"addressPrefix": "10.10.9.0/24"}})
    return live


def test_vnet_update_keeps_what_azure_holds_and_changes_only_declared_fields(quickstart):
    live = _live_with_settings(quickstart)
    quickstart.target.networks[0].subnets[0].address_prefix = "10.10.3.0/24"
    plan = make_plan(quickstart, live, "q.yaml")
    (c,) = work(plan).values()
    assert c.address == "virtual_network.corp-vnet" and c.action == Action.UPDATE
    assert c.after["subnets"] == {"legacy": "10.10.9.0/24", "servers": "10.10.3.0/24"}
    body = c.requests[0].args["parameters"]
    assert body["tags"] == {"costCenter": "42"} and body["properties"]["dhcpOptions"] == {"dnsServers": ["10.10.0.4"]}
    subnets = {s["name"]: s for s in body["properties"]["subnets"]}
    sp = subnets["servers"]["properties"]
    assert sp["addressPrefix"] == "10.10.3.0/24" and sp["networkSecurityGroup"] == {"id": NSG}
    assert "natGateway" in sp and sp["delegations"][0]["properties"]["serviceName"] == "Microsoft.Web/serverFarms"
    assert subnets["legacy"]["properties"] == {"addressPrefix": "10.10.9.0/24"}  # unmanaged: kept as it is
    # read-only / volatile values are not sent: the body depends only on configuration
    assert "etag" not in body and "resourceGuid" not in body["properties"]
    assert "ipConfigurations" not in sp and "provisioningState" not in sp and "etag" not in subnets["servers"]
    assert [u.name for u in plan.unmanaged if u.kind == Kind.SUBNET] == ["corp-vnet/legacy"]


def test_requests_are_a_deterministic_function_of_manifest_and_live_state(quickstart):
    live = _live_with_settings(quickstart)
    live.vault["tags"]["zeta"] = "1"
    quickstart.target.networks[0].subnets[0].address_prefix = "10.10.3.0/24"
    quickstart.vault.tags["owner"] = "dr-team"
    quickstart.recovery_plans[0].groups.reverse()
    a = make_plan(quickstart, live, "q.yaml")
    other = clone(live)  # same values, keys read in another order
    other.virtual_networks["corp-vnet"] = json.loads(json.dumps(
        dict(reversed(list(copy.deepcopy(live.virtual_networks["corp-vnet"]).items())))))
    other.vault["tags"] = dict(reversed(list(live.vault["tags"].items())))
    b = make_plan(quickstart, other, "q.yaml")

    def reqs(p):
        return json.dumps([[r.__dict__ for r in c.requests] for c in p.changes], sort_keys=False)

    assert reqs(a) == reqs(b)
    assert {c.address for c in work(a).values()} == {"virtual_network.corp-vnet", "vault.contoso-asr-vault",
                                                     "recovery_plan.tier1"}


def test_pruned_subnet_is_its_own_destroy_after_the_vnet_update(quickstart):
    live = _live_with_settings(quickstart)
    quickstart.prune.subnets = True
    quickstart.target.networks[0].address_space.append("10.11.0.0/16")
    plan = make_plan(quickstart, live, "q.yaml")
    w = work(plan)
    assert set(w) == {"virtual_network.corp-vnet", "subnet.corp-vnet/legacy"}
    d = w["subnet.corp-vnet/legacy"]
    assert d.action == Action.DELETE and d.destructive and d.depends_on == ["virtual_network.corp-vnet"]
    assert d.requests[0].operation == "network.subnets.begin_delete"
    assert d.wave > w["virtual_network.corp-vnet"].wave
    # the vnet update itself still keeps the subnet: only the destroy removes it
    names = [s["name"] for s in w["virtual_network.corp-vnet"].requests[0].args["parameters"]["properties"]["subnets"]]
    assert "legacy" in names
    assert not [u for u in plan.unmanaged if u.kind == Kind.SUBNET]


def test_vault_tags_merge_and_prune(quickstart):
    live = Builder(quickstart).azure_resources().register().applied_vault_objects().build()
    live.vault["tags"].update({"costCenter": "42", "asr-lock": "x|h|1|a|b"})
    assert not make_plan(quickstart, live, "q.yaml").has_changes
    quickstart.vault.tags["owner"] = "dr-team"
    plan = make_plan(quickstart, live, "q.yaml")
    (c,) = work(plan).values()
    assert c.requests[0].args["vault"]["tags"] == {"costCenter": "42", "env": "prod", "owner": "dr-team"}
    assert [u.part for u in plan.unmanaged if u.kind == Kind.VAULT] == ["tags.costCenter"]
    assert c.removes == [] and not destroying(plan)
    quickstart.prune.tags = True
    plan = make_plan(quickstart, live, "q.yaml")
    (c,) = work(plan).values()
    assert c.requests[0].args["vault"]["tags"] == {"env": "prod", "owner": "dr-team"}
    assert not [u for u in plan.unmanaged if u.kind == Kind.VAULT]
    # removing a tag the manifest never declared is a destroy: named, and refused without --allow-destroy
    assert c.removes == ["tags.costCenter"] and destroying(plan) == [c]
    with pytest.raises(UsageError, match=r"vault\.contoso-asr-vault \(update, removes tags\.costCenter under prune\)"):
        refuse_destroy(plan)
    assert "removes what the manifest never declared (prune; needs --allow-destroy): tags.costCenter" in render(plan, "text")
    assert "tags.costCenter" in render(plan, "markdown").split("| address |")[0]


def _action(name):
    return {"actionName": name, "failoverTypes": ["TestFailover"], "failoverDirections": ["PrimaryToRecovery"],
            "customDetails": {"instanceType": "ManualActionDetails", "description": name}}


def test_recovery_plan_update_keeps_group_actions_by_boot_position(quickstart):
    b = Builder(quickstart).azure_resources().register().applied_vault_objects()
    rp = b.recovery_plan("tier1", [["sql01"], ["app01"], ["app02", "web01"]])
    groups = rp["properties"]["groups"]
    groups[1]["startGroupActions"] = [_action("failover-start")]
    groups[2]["endGroupActions"] = [_action("after-1")]
    groups[4]["startGroupActions"] = [_action("before-3")]
    live = b.build()
    quickstart.recovery_plans[0].groups[1].vms = ["app01", "app02", "web01"]  # 2 groups now
    plan = make_plan(quickstart, live, "q.yaml")
    (c,) = work(plan).values()
    out = c.requests[0].args["input"]["properties"]["groups"]
    assert [g["groupType"] for g in out] == ["Shutdown", "Failover", "Boot", "Boot", "Boot"]
    assert [a["actionName"] for a in out[1]["startGroupActions"]] == ["failover-start"]
    assert [a["actionName"] for a in out[2]["endGroupActions"]] == ["after-1"]
    assert len(out[3]["replicationProtectedItems"]) == 3
    # the third Boot group is gone from the manifest but carries an action: kept, empty
    assert out[4]["replicationProtectedItems"] == [] and [a["actionName"] for a in out[4]["startGroupActions"]] == ["before-3"]
    assert {u.part for u in plan.unmanaged if u.kind == Kind.RECOVERY_PLAN} == {
        "groups.Failover.startGroupActions.failover-start", "groups.Boot[1].endGroupActions.after-1",
        "groups.Boot[3].startGroupActions.before-3"}
    assert c.note == "changed: groups; keeps the 3 group action(s) set in Azure (listed as unmanaged)"
    quickstart.prune.recovery_plan_actions = True
    plan = make_plan(quickstart, live, "q.yaml")
    (c,) = work(plan).values()
    out = c.requests[0].args["input"]["properties"]["groups"]
    assert all(not g["startGroupActions"] and not g["endGroupActions"] for g in out)
    assert [g["groupType"] for g in out] == ["Shutdown", "Failover", "Boot", "Boot"]
    assert c.after["actions"] == [] and len(c.before["actions"]) == 3
    assert sorted(c.removes) == sorted(["groups.Failover.startGroupActions.failover-start",
                                        "groups.Boot[1].endGroupActions.after-1",
                                        "groups.Boot[3].startGroupActions.before-3"])
    assert destroying(plan) == [c]


def test_a_saved_plan_is_stale_when_what_its_update_keeps_moved(quickstart):
    """The body of a vnet or recovery-plan update carries settings asr does not diff (an NSG, an
    action's description): when they move after the plan was made, the saved plan is stale."""
    import pytest

    from reconciler.errors import PlanStaleError
    from reconciler.plan import check_plan_current

    b = Builder(quickstart).azure_resources().register().applied_vault_objects()
    rp = b.recovery_plan("tier1", [["sql01"], ["app01", "app02", "web01"]])
    rp["properties"]["groups"][2]["endGroupActions"] = [_action("check")]
    live = b.build()
    quickstart.target.networks[0].subnets[0].address_prefix = "10.10.3.0/24"
    plan = make_plan(quickstart, live, "q.yaml")
    check_plan_current(plan, quickstart, live)

    moved = clone(live)
    moved.virtual_networks["corp-vnet"]["properties"]["subnets"][0]["properties"]["networkSecurityGroup"] = {"id": NSG}
    with pytest.raises(PlanStaleError, match="virtual_network.corp-vnet"):
        check_plan_current(plan, quickstart, moved)
    moved = clone(live)
    moved.recovery_plans[0]["properties"]["groups"][2]["endGroupActions"][0]["customDetails"]["description"] = "new"
    with pytest.raises(PlanStaleError, match="recovery_plan.tier1"):
        check_plan_current(plan, quickstart, moved)
    moved = clone(live)  # a NIC joining a subnet (read-only) is not a move
    moved.virtual_networks["corp-vnet"]["properties"]["subnets"][0]["properties"]["ipConfigurations"] = [{"id": "/nic"}]
    check_plan_current(plan, quickstart, moved)


def test_subnet_name_case_is_no_diff(quickstart):
    live = Builder(quickstart).azure_resources().register().applied_vault_objects().build()
    live.virtual_networks["corp-vnet"]["properties"]["subnets"][0]["name"] = "Servers"
    assert not make_plan(quickstart, live, "q.yaml").has_changes

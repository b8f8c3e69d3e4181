"""Values a planned request resolves at run time (reconciler/apply/resolve.py): a new VM's NIC update names the
item's NICs by the ids Azure gives them once the enable created the item. Only known markers on the protected
item update are accepted, and the check runs before anything is sent."""

from __future__ import annotations

import pytest

from reconciler.apply.executor import Executor
from reconciler.apply.resolve import check_markers
from reconciler.errors import UsageError
from reconciler.kinds import protected_vm as pvm
from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request

UPDATE = "site_recovery.replication_protected_items.begin_update"
HELD = {"vmNics": [
    {"nicId": "nic-a", "ipConfigs": [{"name": "ipconfig1", "isPrimary": True, "recoverySubnetName": "servers"}]},
    {"nicId": "nic-b", "ipConfigs": [{"name": "ipconfig1", "isPrimary": True}]}]}


def test_the_markers_of_a_new_vm_resolve_to_the_nics_azure_lists():
    attrs = {"subnet": "servers", "nics": [{"staticIp": "10.0.0.4", "primary": None},
                                           {"staticIp": "10.0.0.5", "subnet": "apps", "primary": True}]}
    body = pvm.nic_followup(attrs)
    assert body is not None
    nics = pvm.resolve(body["vmNics"], HELD)
    assert [n["nicId"] for n in nics] == ["nic-a", "nic-b"]
    assert nics[0]["ipConfigs"][0] == {"ipConfigName": "ipconfig1", "isPrimary": True, "recoverySubnetName": "servers",
                                       "recoveryStaticIPAddress": "10.0.0.4"}
    assert nics[1]["ipConfigs"][0]["recoverySubnetName"] == "apps"
    assert pvm.resolve(body["selectedSourceNicId"], HELD) == "nic-b"
    # the same entries an update of a protected VM sends (one function for both)
    assert pvm.update_body(attrs, HELD)["vmNics"] == nics
    assert pvm.nic_followup({"subnet": "servers", "nics": None}) is None


def test_a_marker_the_item_cannot_answer_is_an_error_naming_it():
    with pytest.raises(ValueError, match="no NIC number 3"):
        pvm.resolve({"$resolve": "protectedItem.primaryNicId", "index": 3}, HELD)
    with pytest.raises(ValueError, match="lists no NICs"):
        pvm.resolve({"$resolve": "protectedItem.vmNics", "nics": [{}], "subnet": None}, {})
    with pytest.raises(ValueError, match="unknown value"):
        pvm.resolve({"$resolve": "vault.secret"}, HELD)


def test_unknown_markers_or_markers_elsewhere_are_refused_before_anything_is_sent(clients):
    check_markers(UPDATE, {"update_protection_input": {"properties": {"vmNics": {"$resolve": "protectedItem.vmNics"}}}})
    with pytest.raises(UsageError, match="unknown value to resolve"):
        check_markers(UPDATE, {"update_protection_input": {"properties": {"vmNics": {"$resolve": "somethingElse"}}}})
    rg = Request("resources.resource_groups.create_or_update",
                 {"resource_group_name": "x", "parameters": {"location": {"$resolve": "protectedItem.vmNics"}}})
    with pytest.raises(UsageError, match="only for protected item updates"):
        check_markers(rg.operation, rg.args)
    plan = Plan(manifest_path="hand-built", subscription="s", vault="v", resource_group="rg", changes=[
        Change("resource_group.ok", Kind.RESOURCE_GROUP, Action.CREATE, Reason.MISSING, requests=[
            Request("resources.resource_groups.create_or_update",
                    {"resource_group_name": "ok", "parameters": {"location": "westeurope"}})]),
        Change("resource_group.x", Kind.RESOURCE_GROUP, Action.CREATE, Reason.MISSING, requests=[rg])])
    with pytest.raises(UsageError):
        Executor(clients, plan).run()
    assert "ok" not in {g.name for g in clients.resources.resource_groups.list()}

"""Target selection, confirmation, and request bodies checked against the SDK models."""

from __future__ import annotations

import io

import pytest

from reconciler.errors import UsageError
from reconciler.ops.context import confirm, select_targets
from reconciler.ops.inputs import item_call, plan_call, vnet_id
from reconciler.ops.states import ItemState, NotInManifestError, Operation
from tests.ops.conftest import item_json


def test_select_vms_canonical_names_and_order(quickstart):
    t = select_targets(quickstart, vms=["APP01", "sql01", "app01"], recovery_plan=None, file="q.yaml")
    assert t.vms == ["app01", "sql01"] and t.recovery_plan is None


def test_select_unknown_vms_all_reported(quickstart):
    with pytest.raises(NotInManifestError) as ei:
        select_targets(quickstart, vms=["sql01", "nope1", "nope2"], recovery_plan=None, file="q.yaml")
    assert ei.value.message.startswith("VMs not in q.yaml: nope1, nope2 (declared: sql01, app01, app02, web01)")


def test_select_recovery_plan_groups(quickstart):
    t = select_targets(quickstart, vms=[], recovery_plan="tier1", file="q.yaml")
    assert t.groups == [["sql01"], ["app01", "app02", "web01"]]
    assert t.vms == ["sql01", "app01", "app02", "web01"]
    with pytest.raises(NotInManifestError, match="recovery plan 'tier9' is not declared in q.yaml"):
        select_targets(quickstart, vms=[], recovery_plan="tier9", file="q.yaml")


def test_select_needs_exactly_one_selector(quickstart):
    with pytest.raises(UsageError, match="nothing selected"):
        select_targets(quickstart, vms=[], recovery_plan=None, file="q.yaml")
    with pytest.raises(UsageError, match="not both"):
        select_targets(quickstart, vms=["sql01"], recovery_plan="tier1", file="q.yaml")


def test_confirm_rules():
    confirm("go?", yes=True, stdin=io.StringIO(""), isatty=lambda: False)  # --yes: no question
    with pytest.raises(UsageError, match="no terminal"):
        confirm("go?", yes=False, stdin=io.StringIO("yes\n"), isatty=lambda: False)
    out = io.StringIO()
    confirm("go?", yes=False, stdin=io.StringIO("yes\n"), out=out, isatty=lambda: True)
    assert "go?" in out.getvalue()
    with pytest.raises(UsageError, match="cancelled"):
        confirm("go?", yes=False, stdin=io.StringIO("y\n"), out=io.StringIO(), isatty=lambda: True)


def _model(cls_name, body):
    from azure.mgmt.recoveryservicessiterecovery import models

    return getattr(models, cls_name)(body)


NET = vnet_id("00000000-0000-0000-0000-000000000001", "contoso-failover-rg", "corp-test-vnet")


def test_item_bodies_deserialize_into_the_sdk_subclasses():
    it = ItemState.from_json(item_json("sql01"))
    c = item_call(Operation.TEST, it, test_network_id=NET)
    m = _model("TestFailoverInput", c.body)
    assert type(m.properties.provider_specific_details).__name__ == "HyperVReplicaAzureTestFailoverInput"
    assert m.properties.network_id == NET and m.properties.network_type == "VmNetworkAsInput"
    assert c.method == "begin_test_failover" and c.body_arg == "testfailover_input"

    c = item_call(Operation.PLANNED, it)
    m = _model("PlannedFailoverInput", c.body)
    assert type(m.properties.provider_specific_details).__name__ == "HyperVReplicaAzurePlannedFailoverProviderInput"
    assert m.properties.failover_direction == "PrimaryToRecovery"

    c = item_call(Operation.FAILBACK, it)
    m = _model("PlannedFailoverInput", c.body)
    assert type(m.properties.provider_specific_details).__name__ == "HyperVReplicaAzureFailbackProviderInput"
    assert m.properties.failover_direction == "RecoveryToPrimary"

    c = item_call(Operation.UNPLANNED, it)
    m = _model("UnplannedFailoverInput", c.body)
    assert type(m.properties.provider_specific_details).__name__ == "HyperVReplicaAzureUnplannedFailoverInput"
    assert m.properties.source_site_operations == "NotRequired"

    failed_over = ItemState.from_json(item_json("sql01", location="Recovery", state="FailedOver"))
    c = item_call(Operation.REPROTECT, failed_over)
    m = _model("ReverseReplicationInput", c.body)
    assert type(m.properties.provider_specific_details).__name__ == "HyperVReplicaAzureReprotectInput"
    assert m.properties.failover_direction == "RecoveryToPrimary"
    assert m.properties.provider_specific_details.vm_name == "sql01"

    c = item_call(Operation.CLEANUP, it)
    assert _model("TestFailoverCleanupInput", c.body).properties.comments
    assert item_call(Operation.COMMIT, it).kwargs() == {}


def test_plan_bodies_deserialize_into_the_sdk_subclasses():
    c = plan_call(Operation.TEST, test_network_id=NET)
    m = _model("RecoveryPlanTestFailoverInput", c.body)
    assert type(m.properties.provider_specific_details[0]).__name__ == "RecoveryPlanHyperVReplicaAzureFailoverInput"
    c = plan_call(Operation.FAILBACK)
    m = _model("RecoveryPlanPlannedFailoverInput", c.body)
    assert type(m.properties.provider_specific_details[0]).__name__ == "RecoveryPlanHyperVReplicaAzureFailbackInput"
    c = plan_call(Operation.UNPLANNED)
    assert _model("RecoveryPlanUnplannedFailoverInput", c.body).properties.source_site_operations == "NotRequired"
    assert plan_call(Operation.REPROTECT).kwargs() == {}
    with pytest.raises(ValueError):
        plan_call(Operation.TEST)

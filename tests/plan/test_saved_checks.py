"""Saved-plan checks without Azure: the digest round trip and every kind of
difference `check_plan_matches` names (the end-to-end refusals against the
emulator are in tests/apply/test_saved_plan_trust.py)."""

from __future__ import annotations

import copy
import json

import pytest

from reconciler.errors import PlanMismatchError
from reconciler.plan import check_plan_matches, load_plan, save_plan
from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request
from reconciler.plan.saved import plan_differences, plan_digest

SUB = "00000000-0000-0000-0000-000000000001"


def _plan() -> Plan:
    return Plan(manifest_path="m.yaml", subscription=SUB, vault="v", resource_group="rg", changes=[
        Change("resource_group.rg", Kind.RESOURCE_GROUP, Action.NOOP),
        Change("policy.p", Kind.POLICY, Action.UPDATE, Reason.DRIFTED, depends_on=["resource_group.rg"], requests=[
            Request("site_recovery.replication_policies.begin_update",
                    {"resource_group_name": "rg", "resource_name": "v", "policy_name": "p",
                     "input": {"properties": {"providerSpecificInput": {"recoveryPointHistory": 24}}}})]),
    ])


def test_digest_round_trip_and_refusals(tmp_path):
    path = tmp_path / "plan.json"
    save_plan(_plan(), str(path))
    data = json.loads(path.read_text())
    assert data["digest"] == plan_digest(data) and data["digest"].startswith("sha256:")
    assert plan_differences(load_plan(str(path)), _plan()) == []

    data["changes"][1]["note"] = "x"
    path.write_text(json.dumps(data))
    with pytest.raises(PlanMismatchError, match="modified after it was written"):
        load_plan(str(path))
    assert load_plan(str(path), verify=False).changes[1].note == "x"
    del data["digest"]
    path.write_text(json.dumps(data))
    with pytest.raises(PlanMismatchError, match="has no digest"):
        load_plan(str(path))


def test_every_difference_is_named():
    fresh = _plan()
    saved = copy.deepcopy(fresh)
    assert plan_differences(saved, fresh) == []
    check_plan_matches(saved, fresh)  # no raise

    saved.vault = "elsewhere"
    saved.changes[0].action = Action.DELETE
    saved.changes[0].requests = [Request("resources.resource_groups.begin_delete", {"resource_group_name": "rg"})]
    saved.changes[1].depends_on = []
    saved.changes[1].requests[0].args["input"]["properties"]["providerSpecificInput"]["recoveryPointHistory"] = 1
    saved.changes.append(copy.deepcopy(saved.changes[1]))
    saved.changes.append(Change("policy.q", Kind.POLICY, Action.CREATE))
    fresh.changes.append(Change("policy.r", Kind.POLICY, Action.CREATE))
    diffs = plan_differences(saved, fresh)
    assert diffs == [
        "the saved plan is for vault elsewhere, the manifest names v",
        "resource_group.rg: action delete is not what the manifest and live state give (noop)",
        "resource_group.rg: request 1 (resources.resource_groups.begin_delete) is not what the manifest and live "
        "state give (they give 0 request(s))",
        "policy.p: request 1 (site_recovery.replication_policies.begin_update) is not what the manifest and live "
        "state give (argument input.properties.providerSpecificInput.recoveryPointHistory differs)",
        "policy.p: its dependencies are not what the manifest and live state give",
        "policy.p: appears more than once in the saved plan",
        "policy.q: is not in the plan the manifest and live state give (the saved plan has it as create)",
        "policy.r: is missing from the saved plan (the manifest and live state give create)",
    ]
    with pytest.raises(PlanMismatchError) as exc:
        check_plan_matches(saved, fresh)
    assert exc.value.message.startswith("the saved plan is not what the manifest and live state give; "
                                        "nothing was changed: the saved plan is for vault elsewhere")


def test_a_request_the_manifest_gives_but_the_saved_plan_lacks():
    fresh = _plan()
    saved = copy.deepcopy(fresh)
    saved.changes[1].requests = []
    assert plan_differences(saved, fresh) == [
        "policy.p: request 1 (site_recovery.replication_policies.begin_update) that the manifest and live state "
        "give is missing from the saved plan"]

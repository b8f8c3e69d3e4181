"""The Applier's rounds: it re-plans and continues while more work is possible,
but never claims convergence for a difference that does not go away, and reports a
failed re-plan instead of losing what was done."""

from __future__ import annotations

from reconciler.apply import operations as ops
from reconciler.apply.executor import FAILED, SKIPPED, SUCCEEDED
from reconciler.apply.runner import MAX_ROUNDS, Applier
from reconciler.apply.summary import exit_status
from reconciler.errors import NotFoundError
from reconciler.plan.model import Action, Change, Kind, Plan, Reason, Request

SUB = "00000000-0000-0000-0000-000000000001"
RG, VAULT = "runner-rg", "runner-vault"


def _vault(emu, clients) -> None:
    emu.reset(time_scale=600)  # the vault is created at once (no Retry-After of its creation to sleep)
    clients.resources.resource_groups.create_or_update(RG, {"location": "westeurope"})
    ops.run_lro(clients, ops.spec_for("vaults.vaults.begin_create_or_update"), {
        "resource_group_name": RG, "vault_name": VAULT,
        "vault": {"location": "westeurope", "sku": {"name": "Standard"}, "properties": {}}}, timeout=60)


def _plan(*names: str) -> Plan:
    return Plan(manifest_path="hand-built", subscription=SUB, vault=VAULT, resource_group=RG, changes=[
        Change(f"resource_group.{n}", Kind.RESOURCE_GROUP, Action.CREATE, Reason.MISSING, requests=[
            Request("resources.resource_groups.create_or_update",
                    {"resource_group_name": n, "parameters": {"location": "westeurope"}})]) for n in names])


def test_a_difference_that_never_goes_away_is_not_convergence(emu, clients):
    _vault(emu, clients)
    calls = []

    def replan() -> Plan:
        calls.append(1)
        return _plan("again")  # a planner that always sees work

    result = Applier(clients, replan=replan, approve=lambda new, work: None).apply(_plan("first"))
    st = {o.address: o for o in result.outcomes}
    assert st["resource_group.first"].status == SUCCEEDED
    assert st["resource_group.again"].status == SKIPPED and "still differs" in st["resource_group.again"].reason
    assert len(calls) == MAX_ROUNDS
    assert exit_status(result) == 1
    tags = clients.vaults.vaults.get(RG, VAULT).as_dict().get("tags") or {}
    assert "asr-lock" not in tags  # released


def test_a_failed_replan_is_reported_with_the_work_done(emu, clients):
    _vault(emu, clients)

    def replan() -> Plan:
        raise NotFoundError("re-read live state: not found (404)", status=404, code="ResourceGroupNotFound")

    result = Applier(clients, replan=replan).apply(_plan("done-before"))
    st = {o.address: o for o in result.outcomes}
    assert st["resource_group.done-before"].status == SUCCEEDED
    assert st["(re-plan)"].status == FAILED and st["(re-plan)"].error_code == "ResourceGroupNotFound"
    assert exit_status(result) == 1

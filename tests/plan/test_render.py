"""Renderers, each parsed back."""

import json
import re

import jsonschema
import pytest
from livebuilder import Builder, applied

from reconciler.live.state import LiveState
from reconciler.plan import make_plan, render
from reconciler.plan.model import Action, Plan
from reconciler.plan.render.json import PLAN_JSON_SCHEMA


def drifted_plan(quickstart):
    b = Builder(quickstart).azure_resources().register().applied_vault_objects()
    live = b.build()
    live.policy("every-5-min")["properties"]["providerSpecificDetails"]["recoveryPointHistoryDurationInHours"] = 12
    for d in live.protected_item("sql01")["properties"]["providerSpecificDetails"]["protectedManagedDisks"]:
        d["targetDiskAccountType"] = "Standard_LRS"
    live.network_mappings.clear()
    live.recovery_plans.clear()
    quickstart.prune.protected_vms = True
    b2 = quickstart.protected_vms
    return make_plan(quickstart, live, "examples/quickstart.yaml"), b2


def fresh_plan(quickstart):
    live = LiveState(subscription=quickstart.subscription, resource_group=quickstart.vault.resource_group,
                     vault_name=quickstart.vault.name, target_resource_group=quickstart.target.resource_group)
    return make_plan(quickstart, live, "examples/quickstart.yaml")


def test_text_uses_terraform_symbols_and_summary(quickstart):
    plan, _ = drifted_plan(quickstart)
    text = render(plan, "text")
    assert "\x1b[" not in text
    assert re.search(r"^  ~ policy\.every-5-min$", text, re.M)
    assert re.search(r"^-/\+ protected_vm\.sql01$", text, re.M)
    assert re.search(r"^  \+ network_mapping\.vmm01/Corp-VMNet$", text, re.M)
    assert '~ recoveryPointRetentionHours = 12 -> 24' in text
    assert '"Standard_LRS" -> "Premium_LRS"  # forces replacement' in text
    assert "restarts initial replication" in text
    last = text.strip().splitlines()[-1]
    assert last == "Plan: 2 to add, 1 to change, 1 to replace, 0 to destroy."


def test_text_colour_only_when_asked(quickstart):
    plan, _ = drifted_plan(quickstart)
    assert "\x1b[32m" in render(plan, "text", color=True)


def test_text_manual_and_blocked(quickstart):
    text = render(fresh_plan(quickstart), "text")
    assert re.search(r"^  ! vmm_server\.vmm01$", text, re.M)
    assert "asr vault-credentials examples/quickstart.yaml" in text
    assert "protected_vm.sql01 (blocked)" in text
    assert text.strip().endswith("(1 manual step, 7 blocked)")


def test_no_changes_text(quickstart):
    text = render(make_plan(quickstart, applied(quickstart), "q.yaml"), "text")
    assert "No changes." in text
    assert text.strip().endswith("Plan: 0 to add, 0 to change, 0 to replace, 0 to destroy.")


@pytest.mark.parametrize("which", ["drifted", "fresh", "empty"])
def test_json_matches_schema_and_round_trips(quickstart, which):
    plan = {"drifted": lambda: drifted_plan(quickstart)[0], "fresh": lambda: fresh_plan(quickstart),
            "empty": lambda: make_plan(quickstart, applied(quickstart), "q.yaml")}[which]()
    doc = json.loads(render(plan, "json"))
    jsonschema.validate(doc, PLAN_JSON_SCHEMA)
    assert doc["format"] == "asr-plan" and doc["format_version"] == 1
    assert doc["summary"] == plan.summary()
    assert doc["has_changes"] == plan.has_changes
    back = Plan.from_dict({k: v for k, v in doc.items() if k not in ("format", "summary", "has_changes")}
                          | {"changes": [{k: v for k, v in c.items() if k not in ("destructive", "blocked")}
                                         for c in doc["changes"]]})
    assert back.to_dict() == plan.to_dict()


def test_json_schema_rejects_unknown_action(quickstart):
    doc = json.loads(render(fresh_plan(quickstart), "json"))
    doc["changes"][0]["action"] = "explode"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, PLAN_JSON_SCHEMA)


def test_markdown_summary_first_destructive_called_out_details_collapsed(quickstart):
    plan, _ = drifted_plan(quickstart)
    md = render(plan, "markdown")
    lines = md.splitlines()
    assert lines[0].startswith("### asr plan: `contoso-asr-vault`")
    assert lines[2] == "**Plan: 2 to add, 1 to change, 1 to replace, 0 to destroy.**"
    warn = md.index("> [!WARNING]")
    assert "`-/+` `protected_vm.sql01`" in md[warn:md.index("<details>")]
    assert "--allow-destroy" in md
    table = [l for l in lines if l.startswith("| `")]
    assert len(table) == len([c for c in plan.changes if c.action != Action.NOOP])
    d0 = md.index("<details><summary>Details</summary>")
    assert md.index("</details>", d0) > md.index("```diff", d0)
    assert "-/+ protected_vm.sql01" in md[d0:]


def test_unknown_format_is_refused(quickstart):
    with pytest.raises(ValueError):
        render(fresh_plan(quickstart), "yaml")

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
    table = [line for line in lines if line.startswith("| `")]
    assert len(table) == len([c for c in plan.changes if c.action != Action.NOOP])
    d0 = md.index("<details><summary>Details</summary>")
    assert md.index("</details>", d0) > md.index("```diff", d0)
    assert "-/+ protected_vm.sql01" in md[d0:]


def test_unknown_format_is_refused(quickstart):
    with pytest.raises(ValueError):
        render(fresh_plan(quickstart), "yaml")


# --- ARM ids in the text and Markdown plans (reconciler/plan/render/values.py) ---------------------

SUB = "00000000-0000-0000-0000-000000000001"
OTHER_SUB = "11111111-2222-3333-4444-555555555555"
TRG = "contoso-failover-rg"
VNET_ID = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Network/virtualNetworks/corp-vnet"
LOGS_ID = f"/subscriptions/{SUB}/resourceGroups/{TRG}/providers/Microsoft.Storage/storageAccounts/contosoasrlogs01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{TRG}"


def _attr_value(text, address, key):
    """The rendered value of `key` under the change line for `address` (text or Markdown diff)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.search(rf"[-+~!/]+ {re.escape(address)}( \(blocked\))?$", line))
    for line in lines[start + 1:]:
        m = re.match(rf"^      [-+~] {re.escape(key)} *= (.*)$", line)
        if m:
            return m.group(1)
        if not line.startswith("      "):
            break
    raise AssertionError(f"{address}.{key} not rendered:\n{text}")


def test_quickstart_text_plan_shows_ids_compactly(quickstart):
    plan = fresh_plan(quickstart)
    assert plan.subscription == SUB
    vm = plan.by_address()["protected_vm.app01"]
    assert (vm.after["targetNetwork"], vm.after["logStorageAccount"], vm.after["targetResourceGroup"]) == \
        (VNET_ID, LOGS_ID, RG_ID)  # the fixture really carries full ids
    text = render(plan, "text")
    assert _attr_value(text, "protected_vm.app01", "targetNetwork") == "corp-vnet (contoso-failover-rg)"
    assert _attr_value(text, "protected_vm.app01", "logStorageAccount") == "contosoasrlogs01 (contoso-failover-rg)"
    assert _attr_value(text, "protected_vm.app01", "targetResourceGroup") == "contoso-failover-rg"
    assert _attr_value(text, "network_mapping.vmm01/Corp-VMNet", "targetNetwork") == "corp-vnet (contoso-failover-rg)"
    assert _attr_value(text, "protected_vm.app01", "subnet") == '"servers"'  # plain strings untouched
    assert VNET_ID not in text and "/subscriptions/" not in text.lower()


def test_quickstart_markdown_plan_shows_ids_compactly(quickstart):
    md = render(fresh_plan(quickstart), "markdown")
    details = md[md.index("```diff"):]
    assert _attr_value(details, "protected_vm.sql01", "targetNetwork") == "corp-vnet (contoso-failover-rg)"
    assert _attr_value(details, "protected_vm.sql01", "targetResourceGroup") == "contoso-failover-rg"
    assert "/subscriptions/" not in md.lower()


def test_json_plan_and_plan_value_keep_full_ids(quickstart):
    plan = fresh_plan(quickstart)
    before = plan.to_dict()
    render(plan, "text"), render(plan, "markdown")
    assert plan.to_dict() == before  # rendering never touches the Plan value
    doc = json.loads(render(plan, "json"))
    c = {c["address"]: c for c in doc["changes"]}
    assert c["protected_vm.app01"]["after"]["targetNetwork"] == VNET_ID
    assert c["protected_vm.app01"]["after"]["logStorageAccount"] == LOGS_ID
    assert c["protected_vm.app01"]["after"]["targetResourceGroup"] == RG_ID
    assert c["network_mapping.vmm01/Corp-VMNet"]["after"]["targetNetwork"] == VNET_ID
    assert "(contoso-failover-rg)" not in render(plan, "json")


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_id_in_another_subscription_stays_full(quickstart, fmt):
    plan = fresh_plan(quickstart)
    foreign = VNET_ID.replace(SUB, OTHER_SUB)
    plan.by_address()["protected_vm.app01"].after["targetNetwork"] = foreign
    # same subscription spelled in another case, as ASR answers it: still compact
    plan.by_address()["protected_vm.app02"].after["targetNetwork"] = VNET_ID.replace("/subscriptions/", "/Subscriptions/").upper()
    out = render(plan, fmt)
    assert _attr_value(out, "protected_vm.app01", "targetNetwork") == json.dumps(foreign)
    assert _attr_value(out, "protected_vm.app01", "logStorageAccount") == "contosoasrlogs01 (contoso-failover-rg)"
    assert _attr_value(out, "protected_vm.app02", "targetNetwork") == "CORP-VNET (CONTOSO-FAILOVER-RG)"
    assert json.loads(render(plan, "json"))["changes"][[c.address for c in plan.changes].index(
        "protected_vm.app01")]["after"]["targetNetwork"] == foreign


def test_update_shows_compact_ids_and_full_ones_when_compact_hides_the_change(quickstart):
    plan, _ = drifted_plan(quickstart)
    c = plan.by_address()["policy.every-5-min"]
    test_vnet = VNET_ID.replace("/corp-vnet", "/corp-test-vnet")
    classic = VNET_ID.replace("Microsoft.Network", "Microsoft.ClassicNetwork")
    c.before = dict(c.before, testNet=test_vnet, otherNet=classic)
    c.after = dict(c.after, testNet=VNET_ID, otherNet=VNET_ID)
    text = render(plan, "text")
    assert _attr_value(text, "policy.every-5-min", "testNet") == \
        "corp-test-vnet (contoso-failover-rg) -> corp-vnet (contoso-failover-rg)"
    # both sides would read "corp-vnet (contoso-failover-rg)": show what really changed
    assert _attr_value(text, "policy.every-5-min", "otherNet") == f"{json.dumps(classic)} -> {json.dumps(VNET_ID)}"


@pytest.mark.parametrize("value,shown", [
    (VNET_ID, "corp-vnet (contoso-failover-rg)"),
    (VNET_ID + "/", "corp-vnet (contoso-failover-rg)"),
    (VNET_ID + "/subnets/servers", "corp-vnet/servers (contoso-failover-rg)"),
    (f"/Subscriptions/{SUB.upper()}/resourcegroups/R/providers/Microsoft.RecoveryServices/vaults/V"
     "/replicationFabrics/F", "V/F (R)"),
    (RG_ID, "contoso-failover-rg"),
    (RG_ID.replace(SUB, OTHER_SUB), json.dumps(RG_ID.replace(SUB, OTHER_SUB))),
    (VNET_ID.replace(SUB, OTHER_SUB), json.dumps(VNET_ID.replace(SUB, OTHER_SUB))),
    (f"/subscriptions/{SUB}", json.dumps(f"/subscriptions/{SUB}")),
    (f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyDefinitions/p",
     json.dumps(f"/subscriptions/{SUB}/providers/Microsoft.Authorization/policyDefinitions/p")),
    (VNET_ID + "/providers/Microsoft.Insights/diagnosticSettings/d",
     json.dumps(VNET_ID + "/providers/Microsoft.Insights/diagnosticSettings/d")),
    (VNET_ID + "/subnets", json.dumps(VNET_ID + "/subnets")),
    (RG_ID + "//providers/x", json.dumps(RG_ID + "//providers/x")),
    ("corp-vnet", '"corp-vnet"'),
    ("/tmp/x", '"/tmp/x"'),
    (24, "24"),
    (None, "null"),
    ({"env": "prod", "a": "b"}, '{"a": "b", "env": "prod"}'),
])
def test_format_value(value, shown):
    from reconciler.plan.render.values import format_value

    assert format_value(value, SUB) == shown
    assert format_value(value, SUB.upper()) == shown
    if isinstance(value, str):
        assert format_value(value, None) == json.dumps(value)  # no plan subscription: nothing shortened


def await_plan(quickstart):
    live = applied(quickstart)
    item = live.protected_item("app01")
    job_id = item["id"].split("/replicationFabrics/")[0] + "/replicationJobs/job-42"
    item["properties"]["protectionState"] = "EnablingProtection"
    item["properties"]["currentScenario"] = {"scenarioName": "EnableDr", "jobId": job_id,
                                             "startTime": "2026-11-22T03:00:00Z"}
    return make_plan(quickstart, live, "examples/quickstart.yaml")


def test_an_await_is_shown_by_every_renderer_and_counted_as_a_wait(quickstart):
    plan = await_plan(quickstart)
    c = plan.by_address()["protected_vm.app01"]
    assert c.action == Action.AWAIT and not c.destructive and plan.has_changes
    text = render(plan, "text")
    assert " ~> await protected_vm.app01: wait for job job-42" in text
    assert "(1 running job to await)" in text.splitlines()[-1]
    md = render(plan, "markdown")
    assert "| `~>` | `protected_vm.app01` | await | wait for job job-42: " in md
    assert "~> await protected_vm.app01: wait for job job-42" in md
    doc = json.loads(render(plan, "json"))
    jsonschema.validate(doc, PLAN_JSON_SCHEMA)
    ch = next(x for x in doc["changes"] if x["address"] == "protected_vm.app01")
    assert ch["action"] == "await" and ch["destructive"] is False
    assert ch["requests"] == [{"operation": "site_recovery.replication_jobs.get",
                               "args": {"resource_group_name": quickstart.vault.resource_group,
                                        "resource_name": quickstart.vault.name, "job_name": "job-42"}}]
    assert doc["summary"]["await"] == 1
    back = Plan.from_dict({k: v for k, v in doc.items() if k not in ("format", "summary", "has_changes")}
                          | {"changes": [{k: v for k, v in c.items() if k not in ("destructive", "blocked")}
                                         for c in doc["changes"]]})
    assert back.to_dict() == plan.to_dict()

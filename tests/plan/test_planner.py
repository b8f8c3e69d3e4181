"""The planner on hand-built live states: every action and reason."""


import pytest
from livebuilder import EXAMPLES, Builder, applied, clone, example_path, registered_only

from reconciler.errors import PlanStaleError
from reconciler.live.state import LiveState
from reconciler.manifest import load_manifest
from reconciler.plan import check_plan_current, make_plan
from reconciler.plan.model import Action, Kind, Reason


def work(plan):
    return {c.address: c for c in plan.changes if c.action != Action.NOOP}


def empty_live(m):
    return LiveState(subscription=m.subscription, resource_group=m.vault.resource_group, vault_name=m.vault.name,
                     target_resource_group=m.target.resource_group)


@pytest.mark.parametrize("name", EXAMPLES)
def test_plan_after_apply_is_empty(name):
    m = load_manifest(example_path(name))
    plan = make_plan(m, applied(m), example_path(name))
    assert not plan.has_changes, [(c.address, c.action, c.note) for c in plan.changes if c.is_change]
    assert plan.unmanaged == []
    assert all(c.action == Action.NOOP and c.reason == Reason.NONE for c in plan.changes)
    # every declared object is in the plan
    assert len(plan.changes) > len(m.protected_vms) + len(m.policies)


@pytest.mark.parametrize("name", EXAMPLES)
def test_fresh_subscription_creates_with_manual_registration(name):
    m = load_manifest(example_path(name))
    plan = make_plan(m, empty_live(m), "x.yaml")
    by = plan.by_address()
    assert by[f"vault.{m.vault.name}"].action == Action.CREATE
    assert by[f"vault.{m.vault.name}"].requests[0].operation == "vaults.vaults.begin_create_or_update"
    manual = [c for c in plan.changes if c.action == Action.MANUAL]
    assert manual and all(c.reason == Reason.NOT_REGISTERED for c in manual)
    assert all("asr vault-credentials x.yaml" in c.note for c in manual)
    for vm in m.protected_vms:
        c = by[f"protected_vm.{vm.name}"]
        assert c.action == Action.CREATE and c.blocked_by, c
        assert c.requests == []  # names resolve only after registration
    for s in m.source.hyperv_sites:
        site = by[f"hyperv_site.{s.name}"]
        assert site.action == Action.CREATE and not site.blocked_by
        assert site.requests[0].args["input"] == {"properties": {"customDetails": {"instanceType": "FabricSpecificCreationInput"}}}


def test_registered_quickstart_enables_every_vm_with_exact_requests(quickstart):
    live = registered_only(quickstart)
    plan = make_plan(quickstart, live, "q.yaml")
    w = work(plan)
    assert set(w) == {"policy.every-5-min", "policy_association.vmm01/Gold", "network_mapping.vmm01/Corp-VMNet",
                      "protected_vm.sql01", "protected_vm.app01", "protected_vm.app02", "protected_vm.web01",
                      "recovery_plan.tier1"}
    sql = w["protected_vm.sql01"]
    (req,) = sql.requests
    assert req.operation == "site_recovery.replication_protected_items.begin_create"
    cont = live.container("vmm01", "Gold")
    pitem = live.protectable_item(cont["id"], "sql01")
    assert req.args["fabric_name"] == cont["id"].split("/replicationFabrics/")[1].split("/")[0]
    assert req.args["protection_container_name"] == cont["name"]
    assert req.args["replicated_protected_item_name"] == pitem["name"]
    props = req.args["input"]["properties"]
    assert props["protectableItemId"] == pitem["id"]
    assert props["policyId"].endswith("/replicationPolicies/every-5-min")
    psd = props["providerSpecificDetails"]
    assert psd["instanceType"] == "HyperVReplicaAzure"
    assert psd["targetAzureVmName"] == "sql01-dr" and psd["targetVmSize"] == "Standard_D4s_v5"
    assert psd["diskType"] == "Premium_LRS" and psd["useManagedDisks"] == "true"
    assert psd["targetAzureSubnetId"].endswith("/virtualNetworks/corp-vnet/subnets/servers")
    assert psd["logStorageAccountId"].endswith("/storageAccounts/contosoasrlogs01")
    assert len(psd["disksToInclude"]) == 1
    # order: policy before association before VMs; network mapping before VMs; VMs before the recovery plan
    pos = {c.address: i for i, c in enumerate(plan.changes)}
    assert pos["policy.every-5-min"] < pos["policy_association.vmm01/Gold"] < pos["protected_vm.sql01"]
    assert pos["network_mapping.vmm01/Corp-VMNet"] < pos["protected_vm.sql01"] < pos["recovery_plan.tier1"]
    assert "network_mapping.vmm01/Corp-VMNet" in sql.depends_on
    # independent VMs share a wave
    assert len({w[f"protected_vm.{n}"].wave for n in ("sql01", "app01", "app02", "web01")}) == 1
    assert w["policy.every-5-min"].wave < w["policy_association.vmm01/Gold"].wave < sql.wave < w["recovery_plan.tier1"].wave
    rp = w["recovery_plan.tier1"].requests[0]
    groups = rp.args["input"]["properties"]["groups"]
    assert [len(g["replicationProtectedItems"]) for g in groups] == [1, 3]
    assert groups[0]["replicationProtectedItems"][0]["virtualMachineId"] == pitem["name"]


def test_drift_gives_exactly_the_right_updates(quickstart):
    b = Builder(quickstart).azure_resources().register().applied_vault_objects()
    live = b.build()
    live.policy("every-5-min")["properties"]["providerSpecificDetails"]["recoveryPointHistoryDurationInHours"] = 12
    live.protected_item("app01")["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"] = "Standard_D8s_v5"
    live.network_mappings.clear()
    plan = make_plan(quickstart, live, "q.yaml")
    w = work(plan)
    assert set(w) == {"policy.every-5-min", "protected_vm.app01", "network_mapping.vmm01/Corp-VMNet"}
    pol = w["policy.every-5-min"]
    assert pol.action == Action.UPDATE and pol.reason == Reason.DRIFTED
    assert pol.before["recoveryPointRetentionHours"] == 12 and pol.after["recoveryPointRetentionHours"] == 24
    req = pol.requests[0]
    assert req.operation == "site_recovery.replication_policies.begin_update"
    assert req.args["input"]["properties"]["replicationProviderSettings"]["recoveryPointHistoryDuration"] == 24
    vm = w["protected_vm.app01"]
    assert vm.action == Action.UPDATE and vm.note == "changed: size"
    upd = vm.requests[0]
    assert upd.operation == "site_recovery.replication_protected_items.begin_update"
    assert upd.args["update_protection_input"]["properties"]["recoveryAzureVMSize"] == "Standard_D2s_v5"
    assert upd.args["update_protection_input"]["properties"]["vmNics"][0]["ipConfigs"][0]["recoverySubnetName"] == "servers"
    nm = w["network_mapping.vmm01/Corp-VMNet"]
    assert nm.action == Action.CREATE
    assert nm.requests[0].args["input"]["properties"]["fabricSpecificDetails"] == {"instanceType": "VmmToAzure"}


def test_id_case_changes_produce_no_diff(quickstart):
    live = applied(quickstart)
    for it in live.protected_items:
        psd = it["properties"]["providerSpecificDetails"]
        psd["selectedRecoveryAzureNetworkId"] = psd["selectedRecoveryAzureNetworkId"].upper()
        psd["recoveryAzureResourceGroupId"] = psd["recoveryAzureResourceGroupId"].lower()
    for m in live.network_mappings:
        m["properties"]["recoveryNetworkId"] = m["properties"]["recoveryNetworkId"].replace("/subscriptions/", "/Subscriptions/")
    live.vault["location"] = "West Europe"
    live.vault["tags"]["asr-lock"] = "someone|host|1|2026-11-22T00:00:00Z|2026-11-22T00:02:00Z"  # the applier's lease
    assert not make_plan(quickstart, live, "q.yaml").has_changes


def test_recovery_plan_group_order_matters(quickstart):
    b = Builder(quickstart).azure_resources().register().applied_vault_objects()
    b.recovery_plan("tier1", [["app01", "app02", "web01"], ["sql01"]])
    plan = make_plan(quickstart, b.build(), "q.yaml")
    (c,) = work(plan).values()
    assert c.address == "recovery_plan.tier1" and c.action == Action.UPDATE
    assert c.requests[0].operation == "site_recovery.replication_recovery_plans.begin_update"
    ids = [[i["virtualMachineId"] for i in g["replicationProtectedItems"]]
           for g in c.requests[0].args["input"]["properties"]["groups"] if g["groupType"] == "Boot"]
    assert len(ids[0]) == 1 and len(ids[1]) == 3


def test_disk_type_change_forces_replace_with_reinitial_replication_note(quickstart):
    b = Builder(quickstart).azure_resources().register(
        {"vmm01/Gold": [("sql01", "Windows", [127, 512]), ("app01", "Windows", [127]), ("app02", "Windows", [127]),
                        ("web01", "Linux", [64])]}).applied_vault_objects()
    live = b.build()
    for d in live.protected_item("sql01")["properties"]["providerSpecificDetails"]["protectedManagedDisks"]:
        d["targetDiskAccountType"] = "Standard_LRS"
    plan = make_plan(quickstart, live, "q.yaml")
    (c,) = work(plan).values()
    assert c.action == Action.REPLACE and c.reason == Reason.CANNOT_UPDATE
    assert c.replace_fields == ["diskType"]
    assert "restarts initial replication of 639 GB" in c.note
    assert [r.operation.rsplit(".", 1)[1] for r in c.requests] == ["begin_delete", "begin_create"]
    assert c.destructive


def test_vm_in_failover_is_reported_not_corrected(quickstart):
    live = applied(quickstart)
    item = live.protected_item("web01")
    item["properties"]["activeLocation"] = "Recovery"
    item["properties"]["protectionState"] = "FailedOver"
    item["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"] = "Standard_B1s"  # would be drift
    t = live.protected_item("app02")  # as ReplicationProtectedItems_TestFailover.json shows it
    t["properties"]["testFailoverState"] = "WaitingForCompletion"
    t["properties"]["allowedOperations"] = ["TestFailoverCleanup"]
    t["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"] = "Standard_B1s"
    plan = make_plan(quickstart, live, "q.yaml")
    assert not plan.has_changes
    by = plan.by_address()
    assert by["protected_vm.web01"].reason == Reason.IN_FAILOVER and "failed over" in by["protected_vm.web01"].note
    assert by["protected_vm.app02"].reason == Reason.IN_FAILOVER and "test failover" in by["protected_vm.app02"].note


@pytest.mark.parametrize("tfo", ["MarkedForDeletion", "SomeStateNobodyRecorded"])
def test_idle_vm_after_a_test_failover_is_still_managed(quickstart, tfo):
    """MarkedForDeletion stays on an idle item after a cleanup (docs/fidelity.md L-006); it,
    or a value this code does not know, never turns the VM's changes into no-ops."""
    live = applied(quickstart)
    t = live.protected_item("app02")
    t["properties"]["testFailoverState"] = tfo
    t["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"] = "Standard_B1s"  # drift
    plan = make_plan(quickstart, live, "q.yaml")
    c = plan.by_address()["protected_vm.app02"]
    assert c.action == Action.UPDATE and c.reason != Reason.IN_FAILOVER, (c.action, c.reason, c.note)


def test_enable_in_progress_is_an_await_not_a_duplicate_create(quickstart):
    live = applied(quickstart)
    item = live.protected_item("app01")
    job_id = item["id"].split("/replicationFabrics/")[0] + "/replicationJobs/job-42"
    item["properties"]["protectionState"] = "EnablingProtection"
    item["properties"]["currentScenario"] = {"scenarioName": "EnableDr", "jobId": job_id, "startTime": "2026-11-22T03:00:00Z"}
    # and one whose protected item is not listed yet, only its job
    live.protected_items = [i for i in live.protected_items if i["properties"]["friendlyName"] != "web01"]
    live.__dict__.pop("protected_items_by_name", None)
    live.jobs = [{"id": job_id.replace("job-42", "job-43"), "name": "job-43", "properties": {
        "state": "InProgress", "scenarioName": "EnableDr", "targetObjectName": "web01"}}]
    plan = make_plan(quickstart, live, "q.yaml")
    by = plan.by_address()
    for name, job in (("app01", "job-42"), ("web01", "job-43")):
        c = by[f"protected_vm.{name}"]
        assert c.action == Action.AWAIT and c.reason == Reason.OPERATION_IN_PROGRESS
        assert [(r.operation, r.args["job_name"]) for r in c.requests] == [("site_recovery.replication_jobs.get", job)]
        assert job in c.note and not c.destructive
    assert plan.summary()["await"] == 2 and plan.summary()["add"] == 0


def test_a_test_failover_job_waiting_for_cleanup_is_not_awaited(quickstart):
    """A Suspended test failover job (WaitingForStopTestFailover, docs/fidelity.md L-001)
    never ends by itself: it is no reason to wait before enabling a VM."""
    live = applied(quickstart)
    live.protected_items = [i for i in live.protected_items if i["properties"]["friendlyName"] != "web01"]
    live.__dict__.pop("protected_items_by_name", None)
    live.jobs = [{"id": "/x/replicationJobs/job-44", "name": "job-44", "properties": {
        "state": "Suspended", "stateDescription": "WaitingForStopTestFailover", "scenarioName": "TestFailover",
        "targetObjectName": "web01"}}]
    c = make_plan(quickstart, live, "q.yaml").by_address()["protected_vm.web01"]
    assert c.reason != Reason.OPERATION_IN_PROGRESS, (c.action, c.reason, c.note)


def test_unmanaged_listed_and_pruned_only_when_opted_in(quickstart):
    b = Builder(quickstart).azure_resources().register(
        {"vmm01/Gold": [(n, "Windows", [127]) for n in ("sql01", "app01", "app02", "web01", "old01")]})
    live = b.applied_vault_objects().build()
    # an undeclared protected VM and recovery plan made in the portal
    quickstart_vms = quickstart.protected_vms
    extra = quickstart_vms[1].model_copy(update={"name": "old01"})
    quickstart.protected_vms = quickstart_vms + [extra]
    b.protect("old01")
    b.recovery_plan("legacy", [["old01"]])
    quickstart.protected_vms = quickstart_vms
    plan = make_plan(quickstart, live, "q.yaml")
    assert not plan.has_changes
    assert {(u.kind, u.name) for u in plan.unmanaged} == {(Kind.PROTECTED_VM, "old01"), (Kind.RECOVERY_PLAN, "legacy")}
    quickstart.prune.protected_vms = True
    quickstart.prune.recovery_plans = True
    plan = make_plan(quickstart, live, "q.yaml")
    w = work(plan)
    assert set(w) == {"protected_vm.old01", "recovery_plan.legacy"}
    assert all(c.action == Action.DELETE and c.reason == Reason.NOT_IN_MANIFEST for c in w.values())
    assert w["protected_vm.old01"].requests[0].operation == "site_recovery.replication_protected_items.begin_delete"
    assert "recovery_plan.legacy" in w["protected_vm.old01"].depends_on  # plan first, then the VM
    assert plan.summary()["destroy"] == 2


def test_prune_policies_deletes_associations_first(quickstart):
    b = Builder(quickstart).azure_resources().register()
    live = b.applied_vault_objects().build()
    live.policies.append({"id": live.policies[0]["id"].replace("every-5-min", "old-policy"), "name": "old-policy",
                          "properties": {"friendlyName": "old-policy", "providerSpecificDetails": {
                              "instanceType": "HyperVReplicaAzure", "replicationInterval": 900}}})
    quickstart.prune.policies = True
    plan = make_plan(quickstart, live, "q.yaml")
    (c,) = work(plan).values()
    assert c.address == "policy.old-policy" and c.action == Action.DELETE


def test_vm_not_discovered_is_a_manual_step(quickstart):
    live = Builder(quickstart).azure_resources().register(
        {"vmm01/Gold": [("sql01", "Windows", [127]), ("app01", "Windows", [127]), ("app02", "Windows", [127])]}).build()
    plan = make_plan(quickstart, live, "q.yaml")
    c = plan.by_address()["protected_vm.web01"]
    assert c.action == Action.MANUAL and c.reason == Reason.NOT_DISCOVERED
    assert plan.by_address()["recovery_plan.tier1"].blocked_by == ["protected_vm.web01"]


def test_existing_storage_missing_is_manual(quickstart):
    quickstart.target.storage_accounts[0].existing = True
    live = applied(quickstart)
    live.storage_accounts.clear()
    c = make_plan(quickstart, live, "q.yaml").by_address()["storage_account.contosoasrlogs01"]
    assert c.action == Action.MANUAL and c.reason == Reason.EXISTING_REQUIRED


def test_vault_location_change_is_replace(quickstart):
    live = applied(quickstart)
    live.vault["location"] = "northeurope"
    (c,) = work(make_plan(quickstart, live, "q.yaml")).values()
    assert c.action == Action.REPLACE and c.replace_fields == ["location"]


def test_plan_roundtrips_and_staleness_names_what_moved(quickstart, tmp_path):
    from reconciler.plan import load_plan, save_plan

    live = applied(quickstart)
    plan = make_plan(quickstart, live, "q.yaml")
    path = tmp_path / "p.json"
    save_plan(plan, str(path))
    loaded = load_plan(str(path))
    assert loaded.to_dict() == plan.to_dict()
    check_plan_current(loaded, quickstart, clone(live))  # nothing moved
    moved = clone(live)
    moved.protected_item("app02")["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"] = "Standard_B2s"
    with pytest.raises(PlanStaleError, match=r"protected_vm.app02 \(changed\)"):
        check_plan_current(plan.to_dict(), quickstart, moved)
    quickstart.policies[0].recovery_point_retention_hours = 12
    with pytest.raises(PlanStaleError, match="manifest"):
        check_plan_current(plan, quickstart, live)


def test_local_diff_of_10000_vms_is_all_noop(quickstart):
    # Its speed (target: under 1 s) is measured by bench/plan_scale.py, not asserted here.
    vms = []
    base = quickstart.protected_vms[1]
    for i in range(10000):
        vms.append(base.model_copy(update={"name": f"vm{i:05d}"}))
    quickstart.protected_vms = vms
    quickstart.recovery_plans = []
    b = Builder(quickstart).azure_resources().register()
    live = b.applied_vault_objects().build()
    plan = make_plan(quickstart, live, "q.yaml")
    assert not plan.has_changes
    assert len(plan.changes) > 10000


def test_prune_network_mappings(quickstart):
    b = Builder(quickstart).azure_resources().register()
    live = b.applied_vault_objects().build()
    extra = dict(live.network_mappings[0])
    extra["id"] = extra["id"].rsplit("/", 1)[0] + "/dev-map"
    extra["name"] = "dev-map"
    extra["properties"] = dict(extra["properties"], primaryNetworkFriendlyName="Dev-VMNet")
    live.network_mappings.append(extra)
    plan = make_plan(quickstart, live, "q.yaml")
    assert [(u.kind, u.name) for u in plan.unmanaged] == [(Kind.NETWORK_MAPPING, "vmm01/Dev-VMNet")]
    quickstart.prune.network_mappings = True
    (c,) = work(make_plan(quickstart, live, "q.yaml")).values()
    assert (c.address, c.action) == ("network_mapping.vmm01/Dev-VMNet", Action.DELETE)
    assert c.requests[0].operation == "site_recovery.replication_network_mappings.begin_delete"
    assert c.requests[0].args["network_mapping_name"] == "dev-map"


def test_unregistered_hyperv_host_blocks_vms_of_its_site():
    m = load_manifest(example_path("hyperv-site"))
    b = Builder(m).azure_resources().register()
    live = b.build()
    live.providers = [p for p in live.providers if p["properties"]["friendlyName"] != "HV-HOST-02"]
    # print01 runs on HV-HOST-02: not discovered yet
    cont = live.container("branch-site")
    live.protectable_items[cont["id"].lower()] = [i for i in live.protectable_items[cont["id"].lower()]
                                                 if i["properties"]["friendlyName"] != "print01"]
    plan = make_plan(m, live, "h.yaml")
    by = plan.by_address()
    assert by["hyperv_host.branch-site/HV-HOST-02"].action == Action.MANUAL
    assert by["hyperv_host.branch-site/HV-HOST-01"].action == Action.NOOP
    assert by["protected_vm.file01"].action == Action.CREATE and not by["protected_vm.file01"].blocked_by
    p = by["protected_vm.print01"]
    assert p.action == Action.CREATE and p.blocked_by == ["hyperv_host.branch-site/HV-HOST-02"] and p.requests == []
    assert by["recovery_plan.office"].blocked_by == ["hyperv_host.branch-site/HV-HOST-02"]


def test_policy_change_of_a_cloud_disables_then_reassociates_then_reenables(quickstart):
    live = applied(quickstart)
    quickstart.policies.append(quickstart.policies[0].model_copy(update={"name": "every-15-min",
                                                                          "replication_frequency_seconds": 900}))
    quickstart.source.vmm_servers[0].clouds[0].policy = "every-15-min"
    plan = make_plan(quickstart, live, "q.yaml")
    w = work(plan)
    assoc = w["policy_association.vmm01/Gold"]
    assert assoc.action == Action.REPLACE and assoc.replace_fields == ["policy"]
    ops = [r.operation.rsplit(".", 2)[1] + "." + r.operation.rsplit(".", 1)[1] for r in assoc.requests]
    assert ops == ["replication_protected_items.begin_delete"] * 4 + [
        "replication_protection_container_mappings.begin_delete", "replication_protection_container_mappings.begin_create"]
    assert assoc.requests[-1].args["creation_input"]["properties"]["policyId"].endswith("/replicationPolicies/every-15-min")
    assert "policy.every-15-min" in assoc.depends_on
    for n in ("sql01", "app01", "app02", "web01"):
        vm = w[f"protected_vm.{n}"]
        assert vm.action == Action.REPLACE and vm.replace_fields == ["policy"]
        assert [r.operation for r in vm.requests] == ["site_recovery.replication_protected_items.begin_create"]
        assert vm.requests[0].args["input"]["properties"]["policyId"].endswith("/replicationPolicies/every-15-min")
        assert "policy_association.vmm01/Gold" in vm.depends_on and vm.wave > assoc.wave
        assert "restarts initial replication" in vm.note


def test_policy_change_waits_while_a_vm_of_the_cloud_is_failed_over(quickstart):
    live = applied(quickstart)
    live.protected_item("web01")["properties"]["activeLocation"] = "Recovery"
    quickstart.policies.append(quickstart.policies[0].model_copy(update={"name": "every-15-min"}))
    quickstart.source.vmm_servers[0].clouds[0].policy = "every-15-min"
    plan = make_plan(quickstart, live, "q.yaml")
    assoc = plan.by_address()["policy_association.vmm01/Gold"]
    assert assoc.action == Action.NOOP and assoc.reason == Reason.IN_FAILOVER and "web01" in assoc.note
    assert set(work(plan)) == {"policy.every-15-min"}  # the VMs follow their container, which waits

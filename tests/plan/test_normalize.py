from livebuilder import applied, clone

from reconciler.live.ids import norm_id, parse_id
from reconciler.plan.fingerprint import live_fingerprint
from reconciler.plan.normalize import comparable, live_rp_groups, norm_start_time, normalize_live
from reconciler.plan.planner import changed_fields


def test_norm_id_is_case_insensitive_and_strips_trailing_slash():
    a = "/Subscriptions/S/resourceGroups/RG/providers/Microsoft.Network/virtualNetworks/Corp-VNet/"
    b = "/subscriptions/s/resourcegroups/rg/providers/microsoft.network/virtualnetworks/corp-vnet"
    assert norm_id(a) == norm_id(b)
    assert norm_id("Standard_LRS") == "Standard_LRS"  # not an id: untouched


def test_parse_id_segments():
    p = parse_id("/Subscriptions/S/resourceGroups/R/providers/Microsoft.RecoveryServices/vaults/V/"
                 "replicationFabrics/F/replicationProtectionContainers/C/replicationProtectedItems/I")
    assert p == {"subscriptions": "S", "resourcegroups": "R", "vaults": "V", "replicationfabrics": "F",
                 "replicationprotectioncontainers": "C", "replicationprotecteditems": "I"}


def test_comparable_folds_case_but_not_tag_values():
    assert comparable({"id": "/Subscriptions/X/A"}) == comparable({"id": "/subscriptions/x/a"})
    assert comparable({"tags": {"env": "Prod"}}) != comparable({"tags": {"env": "prod"}})
    assert changed_fields({"size": "Standard_D2s_v5"}, {"size": "standard_d2s_v5"}) == []


def test_start_time_defaults_fold():
    assert norm_start_time(None) == "immediately"
    assert norm_start_time("") == "immediately"
    assert norm_start_time("23:00:00") == "23:00"
    assert norm_start_time("23:00") == "23:00"


def test_recovery_plan_groups_drop_shutdown_failover_and_keep_order(quickstart):
    live = applied(quickstart)
    rp = live.recovery_plan("tier1")
    assert [g["groupType"] for g in rp["properties"]["groups"]][:2] == ["Shutdown", "Failover"]
    assert live_rp_groups(live, rp) == [["sql01"], ["app01", "app02", "web01"]]  # items sorted inside a group


def test_read_side_renames_and_id_case(quickstart):
    live = applied(quickstart)
    norm = normalize_live(live)
    vm = norm["protected_vm.sql01"]["attrs"]
    assert vm["targetVmName"] == "sql01-dr"  # recoveryAzureVmName
    assert vm["subnet"] == "servers"  # vmNics[].ipConfigs[].recoverySubnetName
    assert vm["diskType"] == "Premium_LRS"  # protectedManagedDisks[].targetDiskAccountType
    assert vm["targetNetwork"].startswith("/Subscriptions/")  # kept as read; compared case-insensitively
    pol = norm["policy.every-5-min"]["attrs"]
    assert pol == {"replicationFrequencySeconds": 300, "recoveryPointRetentionHours": 24,
                   "appConsistentSnapshotFrequencyHours": 4, "initialReplicationStart": "immediately"}
    net = norm["virtual_network.corp-vnet"]["attrs"]
    assert net["subnets"] == {"servers": "10.10.1.0/24"}


def test_fingerprint_ignores_volatile_fields_but_not_settings(quickstart):
    live = applied(quickstart)
    fp = live_fingerprint(live)
    other = clone(live)
    item = other.protected_item("app01")
    item["properties"]["providerSpecificDetails"]["rpoInSeconds"] = 999
    item["properties"]["replicationHealth"] = "Warning"
    assert live_fingerprint(other) == fp
    item["properties"]["providerSpecificDetails"]["recoveryAzureVMSize"] = "Standard_D8s_v5"
    other2 = clone(other)
    assert live_fingerprint(other2) != fp

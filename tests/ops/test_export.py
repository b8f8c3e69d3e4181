"""`asr export` round trips on the emulator estates: the exported manifest is valid,
declares what the example declares, and `asr plan` of it shows no changes."""

from __future__ import annotations

import os

import pytest
import yaml

from reconciler.cli.main import main
from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import protect

SUB = "00000000-0000-0000-0000-000000000001"


def _summary(m) -> dict:
    return {
        "vault": (m.vault.name, m.vault.resource_group, m.vault.location, m.vault.storage_redundancy.value),
        "vms": sorted((v.name, v.target.network, v.target.subnet, v.target.disk_type.value,
                       v.target.log_storage_account, v.target.vm_name or v.name) for v in m.protected_vms),
        "policies": sorted((p.name, p.replication_frequency_seconds, p.recovery_point_retention_hours,
                            p.app_consistent_snapshot_frequency_hours) for p in m.policies),
        "plans": sorted((p.name, [sorted(g.vms) for g in p.groups]) for p in m.recovery_plans),
        "networks": sorted((n.name, tuple(n.address_space), tuple(sorted((s.name, s.address_prefix) for s in n.subnets)))
                           for n in m.target.networks),
        "testNetwork": m.target.test_network,
    }


@pytest.mark.parametrize("example", ["quickstart.yaml", "hyperv-site.yaml", "multi-cloud.yaml"])
def test_export_round_trip(emulator, capsys, tmp_path, example):
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", example), time_scale=600)
    original = example_manifest(example)
    protect(emulator, original)
    out = tmp_path / "exported.yaml"
    code = main(["export", "--subscription", SUB, "--resource-group", original.vault.resource_group,
                 "--vault", original.vault.name, "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    assert main(["validate", str(out)]) == 0, capsys.readouterr()
    capsys.readouterr()
    from reconciler.manifest import load_manifest

    exported = load_manifest(str(out))
    assert _summary(exported) == _summary(original)
    sizes = {v.name: v.target.size for v in exported.protected_vms}
    for v in original.protected_vms:  # where the example leaves the size to ASR, export writes what ASR chose
        assert sizes[v.name] == (v.target.size or sizes[v.name]) and sizes[v.name]
    code = main(["plan", str(out), "--detailed-exitcode"])
    plan_out, plan_err = capsys.readouterr()
    assert code == 0, plan_out + plan_err


def test_export_to_stdout_is_yaml(emulator, capsys):
    emulator.reset(time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"), wait_protected=False)
    code = main(["export", "--subscription", SUB, "--resource-group", "contoso-dr-rg", "--vault", "contoso-asr-vault"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = yaml.safe_load(out)
    assert doc["apiVersion"] == "asr/v1" and doc["vault"]["name"] == "contoso-asr-vault"


def test_export_of_a_missing_vault(emulator, capsys):
    code = main(["export", "--subscription", SUB, "--resource-group", "nope-rg", "--vault", "nope"])
    _, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert err.startswith("error: vault nope not found in resource group nope-rg")


def _export_validate_plan(capsys, tmp_path, rg: str, vault: str) -> tuple[str, str]:
    """export -> `asr validate` exit 0 -> `asr plan --detailed-exitcode` exit 0; (manifest text, export stderr)."""
    out = tmp_path / "exported.yaml"
    code = main(["export", "--subscription", SUB, "--resource-group", rg, "--vault", vault, "--out", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    code = main(["validate", str(out)])
    v_out, v_err = capsys.readouterr()
    assert code == 0, v_out + v_err + out.read_text()
    code = main(["plan", str(out), "--detailed-exitcode"])
    p_out, p_err = capsys.readouterr()
    assert code == 0, p_out + p_err + out.read_text()
    return out.read_text(), err


def test_export_of_a_hyperv_site_without_policy_association(emulator, capsys, tmp_path):
    """Issue 10, part 7: the site exists (hosts registered), a policy exists, nothing associates them."""
    from tests.ops.helpers import JOB_SLACK, make_vault

    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "hyperv-site.yaml"), time_scale=600)
    m = example_manifest("hyperv-site.yaml")
    c = make_vault(m, emulator)
    sr = c.site_recovery()
    rg, vault = m.vault.resource_group, m.vault.name
    sr.replication_fabrics.begin_create(rg, vault, "branch-site",
                                        {"properties": {"customDetails": {"instanceType": "HyperVSite"}}}, polling=False)
    sr.replication_policies.begin_create(rg, vault, "every-15-min", {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 12,
        "applicationConsistentSnapshotFrequencyInHours": 0, "replicationInterval": 900}}}, polling=False)
    emulator.advance(JOB_SLACK)
    text, err = _export_validate_plan(capsys, tmp_path, rg, vault)
    assert ("warning: not exported: Hyper-V site 'branch-site': it has no replication policy association yet" in err)
    doc = yaml.safe_load(text)
    assert "hypervSites" not in doc["source"]
    assert [p["name"] for p in doc["policies"]] == ["every-15-min"]
    assert "# source.hypervSites: Hyper-V site 'branch-site': it has no replication policy association" in text
    assert "#   - name: branch-site" in text and "#     - HV-HOST-01" in text


def test_export_of_a_tag_that_looks_like_an_environment_reference(emulator, capsys, tmp_path):
    """A live value with `${` would read back as an environment reference (E0004): written as `$${`."""
    m = example_manifest("quickstart.yaml")
    emulator.reset(time_scale=600)
    c = protect(emulator, m, wait_protected=False)
    rg, vault = m.vault.resource_group, m.vault.name
    c.vaults.vaults.begin_update(rg, vault, {"tags": {"owner": "${TEAM}", "cost-center": "cc-42"}}).result()
    text, err = _export_validate_plan(capsys, tmp_path, rg, vault)
    assert "owner: $${TEAM}" in text
    from reconciler.manifest import load_manifest

    assert load_manifest(str(tmp_path / "exported.yaml")).vault.tags["owner"] == "${TEAM}"


def test_export_leaves_out_what_validate_rejects_and_what_refers_to_it():
    """The safety net: an error inside a VM leaves the VM out, and a recovery plan naming it follows."""
    from reconciler.ops.export import Omitted, make_valid

    doc = yaml.safe_load(open(os.path.join(EXAMPLES, "quickstart.yaml"), encoding="utf-8"))
    doc["protectedVMs"][0]["target"]["size"] = "not a size"
    first = doc["protectedVMs"][0]["name"]
    assert any(first in g["vms"] for p in doc.get("recoveryPlans", []) for g in p["groups"])
    omitted: list[Omitted] = []
    fixed = make_valid(doc, omitted)
    assert first not in [v["name"] for v in fixed["protectedVMs"]]
    assert not any(first in g["vms"] for p in fixed.get("recoveryPlans", []) for g in p["groups"])
    kinds = [(o.section, o.what) for o in omitted]
    assert ("protectedVMs", f"VM '{first}'") in kinds and any(s == "recoveryPlans" for s, _ in kinds)
    from reconciler.manifest import validate_text

    assert not [d for d in validate_text(yaml.safe_dump(fixed), "x")[1] if d.is_error]


def test_export_of_a_vm_whose_network_is_in_another_resource_group(emulator, capsys, tmp_path):
    """A hub network outside target.resourceGroup cannot be declared: the VM, and the recovery
    plan naming it, are left as comments (trimming the plan would be a change)."""
    from tests.ops.helpers import JOB_SLACK, _fc, _friendly, _js

    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "hyperv-site.yaml"), time_scale=600)
    m = example_manifest("hyperv-site.yaml")
    c = protect(emulator, m)
    rg, vault, loc = m.vault.resource_group, m.vault.name, m.vault.location
    c.resources.resource_groups.create_or_update("hub-network-rg", {"location": loc})
    c.network.virtual_networks.begin_create_or_update("hub-network-rg", "hub-vnet", {"location": loc, "properties": {
        "addressSpace": {"addressPrefixes": ["10.90.0.0/16"]},
        "subnets": [{"name": "lan", "properties": {"addressPrefix": "10.90.1.0/24"}}]}}, polling=False)
    emulator.advance(JOB_SLACK)
    sr = c.site_recovery()
    item = next(_js(i) for i in sr.replication_protected_items.list(rg, vault) if _friendly(_js(i)) == "file01")
    fab, cont = _fc(item["id"])
    nics = (item["properties"]["providerSpecificDetails"].get("vmNics") or [])
    hub = f"/subscriptions/{SUB}/resourceGroups/hub-network-rg/providers/Microsoft.Network/virtualNetworks/hub-vnet"
    sr.replication_protected_items.begin_update(rg, vault, fab, cont, item["name"], {"properties": {
        "selectedRecoveryAzureNetworkId": hub,
        "providerSpecificDetails": {"instanceType": "HyperVReplicaAzure"},
        "vmNics": [{"nicId": n.get("nicId"), "selectionType": "SelectedByUser",
                    "ipConfigs": [{"ipConfigName": "ipconfig1", "isPrimary": True, "recoverySubnetName": "lan"}]}
                   for n in nics]}}, polling=False)
    emulator.advance(JOB_SLACK)
    text, err = _export_validate_plan(capsys, tmp_path, rg, vault)
    assert ("warning: not exported: VM 'file01': its network is outside resource group smallbiz-failover-rg" in err), err
    assert "warning: not exported: recovery plan 'office': " in err
    doc = yaml.safe_load(text)
    assert sorted(v["name"] for v in doc["protectedVMs"]) == ["dc02", "print01"]
    assert "recoveryPlans" not in doc or not doc["recoveryPlans"]
    assert "# protectedVMs: VM 'file01': its network is outside" in text and "# recoveryPlans: recovery plan 'office'" in text

"""The examples are documentation: they validate, carry the schema comment, use the
shared names, and survive a round trip through the model."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.manifest import Manifest, manifest_fingerprint, validate_file, validate_text
from reconciler.manifest.loader import load_yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
SCHEMA = json.loads((ROOT / "schemas" / "asr-manifest.schema.json").read_text())


def test_three_examples_exist():
    assert {p.name for p in EXAMPLES} >= {"quickstart.yaml", "hyperv-site.yaml", "multi-cloud.yaml"}


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_is_valid_without_warnings(path: Path):
    manifest, diags = validate_file(path)
    assert diags == []
    assert isinstance(manifest, Manifest)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_carries_schema_comment(path: Path):
    first = path.read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schemas/asr-manifest.schema.json"
    assert (path.parent / "../schemas/asr-manifest.schema.json").resolve().is_file()


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_matches_json_schema(path: Path):
    data = load_yaml(path.read_text(), env={}).data
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(data))
    assert errors == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_round_trip(path: Path):
    manifest, _ = validate_file(path)
    dumped = manifest.model_dump(mode="json", by_alias=True, exclude_defaults=False)
    again, diags = validate_text(yaml.safe_dump(dumped, sort_keys=False), "roundtrip.yaml")
    assert [d for d in diags if d.is_error] == []
    assert again == manifest
    assert manifest_fingerprint(again) == manifest_fingerprint(manifest)
    # and the minimal dump (defaults left out) means the same manifest
    minimal = manifest.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    assert Manifest.model_validate(minimal) == manifest


def _vms(m: Manifest) -> dict[str, tuple]:
    out = {}
    for vm in m.protected_vms:
        src = vm.source
        where = (src.vmm_server, src.cloud) if hasattr(src, "vmm_server") else (src.hyperv_site,)
        out[vm.name] = (where, vm.target.network, vm.target.subnet, vm.target.disk_type.value)
    return out


def test_quickstart_shared_names():
    m, _ = validate_file(ROOT / "examples" / "quickstart.yaml")
    assert m.subscription == "00000000-0000-0000-0000-000000000001"
    assert (m.vault.name, m.vault.resource_group, m.vault.location, m.vault.storage_redundancy.value) == (
        "contoso-asr-vault", "contoso-dr-rg", "westeurope", "GeoRedundant")
    assert [(s.name, [(c.name, c.policy) for c in s.clouds], [(n.vm_network, n.target_network) for n in s.network_mappings])
            for s in m.source.vmm_servers] == [("vmm01", [("Gold", "every-5-min")], [("Corp-VMNet", "corp-vnet")])]
    assert m.target.resource_group == "contoso-failover-rg"
    assert [(a.name, a.sku.value) for a in m.target.storage_accounts] == [("contosoasrlogs01", "Standard_LRS")]
    assert [(n.name, n.address_space, [(s.name, s.address_prefix) for s in n.subnets]) for n in m.target.networks] == [
        ("corp-vnet", ["10.10.0.0/16"], [("servers", "10.10.1.0/24")]),
        ("corp-test-vnet", ["10.20.0.0/16"], [("servers", "10.20.1.0/24")]),
    ]
    assert m.target.test_network == "corp-test-vnet"
    p = m.policies[0]
    assert (p.name, p.replication_frequency_seconds, p.recovery_point_retention_hours,
            p.app_consistent_snapshot_frequency_hours, p.initial_replication_start, p.encrypt_at_rest) == (
        "every-5-min", 300, 24, 4, "immediately", None)
    vms = _vms(m)
    assert set(vms) == {"sql01", "app01", "app02", "web01"}
    assert all(v[:3] == (("vmm01", "Gold"), "corp-vnet", "servers") for v in vms.values())
    sql = m.protected_vms[0].target
    assert (sql.vm_name, sql.size, sql.disk_type.value, sql.log_storage_account) == (
        "sql01-dr", "Standard_D4s_v5", "Premium_LRS", "contosoasrlogs01")
    for vm in m.protected_vms[1:]:
        assert (vm.target.vm_name, vm.target.size, vm.target.disk_type.value, vm.target.log_storage_account) == (
            None, "Standard_D2s_v5", "Standard_LRS", "contosoasrlogs01")
    assert [(r.name, [g.vms for g in r.groups]) for r in m.recovery_plans] == [("tier1", [["sql01"], ["app01", "app02", "web01"]])]


def test_hyperv_site_shared_names():
    m, _ = validate_file(ROOT / "examples" / "hyperv-site.yaml")
    assert (m.vault.name, m.vault.resource_group, m.vault.location, m.vault.storage_redundancy.value) == (
        "smallbiz-asr-vault", "smallbiz-dr-rg", "uksouth", "LocallyRedundant")
    assert m.source.vmm_servers == []
    assert [(s.name, s.hosts, s.policy) for s in m.source.hyperv_sites] == [("branch-site", ["HV-HOST-01", "HV-HOST-02"], "every-15-min")]
    p = m.policies[0]
    assert (p.name, p.replication_frequency_seconds, p.recovery_point_retention_hours, p.app_consistent_snapshot_frequency_hours) == (
        "every-15-min", 900, 12, 0)
    assert m.target.resource_group == "smallbiz-failover-rg"
    assert [(a.name, a.sku.value) for a in m.target.storage_accounts] == [("smallbizasrlogs01", "Standard_LRS")]
    assert {n.name: (n.address_space, [(s.name, s.address_prefix) for s in n.subnets]) for n in m.target.networks} == {
        "office-vnet": (["10.60.0.0/16"], [("lan", "10.60.1.0/24")]),
        "office-test-vnet": (["10.61.0.0/16"], [("lan", "10.61.1.0/24")]),
    }
    assert m.target.test_network == "office-test-vnet"
    assert _vms(m) == {n: (("branch-site",), "office-vnet", "lan", "Standard_LRS") for n in ("file01", "dc02", "print01")}
    assert all(vm.target.log_storage_account == "smallbizasrlogs01" for vm in m.protected_vms)
    assert [(r.name, [g.vms for g in r.groups]) for r in m.recovery_plans] == [("office", [["dc02"], ["file01", "print01"]])]


def test_multi_cloud_shared_names():
    m, _ = validate_file(ROOT / "examples" / "multi-cloud.yaml")
    assert (m.vault.name, m.vault.resource_group, m.vault.location) == ("fabrikam-asr-vault", "fabrikam-dr-rg", "northeurope")
    assert [(s.name, [(c.name, c.policy) for c in s.clouds], [(n.vm_network, n.target_network) for n in s.network_mappings])
            for s in m.source.vmm_servers] == [
        ("vmm-ams01", [("Gold", "gold-30s"), ("Silver", "silver-15m")], [("Prod-VMNet", "prod-vnet"), ("Dev-VMNet", "dev-vnet")]),
        ("vmm-rtm01", [("Gold", "gold-30s")], [("Prod-VMNet", "prod-vnet")]),
    ]
    assert [(p.name, p.replication_frequency_seconds, p.recovery_point_retention_hours, p.app_consistent_snapshot_frequency_hours)
            for p in m.policies] == [("gold-30s", 30, 24, 1), ("silver-15m", 900, 12, 0)]
    assert m.target.resource_group == "fabrikam-failover-rg"
    assert [(a.name, a.sku.value) for a in m.target.storage_accounts] == [("fabrikamasrlog01", "Standard_LRS")]
    assert {n.name: (n.address_space, [(s.name, s.address_prefix) for s in n.subnets]) for n in m.target.networks} == {
        "prod-vnet": (["10.30.0.0/16"], [("db", "10.30.1.0/24"), ("app", "10.30.2.0/24")]),
        "dev-vnet": (["10.40.0.0/16"], [("dev", "10.40.1.0/24")]),
        "fabrikam-test-vnet": (["10.50.0.0/16"], [("db", "10.50.1.0/24"), ("app", "10.50.2.0/24"), ("dev", "10.50.3.0/24")]),
    }
    assert m.target.test_network == "fabrikam-test-vnet"
    vms = _vms(m)
    assert len(vms) == 12
    for n in ("sql-ams01", "sql-ams02"):
        assert vms[n] == (("vmm-ams01", "Gold"), "prod-vnet", "db", "Premium_LRS")
    for n in ("app-ams01", "app-ams02", "app-ams03", "app-ams04"):
        assert vms[n][:3] == (("vmm-ams01", "Gold"), "prod-vnet", "app")
    for n in ("dev-ams01", "dev-ams02", "dev-ams03"):
        assert vms[n][:3] == (("vmm-ams01", "Silver"), "dev-vnet", "dev")
    assert vms["sql-rtm01"] == (("vmm-rtm01", "Gold"), "prod-vnet", "db", "Premium_LRS")
    for n in ("app-rtm01", "app-rtm02"):
        assert vms[n][:3] == (("vmm-rtm01", "Gold"), "prod-vnet", "app")
    assert all(vm.target.log_storage_account == "fabrikamasrlog01" for vm in m.protected_vms)
    assert [(r.name, [g.vms for g in r.groups]) for r in m.recovery_plans] == [
        ("ams-tier1", [["sql-ams01", "sql-ams02"], ["app-ams01", "app-ams02", "app-ams03", "app-ams04"]]),
        ("rtm-tier1", [["sql-rtm01"], ["app-rtm01", "app-rtm02"]]),
    ]


def test_examples_match_their_estates():
    """Every VM an example protects exists in its emulator estate, in the same cloud / site."""
    for name in ("quickstart", "hyperv-site", "multi-cloud"):
        estate_path = ROOT / "examples" / "estates" / f"{name}.yaml"
        if not estate_path.exists():
            pytest.skip("estates not there yet")
        estate = yaml.safe_load(estate_path.read_text())
        m, _ = validate_file(ROOT / "examples" / f"{name}.yaml")
        assert estate["subscription"] == m.subscription
        where = {}
        for server in estate.get("vmmServers", []):
            for cloud in server.get("clouds", []):
                for vm in cloud.get("vms", []):
                    where[vm["name"]] = (server["name"], cloud["name"])
        for site in estate.get("hypervSites", []):
            for host in site.get("hosts", []):
                for vm in host.get("vms", []):
                    where[vm["name"]] = (site["name"],)
        for vm in m.protected_vms:
            src = vm.source
            want = (src.vmm_server, src.cloud) if hasattr(src, "vmm_server") else (src.hyperv_site,)
            assert where.get(vm.name) == want, (name, vm.name)

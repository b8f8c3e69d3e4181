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

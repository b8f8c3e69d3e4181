"""Every field of every kind declared in reconciler/kinds/ survives the round trip
manifest -> apply -> live -> export -> an empty plan, against the emulator.

`SAMPLES` gives, per kind, where its entry is in a manifest and a value other than the default for
every field its table declares with a manifest path; `test_every_field_has_a_sample` fails when a row
is added to a table without one here. Protected VMs have their own end-to-end test
(tests/plan/test_protected_vm_fields.py, `SETTINGS`), checked for coverage here too.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from reconciler.cli.main import main as asr
from reconciler.kinds import CONVERTED, module
from tests.kinds import steps


def _named(*path: str, name: str) -> Callable[[dict], dict]:
    """The entry called `name` in the list at `path` of a manifest document."""

    def locate(doc: dict) -> dict:
        node: Any = doc
        for key in path:
            node = node[key]
        return next(e for e in node if e.get("name") == name)

    return locate


def _cloud(server: str, cloud: str) -> Callable[[dict], dict]:
    """The entry of `cloud` in the clouds of VMM server `server`."""

    def locate(doc: dict) -> dict:
        srv = _named("source", "vmmServers", name=server)(doc)
        return next(c for c in srv["clouds"] if c.get("name") == cloud)

    return locate


def _at(*path: str) -> Callable[[dict], dict]:
    """The mapping at `path` of a manifest document (made empty where the document has none)."""

    def locate(doc: dict) -> dict:
        node: Any = doc
        for key in path:
            node = node.setdefault(key, {})
        return node

    return locate


def _host(site: str, host: str) -> Callable[[dict], dict]:
    """A host is a name in its site's `hosts` (nothing else to set): the site's entry, once the host is there."""

    def locate(doc: dict) -> dict:
        entry = _named("source", "hypervSites", name=site)(doc)
        assert host in entry["hosts"], (site, host, entry["hosts"])
        return entry

    return locate


def _endpoint(name: str, network: str) -> Callable[[dict], dict]:
    """vault.privateEndpoints[] entry `name`; the quickstart has none, so one in `network` is declared."""

    def locate(doc: dict) -> dict:
        entries = doc["vault"].setdefault("privateEndpoints", [])
        entry = next((e for e in entries if e.get("name") == name), None)
        if entry is None:
            entry = {"name": name, "network": network}
            entries.append(entry)
        return entry

    return locate


# kind -> (where its entry is, {manifest path of a field: a value that is not the default})
SAMPLES: dict[str, tuple[Callable[[dict], dict], dict[str, Any]]] = {
    "policy": (_named("policies", name="every-5-min"), {
        "replicationFrequencySeconds": 30, "recoveryPointRetentionHours": 12,
        "appConsistentSnapshotFrequencyHours": 2, "initialReplicationStart": "23:00"}),
    "storage_account": (_named("target", "storageAccounts", name="contosoasrlogs01"), {"sku": "Standard_GRS"}),
    # an extra address space and an extra subnet (exported in name order)
    "virtual_network": (_named("target", "networks", name="corp-vnet"), {
        "addressSpace": ["10.10.0.0/16", "10.11.0.0/16"],
        "subnets": [{"name": "servers", "addressPrefix": "10.10.1.0/24"}, {"name": "web", "addressPrefix": "10.11.1.0/24"}]}),
    # the test network's one subnet, renamed and moved (found by position: its name is a sample)
    "subnet": (lambda doc: _named("target", "networks", name="corp-test-vnet")(doc)["subnets"][0],
               {"name": "isolated", "addressPrefix": "10.20.2.0/24"}),
    # Corp-VMNet mapped to the other vnet
    "network_mapping": (lambda doc: next(m for m in _named("source", "vmmServers", name="vmm01")(doc)["networkMappings"]
                                         if m["vmNetwork"] == "Corp-VMNet"), {"targetNetwork": "corp-test-vnet"}),
    # registered: nothing a manifest sets; the emulator's simulated registration makes the plan empty
    "vmm_server": (_named("source", "vmmServers", name="vmm01"), {}),
    "policy_association": (_cloud("vmm01", "Gold"), {"policy": "every-5-min"}),
    "recovery_plan": (_named("recoveryPlans", name="tier1"), {"groups": [
        {"vms": ["sql01"], "before": [{"name": "stop-erp-batch", "manual": "Stop the ERP batch jobs"}]},
        {"vms": ["app01", "app02", "web01"], "after": [
            {"name": "warm-cache", "script": {"path": "\\\\vmmlib\\scripts\\warm-cache.ps1", "timeout": 600}},
            {"name": "check-web", "manual": "Check the web tier answers", "failoverTypes": ["TestFailover"]}]}]}),
    # publicNetworkAccess Disabled also orders things: vmm01 registers only once the private endpoint exists
    # (docs/fidelity.md V-010), as Azure requires for a Site Recovery endpoint (V-009)
    "vault": (_at("vault"), {
        "storageRedundancy": "LocallyRedundant", "tags": {"cost-center": "4711", "env": "dr-drill"},
        "identity": "SystemAssigned", "publicNetworkAccess": "Disabled",
        "alerts.azureMonitor.replicationIssues": True, "alerts.azureMonitor.failoverIssues": False}),
    "alert_settings": (_at("vault", "alerts", "email"), {
        "sendToOwners": True, "recipients": ["dr-team@contoso.com", "oncall@contoso.com"]}),
    "private_endpoint": (_endpoint("contoso-asr-pe", network="corp-vnet"), {"subnet": "servers"}),
}

# the same for examples/hyperv-site.yaml (its estate: examples/estates/hyperv-site.yaml), for the kinds a
# VMM estate does not have (a Hyper-V site, its hosts, the site's policy association)
SITE_SAMPLES: dict[str, tuple[Callable[[dict], dict], dict[str, Any]]] = {
    "hyperv_site": (_named("source", "hypervSites", name="branch-site"), {}),
    "hyperv_host": (_host("branch-site", "HV-HOST-02"), {}),
    "policy_association": (_named("source", "hypervSites", name="branch-site"), {"policy": "every-15-min"}),
    "recovery_plan": (_named("recoveryPlans", name="office"), {"groups": [
        {"vms": ["dc02"], "after": [{"name": "check-dns", "manual": "Check that DNS answers from dc02"}]},
        {"vms": ["file01", "print01"], "before": [
            {"name": "notify", "manual": "Tell the office", "failoverDirections": ["PrimaryToRecovery"]}]}]}),
}

# (kind, field or directive) -> the test in tests/kinds/ that covers it where SAMPLES cannot: the vault's
# region (every derived location) and `existing` (an instruction to asr, never exported)
COVERED_ELSEWHERE: dict[tuple[str, str], str] = {
    ("storage_account", "location"): "test_location_round_trip.py::test_region_round_trips_and_a_move_is_a_replace",
    ("virtual_network", "location"): "test_location_round_trip.py::test_region_round_trips_and_a_move_is_a_replace",
    ("storage_account", "existing"): "test_network_kinds.py::test_existing_is_never_created_nor_changed",
    ("virtual_network", "existing"): "test_network_kinds.py::test_existing_is_never_created_nor_changed",
    # the vault's region (and so every resource group's): round-tripped, and a move is a replace of each
    ("vault", "location"): "test_location_round_trip.py::test_region_round_trips_and_a_move_is_a_replace",
    ("resource_group", "location"): "test_location_round_trip.py::test_region_round_trips_and_a_move_is_a_replace",
}


def _get(entry: dict, path: str) -> Any:
    for part in path.split("."):
        entry = entry.get(part) if isinstance(entry, dict) else None
    return entry


def _set(entry: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        entry = entry.setdefault(part, {})
    entry[parts[-1]] = value


def _manifest_fields(kind: str) -> set[str]:
    return {f.manifest for f in module(kind).FIELDS if f.manifest is not None}


def test_every_field_has_a_sample():
    from tests.plan.test_protected_vm_fields import SETTINGS  # noqa: F401 (the protected VM samples)

    for kind in CONVERTED:
        if kind == "protected_vm":
            continue
        elsewhere = {key for k, key in COVERED_ELSEWHERE if k == kind}
        # a kind whose every field is covered elsewhere (resource_group: its region is the vault's) has no samples
        assert kind in SAMPLES or kind in SITE_SAMPLES or _manifest_fields(kind) <= elsewhere, \
            f"{kind}: add its samples to SAMPLES"
        for samples in (SAMPLES, SITE_SAMPLES):
            if kind in samples:
                assert set(samples[kind][1]) == _manifest_fields(kind) - elsewhere, kind
        missing = set(getattr(module(kind), "DIRECTIVES", ())) - elsewhere
        assert not missing, f"{kind}: directives {missing} need a test named in COVERED_ELSEWHERE"


def test_fields_covered_elsewhere_have_their_test():
    import importlib

    for (kind, key), test in COVERED_ELSEWHERE.items():
        mod = module(kind)
        assert key in {f.attr for f in mod.FIELDS} | _manifest_fields(kind) | set(getattr(mod, "DIRECTIVES", ())), \
            (kind, key)
        file, name = test.split("::")
        tests = importlib.import_module(f"tests.kinds.{file.removesuffix('.py')}")
        assert callable(getattr(tests, name, None)), test


def test_protected_vm_samples_cover_the_table():
    from reconciler.kinds import protected_vm as pvm
    from tests.plan.test_protected_vm_fields import SETTINGS

    # declared in SETTINGS, or set by the quickstart example the test starts from, or derived
    quickstart = {"vmName", "size", "network", "subnet", "diskType", "logStorageAccount"}
    derived = {"osType", "availabilitySet"}  # osType: read back as discovered; availabilitySet: excludes a zone
    missing = {f.manifest for f in pvm.FIELDS} - set(SETTINGS) - quickstart - derived
    assert not missing, missing


@pytest.fixture
def sampled(emulator, monkeypatch, tmp_path):
    from tests.plan.livebuilder import example_path

    steps.fast(emulator, monkeypatch)
    return _with_samples(example_path("quickstart"), SAMPLES, tmp_path / "samples.yaml")


def _with_samples(example: str, samples: dict[str, tuple[Callable[[dict], dict], dict[str, Any]]], out):
    """A copy of an example manifest with every sample set, written to `out`."""
    doc = yaml.safe_load(open(example, encoding="utf-8"))
    for locate, values in samples.values():
        entry = locate(doc)
        for path, value in values.items():
            _set(entry, path, copy.deepcopy(value))
    out.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return out


def _assert_samples(exported: dict, samples: dict[str, tuple[Callable[[dict], dict], dict[str, Any]]]) -> None:
    for kind, (locate, values) in samples.items():
        entry = locate(exported)
        for path, value in values.items():
            assert _get(entry, path) == value, (kind, path, _get(entry, path))


def test_every_sample_round_trips_through_apply_live_and_export(sampled, capsys, tmp_path):
    assert asr(["validate", str(sampled)]) == 0, capsys.readouterr()
    steps.apply_converges(sampled, capsys)  # one apply: a new VM's NIC update is planned with its enable
    _, exported = steps.export(tmp_path, capsys)  # whose plan is empty
    _assert_samples(exported, SAMPLES)


def test_every_site_sample_round_trips_through_apply_live_and_export(emulator, monkeypatch, capsys, tmp_path):
    """SITE_SAMPLES, as the test above: a Hyper-V site asr creates, its hosts registering into it (simulated
    by the emulator), the site's policy association and a recovery plan with actions."""
    import os

    from livebuilder import ROOT, example_path

    steps.fast(emulator, monkeypatch, estate=os.path.join(ROOT, "examples", "estates", "hyperv-site.yaml"))
    sampled = _with_samples(example_path("hyperv-site"), SITE_SAMPLES, tmp_path / "site-samples.yaml")

    assert asr(["validate", str(sampled)]) == 0, capsys.readouterr()
    steps.apply_converges(sampled, capsys)
    _, exported = steps.export(tmp_path, capsys, "smallbiz-dr-rg", "smallbiz-asr-vault")  # whose plan is empty
    assert sorted(_named("source", "hypervSites", name="branch-site")(exported)["hosts"]) == ["HV-HOST-01", "HV-HOST-02"]
    _assert_samples(exported, SITE_SAMPLES)

"""Status rows and the --check verdict, from REST-shaped inventories."""

from __future__ import annotations

import json

import pytest

from reconciler.ops.inventory import Inventory
from reconciler.ops.states import ItemState
from reconciler.ops.status import build_status, parse_duration, render_text
from tests.ops.conftest import item_json


def inv_of(*items, providers=None, fabrics=None):
    inv = Inventory(resource_group="contoso-dr-rg", vault="contoso-asr-vault")
    inv.items = [ItemState.from_json(i) for i in items]
    inv.providers = providers or []
    inv.fabrics = fabrics or []
    return inv


VMM_PROVIDER = {"id": "/Subscriptions/s/resourceGroups/r/providers/Microsoft.RecoveryServices/vaults/v/replicationFabrics/"
                      "fab1/replicationRecoveryServicesProviders/p1",
                "name": "p1", "properties": {"friendlyName": "vmm01", "fabricType": "VMM", "providerVersion": "5.1.8095.0",
                                             "providerVersionState": "Latest", "connectionStatus": "Connected",
                                             "lastHeartBeat": "2026-01-01T00:00:00Z", "protectedItemCount": 4}}
VMM_FABRIC = {"name": "fab1", "properties": {"friendlyName": "vmm01", "customDetails": {"instanceType": "VMM"}}}


def healthy(vm):
    return item_json(vm, rpo=200)


def test_all_healthy_passes_check(quickstart):
    rep = build_status(quickstart, inv_of(*(healthy(v) for v in ("sql01", "app01", "app02", "web01")),
                                          providers=[VMM_PROVIDER], fabrics=[VMM_FABRIC]), file="q.yaml")
    assert rep.ok, rep.problems
    assert [r.vm for r in rep.vms] == ["sql01", "app01", "app02", "web01"]
    assert all(r.max_rpo_seconds == 600 for r in rep.vms)  # twice the 300 s policy
    reg = rep.registration
    assert [(r.server, r.kind, r.fabric, r.provider_version, r.connection) for r in reg] == \
        [("vmm01", "VMM", "vmm01", "5.1.8095.0", "Connected")]
    text = render_text(rep)
    assert "All declared VMs are protected" in text and "5.1.8095.0" in text


def test_degraded_health_rpo_and_missing_vm_fail_check(quickstart):
    err = {"errorCode": "HRL_RPO_EXCEEDED", "summaryMessage": "RPO exceeded the threshold", "errorLevel": "Warning"}
    items = [item_json("sql01", health="Critical", errors=[err], rpo=200), item_json("app01", rpo=900),
             item_json("web01", state="InitialReplicationInProgress", allowed=["DisableProtection"], rpo=None),
             item_json("stray01")]
    rep = build_status(quickstart, inv_of(*items, providers=[VMM_PROVIDER], fabrics=[VMM_FABRIC]), file="q.yaml")
    probs = rep.problems
    assert "sql01: replication health Critical: HRL_RPO_EXCEEDED: RPO exceeded the threshold" in probs
    assert "app01: RPO 900 s is over the 600 s threshold" in probs
    assert "app02: not protected: the vault has no replication for this VM" in probs
    assert "web01: not protected: state InitialReplicationInProgress" in probs
    assert len(probs) == 4 and not rep.ok
    stray = [r for r in rep.vms if r.vm == "stray01"]
    assert stray and not stray[0].managed and not stray[0].problems
    doc = json.loads(json.dumps(rep.as_dict()))
    assert doc["check"]["ok"] is False and len(doc["vms"]) == 5
    assert "stray01 (unmanaged)" in render_text(rep)


def test_max_rpo_override_and_unregistered_servers(hyperv):
    rep = build_status(hyperv, inv_of(item_json("file01", rpo=1000)), file="h.yaml", max_rpo=3600)
    file01 = next(r for r in rep.vms if r.vm == "file01")
    assert file01.max_rpo_seconds == 3600 and not file01.problems
    hosts = {r.server: r for r in rep.registration}
    assert set(hosts) == {"HV-HOST-01", "HV-HOST-02"}
    assert all(r.connection == "NotRegistered" and r.problems for r in hosts.values())


@pytest.mark.parametrize("text,secs", [("900", 900), ("900s", 900), ("15m", 900), ("1h", 3600), ("1.5h", 5400)])
def test_parse_duration(text, secs):
    assert parse_duration(text) == secs


def test_parse_duration_rejects_junk():
    with pytest.raises(ValueError):
        parse_duration("soon")

"""Long-running operation answers and the vault basics (docs/fidelity.md F-049..F-051,
F-080..F-082)."""

from __future__ import annotations

from tests.fidelity.helpers import RG, SLACK, SUB, VAULT_PATH, V, raw


def test_location_and_async_operation_follow_the_job(sr, emulator):
    """F-049 F-050"""
    r = raw(sr, "PUT", f"{VAULT_PATH}/replicationPolicies/p1", {"properties": {"providerSpecificInput": {
        "instanceType": "HyperVReplicaAzure", "recoveryPointHistoryDuration": 24, "replicationInterval": 300}}})
    assert r.status_code == 202 and r.text() == ""
    loc, aso = r.headers["Location"], r.headers["Azure-AsyncOperation"]
    job_name = r.headers["x-ms-request-id"].rsplit("/", 1)[1]
    assert loc.split("?")[0].endswith(f"/replicationPolicies/p1/operationresults/{job_name}")
    assert aso.split("?")[0].endswith(f"/replicationOperationStatus/{job_name}")
    # F-049: while the job runs the status says InProgress and the Location answers 202
    assert raw(sr, "GET", aso).json()["status"] == "InProgress"
    assert raw(sr, "GET", loc).status_code == 202
    emulator.advance(SLACK)
    assert raw(sr, "GET", aso).json()["status"] == "Succeeded"
    done = raw(sr, "GET", loc)
    assert done.status_code == 200 and done.json()["name"] == "p1"


def test_vault_basics(sr, clients):
    """F-080 F-081"""
    vaults = clients.vaults
    (v,) = [x for x in vaults.vaults.list_by_resource_group(RG) if x.name == V]
    # F-080: the vault RP's ids keep a lower-case /subscriptions/, unlike Site Recovery's
    assert v.id == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.RecoveryServices/vaults/{V}"
    assert v.type == "Microsoft.RecoveryServices/vaults"
    # F-081: sku RS0 / Standard, provisioningState Succeeded
    assert (v.sku.name, v.sku.tier) == ("RS0", "Standard")
    assert v.properties.provisioning_state == "Succeeded"

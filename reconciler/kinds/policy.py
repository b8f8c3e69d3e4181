"""Replication policies (Hyper-V to Azure), declared once.

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models HyperVReplicaAzurePolicyInput (create and
update: `providerSpecificInput` / `replicationProviderSettings`) and HyperVReplicaAzurePolicyDetails (read,
`properties.providerSpecificDetails`); ReplicationPolicies_Create.json; docs/fidelity.md.
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field

__all__ = ["FIELDS", "ROOTS", "REPLACE_FIELDS", "desired_attrs", "live_attrs", "provider_input", "export_entry"]

_PSD = "properties.providerSpecificDetails."
# where the create and update paths of the table start (the read paths are whole)
ROOTS = {"create input": "ReplicationPolicies_Create input properties.providerSpecificInput",
         "update input": "ReplicationPolicies_Update input properties.replicationProviderSettings"}


def norm_start_time(value: Any) -> str:
    """None / "" -> "immediately"; "23:00", "23:00:00", a full timestamp -> "23:00"."""
    if value in (None, "", "immediately"):
        return "immediately"
    s = str(value)
    if "T" in s:  # a full timestamp: keep the time of day
        s = s.split("T", 1)[1]
    return s[:5]


def _start_api(value: str) -> str | None:
    return None if value == "immediately" else f"{value[:5]}:00"


FIELDS: tuple[Field, ...] = (
    Field("replicationFrequencySeconds", "replicationFrequencySeconds", _PSD + "replicationInterval",
          "replicationInterval", "replicationInterval", default=300),
    Field("recoveryPointRetentionHours", "recoveryPointRetentionHours", _PSD + "recoveryPointHistoryDurationInHours",
          "recoveryPointHistoryDuration", "recoveryPointHistoryDuration", default=24),
    Field("appConsistentSnapshotFrequencyHours", "appConsistentSnapshotFrequencyHours",
          _PSD + "applicationConsistentSnapshotFrequencyInHours", "applicationConsistentSnapshotFrequencyInHours",
          "applicationConsistentSnapshotFrequencyInHours", default=4),
    # a start time that is absent (null) means "immediately" on both sides; the read is normalized the same way
    Field("initialReplicationStart", "initialReplicationStart", _PSD + "onlineReplicationStartTime",
          "onlineReplicationStartTime", "onlineReplicationStartTime", default="immediately",
          norm=norm_start_time, to_api=_start_api, from_api=lambda v: "immediately" if v in (None, "") else v),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(policy: Any) -> dict[str, Any]:
    return base.desired_attrs(FIELDS, policy)


def live_attrs(policy: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, policy)


def provider_input(attrs: dict[str, Any]) -> dict[str, Any]:
    """HyperVReplicaAzurePolicyInput, create and update alike (the update sends every setting)."""
    return {"instanceType": "HyperVReplicaAzure", **base.body(FIELDS, attrs)}


def export_entry(name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """policies[] entry: every setting written out, defaults too (a reviewer sees the whole policy)."""
    return {"name": name, **base.export_entry(FIELDS, attrs, keep_defaults=True)}

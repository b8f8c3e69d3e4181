"""Hyper-V hosts of a Hyper-V site (a registered provider in the site's fabric), declared once.

A manifest lists a site's hosts by name (`source.hypervSites[].hosts[]`); a host is looked up by that
name among the providers of the site's fabric (the `replicationRecoveryServicesProviders` list,
RecoveryServicesProvider `properties.friendlyName`, the host's name as it registered).

What asr does and does not do: asr never registers a host; there is no API for that. Registration is
done by people on-premises: install the Azure Site Recovery provider on the host and register it into
the site with the vault credentials (`asr vault-credentials`). A declared host that has not registered
is a MANUAL step in the plan, and the VMs of the site wait for it. A host that has registered is never
"corrected" (its `connectionStatus` is status). The emulator simulates the registration (estate
`hypervSites[].hosts`, registered once the vault and the site exist:
reconciler/emulator/siterecovery/registration.py), so `registered` round-trips there.

Fields:
- `registered`: the host is a provider of the site's fabric. Not a manifest key: a listed host is
  wanted registered (True, the default); never sent.

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models RecoveryServicesProvider /
RecoveryServicesProviderProperties (friendlyName, connectionStatus, fabricType "HyperVSite");
ReplicationRecoveryServicesProviders_ListByReplicationFabrics.json; Learn "Set up disaster recovery of
on-premises Hyper-V VMs to Azure" (set up the source environment: register the hosts).
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field
from reconciler.live.state import props

__all__ = ["FIELDS", "REPLACE_FIELDS", "desired_attrs", "live_attrs", "live_status", "export_entry"]

FIELDS: tuple[Field, ...] = (
    # a host that is a provider of the site is registered; never written: registration happens on the host
    Field("registered", None, None, None, None, default=True),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(host: str) -> dict[str, Any]:
    """A listed host (a name in `hosts[]`): registered."""
    return {f.attr: f.default for f in FIELDS if f.manifest is None}


def live_attrs(provider: dict[str, Any]) -> dict[str, Any]:
    """A provider of the site's fabric: the host has registered."""
    return {**base.live_attrs(FIELDS, provider), "registered": True}


def live_status(provider: dict[str, Any]) -> dict[str, Any]:
    return {"connectionStatus": props(provider).get("connectionStatus")}


def export_entry(name: str, attrs: dict[str, Any]) -> str:
    """A `hosts[]` item: the host's name (a host has nothing else a manifest writes)."""
    return name

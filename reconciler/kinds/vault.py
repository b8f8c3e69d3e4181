"""The Recovery Services vault (`vault`): its region, storage redundancy, tags (undeclared ones kept) and
security settings (identity, public network access, alert states), declared once.

Sources: azure-mgmt-recoveryservices 4.3.0 models Vault (create: `vaults.begin_create_or_update`, a PUT),
PatchVault (update: `vaults.begin_update`, a PATCH), VaultProperties, RedundancySettings
(`standardTierStorageRedundancy`), IdentityData, MonitoringSettings with AzureMonitorAlertSettings and
ClassicAlertSettings (each flag `Enabled` / `Disabled`); docs/fidelity.md "Vault security" (V-001..V-003).

Rows (manifest paths under `vault`; live paths in the vault as ARM returns it):

- `location` (`location`): the region; a vault cannot move, so a change is a replace (compared without
  spaces and case, created as the manifest spells it). The resource groups follow it
  (reconciler/kinds/resource_group.py).
- `storageRedundancy` (`properties.redundancySettings.standardTierStorageRedundancy`): LocallyRedundant,
  ZoneRedundant or GeoRedundant (the default), changed in place (Azure allows it only before items are
  protected). A vault that does not report it is not compared (the planner).
- `tags` (`tags`): read-modify-write. What an update sends is the live map with the declared keys set
  (`reconciler.kinds.tags.merged_tags`, names case-insensitive): tags asr does not declare are kept, unless
  `prune: {tags: true}`. The applier's lease tag (`LOCK_TAG`) is never part of it, on either side.
- `identity` (`identity.type`): None or SystemAssigned (a type naming SystemAssigned among others reads as
  SystemAssigned; no identity reads as None).
- `publicNetworkAccess` (`properties.publicNetworkAccess`): Enabled (what a vault without it means, and what
  a create sends when the manifest leaves it out) or Disabled.
- `replicationIssueAlerts`, `failoverIssueAlerts` (`alerts.azureMonitor.replicationIssues` /
  `.failoverIssues`; `properties.monitoringSettings.azureMonitorAlertSettings.alertsForAll...`): booleans.
- `emailNotifications` (`properties.monitoringSettings.classicAlertSettings.emailNotificationsForSiteRecovery`):
  not written in a manifest: on when `alerts.email` sends to anyone (owners or recipients), off when it
  sends to nobody; the email setting itself is reconciler/kinds/alert_settings.py.

The five security rows (`SECURITY_ATTRS`) are left as Azure holds them when the manifest omits them (not
compared); they change through a PATCH of their own, in which `monitoringSettings` is sent back as the vault
holds it with only the declared alert states set (`security_update_body`). Export writes every row it can
read except an empty tag map and an identity other than SystemAssigned (None is what a manifest that omits
it means; a user-assigned identity has no manifest form and stays as Azure holds it).
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field, norm_location
from reconciler.kinds.tags import LOCK_TAG, merged_tags

__all__ = ["FIELDS", "ROOTS", "REPLACE_FIELDS", "SECURITY_ATTRS", "ALERT_ATTRS", "declared", "desired_attrs", "live_attrs",
           "create_body", "update_body", "security_update_body", "export_entry"]

_RED = "properties.redundancySettings.standardTierStorageRedundancy"
_AM = "properties.monitoringSettings.azureMonitorAlertSettings."
_CLASSIC = "properties.monitoringSettings.classicAlertSettings."
# where the manifest keys of the table start (the read, create and update paths are whole)
ROOTS = {"manifest key": "vault"}


def _live_tags(tags: Any) -> dict[str, Any]:
    """The vault's tags without the applier's lease tag (docs/design.md, Applier): it is not configuration."""
    return dict(sorted((k, v) for k, v in (tags or {}).items() if str(k).lower() != LOCK_TAG))


def _identity(value: Any) -> str:
    t = str(value or "None")
    return "SystemAssigned" if "systemassigned" in t.replace(" ", "").lower() else t


def _on(value: Any) -> bool | None:
    return None if value is None else str(value).lower() == "enabled"


def _state(on: bool) -> str:
    return "Enabled" if on else "Disabled"


FIELDS: tuple[Field, ...] = (
    Field("location", "location", "location", "location", None, mode="replace", norm=norm_location),
    Field("storageRedundancy", "storageRedundancy", _RED, _RED, _RED, default="GeoRedundant"),
    Field("tags", "tags", "tags", "tags", "tags", default={}, from_api=_live_tags),
    Field("identity", "identity", "identity.type", "identity.type", "identity.type", from_api=_identity),
    Field("publicNetworkAccess", "publicNetworkAccess", "properties.publicNetworkAccess", "properties.publicNetworkAccess",
          "properties.publicNetworkAccess", from_api=lambda v: v or "Enabled"),
    Field("replicationIssueAlerts", "alerts.azureMonitor.replicationIssues", _AM + "alertsForAllReplicationIssues",
          _AM + "alertsForAllReplicationIssues", _AM + "alertsForAllReplicationIssues", from_api=_on, to_api=_state),
    Field("failoverIssueAlerts", "alerts.azureMonitor.failoverIssues", _AM + "alertsForAllFailoverIssues",
          _AM + "alertsForAllFailoverIssues", _AM + "alertsForAllFailoverIssues", from_api=_on, to_api=_state),
    Field("emailNotifications", None, _CLASSIC + "emailNotificationsForSiteRecovery",
          _CLASSIC + "emailNotificationsForSiteRecovery", _CLASSIC + "emailNotificationsForSiteRecovery",
          from_api=_on, to_api=_state),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)
SECURITY_ATTRS = ("identity", "publicNetworkAccess", "replicationIssueAlerts", "failoverIssueAlerts", "emailNotifications")
ALERT_ATTRS = ("replicationIssueAlerts", "failoverIssueAlerts", "emailNotifications")  # in monitoringSettings


def declared(manifest: Any) -> dict[str, Any]:
    """The vault's attributes from the manifest alone (tags as declared; None: left to Azure)."""
    v = manifest.vault
    attrs = base.desired_attrs(FIELDS, v)
    email = v.alerts.email if v.alerts is not None else None
    attrs["emailNotifications"] = bool(email.send_to_owners or email.recipients) if email is not None else None
    return attrs


def desired_attrs(manifest: Any, live_vault: dict[str, Any] | None) -> tuple[dict[str, Any], tuple[str, ...]]:
    """(attributes, those not compared): the tags merged with the live vault's (undeclared ones kept unless
    `prune: {tags: true}`); the security settings the manifest leaves out are not compared."""
    attrs = declared(manifest)
    attrs["tags"] = merged_tags(live_vault.get("tags") if live_vault is not None else None, dict(manifest.vault.tags),
                                prune=manifest.prune.tags)
    return attrs, tuple(a for a in SECURITY_ATTRS if attrs.get(a) is None)


def live_attrs(vault: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, vault)


def create_body(attrs: dict[str, Any]) -> dict[str, Any]:
    """The PUT that creates the vault (Standard SKU): every declared row; public network access Enabled when
    the manifest leaves it out."""
    return {"sku": {"name": "Standard"},
            **base.body(FIELDS, {**attrs, "publicNetworkAccess": attrs.get("publicNetworkAccess") or "Enabled"})}


def update_body(attrs: dict[str, Any], changed: set[str]) -> dict[str, Any]:
    """The PATCH of the changed rows other than the security ones (`tags`: the whole merged map, ARM PATCH
    replaces it)."""
    return base.body(FIELDS, attrs, update=True, only=set(changed) - set(SECURITY_ATTRS))


def security_update_body(attrs: dict[str, Any], changed: set[str], live_vault: dict[str, Any] | None) -> dict[str, Any]:
    """The PATCH of the changed security rows, read-modify-write: when an alert state changed,
    `monitoringSettings` is the vault's as held with every declared alert state set."""
    sec = set(changed) & set(SECURITY_ATTRS)
    alerts = bool(sec & set(ALERT_ATTRS))
    out = base.body(FIELDS, attrs, update=True, only=(sec | set(ALERT_ATTRS)) if alerts else sec)
    if alerts:
        held = ((live_vault or {}).get("properties") or {}).get("monitoringSettings") or {}
        mon = {k: dict(v) for k, v in held.items() if isinstance(v, dict)}
        for k, v in (out.get("properties") or {}).get("monitoringSettings", {}).items():
            mon.setdefault(k, {}).update(v)
        out.setdefault("properties", {})["monitoringSettings"] = mon or None
    return out


def export_entry(name: str, resource_group: str, attrs: dict[str, Any], *,
                 private_endpoints: list[dict[str, Any]] | None = None,
                 email: dict[str, Any] | None = None) -> dict[str, Any]:
    """The `vault` entry: every row as read, but no empty tag map nor an identity other than SystemAssigned; the private
    endpoints' entries and the email entry (their own kinds) in their places."""
    rows = base.export_entry(FIELDS, attrs, keep_defaults=True)
    if not rows.get("tags"):
        rows.pop("tags", None)
    if rows.get("identity") != "SystemAssigned":  # None, or a user-assigned one a manifest cannot declare
        rows.pop("identity", None)
    alerts = rows.pop("alerts", {})
    out: dict[str, Any] = {"name": name, "resourceGroup": resource_group, **rows}
    if private_endpoints:
        out["privateEndpoints"] = private_endpoints
    if email is not None:
        alerts["email"] = email
    if alerts:
        out["alerts"] = alerts
    return out

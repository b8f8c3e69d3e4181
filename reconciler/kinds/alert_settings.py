"""Site Recovery email notifications of the vault (`vault.alerts.email`; in Azure the vault's
`replicationAlertSettings/defaultAlertSetting`), declared once.

Sources: azure-mgmt-recoveryservicessiterecovery 2.0.0 models ConfigureAlertRequest /
ConfigureAlertRequestProperties (`replication_alert_settings.create`, a PUT that sends every setting) and
Alert / AlertProperties (read); ReplicationAlertSettings_Get/_Create/_List examples (2025-08-01);
docs/fidelity.md V-013.

The manifest entry is `vault.alerts.email` (its presence is what declares the kind; the vault's
`emailNotifications` flag follows it, reconciler/kinds/vault.py). Rows (paths under that entry; live and
request paths in the setting):

- `sendToOwners` (`properties.sendToOwners`): email the subscription owners. Azure reads `Send` / `DoNotSend`
  (or "true" / "false"); a request sends `Send` / `DoNotSend`. Default false.
- `recipients` (`properties.customEmailAddresses`): other addresses, compared as a set (sorted,
  case-insensitively) and sent in that order. Default none.

An update is the same PUT (every row); the `locale` Azure holds is sent back as it is (`put_body`). Export
writes both rows, and no entry at all for a setting that emails nobody (Azure's default for a vault).
"""

from __future__ import annotations

from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field

__all__ = ["FIELDS", "ROOTS", "REPLACE_FIELDS", "NAME", "send_to_owners", "desired_attrs", "live_attrs", "put_body",
           "export_entry"]

NAME = "defaultAlertSetting"
# where the manifest keys of the table start (the read, create and update paths are whole)
ROOTS = {"manifest key": "vault.alerts.email"}


def send_to_owners(value: Any) -> bool:
    """sendToOwners as Azure reads it ("Send", "DoNotSend", "true", "false", null) -> a boolean."""
    return str(value or "").lower() in ("send", "true")


def _addresses(value: Any) -> list[str]:
    return sorted((str(a) for a in value or ()), key=str.lower)


FIELDS: tuple[Field, ...] = (
    Field("sendToOwners", "sendToOwners", "properties.sendToOwners", "properties.sendToOwners", "properties.sendToOwners",
          default=False, norm=bool, from_api=send_to_owners, to_api=lambda on: "Send" if on else "DoNotSend"),
    Field("recipients", "recipients", "properties.customEmailAddresses", "properties.customEmailAddresses",
          "properties.customEmailAddresses", default=[], norm=_addresses, from_api=lambda v: v or []),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)


def desired_attrs(email: Any) -> dict[str, Any]:
    """From the manifest's `vault.alerts.email` entry."""
    return base.desired_attrs(FIELDS, email)


def live_attrs(setting: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, setting)


def put_body(attrs: dict[str, Any], held: dict[str, Any] | None) -> dict[str, Any]:
    """ConfigureAlertRequest: every row, and the `locale` the vault holds (`held`: the live setting) kept."""
    out = base.body(FIELDS, attrs)
    locale = ((held or {}).get("properties") or {}).get("locale")
    if locale:
        out.setdefault("properties", {})["locale"] = locale
    return out


def export_entry(attrs: dict[str, Any]) -> dict[str, Any] | None:
    """The `vault.alerts.email` entry, both rows written; None when the setting emails nobody."""
    if not (attrs.get("sendToOwners") or attrs.get("recipients")):
        return None
    return base.export_entry(FIELDS, attrs, keep_defaults=True)

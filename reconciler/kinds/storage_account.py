"""Target storage accounts (the replication log / cache accounts, `target.storageAccounts[]`), declared once.

Sources: azure-mgmt-storage 25.3.0 models StorageAccountCreateParameters (create, PUT: `location`, `sku.name`,
`kind`, `properties`), StorageAccountUpdateParameters (update, PATCH: `sku.name`; what it leaves out is
unchanged, docs/fidelity.md R-004) and StorageAccount (read: `location`, `sku.name`); spec examples
StorageAccountCreate.json / StorageAccountUpdate.json (Microsoft.Storage).

Fields:

- `location`: the account's region. A manifest does not write it per account: it is the vault's region
  (`vault.location`), normalized as ARM names regions (`West Europe` -> `westeurope`). The update input
  cannot move an account, so a change is a replace (delete + create, `--allow-destroy`).
- `sku`: `target.storageAccounts[].sku` (default `Standard_LRS`), read from `sku.name`; changed in place
  by the update (PATCH `{"sku": {"name": ...}}`).

The account's name is `target.storageAccounts[].name`, looked up in `target.resourceGroup`
(reconciler.live.ids.storage_id). A create also sends what asr always wants of a log account (`CREATE_FIXED`:
StorageV2, TLS 1.2, HTTPS only, no public blob access); asr never changes those afterwards.

`existing` (`DIRECTIVES`) is not a setting of the account but an instruction to asr: an account declared
`existing: true` must already exist and is never created nor changed (a difference is a warning; a missing
one a manual step). Azure does not record it, so export never writes it.
"""

from __future__ import annotations

import copy
from typing import Any

from reconciler.kinds import base
from reconciler.kinds.base import Field, norm_location

__all__ = ["FIELDS", "REPLACE_FIELDS", "DIRECTIVES", "CREATE_FIXED", "desired_attrs", "live_attrs", "create_body",
           "update_body", "export_entry"]

FIELDS: tuple[Field, ...] = (
    Field("location", None, "location", "location", None, mode="replace", norm=norm_location),
    Field("sku", "sku", "sku.name", "sku.name", "sku.name", default="Standard_LRS"),
)
REPLACE_FIELDS = base.replace_fields(FIELDS)
DIRECTIVES = ("existing",)

CREATE_FIXED: dict[str, Any] = {
    "kind": "StorageV2",
    "properties": {"minimumTlsVersion": "TLS1_2", "allowBlobPublicAccess": False, "supportsHttpsTrafficOnly": True},
}


def desired_attrs(account: Any, location: str) -> dict[str, Any]:
    """A `target.storageAccounts[]` entry; `location`: the vault's."""
    return {"location": norm_location(location), **base.desired_attrs(FIELDS, account)}


def live_attrs(account: dict[str, Any]) -> dict[str, Any]:
    return base.live_attrs(FIELDS, account)


def create_body(attrs: dict[str, Any]) -> dict[str, Any]:
    """StorageAccountCreateParameters."""
    return {**base.body(FIELDS, attrs), **copy.deepcopy(CREATE_FIXED)}


def update_body(attrs: dict[str, Any], changed: Any = None) -> dict[str, Any]:
    """StorageAccountUpdateParameters: the in-place fields (`changed`: only those; None: all of them)."""
    return base.body(FIELDS, attrs, update=True, only=changed)


def export_entry(name: str, attrs: dict[str, Any]) -> dict[str, Any]:
    """target.storageAccounts[] entry: the sku always written (a reviewer sees which one)."""
    return {"name": name, **base.export_entry(FIELDS, attrs, keep_defaults=True)}

"""Pre-existing Azure resources from the estate's optional `azure:` section, so tests,
benches and demos can start from a subscription that already holds things (e.g. a
storage account a manifest marks `existing: true`, or a vault made by hand):

    azure:
      resourceGroups:   [{name: contoso-dr-rg, location: westeurope, tags: {..}}]
      storageAccounts:  [{name: contosoasrlogs01, resourceGroup: contoso-failover-rg,
                          location: westeurope, sku: Standard_LRS, kind: StorageV2}]
      virtualNetworks:  [{name: corp-vnet, resourceGroup: contoso-failover-rg, location: westeurope,
                          addressSpace: [10.10.0.0/16], subnets: [{name: servers, addressPrefix: 10.10.1.0/24}]}]
      vaults:           [{name: contoso-asr-vault, resourceGroup: contoso-dr-rg, location: westeurope,
                          storageRedundancy: GeoRedundant, tags: {..}}]
      takenStorageAccountNames: [contosoasrlogs99]   # "taken" by someone else in Azure

A resource group named by a resource but not listed is created in the resource's
location. Everything is validated by the same code the providers use; errors are
ValueError("azure.<path>: <message>").
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.framework import ArmError, rg_id
from reconciler.emulator.providers.common import check_location, check_tags
from reconciler.emulator.state import EmulatorState

KNOWN = {"resourceGroups", "storageAccounts", "virtualNetworks", "vaults", "takenStorageAccountNames"}


def install(state: EmulatorState, azure: dict, subscription_id: str) -> None:
    if not isinstance(azure, dict):
        raise ValueError("azure: must be a mapping")
    unknown = set(azure) - KNOWN
    if unknown:
        raise ValueError(f"azure: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(KNOWN))})")
    from reconciler.emulator.providers import network, resources, storage, vaults

    def items(key: str) -> list[tuple[str, dict]]:
        seq = azure.get(key) or []
        if not isinstance(seq, list):
            raise ValueError(f"azure.{key}: must be a list")
        out = []
        for i, x in enumerate(seq):
            path = f"azure.{key}[{i}]"
            if not isinstance(x, dict) or not isinstance(x.get("name"), str) or not x["name"]:
                raise ValueError(f"{path}.name: required")
            out.append((path, x))
        return out

    def guard(path: str, fn, *args: Any) -> Any:
        try:
            return fn(*args)
        except ArmError as err:
            raise ValueError(f"{path}: {err.message}") from None

    def ensure_rg(path: str, name: Any, location: str) -> str:
        if not isinstance(name, str) or not name:
            raise ValueError(f"{path}.resourceGroup: required")
        rid = rg_id(subscription_id, name)
        rg = state.get(rid)
        if rg is None:
            rg = resources.make_group(subscription_id, name, location)
            state.put(rid, rg)
        return rg["name"]

    for path, g in items("resourceGroups"):
        loc = guard(path + ".location", check_location, g.get("location", "westeurope"))
        state.put(rg_id(subscription_id, g["name"]),
                  resources.make_group(subscription_id, g["name"], loc, guard(path + ".tags", check_tags, g.get("tags"))))

    for path, s in items("storageAccounts"):
        name = s["name"]
        if not storage.NAME.match(name):
            raise ValueError(f"{path}.name: {storage._invalid_name(name).message}")
        loc = guard(path + ".location", check_location, s.get("location", "westeurope"))
        rg = ensure_rg(path, s.get("resourceGroup"), loc)
        if storage._find_by_name(state, name) is not None:
            raise ValueError(f"{path}.name: storage account {name} is listed twice")
        sku = guard(path + ".sku", storage._sku, {"name": s.get("sku", "Standard_LRS")})
        kind = guard(path + ".kind", storage._kind, s.get("kind", "StorageV2"))
        rid = storage.account_id(subscription_id, rg, name)
        state.put(rid, storage.make_account(state, rid, name, loc, sku, kind, guard(path + ".tags", check_tags, s.get("tags"))))

    for path, v in items("virtualNetworks"):
        loc = guard(path + ".location", check_location, v.get("location", "westeurope"))
        rg = ensure_rg(path, v.get("resourceGroup"), loc)
        subnets = v.get("subnets") or []
        if not isinstance(subnets, list) or not all(isinstance(x, dict) for x in subnets):
            raise ValueError(f"{path}.subnets: must be a list of {{name, addressPrefix}}")
        body = {
            "location": loc,
            "tags": v.get("tags"),
            "properties": {
                "addressSpace": {"addressPrefixes": list(v.get("addressSpace") or [])},
                "subnets": [{"name": x.get("name"), "properties": {"addressPrefix": x.get("addressPrefix")}} for x in subnets],
            },
        }
        vnet = guard(path, network.build_vnet, state, subscription_id, rg, v["name"], body, None, "Succeeded")
        network._store_vnet(state, vnet)

    for path, v in items("vaults"):
        loc = guard(path + ".location", check_location, v.get("location", "westeurope"))
        rg = ensure_rg(path, v.get("resourceGroup"), loc)
        if not vaults.NAME.match(v["name"]):
            raise ValueError(f"{path}.name: invalid vault name {v['name']!r}")
        red = v.get("storageRedundancy", "GeoRedundant")
        if red not in vaults.REDUNDANCY:
            raise ValueError(f"{path}.storageRedundancy: one of {', '.join(vaults.REDUNDANCY)}")
        vault = vaults.make_vault(state, vaults.vault_id(subscription_id, rg, v["name"]), v["name"], loc, red,
                                  guard(path + ".tags", check_tags, v.get("tags")))
        state.put(vault["id"], vault)

    taken = azure.get("takenStorageAccountNames") or []
    if not isinstance(taken, list) or not all(isinstance(x, str) for x in taken):
        raise ValueError("azure.takenStorageAccountNames: must be a list of names")

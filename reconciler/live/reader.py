"""Read the live state of one vault (and its target resources) concurrently.

Every read is a paged list (or, for the vault itself, one GET), run on a thread
pool over the sync SDK clients; the number of requests grows with the number
of pages, never with the number of VMs:

    round 1 (concurrent): resource groups, vault, target storage accounts, target
        virtual networks, and every vault-level site-recovery list: fabrics,
        providers, protection containers, replication networks, policies,
        container mappings, network mappings, protected items, recovery plans,
        unfinished jobs
    round 2 (concurrent): protectable items (discovered VMs) of each container where a
        declared VM is not protected yet (none at all once everything is applied)

Protected items, discovered VMs and jobs, the lists that grow with the estate, are
read as REST JSON through the SDK client's pipeline (`_raw_pages`); the rest through
the operations methods, flattened with `as_dict()`.

A 404 on a list (resource group or vault not there yet) reads as empty.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from reconciler.azure.errors import azure_errors, is_not_found
from reconciler.azure.jobview import page_is_older_than
from reconciler.live.ids import norm_id, parse_id
from reconciler.live.state import LiveState

__all__ = ["read_live_state", "MAX_WORKERS", "JOB_LOOKBACK_HOURS", "page_is_older_than"]

MAX_WORKERS = 8
JOB_LOOKBACK_HOURS = 24
_DONE_JOB_STATES = {"succeeded", "failed", "cancelled", "completedwithinformation", "skipped"}


def _as_dict(obj: Any) -> dict:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    as_dict = getattr(obj, "as_dict", None)
    return as_dict() if callable(as_dict) else dict(obj)


def _arm_code(exc: Any) -> str | None:
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    if code:
        return code
    resp = getattr(exc, "response", None)
    try:
        body = resp.json() if resp is not None else None
        return (body.get("error") or {}).get("code") if isinstance(body, dict) else None
    except Exception:
        return None


def _collect(fetch: Callable[[], Any], action: str, *, missing_ok: bool = True) -> Any:
    """Run one read; iterate pagers fully; 404 -> None (missing) when allowed."""
    with azure_errors(action):
        try:
            res = fetch()
            if res is None:
                return None
            if hasattr(res, "by_page") or (hasattr(res, "__iter__") and not isinstance(res, dict)
                                            and not hasattr(res, "as_dict")):
                return [_as_dict(x) for x in res]
            return _as_dict(res)
        except Exception as exc:
            # a missing resource group or vault reads as empty; a subscription this
            # credential cannot see is an error (it would otherwise plan to create everything)
            if missing_ok and is_not_found(exc) and _arm_code(exc) not in ("SubscriptionNotFound", "InvalidSubscriptionId"):
                return None
            raise


def _raw_pages(client: Any, request: Any, *, stop: Callable[[list[dict]], bool] | None = None) -> list[dict]:
    """Every page of a list as REST JSON, through the SDK client's own pipeline.

    `request` comes from the SDK's request builder for that operation (same URL and
    api-version as the operations method); `client.send_request` runs it through the
    client's policies (credential, retry, request counter, TLS). nextLink is followed
    the way the SDK's pager does it (the client's api-version re-applied). Used for the
    lists that grow with the estate (protected items, discovered VMs, jobs): it skips
    building and flattening SDK models, ~1.4 ms of CPU per protected item.
    """
    from urllib.parse import parse_qs, urljoin, urlparse

    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.core.rest import HttpRequest

    api_version = (parse_qs(urlparse(request.url).query).get("api-version") or [None])[0]
    items: list[dict] = []
    req = request
    while True:
        resp = client.send_request(req)
        if resp.status_code != 200:
            if resp.status_code == 404:
                raise ResourceNotFoundError(response=resp)
            raise HttpResponseError(response=resp)
        body = resp.json()
        page = body.get("value") or []
        items.extend(page)
        nxt = body.get("nextLink")
        if not nxt or (stop is not None and stop(page)):
            return items
        parsed = urlparse(nxt)
        params = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(parsed.query).items()}
        if api_version:
            params["api-version"] = api_version
        req = HttpRequest("GET", urljoin(nxt, parsed.path), params=params)


def _builders() -> Any:
    from azure.mgmt.recoveryservicessiterecovery.operations import _operations as ops

    return ops


def _security_reads(clients: Any, sr: Any, manifest: Any) -> dict[str, tuple[Callable[[], Any], str]]:
    """Vault security lists, read only when the manifest manages them (a plan without them costs nothing more):
    the private endpoints of the vault's resource group when `vault.privateEndpoints` is declared (even empty:
    the list is then authoritative), the Site Recovery alert settings when `vault.alerts.email` is."""
    v = manifest.vault
    rg, name = v.resource_group, v.name
    out: dict[str, tuple[Callable[[], Any], str]] = {}
    if "private_endpoints" in getattr(v, "model_fields_set", ()):
        out["private_endpoints"] = (lambda: clients.network.private_endpoints.list(rg), f"list private endpoints in {rg}")
    alerts = getattr(v, "alerts", None)
    if alerts is not None and alerts.email is not None:
        out["alert_settings"] = (lambda: sr.replication_alert_settings.list(rg, name), "list alert settings")
    return out


def site_recovery_endpoints(endpoints: list[dict], live: LiveState) -> list[dict]:
    """The private endpoints whose connection targets this vault with group id AzureSiteRecovery."""
    vid = norm_id(live.vault.get("id") or "") if live.vault else ""
    out = []
    for pe in endpoints:
        p = pe.get("properties") or {}
        for c in (p.get("privateLinkServiceConnections") or []) + (p.get("manualPrivateLinkServiceConnections") or []):
            cp = c.get("properties") or {}
            if norm_id(cp.get("privateLinkServiceId") or "") == vid and any(
                    str(g).lower() == "azuresiterecovery" for g in cp.get("groupIds") or []):
                out.append(pe)
                break
    return out


def read_live_state(clients: Any, manifest: Any, *, max_workers: int = MAX_WORKERS) -> LiveState:
    """Read everything the planner needs for `manifest` through `clients`."""
    t0 = time.monotonic()
    before = clients.counter.snapshot()["requests"] if getattr(clients, "counter", None) else 0
    rg = manifest.vault.resource_group
    vault = manifest.vault.name
    trg = manifest.target.resource_group
    sr = clients.site_recovery()
    live = LiveState(subscription=manifest.subscription, resource_group=rg, vault_name=vault, target_resource_group=trg)
    since = (datetime.now(UTC) - timedelta(hours=JOB_LOOKBACK_HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ")

    round1: dict[str, tuple[Callable[[], Any], str]] = {
        "resource_groups": (lambda: clients.resources.resource_groups.list(),
                            f"list resource groups of subscription {manifest.subscription}"),
        "vault": (lambda: clients.vaults.vaults.get(rg, vault), f"read vault {vault}"),
        "storage_accounts": (lambda: clients.storage.storage_accounts.list_by_resource_group(trg),
                             f"list storage accounts in {trg}"),
        "virtual_networks": (lambda: clients.network.virtual_networks.list(trg), f"list virtual networks in {trg}"),
        "fabrics": (lambda: sr.replication_fabrics.list(rg, vault), "list fabrics"),
        "providers": (lambda: sr.replication_recovery_services_providers.list(rg, vault), "list registered servers"),
        "containers": (lambda: sr.replication_protection_containers.list(rg, vault), "list protection containers"),
        "replication_networks": (lambda: sr.replication_networks.list(rg, vault), "list replication networks"),
        "policies": (lambda: sr.replication_policies.list(rg, vault), "list replication policies"),
        "container_mappings": (lambda: sr.replication_protection_container_mappings.list(rg, vault),
                               "list policy associations"),
        "network_mappings": (lambda: sr.replication_network_mappings.list(rg, vault), "list network mappings"),
        "protected_items": (lambda: _raw_pages(sr, _builders().build_replication_protected_items_list_request(
            rg, vault, clients.subscription_id)), "list protected items"),
        "recovery_plans": (lambda: sr.replication_recovery_plans.list(rg, vault), "list recovery plans"),
        # bounded even where the startTime filter is ignored: paging stops at a page older than it
        "jobs": (lambda: _raw_pages(sr, _builders().build_replication_jobs_list_request(
            rg, vault, clients.subscription_id, filter=f"startTime ge '{since}'"),
            stop=lambda page: page_is_older_than(page, since)), "list replication jobs"),
    }
    round1.update(_security_reads(clients, sr, manifest))
    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="asr-read") as pool:
        futures = {k: pool.submit(_collect, fn, action, missing_ok=k != "resource_groups")
                   for k, (fn, action) in round1.items()}
        results = {k: f.result() for k, f in futures.items()}

        live.vault = results["vault"] or None
        live.resource_groups = {str(g.get("name", "")).lower(): g for g in results["resource_groups"] or []}
        live.storage_accounts = {str(a.get("name", "")).lower(): a for a in results["storage_accounts"] or []}
        live.virtual_networks = {str(n.get("name", "")).lower(): n for n in results["virtual_networks"] or []}
        if live.vault is not None:
            for key in ("fabrics", "providers", "containers", "replication_networks", "policies",
                        "container_mappings", "network_mappings", "protected_items", "recovery_plans"):
                setattr(live, key, results[key] or [])
            live.private_endpoints = site_recovery_endpoints(results.get("private_endpoints") or [], live)
            live.alert_settings = results.get("alert_settings") or []
            live.jobs = [j for j in results["jobs"] or []
                         if str((j.get("properties") or {}).get("state", "")).lower() not in _DONE_JOB_STATES]

        # round 2: discovered VMs (protectable items) of the containers where a declared VM
        # is not protected there yet: only those need a protectable item to enable
        wanted: dict[str, tuple[str, str]] = {}
        for vm in manifest.protected_vms:
            src = vm.source
            if hasattr(src, "vmm_server"):
                c = live.container(src.vmm_server, src.cloud)
            else:
                c = live.container(src.hyperv_site)
            if c is None:
                continue
            item = live.protected_item(vm.name)
            if item is not None and norm_id(item.get("id", "")).startswith(norm_id(c["id"]) + "/"):
                continue
            p = parse_id(c.get("id"))
            wanted[norm_id(c["id"])] = (p.get("replicationfabrics", ""), p.get("replicationprotectioncontainers", c.get("name", "")))
        ops = _builders() if wanted else None

        def discovered(fabric: str, container: str) -> Any:
            assert ops is not None  # only called for the `wanted` containers
            return _raw_pages(sr, ops.build_replication_protectable_items_list_by_replication_protection_containers_request(
                rg, vault, fabric, container, clients.subscription_id))

        futures2 = {
            cid: pool.submit(_collect, functools.partial(discovered, f, c), f"list discovered VMs of container {c}")
            for cid, (f, c) in wanted.items()
        }
        live.protectable_items = {cid: fut.result() or [] for cid, fut in futures2.items()}

    after = clients.counter.snapshot()["requests"] if getattr(clients, "counter", None) else 0
    live.requests_made = after - before
    live.read_seconds = time.monotonic() - t0
    return live

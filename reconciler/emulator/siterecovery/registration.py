"""Registration of the estate's VMM servers and Hyper-V hosts into vaults (simulated).

A VMM server whose `registerWithVault` names a vault that exists in the estate's
subscription registers `registrationDelaySeconds` (simulated) after the vault became
reachable (`reachable_at`): its fabric, provider, clouds (containers), VM networks and
VMs (protectable items) appear. A Hyper-V site's hosts register the same delay after
both the vault and the site (created by PUT) exist. `registerWithVault: null` never
registers (the planner shows the registration as a manual step).

`SiteRecovery.sync` calls `register_due` on every Site Recovery request; servers not
due yet get a scheduler wake-up at their time.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.estate import Estate

TIME_EPSILON = 1e-3  # createdAt is rounded to the microsecond: "due now" may read a hair in the future


def register_due(sr: Any) -> None:
    """Register every estate server / host whose time has come; schedule the rest."""
    est: Estate | None = sr.estate
    if est is None:
        return
    state = sr.state
    now = state.now()
    scheduled: set[float] = state.extras.setdefault("siterecovery.registration_wakeups", set())
    for server in est.vmm_servers:
        if not server.register_with_vault:
            continue
        for vault in sr.find_vaults(est.subscription, server.register_with_vault):
            key = ("vmm:" + server.name).lower()
            if key in vault.registered:
                continue
            reachable = reachable_at(vault)
            if reachable is None:
                continue  # public access disabled and no private endpoint: the server cannot reach the vault
            due = reachable + est.registration_delay
            if due <= now + TIME_EPSILON:
                sr.register_vmm(vault, server, max(due, vault.created))
                vault.registered.add(key)
            else:
                _wake_at(sr, due, scheduled)
    for site in est.hyperv_sites:
        if not site.register_with_vault:
            continue
        for vault in sr.find_vaults(est.subscription, site.register_with_vault):
            fabric = None
            for f in vault.fabrics.values():
                if f.kind == "HyperVSite" and f.friendly.lower() == site.name.lower():
                    fabric = f
            if fabric is None or not fabric.containers:
                continue
            for host in site.hosts:
                key = ("host:" + site.name + "/" + host.name).lower()
                if key in vault.registered:
                    continue
                reachable = reachable_at(vault)
                if reachable is None:
                    continue
                due = max(reachable, fabric.created) + est.registration_delay
                if due <= now + TIME_EPSILON:
                    sr.register_host(vault, fabric, host, due)
                    vault.registered.add(key)
                else:
                    _wake_at(sr, due, scheduled)


def reachable_at(vault: Any) -> float | None:
    """When on-premises servers can first reach the vault: its creation, or, for a vault whose
    public network access is Disabled, the approval of its first Site Recovery private endpoint
    (None: not reachable). Learn: with a private endpoint "the vault is locked down and isn't
    accessible from networks other than those networks that have private endpoints"."""
    res = getattr(vault, "_res", None) or {}
    p = res.get("properties") or {}
    if str(p.get("publicNetworkAccess") or "Enabled").lower() != "disabled":
        return float(vault.created)
    at = p.get("_siteRecoveryPrivateEndpointAt")
    return None if at is None else max(vault.created, float(at))


def _wake_at(sr: Any, due: float, scheduled: set[float]) -> None:
    wake = getattr(sr, "_wake", None)
    sr._wake = due if wake is None else min(wake, due)
    if due not in scheduled:
        scheduled.add(due)
        sr.state.schedule(due, lambda: sr.sync())

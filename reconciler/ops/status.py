"""`asr status`: one row per declared VM (and per undeclared protected item, marked
unmanaged), the registration of VMM servers and Hyper-V hosts, and the --check verdict.

RPO threshold (--check): a declared VM fails the check when its RPO is above
`--max-rpo`, by default twice the replication frequency of the policy its cloud or
Hyper-V site uses (300 s policy -> 600 s). It also fails when it is not Protected
(including initial replication still running, or no replication at all) or when
replication health is anything but Normal.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from reconciler.ops.inventory import Inventory, read_inventory
from reconciler.ops.jobs import parse_time
from reconciler.ops.states import ItemState


@dataclass
class VmRow:
    vm: str
    managed: bool
    protection_state: str
    replication_health: str = ""
    health_errors: list[str] = field(default_factory=list)
    active_location: str = ""
    rpo_seconds: int | None = None
    max_rpo_seconds: int | None = None
    last_replicated_time: str | None = None
    test_failover_state: str = ""
    current_job: str | None = None  # "TestFailover (job 1234)"
    policy: str = ""
    source: str = ""  # vmm01/Gold or branch-site
    initial_replication_percent: int | None = None
    allowed_operations: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegistrationRow:
    server: str  # VMM server or Hyper-V host name
    kind: str  # VMM | HyperVHost
    fabric: str  # fabric name (VMM server / Hyper-V site)
    declared: bool
    provider_version: str = ""
    connection: str = ""
    last_heartbeat: str | None = None
    protected_items: int | None = None
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StatusReport:
    file: str
    vault: str
    resource_group: str
    vms: list[VmRow] = field(default_factory=list)
    registration: list[RegistrationRow] = field(default_factory=list)
    requests: int = 0
    # additive: vault-level settings that leave the vault exposed (warnings); they fail --check only
    # with --strict-security
    security_warnings: list[str] = field(default_factory=list)
    strict_security: bool = False

    @property
    def problems(self) -> list[str]:
        out = [f"{r.vm}: {p}" for r in self.vms if r.managed for p in r.problems]
        out += [f"{r.server}: {p}" for r in self.registration if r.declared for p in r.problems]
        if self.strict_security:
            out += [f"vault {self.vault}: {w}" for w in self.security_warnings]
        return out

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"format": "asr-status", "format_version": 1,
                "file": self.file, "vault": self.vault, "resource_group": self.resource_group,
                "vms": [r.as_dict() for r in self.vms], "registration": [r.as_dict() for r in self.registration],
                "check": {"ok": self.ok, "problems": self.problems}, "requests": self.requests,
                "security": {"warnings": self.security_warnings, "strict": self.strict_security}}


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr)?\s*$", re.I)


def parse_duration(text: str) -> int:
    """'900', '900s', '15m', '1h' -> seconds. ValueError on anything else."""
    m = _DURATION.match(str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r} (use seconds, or 15m, 1h)")
    n = float(m.group(1))
    unit = (m.group(2) or "s").lower()
    mult = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600}[unit]
    return int(n * mult)


def vm_policy(manifest: Any, vm: Any) -> Any | None:
    """The manifest policy that applies to a declared VM (through its cloud or site)."""
    pols = {p.name: p for p in manifest.policies}
    src = vm.source
    if hasattr(src, "vmm_server"):
        for s in manifest.source.vmm_servers:
            if s.name == src.vmm_server:
                for c in s.clouds:
                    if c.name == src.cloud:
                        return pols.get(c.policy)
    else:
        for site in manifest.source.hyperv_sites:
            if site.name == src.hyperv_site:
                return pols.get(site.policy)
    return None


def _source_text(vm: Any) -> str:
    src = vm.source
    return f"{src.vmm_server}/{src.cloud}" if hasattr(src, "vmm_server") else src.hyperv_site


def _health_texts(it: ItemState) -> list[str]:
    out = []
    for e in it.health_errors:
        msg = e.get("summaryMessage") or e.get("errorMessage") or e.get("errorCode") or "health error"
        code = e.get("errorCode")
        out.append(f"{code}: {msg}" if code and code not in msg else msg)
    return out


def rpo_of(it: ItemState, now: _dt.datetime | None = None) -> int | None:
    if it.rpo_seconds is not None:
        return it.rpo_seconds
    last = parse_time(it.last_replicated_time)
    if last and now:
        return max(0, int((now - last).total_seconds()))
    return None


def build_status(manifest: Any, inv: Inventory, *, file: str, max_rpo: int | None = None) -> StatusReport:
    rep = StatusReport(file=file, vault=inv.vault, resource_group=inv.resource_group, requests=inv.requests)
    declared = {v.name.lower() for v in manifest.protected_vms}
    for vm in manifest.protected_vms:
        pol = vm_policy(manifest, vm)
        limit = max_rpo if max_rpo is not None else (2 * pol.replication_frequency_seconds if pol else None)
        it = inv.item_for(vm.name)
        if it is None:
            rep.vms.append(VmRow(vm=vm.name, managed=True, protection_state="NotProtected", policy=pol.name if pol else "",
                                 source=_source_text(vm), max_rpo_seconds=limit,
                                 problems=["not protected: the vault has no replication for this VM"]))
            continue
        row = _row(it, managed=True, limit=limit)
        row.policy = it.policy_name or (pol.name if pol else "")
        row.source = _source_text(vm)
        rep.vms.append(row)
    for it in sorted(inv.items, key=lambda i: i.vm_name.lower()):
        if it.vm_name.lower() in declared:
            continue
        row = _row(it, managed=False, limit=None)
        row.problems = []  # unmanaged items never fail --check
        rep.vms.append(row)
    rep.registration = registration_rows(manifest, inv)
    return rep


def _row(it: ItemState, *, managed: bool, limit: int | None) -> VmRow:
    rpo = rpo_of(it)
    job = None
    if it.scenario.busy:
        bits = ([f"job {it.scenario.job_name}"] if it.scenario.job_id else []) + \
            (["waiting for its cleanup"] if it.waiting_for_cleanup else [])
        job = f"{it.scenario.name}" + (f" ({', '.join(bits)})" if bits else "")
    row = VmRow(
        vm=it.vm_name, managed=managed, protection_state=it.protection_state or "Unknown",
        replication_health=it.replication_health, health_errors=_health_texts(it),
        active_location=it.active_location, rpo_seconds=rpo, max_rpo_seconds=limit,
        last_replicated_time=it.last_replicated_time, test_failover_state=it.test_failover_state or "None",
        current_job=job, policy=it.policy_name, initial_replication_percent=it.initial_replication_percent,
        allowed_operations=list(it.allowed_operations),
    )
    if (it.protection_state or "").lower() != "protected":
        extra = ""
        if it.initial_replication_percent is not None and it.initial_replication_percent < 100:
            extra = f" (initial replication {it.initial_replication_percent}%)"
        row.problems.append(f"not protected: state {it.protection_state or 'unknown'}{extra}")
    if it.replication_health and it.replication_health.lower() != "normal":
        detail = "; ".join(row.health_errors) or "no details"
        row.problems.append(f"replication health {it.replication_health}: {detail}")
    if limit is not None and rpo is not None and rpo > limit:
        row.problems.append(f"RPO {rpo} s is over the {limit} s threshold")
    return row


def registration_rows(manifest: Any, inv: Inventory) -> list[RegistrationRow]:
    """VMM servers and Hyper-V hosts: provider version, connection, last heartbeat."""
    rows: list[RegistrationRow] = []
    seen: set[str] = set()
    fabric_names = {(f.get("name") or "").lower(): f for f in inv.fabrics}

    def fabric_of(provider: dict[str, Any]) -> str:
        pid = provider.get("id") or ""
        parts = pid.split("/")
        low = [p.lower() for p in parts]
        if "replicationfabrics" in low:
            return parts[low.index("replicationfabrics") + 1]
        return (provider.get("properties") or {}).get("fabricFriendlyName") or ""

    def fabric_friendly(name: str) -> str:
        f = fabric_names.get(name.lower())
        if not f:
            return name
        return (f.get("properties") or {}).get("friendlyName") or f.get("name") or name

    declared_vmm = {s.name.lower() for s in manifest.source.vmm_servers}
    declared_hosts = {h.lower() for site in manifest.source.hyperv_sites for h in site.hosts}
    for prov in inv.providers:
        p = prov.get("properties") or {}
        name = p.get("friendlyName") or prov.get("name") or ""
        fab = fabric_friendly(fabric_of(prov))
        kind = "VMM" if (p.get("fabricType") or "").lower() == "vmm" else "HyperVHost"
        declared = name.lower() in (declared_vmm if kind == "VMM" else declared_hosts)
        row = RegistrationRow(server=name, kind=kind, fabric=fab, declared=declared,
                              provider_version=p.get("providerVersion") or "",
                              connection=p.get("connectionStatus") or "",
                              last_heartbeat=p.get("lastHeartBeat"),
                              protected_items=p.get("protectedItemCount"))
        if row.connection and row.connection.lower() != "connected":
            row.problems.append(f"provider {row.connection}")
        state = (p.get("providerVersionState") or "").lower()
        if state and state not in ("latest", "supported"):
            row.problems.append(f"provider version {row.provider_version} is {p.get('providerVersionState')}")
        rows.append(row)
        seen.add(name.lower())
    for s in manifest.source.vmm_servers:
        if s.name.lower() not in seen:
            rows.append(RegistrationRow(server=s.name, kind="VMM", fabric=s.name, declared=True, connection="NotRegistered",
                                        problems=["not registered with the vault (install the provider: `asr vault-credentials`)"]))
    for site in manifest.source.hyperv_sites:
        for h in site.hosts:
            if h.lower() not in seen:
                rows.append(RegistrationRow(server=h, kind="HyperVHost", fabric=site.name, declared=True,
                                            connection="NotRegistered",
                                            problems=[f"not registered into site {site.name} (run the kit from `asr vault-credentials`)"]))
    return rows


def read_status(ctx: Any, *, max_rpo: int | None = None, strict_security: bool = False) -> StatusReport:
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault,
                         parts=("items", "policies", "fabrics", "providers"))
    rep = build_status(ctx.manifest, inv, file=ctx.file, max_rpo=max_rpo)
    rep.security_warnings = security_warnings(read_vault(ctx))
    rep.strict_security = strict_security
    rep.requests += 1
    return rep


def read_vault(ctx: Any) -> dict[str, Any]:
    from reconciler.azure.errors import azure_errors
    from reconciler.ops.inventory import as_json

    with azure_errors(f"read vault {ctx.vault}"):
        return as_json(ctx.clients.vaults.vaults.get(ctx.resource_group, ctx.vault))


def security_warnings(vault: dict[str, Any]) -> list[str]:
    """What leaves the vault exposed: public network access without a Site Recovery private endpoint,
    and no alert that would tell anyone replication broke."""
    p = vault.get("properties") or {}
    out = []
    public = str(p.get("publicNetworkAccess") or "Enabled").lower() == "enabled"
    private = str(p.get("privateEndpointStateForSiteRecovery") or "None").lower() == "enabled"
    if public and not private:
        out.append("public network access is Enabled and there is no Site Recovery private endpoint: servers reach "
                   "the vault over the internet (vault.publicNetworkAccess, vault.privateEndpoints; docs/security.md)")
    mon = p.get("monitoringSettings") or {}
    am = mon.get("azureMonitorAlertSettings") or {}
    classic = mon.get("classicAlertSettings") or {}
    if str(am.get("alertsForAllReplicationIssues")).lower() != "enabled" and \
            str(classic.get("emailNotificationsForSiteRecovery")).lower() != "enabled":
        out.append("no alerts for replication issues: neither Azure Monitor alerts nor Site Recovery email "
                   "notifications are on, so nobody is told when replication breaks (vault.alerts)")
    if str(am.get("alertsForAllFailoverIssues")).lower() != "enabled" and \
            str(classic.get("emailNotificationsForSiteRecovery")).lower() != "enabled":
        out.append("no alerts for failover issues (vault.alerts.azureMonitor.failoverIssues)")
    return out


# --- rendering -----------------------------------------------------------------

def _fmt_rpo(r: VmRow) -> str:
    if r.rpo_seconds is None:
        return "-"
    return f"{r.rpo_seconds}s" + (f"/{r.max_rpo_seconds}s" if r.max_rpo_seconds else "")


def render_text(rep: StatusReport) -> str:
    lines = [f"Vault {rep.vault} (resource group {rep.resource_group})", ""]
    head = ["VM", "PROTECTION", "HEALTH", "ACTIVE", "RPO/MAX", "LAST REPLICATED", "TEST FAILOVER", "JOB"]
    rows = []
    for r in rep.vms:
        name = r.vm if r.managed else f"{r.vm} (unmanaged)"
        prot = r.protection_state
        if r.initial_replication_percent is not None and r.protection_state.lower() != "protected":
            prot += f" {r.initial_replication_percent}%"
        rows.append([name, prot, r.replication_health or "-", r.active_location or "-", _fmt_rpo(r),
                     r.last_replicated_time or "-", r.test_failover_state or "-", r.current_job or "-"])
    lines += _table(head, rows)
    errs = [(r.vm, e) for r in rep.vms for e in r.health_errors]
    if errs:
        lines += ["", "Health errors:"] + [f"  {vm}: {e}" for vm, e in errs]
    if rep.registration:
        lines += ["", "Registration:"]
        reg = [[r.server + ("" if r.declared else " (unmanaged)"), r.kind, r.fabric, r.provider_version or "-",
                r.connection or "-", r.last_heartbeat or "-"] for r in rep.registration]
        lines += _table(["SERVER", "KIND", "FABRIC/SITE", "PROVIDER", "CONNECTION", "LAST HEARTBEAT"], reg)
    probs = rep.problems
    lines.append("")
    if probs:
        lines.append(f"{len(probs)} problem(s):")
        lines += [f"  {p}" for p in probs]
    else:
        lines.append("All declared VMs are protected, healthy and within their RPO.")
    if rep.security_warnings and not rep.strict_security:
        lines += ["", "Vault security warnings (fail --check only with --strict-security):"]
        lines += [f"  warning: {w}" for w in rep.security_warnings]
    return "\n".join(lines)


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)] if rows else [len(h) for h in head]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*head).rstrip()] + [fmt.format(*[str(x) for x in r]).rstrip() for r in rows]


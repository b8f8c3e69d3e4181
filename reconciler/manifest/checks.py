"""Semantic checks: rules that span fields, and Azure's naming rules.

They run on the plain data from the loader (YAML keys, camelCase), not on the
validated model, so they run even when the schema check found errors elsewhere
and every finding is reported together. Each check reads defensively: a value of
the wrong type is the schema's business and is skipped here.

Every check yields `Diagnostic(path, message, rule_id)`; positions come later.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Callable, Iterator
from typing import Any

from reconciler.manifest import naming
from reconciler.manifest.diagnostics import Diagnostic

Check = Callable[["_Doc"], Iterator[Diagnostic]]
_CHECKS: list[Check] = []


def check(fn: Check) -> Check:
    _CHECKS.append(fn)
    return fn


def run_checks(data: Any) -> list[Diagnostic]:
    if not isinstance(data, dict):
        return []
    doc = _Doc(data)
    out: list[Diagnostic] = []
    for fn in _CHECKS:
        out.extend(fn(doc))
    return out


# ---------------------------------------------------------------- reading helpers


def _s(d: Any, key: str) -> str | None:
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, str) else None


def _items(d: Any, key: str, path: tuple) -> list[tuple[tuple, dict]]:
    v = d.get(key) if isinstance(d, dict) else None
    if not isinstance(v, list):
        return []
    return [(path + (key, i), item) for i, item in enumerate(v) if isinstance(item, dict)]


def _strs(d: Any, key: str, path: tuple) -> list[tuple[tuple, str]]:
    v = d.get(key) if isinstance(d, dict) else None
    if not isinstance(v, list):
        return []
    return [(path + (key, i), item) for i, item in enumerate(v) if isinstance(item, str)]


def _dict(d: Any, key: str) -> dict:
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, dict) else {}


class _Names:
    """Declared names of one kind, prepared once for suggestions."""

    def __init__(self, names: Any) -> None:
        self.names = list(names)
        self.by_lower = {n.lower(): n for n in reversed(self.names)}
        shown = sorted(self.names)[:8]
        self.preview = ", ".join(shown) + (", ..." if len(self.names) > 8 else "")


def _suggest(name: str, candidates: list[str] | _Names) -> str:
    names = candidates if isinstance(candidates, _Names) else _Names(candidates)
    same = names.by_lower.get(name.lower())
    if same is not None:
        return f"; did you mean '{same}'? (names are case-sensitive here)"
    close = difflib.get_close_matches(name, names.names, n=1, cutoff=0.6) if len(names.names) <= 2000 else []
    if close:
        return f"; did you mean '{close[0]}'?"
    if names.names:
        return f" (declared: {names.preview})"
    return " (none declared)"


def _undefined(path: tuple, kind: str, name: str, candidates: list[str] | _Names, where: str = "") -> Diagnostic:
    return Diagnostic(path, f"{kind} '{name}' is not declared{where}{_suggest(name, candidates)}", "E2001")


class _Doc:
    """Indexes of the declared names, built once."""

    def __init__(self, data: dict) -> None:
        self.data = data
        self.vault = _dict(data, "vault")
        self.source = _dict(data, "source")
        self.target = _dict(data, "target")
        self.vmm_servers = _items(self.source, "vmmServers", ("source",))
        self.sites = _items(self.source, "hypervSites", ("source",))
        self.storage = _items(self.target, "storageAccounts", ("target",))
        self.networks = _items(self.target, "networks", ("target",))
        self.policies = _items(data, "policies", ())
        self.vms = _items(data, "protectedVMs", ())
        self.plans = _items(data, "recoveryPlans", ())

        self.policy_names = _names(self.policies)
        self.network_by_name = {n: item for _, item in self.networks if (n := _s(item, "name"))}
        self.storage_by_name = {n: item for _, item in self.storage if (n := _s(item, "name"))}
        self.vmm_by_name = {n: item for _, item in self.vmm_servers if (n := _s(item, "name"))}
        self.site_names = _names(self.sites)
        self.vm_by_name = {n: item for _, item in self.vms if (n := _s(item, "name"))}


def _names(items: list[tuple[tuple, dict]]) -> list[str]:
    return [n for _, item in items if (n := _s(item, "name"))]


# ---------------------------------------------------------------- duplicates


def _dupes(items: list[tuple[tuple, dict]], kind: str, key: str = "name") -> Iterator[Diagnostic]:
    seen: dict[str, tuple] = {}
    for path, item in items:
        name = _s(item, key)
        if name is None:
            continue
        folded = name.lower()
        if folded in seen:
            first = seen[folded]
            yield Diagnostic(path + (key,), f"{kind} '{name}' is declared twice (also at {_short(first)})", "E2002")
        else:
            seen[folded] = path


def _short(path: tuple) -> str:
    from reconciler.manifest.diagnostics import dotted

    return dotted(path)


@check
def duplicate_names(doc: _Doc) -> Iterator[Diagnostic]:
    yield from _dupes(doc.vmm_servers, "VMM server")
    for path, server in doc.vmm_servers:
        yield from _dupes(_items(server, "clouds", path), "cloud")
        yield from _dupes(_items(server, "networkMappings", path), "VM network mapping of", key="vmNetwork")
    yield from _dupes(doc.sites, "Hyper-V site")
    yield from _dupes(doc.storage, "storage account")
    yield from _dupes(doc.networks, "virtual network")
    for path, net in doc.networks:
        yield from _dupes(_items(net, "subnets", path), "subnet")
    yield from _dupes(doc.policies, "policy")
    yield from _dupes(doc.vms, "VM")
    yield from _dupes(doc.plans, "recovery plan")


@check
def hosts_in_one_site(doc: _Doc) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for path, site in doc.sites:
        site_name = _s(site, "name") or "?"
        for hpath, host in _strs(site, "hosts", path):
            folded = host.lower()
            if folded in seen:
                where = "listed twice in this site" if seen[folded] == site_name else f"already in site '{seen[folded]}'"
                yield Diagnostic(hpath, f"Hyper-V host '{host}' is {where}; a host registers into one site", "E2006")
            else:
                seen[folded] = site_name


# ---------------------------------------------------------------- references


@check
def policy_references(doc: _Doc) -> Iterator[Diagnostic]:
    for path, server in doc.vmm_servers:
        for cpath, cloud in _items(server, "clouds", path):
            p = _s(cloud, "policy")
            if p is not None and p not in doc.policy_names:
                yield _undefined(cpath + ("policy",), "policy", p, doc.policy_names)
    for path, site in doc.sites:
        p = _s(site, "policy")
        if p is not None and p not in doc.policy_names:
            yield _undefined(path + ("policy",), "policy", p, doc.policy_names)


@check
def network_references(doc: _Doc) -> Iterator[Diagnostic]:
    nets = list(doc.network_by_name)
    for path, server in doc.vmm_servers:
        for mpath, mapping in _items(server, "networkMappings", path):
            t = _s(mapping, "targetNetwork")
            if t is not None and t not in doc.network_by_name:
                yield _undefined(mpath + ("targetNetwork",), "network", t, nets, " in target.networks")
    test = _s(doc.target, "testNetwork")
    if test is not None and test not in doc.network_by_name:
        yield _undefined(("target", "testNetwork"), "network", test, nets, " in target.networks")


@check
def vm_references(doc: _Doc) -> Iterator[Diagnostic]:
    servers = _Names(doc.vmm_by_name)
    accounts = _Names(doc.storage_by_name)
    networks = _Names(doc.network_by_name)
    sites = _Names(doc.site_names)
    for path, vm in doc.vms:
        src = _dict(vm, "source")
        spath = path + ("source",)
        server_name = _s(src, "vmmServer")
        cloud = _s(src, "cloud")
        site = _s(src, "hypervSite")
        if "hypervSite" not in src:
            if server_name is not None:
                if server_name not in doc.vmm_by_name:
                    yield _undefined(spath + ("vmmServer",), "VMM server", server_name, servers, " in source.vmmServers")
                elif cloud is not None:
                    clouds = _names(_items(doc.vmm_by_name[server_name], "clouds", ()))
                    if cloud not in clouds:
                        yield _undefined(spath + ("cloud",), "cloud", cloud, clouds, f" on VMM server '{server_name}'")
        elif site is not None and "vmmServer" not in src and site not in doc.site_names:
            yield _undefined(spath + ("hypervSite",), "Hyper-V site", site, sites, " in source.hypervSites")

        tgt = _dict(vm, "target")
        tpath = path + ("target",)
        net = _s(tgt, "network")
        if net is not None:
            if net not in doc.network_by_name:
                yield _undefined(tpath + ("network",), "network", net, networks, " in target.networks")
            else:
                subnet = _s(tgt, "subnet")
                subnets = _names(_items(doc.network_by_name[net], "subnets", ()))
                if subnet is not None and subnet not in subnets:
                    yield _undefined(tpath + ("subnet",), "subnet", subnet, subnets, f" in network '{net}'")
        log = _s(tgt, "logStorageAccount")
        if log is not None and log not in doc.storage_by_name:
            yield _undefined(tpath + ("logStorageAccount",), "storage account", log, accounts, " in target.storageAccounts")


@check
def recovery_plans(doc: _Doc) -> Iterator[Diagnostic]:
    vms = _Names(doc.vm_by_name)
    for path, plan in doc.plans:
        plan_name = _s(plan, "name") or "?"
        seen: dict[str, int] = {}
        sources: dict[str, tuple] = {}
        count = 0
        for gpath, group in _items(plan, "groups", path):
            gi = gpath[-1]
            for vpath, name in _strs(group, "vms", gpath):
                count += 1
                if name not in doc.vm_by_name:
                    yield _undefined(vpath, "VM", name, vms, " in protectedVMs")
                    continue
                folded = name.lower()
                if folded in seen:
                    where = "twice in this group" if seen[folded] == gi else f"already in group {seen[folded] + 1}"
                    yield Diagnostic(vpath, f"VM '{name}' is {where} of recovery plan '{plan_name}'; a VM fails over once per plan", "E2003")
                    continue
                seen[folded] = gi
                src = _dict(doc.vm_by_name[name], "source")
                server, site = _s(src, "vmmServer"), _s(src, "hypervSite")
                key = (
                    f"VMM server '{server}'" if server in doc.vmm_by_name
                    else f"Hyper-V site '{site}'" if site in doc.site_names else None
                )
                if key is None:
                    continue
                if sources and key not in sources:
                    other = next(iter(sources))
                    yield Diagnostic(
                        vpath,
                        f"VM '{name}' comes from {key} but recovery plan '{plan_name}' already holds VMs from {other}; "
                        "an ASR recovery plan has one source",
                        "E2004",
                    )
                sources.setdefault(key, vpath)
        if count > 100:
            yield Diagnostic(path + ("groups",), f"recovery plan '{plan_name}' holds {count} VMs; ASR allows at most 100", "E2005")


_AUTOMATION_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Automation/automationAccounts/[^/]+$",
                            re.IGNORECASE)


@check
def recovery_plan_actions(doc: _Doc) -> Iterator[Diagnostic]:
    """Group actions: one kind each, names unique per plan, runbooks in an Automation account by ARM id."""
    for path, plan in doc.plans:
        plan_name = _s(plan, "name") or "?"
        seen: dict[str, tuple] = {}
        for gpath, group in _items(plan, "groups", path):
            for key in ("before", "after"):
                for apath, act in _items(group, key, gpath):
                    name = _s(act, "name")
                    kinds = [k for k in ("manual", "script", "runbook") if act.get(k) is not None]
                    if len(kinds) != 1:
                        what = "none of them" if not kinds else " and ".join(kinds)
                        yield Diagnostic(apath, f"action '{name or '?'}' must be exactly one of manual, script or runbook "
                                                f"(it has {what})", "E2008")
                    if name is not None:
                        folded = name.lower()
                        if folded in seen:
                            yield Diagnostic(apath + ("name",), f"action '{name}' is declared twice in recovery plan "
                                                                f"'{plan_name}' (at {_short(seen[folded])}); action names "
                                                                "are unique in a plan", "E2008")
                        else:
                            seen[folded] = apath
                    rb = act.get("runbook")
                    if isinstance(rb, dict):
                        acct = _s(rb, "automationAccount")
                        if acct is not None and not _AUTOMATION_ID.match(acct):
                            yield Diagnostic(apath + ("runbook", "automationAccount"),
                                             f"'{acct}' is not the ARM id of an Azure Automation account "
                                             "(/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Automation/"
                                             "automationAccounts/NAME)", "E2008")


@check
def target_vm_names(doc: _Doc) -> Iterator[Diagnostic]:
    seen: dict[str, str] = {}
    for path, vm in doc.vms:
        name = _s(vm, "name")
        tgt = _dict(vm, "target")
        explicit = _s(tgt, "vmName")
        target_name = explicit if explicit is not None else name
        if target_name is None:
            continue
        npath = path + ("target", "vmName") if explicit is not None else path + ("name",)
        if not naming.VM.match(target_name):
            hint = "" if explicit is not None else "; set target.vmName to a valid Azure name"
            yield Diagnostic(
                npath,
                f"'{target_name}' is not a valid name for the Azure VM: 1-63 letters, digits and hyphens, "
                f"starting and ending with a letter or digit (Site Recovery's Hyper-V support matrix){hint}",
                "E3006",
            )
            continue
        folded = target_name.lower()
        if folded in seen and name is not None and seen[folded] != name.lower():
            yield Diagnostic(npath, f"Azure VM name '{target_name}' is also the target of VM '{seen[folded]}'", "E2007")
        elif name is not None:
            seen.setdefault(folded, name)


# ---------------------------------------------------------------- naming and ids


@check
def vm_sizes(doc: _Doc) -> Iterator[Diagnostic]:
    for path, vm in doc.vms:
        size = _s(_dict(vm, "target"), "size")
        if size is None or naming.VM_SIZE.match(size):
            continue
        tier, _, rest = size.partition("_")
        if tier.lower() in ("standard", "basic"):  # spelled as Azure lists sizes: Standard_..., Basic_...
            fixed = f"{tier.capitalize()}_{rest}"
            hint = f"; did you mean '{fixed}'?" if naming.VM_SIZE.match(fixed) else ""
        else:
            hint = f"; did you mean 'Standard_{size}'?" if naming.VM_SIZE.match(f"Standard_{size}") else ""
        yield Diagnostic(path + ("target", "size"), f"'{size}' is not an Azure VM size (Standard_... or Basic_..., e.g. Standard_D4s_v5){hint}", "E3010")


@check
def azure_names(doc: _Doc) -> Iterator[Diagnostic]:
    sub = doc.data.get("subscription")
    if isinstance(sub, str) and not naming.SUBSCRIPTION.match(sub):
        yield Diagnostic(("subscription",), f"'{sub}' is not a subscription id (a UUID like 00000000-0000-0000-0000-000000000001)", "E3007")
    v = _s(doc.vault, "name")
    if v is not None and not naming.VAULT.match(v):
        yield Diagnostic(("vault", "name"), f"'{v}' is not a valid vault name: 2-50 letters, digits and hyphens, starting with a letter", "E3001")
    for path, rg in ((("vault", "resourceGroup"), _s(doc.vault, "resourceGroup")), (("target", "resourceGroup"), _s(doc.target, "resourceGroup"))):
        if rg is not None and not naming.RESOURCE_GROUP.match(rg):
            yield Diagnostic(
                path,
                f"'{rg}' is not a valid resource group name: 1-90 letters, digits, underscores, hyphens, periods "
                "and parentheses, not ending with a period",
                "E3002",
            )
    for path, acct in doc.storage:
        n = _s(acct, "name")
        if n is not None and not naming.STORAGE_ACCOUNT.match(n):
            yield Diagnostic(path + ("name",), f"'{n}' is not a valid storage account name: 3-24 lower-case letters and digits", "E3003")
    for path, net in doc.networks:
        n = _s(net, "name")
        if n is not None and not naming.VNET.match(n):
            yield Diagnostic(
                path + ("name",),
                f"'{n}' is not a valid virtual network name: 2-64 letters, digits, underscores, periods and hyphens, "
                "starting with a letter or digit and ending with a letter, digit or underscore",
                "E3004",
            )
        for spath, subnet in _items(net, "subnets", path):
            sn = _s(subnet, "name")
            if sn is not None and not naming.SUBNET.match(sn):
                yield Diagnostic(
                    spath + ("name",),
                    f"'{sn}' is not a valid subnet name: 1-80 letters, digits, underscores, periods and hyphens, "
                    "starting with a letter or digit and ending with a letter, digit or underscore",
                    "E3005",
                )
    for kind, items in (("policy", doc.policies), ("recovery plan", doc.plans), ("Hyper-V site", doc.sites)):
        for path, item in items:
            n = _s(item, "name")
            if n is None:
                continue
            if not n or len(n) > 260 or naming.ARM_NAME_FORBIDDEN.search(n) or n != n.strip():
                yield Diagnostic(
                    path + ("name",),
                    f"{kind} name {n!r} cannot be an Azure resource name: 1-260 characters, no leading or trailing "
                    "spaces, none of < > % & : \\ ? / #",
                    "E3008",
                )
    location = _s(doc.vault, "location")
    if location is not None and location not in naming.REGIONS:
        folded = location.lower().replace(" ", "")
        hint = f"; did you mean '{folded}'?" if folded in naming.REGIONS else _suggest(location, sorted(naming.REGIONS)) if difflib.get_close_matches(location, naming.REGIONS, n=1) else ""
        yield Diagnostic(("vault", "location"), f"'{location}' is not a known Azure region{hint}", "W3002")


def _tag_map(path: tuple, tags: dict) -> Iterator[Diagnostic]:
    if len(tags) > 50:
        yield Diagnostic(path, f"{len(tags)} tags; Azure allows at most 50", "E3009")
    for k, v in tags.items():
        if not isinstance(k, str):
            continue
        if not k or len(k) > 512 or naming.TAG_NAME_FORBIDDEN.search(k):
            yield Diagnostic(path + (k,), f"tag name {k!r} is not allowed: 1-512 characters, none of < > % & \\ ? /", "E3009", at_key=True)
        if isinstance(v, str) and len(v) > 256:
            yield Diagnostic(path + (k,), f"tag value of '{k}' has {len(v)} characters; Azure allows at most 256", "E3009")


@check
def tags(doc: _Doc) -> Iterator[Diagnostic]:
    yield from _tag_map(("vault", "tags"), _dict(doc.vault, "tags"))
    # the failed-over VM's, its disks' and its NICs' tags: ARM refuses the same names when the failover creates them
    for path, vm in doc.vms:
        for key in ("tags", "diskTags", "nicTags"):
            yield from _tag_map(path + ("target", key), _dict(_dict(vm, "target"), key))


# ---------------------------------------------------------------- addresses


def _cidr(value: str, path: tuple, out: list[Diagnostic]):
    if "/" in value:
        try:
            return ipaddress.ip_network(value, strict=True)
        except ValueError:
            pass
    if "/" not in value:
        out.append(Diagnostic(path, f"'{value}' is not a CIDR block: give an address and a prefix length, like 10.0.0.0/16", "E4001"))
        return None
    try:
        loose = ipaddress.ip_network(value, strict=False)
    except ValueError:
        out.append(Diagnostic(path, f"'{value}' is not a valid CIDR block", "E4001"))
        return None
    out.append(Diagnostic(path, f"'{value}' has host bits set; did you mean {loose}?", "E4001"))
    return None


@check
def addresses(doc: _Doc) -> Iterator[Diagnostic]:
    out: list[Diagnostic] = []
    spaces_by_net: dict[str, list] = {}
    for path, net in doc.networks:
        net_name = _s(net, "name") or "?"
        spaces: list[tuple[Any, Any]] = []
        for apath, prefix in _strs(net, "addressSpace", path):
            block = _cidr(prefix, apath, out)
            if block is None:
                continue
            for _other_path, other in spaces:
                if block.version == other.version and block.overlaps(other):
                    out.append(Diagnostic(apath, f"address space {block} overlaps {other} of the same network", "E4002"))
                    break
            spaces.append((apath, block))
        spaces_by_net[net_name] = spaces
        if not net.get("existing", False) and isinstance(net.get("addressSpace", []), list) and not net.get("addressSpace"):
            out.append(Diagnostic(
                path + ("addressSpace",), f"network '{net_name}' is created by asr and needs an addressSpace (or set existing: true)", "E4006",
                at_key=True,
            ))
        subnets: list[tuple[Any, Any]] = []
        for spath, subnet in _items(net, "subnets", path):
            subnet_prefix = _s(subnet, "addressPrefix")
            if subnet_prefix is None:
                continue
            ppath = spath + ("addressPrefix",)
            block = _cidr(subnet_prefix, ppath, out)
            if block is None:
                continue
            if spaces and not any(block.version == s.version and block.subnet_of(s) for _, s in spaces):
                listed = ", ".join(str(s) for _, s in spaces)
                out.append(Diagnostic(ppath, f"subnet {block} lies outside the address space of network '{net_name}' ({listed})", "E4003"))
            if (block.version == 4 and block.prefixlen > 29) or (block.version == 6 and block.prefixlen > 64):
                smallest = "/29" if block.version == 4 else "/64"
                out.append(Diagnostic(ppath, f"subnet {block} is smaller than Azure's smallest subnet ({smallest})", "E4005"))
            for other_name, other in subnets:
                if block.version == other.version and block.overlaps(other):
                    out.append(Diagnostic(ppath, f"subnet {block} overlaps subnet '{other_name}' ({other})", "E4004"))
                    break
            subnets.append((_s(subnet, "name") or "?", block))
    # across networks: a warning, except for the test network which usually mirrors production
    test = _s(doc.target, "testNetwork")
    names = [n for n in spaces_by_net if n != test]
    for i, a in enumerate(names):
        for b in names[:i]:
            hit = next(
                ((pa, x, y) for pa, x in spaces_by_net[a] for _, y in spaces_by_net[b] if x.version == y.version and x.overlaps(y)),
                None,
            )
            if hit:
                out.append(Diagnostic(hit[0], f"address space {hit[1]} of network '{a}' overlaps {hit[2]} of network '{b}'", "W4001"))
    yield from out


# ---------------------------------------------------------------- replication


@check
def policies(doc: _Doc) -> Iterator[Diagnostic]:
    for path, policy in doc.policies:
        retention = policy.get("recoveryPointRetentionHours", 24)
        app = policy.get("appConsistentSnapshotFrequencyHours", 4)
        if type(retention) is int and type(app) is int and 0 <= retention <= 24 and 0 < app <= 12 and app > retention:
            where = path + ("appConsistentSnapshotFrequencyHours",)
            if "appConsistentSnapshotFrequencyHours" not in policy:
                where = path + ("recoveryPointRetentionHours",)
            yield Diagnostic(
                where,
                f"app-consistent snapshots every {app} h exceed the {retention} h recovery point retention; "
                f"use at most {retention} (or 0 to turn them off)",
                "E5003",
            )


@check
def log_storage(doc: _Doc) -> Iterator[Diagnostic]:
    # Hyper-V to Azure stages replicated data in a Standard storage account, whatever the managed disk
    # kind; the enable input needs it (docs/fidelity.md T-010), so a VM without one is refused offline
    for path, vm in doc.vms:
        tgt = _dict(vm, "target")
        tpath = path + ("target",)
        log = _s(tgt, "logStorageAccount")
        if tgt.get("logStorageAccount") is None and doc.storage_by_name:
            std = [n for n, sa in doc.storage_by_name.items() if not str(sa.get("sku", "Standard_LRS")).startswith("Premium")]
            hint = f" (e.g. '{std[0]}')" if std else ""
            yield Diagnostic(
                tpath,
                f"logStorageAccount is required: Hyper-V to Azure replication stages data in a Standard storage account "
                f"of target.storageAccounts{hint}, with {tgt.get('diskType', 'Standard_LRS')} managed disks too",
                "E5005",
                at_key=True,
            )
        elif tgt.get("logStorageAccount") is None:
            yield Diagnostic(
                tpath,
                "logStorageAccount is required: Hyper-V to Azure replication stages data in a Standard storage account; "
                "declare one in target.storageAccounts",
                "E5005",
                at_key=True,
            )
        if log is not None and log in doc.storage_by_name:
            sku = doc.storage_by_name[log].get("sku", "Standard_LRS")
            if isinstance(sku, str) and sku.startswith("Premium"):
                yield Diagnostic(
                    tpath + ("logStorageAccount",),
                    f"storage account '{log}' is {sku}; replication logs need a Standard storage account",
                    "E5005",
                )


_ARM_REF = re.compile(r"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/([^/]+/[^/]+)/[^/]+$", re.IGNORECASE)
_REF_TYPES = {"availabilitySet": "Microsoft.Compute/availabilitySets",
              "proximityPlacementGroup": "Microsoft.Compute/proximityPlacementGroups",
              "diskEncryptionSet": "Microsoft.Compute/diskEncryptionSets",
              "networkSecurityGroup": "Microsoft.Network/networkSecurityGroups",
              "publicIp": "Microsoft.Network/publicIPAddresses"}


def _ref(value: Any, key: str, path: tuple) -> Iterator[Diagnostic]:
    """A reference outside the manifest: a bare name, or the ARM id of a resource of the right type."""
    if not isinstance(value, str):
        return
    if value.startswith("/"):
        m = _ARM_REF.match(value)
        if not m or m.group(1).lower() != _REF_TYPES[key].lower():
            yield Diagnostic(path, f"'{value}' is not the ARM id of a {_REF_TYPES[key]} resource "
                                   f"(/subscriptions/<id>/resourceGroups/<rg>/providers/{_REF_TYPES[key]}/<name>)", "E5006")
    elif "/" in value:
        yield Diagnostic(path, f"'{value}' is neither a name nor an ARM id", "E5006")


def _subnet_prefix(doc: _Doc, net: str | None, subnet: str | None) -> str | None:
    if net is None or subnet is None or net not in doc.network_by_name:
        return None
    for _, sn in _items(doc.network_by_name[net], "subnets", ()):
        if _s(sn, "name") == subnet:
            return _s(sn, "addressPrefix")
    return None


@check
def vm_target_settings(doc: _Doc) -> Iterator[Diagnostic]:
    """Placement, references, disks and NICs of a protected VM's target (protectedVMs[].target)."""
    test_net = _s(doc.target, "testNetwork")
    used_ips: dict[tuple[str, str], tuple] = {}
    for path, vm in doc.vms:
        tgt = _dict(vm, "target")
        tpath = path + ("target",)
        if tgt.get("availabilityZone") is not None and tgt.get("availabilitySet") is not None:
            yield Diagnostic(tpath + ("availabilitySet",), "availabilityZone and availabilitySet exclude each other: "
                             "an Azure VM is in an availability zone or in an availability set, not both", "E5006")
        for key in ("availabilitySet", "proximityPlacementGroup", "diskEncryptionSet"):
            yield from _ref(tgt.get(key), key, tpath + (key,))
        seen: dict[str, tuple] = {}
        for dpath, disk in _items(tgt, "disks", tpath):
            name = _s(disk, "name")
            if name is not None:
                if name.lower() in seen:
                    yield Diagnostic(dpath + ("name",), f"disk '{name}' is listed twice (also at {_short(seen[name.lower()])})", "E5007")
                seen.setdefault(name.lower(), dpath)
            if disk.get("exclude") is True and disk.get("type") is not None:
                yield Diagnostic(dpath + ("type",), f"disk '{name}' is excluded: it has no type in Azure", "E5007")
        net = _s(tgt, "network")
        for i, (npath, nic) in enumerate(_items(tgt, "nics", tpath)):
            subnet = _s(nic, "subnet") or (_s(tgt, "subnet") if i == 0 else None)
            if _s(nic, "subnet") is not None and net in doc.network_by_name:
                names = _names(_items(doc.network_by_name[net], "subnets", ()))
                if nic["subnet"] not in names:
                    yield _undefined(npath + ("subnet",), "subnet", nic["subnet"], names, f" in network '{net}'")
            if _s(nic, "testSubnet") is not None or _s(nic, "testStaticIp") is not None:
                if test_net is None:
                    yield Diagnostic(npath, "testSubnet / testStaticIp need target.testNetwork (the network test "
                                     "failovers use)", "E5008", at_key=True)
                elif _s(nic, "testSubnet") is not None and test_net in doc.network_by_name:
                    names = _names(_items(doc.network_by_name[test_net], "subnets", ()))
                    if nic["testSubnet"] not in names:
                        yield _undefined(npath + ("testSubnet",), "subnet", nic["testSubnet"], names,
                                         f" in test network '{test_net}'")
            yield from _ref(nic.get("networkSecurityGroup"), "networkSecurityGroup", npath + ("networkSecurityGroup",))
            yield from _ref(nic.get("publicIp"), "publicIp", npath + ("publicIp",))
            if nic.get("primary") is True and i > 0 and any(n.get("primary") is True for _, n in _items(tgt, "nics", tpath)[:i]):
                yield Diagnostic(npath + ("primary",), "only one NIC of a VM can be its primary NIC", "E5008")
            for ip_key, n, sn in (("staticIp", net, subnet),
                                  ("testStaticIp", test_net, _s(nic, "testSubnet") or (subnet if i == 0 else None))):
                ip = _s(nic, ip_key)
                if ip is None:
                    continue
                try:
                    addr = ipaddress.ip_address(ip)
                except ValueError:
                    yield Diagnostic(npath + (ip_key,), f"'{ip}' is not an IP address", "E5008")
                    continue
                prefix = _subnet_prefix(doc, n, sn)
                if prefix is not None:
                    try:
                        block = ipaddress.ip_network(prefix, strict=False)
                    except ValueError:
                        block = None
                    if block is not None and addr not in block:
                        yield Diagnostic(npath + (ip_key,), f"{ip} is not in subnet '{sn}' ({prefix}) of network '{n}'", "E5008")
                        continue
                    if block is not None and block.version == 4 and (addr == block.network_address or
                                                                     int(addr) - int(block.network_address) < 4 or
                                                                     addr == block.broadcast_address):
                        yield Diagnostic(npath + (ip_key,), f"{ip} is reserved by Azure in subnet '{sn}' ({prefix}): the "
                                         "first four addresses and the last one cannot be assigned", "E5008")
                        continue
                if ip_key == "staticIp" and n is not None:
                    where = (n, ip)
                    if where in used_ips:
                        yield Diagnostic(npath + (ip_key,), f"{ip} is also the failover address at {_short(used_ips[where])}", "E5008")
                    used_ips.setdefault(where, npath + (ip_key,))


@check
def deprecated_keys(doc: _Doc) -> Iterator[Diagnostic]:
    for path, policy in doc.policies:
        if isinstance(policy.get("encryptAtRest"), bool):
            yield Diagnostic(path + ("encryptAtRest",), "encryptAtRest is deprecated and ignored: Microsoft retired it in "
                             "April 2022 and server-side encryption now applies to replicated data automatically; "
                             "remove the key", "W5001", at_key=True)


# ---------------------------------------------------------------- warnings


@check
def unused_policies(doc: _Doc) -> Iterator[Diagnostic]:
    used: set[str] = set()
    for path, server in doc.vmm_servers:
        used.update(p for _, c in _items(server, "clouds", path) if (p := _s(c, "policy")))
    used.update(p for _, s in doc.sites if (p := _s(s, "policy")))
    for path, policy in doc.policies:
        n = _s(policy, "name")
        if n is not None and n not in used:
            yield Diagnostic(path + ("name",), f"policy '{n}' is not used by any VMM cloud or Hyper-V site", "W2001")


@check
def test_network_separate(doc: _Doc) -> Iterator[Diagnostic]:
    test = _s(doc.target, "testNetwork")
    if test is None or test not in doc.network_by_name:
        return
    for path, server in doc.vmm_servers:
        for mpath, mapping in _items(server, "networkMappings", path):
            if _s(mapping, "targetNetwork") == test:
                yield Diagnostic(
                    mpath + ("targetNetwork",),
                    f"'{test}' is target.testNetwork; mapping a VM network to it mixes production and test failovers",
                    "W2002",
                )
    for path, vm in doc.vms:
        if _s(_dict(vm, "target"), "network") == test:
            yield Diagnostic(
                path + ("target", "network"),
                f"'{test}' is target.testNetwork; failing over into it mixes production and test failovers",
                "W2002",
            )


@check
def vmm_network_mapped(doc: _Doc) -> Iterator[Diagnostic]:
    for path, vm in doc.vms:
        src = _dict(vm, "source")
        server = doc.vmm_by_name.get(_s(src, "vmmServer") or "")
        net = _s(_dict(vm, "target"), "network")
        if server is None or net is None or net not in doc.network_by_name:
            continue
        mapped = {_s(m, "targetNetwork") for _, m in _items(server, "networkMappings", ())}
        if net not in mapped and mapped <= set(doc.network_by_name):  # else E2001 already explains it
            yield Diagnostic(
                path + ("target", "network"),
                f"no VM network of VMM server '{_s(src, 'vmmServer')}' is mapped to '{net}' (add one to its networkMappings)",
                "W2003",
            )


@check
def sites_have_hosts(doc: _Doc) -> Iterator[Diagnostic]:
    used = {_s(_dict(vm, "source"), "hypervSite") for _, vm in doc.vms}
    for path, site in doc.sites:
        name = _s(site, "name")
        hosts = site.get("hosts", [])
        if name in used and isinstance(hosts, list) and not hosts:
            yield Diagnostic(path + ("hosts",), f"Hyper-V site '{name}' lists no hosts, but VMs replicate from it", "W2004", at_key=True)


# ---------------------------------------------------------------- vault security

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+\Z")
_VNET_ID = re.compile(r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+\Z",
                      re.IGNORECASE)
LEARN_PRIVATE_ENDPOINTS = "https://learn.microsoft.com/azure/site-recovery/hybrid-how-to-enable-replication-private-endpoints"


@check
def vault_security(doc: _Doc) -> Iterator[Diagnostic]:
    vault = doc.vault
    pes = _items(vault, "privateEndpoints", ("vault",))
    yield from _dupes(pes, "private endpoint")
    networks = _Names(doc.network_by_name)
    for path, pe in pes:
        name = _s(pe, "name")
        if name is not None and not naming.VNET.match(name):
            yield Diagnostic(path + ("name",), f"'{name}' is not a valid private endpoint name (2-64 letters, digits, "
                             "'_', '.', '-'; starts with a letter or digit, ends with a letter, digit or '_')", "E6003")
        net = _s(pe, "network")
        subnet = _s(pe, "subnet")
        if net is None:
            continue
        if net.startswith("/"):
            if not _VNET_ID.match(net):
                yield Diagnostic(path + ("network",), f"'{net}' is not a virtual network id (/subscriptions/<id>/"
                                 "resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>)", "E6004")
        elif net not in doc.network_by_name:
            yield _undefined(path + ("network",), "network", net, networks, " in target.networks")
        elif subnet is not None:
            subnets = _names(_items(doc.network_by_name[net], "subnets", ()))
            if subnet not in subnets:
                yield _undefined(path + ("subnet",), "subnet", subnet, subnets, f" in network '{net}'")
    if pes and vault.get("identity") != "SystemAssigned":
        where = ("vault", "identity") if "identity" in vault else ("vault", "privateEndpoints")
        yield Diagnostic(where, "Site Recovery private endpoints need the vault's system-assigned managed identity: "
                         f"set vault.identity: SystemAssigned (see {LEARN_PRIVATE_ENDPOINTS})", "E6001",
                         at_key="identity" not in vault)
    email = _dict(_dict(vault, "alerts"), "email")
    for rpath, addr in _strs(email, "recipients", ("vault", "alerts", "email")):
        if not _EMAIL.match(addr):
            yield Diagnostic(rpath, f"'{addr}' is not an email address (local@domain.tld)", "E6002")
    if vault.get("publicNetworkAccess") == "Disabled" and not pes:
        yield Diagnostic(("vault", "publicNetworkAccess"),
                         "public network access is Disabled but no private endpoint is declared: VMM servers and "
                         "Hyper-V hosts cannot reach the vault unless one exists (declare vault.privateEndpoints)",
                         "W6001")

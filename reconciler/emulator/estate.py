"""The simulated on-premises estate (format: docs/emulator.md).

Data only: the file format, its loading and validation, defaults and generators.
What the estate makes happen lives elsewhere: the app installs it (`app.install_estate`),
`siterecovery/registration.py` registers its servers and hosts, `seeding.py` applies `seed:`.

    load_file(path) -> dict        YAML estate, every error as FILE:LINE:COL (EstateError)
    parse(data) -> Estate          validated model (EstateError with path.in.estate)
    generate_estate(n_vms, ...)    a large estate (and seed) for benches and scale tests
    quickstart_estate(...)         the estate of examples/quickstart.yaml (optionally applied)

Registration: a VMM server whose `registerWithVault` names a vault that exists in the
estate's subscription registers `registrationDelaySeconds` (simulated) after the
vault was created: its fabric, provider, clouds (containers), VM networks and VMs
(protectable items) appear. A Hyper-V site's hosts register the same delay after both
the vault and the site (created by PUT) exist. `registerWithVault: null` never
registers (the planner shows the registration as a manual step).

`seed:` puts the emulator into a state as if asr had already applied a manifest: it
sends the same ARM writes asr would (through the emulator's own route table and
handlers, in process, no second code path), backdated by SEED_BACKDATE simulated
seconds, and lets every job and initial replication finish before the clock reaches
the present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000001"
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()-]{0,63}$")


class EstateError(ValueError):
    """Invalid estate; str() is one `FILE:LINE:COL: error: path: message` line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# ---------------------------------------------------------------------------- model


@dataclass
class EstateVM:
    name: str
    os_type: str = "Windows"
    disks_gb: list[int] = field(default_factory=lambda: [127])
    nics: list[dict[str, Any]] = field(default_factory=list)
    cpu: int = 2
    memory_mb: int = 4096
    generation: str = "2"
    health: str = "Normal"  # replicationHealth once replicating: Normal | Warning | Critical
    rpo_seconds: int | None = None  # reported RPO once Protected (default: about the policy's interval)
    os_disk: int = 0  # index in disks_gb of the OS disk (Azure marks it vhdType OperatingSystem)


@dataclass
class Cloud:
    name: str
    vms: list[EstateVM] = field(default_factory=list)


@dataclass
class VmmServer:
    name: str
    register_with_vault: str | None
    clouds: list[Cloud] = field(default_factory=list)
    vm_networks: list[str] = field(default_factory=list)
    connected: bool = True


@dataclass
class Host:
    name: str
    vms: list[EstateVM] = field(default_factory=list)
    connected: bool = True


@dataclass
class HypervSite:
    name: str
    register_with_vault: str | None
    hosts: list[Host] = field(default_factory=list)


@dataclass
class Estate:
    subscription: str = DEFAULT_SUBSCRIPTION
    registration_delay: float = 0.0
    vmm_servers: list[VmmServer] = field(default_factory=list)
    hyperv_sites: list[HypervSite] = field(default_factory=list)
    seed: dict[str, Any] | None = None


# ---------------------------------------------------------------------------- validation

TOP_KEYS = {"subscription", "subscriptions", "registrationDelaySeconds", "principals", "azure", "vmmServers",
            "hypervSites", "seed"}
VM_KEYS = {"name", "osType", "disksGB", "osDisk", "nics", "cpu", "memoryMB", "generation", "replicationHealth",
           "rpoSeconds"}
NIC_KEYS = {"vmNetwork", "ipAddress"}
SEED_KEYS = {"resourceGroups", "vaults", "storageAccounts", "virtualNetworks", "sites", "policies", "associations",
             "networkMappings", "protectedVMs", "recoveryPlans"}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []

    def err(self, path: str, msg: str) -> None:
        self.problems.append((path, msg))

    def mapping(self, v: Any, path: str, keys: set[str] | None = None, required: tuple[str, ...] = ()) -> dict:
        if not isinstance(v, dict):
            self.err(path, "must be a mapping")
            return {}
        if keys is not None:
            for k in v:
                if k not in keys:
                    self.err(f"{path}.{k}" if path else str(k), f"unknown key (expected one of: {', '.join(sorted(keys))})")
        for k in required:
            if v.get(k) in (None, ""):
                self.err(f"{path}.{k}" if path else k, "is required")
        return v

    def seq(self, v: Any, path: str) -> list:
        if v is None:
            return []
        if not isinstance(v, list):
            self.err(path, "must be a list")
            return []
        return v

    def name(self, v: Any, path: str) -> str:
        if not isinstance(v, str) or not NAME_RE.match(v):
            self.err(path, f"{v!r} is not a valid name (1-64 letters, digits, spaces, . _ ( ) -)")
            return str(v)
        return v


def _vm(c: _Checker, v: Any, path: str, networks: set[str] | None) -> EstateVM | None:
    d = c.mapping(v, path, VM_KEYS, ("name",))
    if not d:
        return None
    name = c.name(d.get("name"), f"{path}.name")
    os_type = d.get("osType", "Windows")
    if os_type not in ("Windows", "Linux"):
        c.err(f"{path}.osType", f"must be Windows or Linux, not {os_type!r}")
    disks = d.get("disksGB", [127])
    if not isinstance(disks, list) or not disks or not all(isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 65536 for x in disks):
        c.err(f"{path}.disksGB", "must be a non-empty list of disk sizes in GB (1-65536)")
        disks = [127]
    nics = []
    for i, n in enumerate(c.seq(d.get("nics"), f"{path}.nics")):
        nd = c.mapping(n, f"{path}.nics[{i}]", NIC_KEYS)
        if nd.get("vmNetwork") is not None and networks is not None and nd["vmNetwork"] not in networks:
            c.err(f"{path}.nics[{i}].vmNetwork", f"{nd['vmNetwork']!r} is not one of the server's vmNetworks")
        nics.append(dict(nd))
    cpu = d.get("cpu", 2)
    if not isinstance(cpu, int) or isinstance(cpu, bool) or not 1 <= cpu <= 256:
        c.err(f"{path}.cpu", "must be an integer 1-256")
        cpu = 2
    mem = d.get("memoryMB", 4096)
    if not isinstance(mem, int) or isinstance(mem, bool) or not 256 <= mem <= 4 * 1024 * 1024:
        c.err(f"{path}.memoryMB", "must be an integer (MB) of at least 256")
        mem = 4096
    # default 2, but 1 for Linux: generation 2 Linux VMs are not supported (Hyper-V support matrix)
    gen = d.get("generation", 1 if os_type == "Linux" else 2)
    if gen not in (1, 2, "1", "2"):
        c.err(f"{path}.generation", "must be 1 or 2")
        gen = 2
    health = d.get("replicationHealth", "Normal")
    if health not in ("Normal", "Warning", "Critical"):
        c.err(f"{path}.replicationHealth", "must be Normal, Warning or Critical")
        health = "Normal"
    rpo = d.get("rpoSeconds")
    if rpo is not None and (not isinstance(rpo, int) or isinstance(rpo, bool) or rpo < 0):
        c.err(f"{path}.rpoSeconds", "must be a number of seconds >= 0")
        rpo = None
    os_disk = d.get("osDisk", 0)
    if not isinstance(os_disk, int) or isinstance(os_disk, bool) or not 0 <= os_disk < len(disks):
        c.err(f"{path}.osDisk", f"must be the index of the OS disk in disksGB (0-{len(disks) - 1})")
        os_disk = 0
    return EstateVM(name, os_type, list(disks), nics, cpu, mem, str(gen), health, rpo, os_disk)


def _connected(c: _Checker, d: dict, path: str) -> bool:
    v = d.get("connectionStatus", "Connected")
    if v not in ("Connected", "Disconnected"):
        c.err(f"{path}.connectionStatus", "must be Connected or Disconnected")
        return True
    return v == "Connected"


def _register_with(c: _Checker, d: dict, path: str) -> str | None:
    v = d.get("registerWithVault")
    if v is None:
        return None
    if not isinstance(v, str) or not re.match(r"^[A-Za-z][A-Za-z0-9-]{1,49}$", v):
        c.err(f"{path}.registerWithVault", f"{v!r} is not a vault name")
        return None
    return v


def _validate(data: Any) -> tuple[Estate, list[tuple[str, str]]]:
    c = _Checker()
    est = Estate()
    d = c.mapping(data, "", TOP_KEYS)
    sub = d.get("subscription", DEFAULT_SUBSCRIPTION)
    if not isinstance(sub, str) or not UUID_RE.match(sub):
        c.err("subscription", f"{sub!r} is not a subscription id (a UUID)")
    else:
        est.subscription = sub
    delay = d.get("registrationDelaySeconds", 0)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        c.err("registrationDelaySeconds", "must be a number of seconds >= 0")
    else:
        est.registration_delay = float(delay)
    seen_vms: dict[str, str] = {}
    seen_servers: set[str] = set()
    for i, s in enumerate(c.seq(d.get("vmmServers"), "vmmServers")):
        p = f"vmmServers[{i}]"
        sd = c.mapping(s, p, {"name", "registerWithVault", "clouds", "vmNetworks", "connectionStatus"}, ("name",))
        if not sd:
            continue
        name = c.name(sd.get("name"), f"{p}.name")
        if name.lower() in seen_servers:
            c.err(f"{p}.name", f"server {name!r} is listed twice")
        seen_servers.add(name.lower())
        nets = []
        for j, n in enumerate(c.seq(sd.get("vmNetworks"), f"{p}.vmNetworks")):
            nets.append(c.name(n, f"{p}.vmNetworks[{j}]"))
        if len({n.lower() for n in nets}) != len(nets):
            c.err(f"{p}.vmNetworks", "a VM network is listed twice")
        server = VmmServer(name, _register_with(c, sd, p), vm_networks=nets, connected=_connected(c, sd, p))
        cloud_names: set[str] = set()
        for j, cl in enumerate(c.seq(sd.get("clouds"), f"{p}.clouds")):
            cp = f"{p}.clouds[{j}]"
            cd = c.mapping(cl, cp, {"name", "vms"}, ("name",))
            if not cd:
                continue
            cname = c.name(cd.get("name"), f"{cp}.name")
            if cname.lower() in cloud_names:
                c.err(f"{cp}.name", f"cloud {cname!r} is listed twice")
            cloud_names.add(cname.lower())
            cloud = Cloud(cname)
            for k, v in enumerate(c.seq(cd.get("vms"), f"{cp}.vms")):
                vm = _vm(c, v, f"{cp}.vms[{k}]", set(nets))
                if vm is None:
                    continue
                key = f"vmm:{name}/{vm.name}".lower()
                if key in seen_vms:
                    c.err(f"{cp}.vms[{k}].name", f"VM {vm.name!r} is already listed at {seen_vms[key]}")
                seen_vms[key] = f"{cp}.vms[{k}]"
                cloud.vms.append(vm)
            server.clouds.append(cloud)
        est.vmm_servers.append(server)
    seen_sites: set[str] = set()
    for i, s in enumerate(c.seq(d.get("hypervSites"), "hypervSites")):
        p = f"hypervSites[{i}]"
        sd = c.mapping(s, p, {"name", "registerWithVault", "hosts"}, ("name",))
        if not sd:
            continue
        name = c.name(sd.get("name"), f"{p}.name")
        if name.lower() in seen_sites:
            c.err(f"{p}.name", f"site {name!r} is listed twice")
        seen_sites.add(name.lower())
        site = HypervSite(name, _register_with(c, sd, p))
        host_names: set[str] = set()
        for j, h in enumerate(c.seq(sd.get("hosts"), f"{p}.hosts")):
            hp = f"{p}.hosts[{j}]"
            hd = c.mapping(h, hp, {"name", "vms", "connectionStatus"}, ("name",))
            if not hd:
                continue
            hname = c.name(hd.get("name"), f"{hp}.name")
            if hname.lower() in host_names:
                c.err(f"{hp}.name", f"host {hname!r} is listed twice")
            host_names.add(hname.lower())
            host = Host(hname, connected=_connected(c, hd, hp))
            for k, v in enumerate(c.seq(hd.get("vms"), f"{hp}.vms")):
                vm = _vm(c, v, f"{hp}.vms[{k}]", None)
                if vm is None:
                    continue
                key = f"site:{name}/{vm.name}".lower()
                if key in seen_vms:
                    c.err(f"{hp}.vms[{k}].name", f"VM {vm.name!r} is already listed at {seen_vms[key]}")
                seen_vms[key] = f"{hp}.vms[{k}]"
                host.vms.append(vm)
            site.hosts.append(host)
        est.hyperv_sites.append(site)
    seed = d.get("seed")
    if seed is not None:
        sd = c.mapping(seed, "seed", SEED_KEYS)
        for key in SEED_KEYS:
            c.seq(sd.get(key), f"seed.{key}")
        est.seed = sd
    if not isinstance(d.get("principals", []), (list, type(None))):
        c.err("principals", "must be a list")
    return est, c.problems


def parse(data: Any, source: str = "<estate>") -> Estate:
    est, problems = _validate(data)
    if problems:
        raise EstateError([f"{source}: error: {p or '(top level)'}: {m}" for p, m in problems])
    return est


# ---------------------------------------------------------------------------- YAML with positions


def load_file(path: str) -> dict:
    """Read and validate an estate file; EstateError lists every problem as
    `FILE:LINE:COL: error: path: message`."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise EstateError([f"{path}: error: cannot read the estate file: {exc.strerror or exc}"]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else path
        raise EstateError([f"{where}: error: YAML syntax: {getattr(exc, 'problem', None) or exc}"]) from None
    if node is None:
        data: Any = {}
        marks: dict[str, tuple[int, int]] = {}
    else:
        dup = _duplicates(node, "")
        if dup:
            raise EstateError([f"{path}:{ln}:{col}: error: {p}: duplicate key" for p, (ln, col) in dup])
        data = yaml.safe_load(text) or {}
        marks = {}
        _marks(node, "", marks)
    est, problems = _validate(data)
    if problems:
        out = []
        for p, m in problems:
            ln, col = _nearest(marks, p)
            out.append(f"{path}:{ln}:{col}: error: {p or '(top level)'}: {m}")
        raise EstateError(out)
    return data


def _marks(node: Any, path: str, out: dict[str, tuple[int, int]]) -> None:
    import yaml

    out[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = str(k.value)
            p = f"{path}.{key}" if path else key
            out[p] = (k.start_mark.line + 1, k.start_mark.column + 1)
            _marks(v, p, out)
            out[p] = (k.start_mark.line + 1, k.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _marks(v, f"{path}[{i}]", out)


def _duplicates(node: Any, path: str) -> list[tuple[str, tuple[int, int]]]:
    import yaml

    found = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for k, v in node.value:
            key = str(k.value)
            p = f"{path}.{key}" if path else key
            if key in seen:
                found.append((p, (k.start_mark.line + 1, k.start_mark.column + 1)))
            seen.add(key)
            found.extend(_duplicates(v, p))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            found.extend(_duplicates(v, f"{path}[{i}]"))
    return found


def _nearest(marks: dict[str, tuple[int, int]], path: str) -> tuple[int, int]:
    p = path
    while p:
        if p in marks:
            return marks[p]
        if p.endswith("]"):
            p = p[: p.rfind("[")]
        elif "." in p:
            p = p[: p.rfind(".")]
        else:
            p = ""
    return marks.get("", (1, 1))


# ---------------------------------------------------------------------------- generator


def generate_estate(n_vms: int, *, vmm_servers: int = 1, clouds_per_server: int = 4, seed_protected: int | None = None,
                    vault: str = "bench-asr-vault", resource_group: str = "bench-dr-rg", location: str = "westeurope",
                    subscription: str = DEFAULT_SUBSCRIPTION, disks_gb: tuple[int, ...] = (127,),
                    recovery_plans: int = 0) -> dict:
    """An estate with `n_vms` VMs spread over VMM servers and clouds (policy `bench-5min`,
    VM network `Bench-VMNet` -> vnet `bench-vnet`). With `seed_protected=N`, the first
    N VMs are already Protected (policy, associations, network mapping, target
    resources all seeded): a vault asr has already applied."""
    servers: list[dict[str, Any]] = []
    vms_all: list[tuple[str, str, str]] = []
    per_cloud = max(1, -(-n_vms // max(1, vmm_servers * clouds_per_server)))
    k = 0
    for s in range(vmm_servers):
        sname = f"vmm{s + 1:02d}"
        clouds: list[dict[str, Any]] = []
        for c in range(clouds_per_server):
            cname = f"Cloud{c + 1:02d}"
            vms: list[dict[str, Any]] = []
            while len(vms) < per_cloud and k < n_vms:
                name = f"vm{k + 1:05d}"
                vms.append({"name": name, "osType": "Windows" if k % 4 else "Linux", "disksGB": list(disks_gb)})
                vms_all.append((sname, cname, name))
                k += 1
            clouds.append({"name": cname, "vms": vms})
        servers.append({"name": sname, "registerWithVault": vault, "clouds": clouds, "vmNetworks": ["Bench-VMNet"]})
    estate: dict[str, Any] = {"subscription": subscription, "registrationDelaySeconds": 0, "vmmServers": servers}
    if seed_protected:
        target_rg = resource_group.replace("-dr-", "-failover-") if "-dr-" in resource_group else resource_group + "-failover"
        estate["seed"] = {
            "resourceGroups": [{"name": resource_group, "location": location}, {"name": target_rg, "location": location}],
            "vaults": [{"name": vault, "resourceGroup": resource_group, "location": location}],
            "storageAccounts": [{"name": "benchasrlogs01", "resourceGroup": target_rg, "location": location, "sku": "Standard_LRS"}],
            "virtualNetworks": [{"name": "bench-vnet", "resourceGroup": target_rg, "location": location,
                                 "addressSpace": ["10.90.0.0/16"], "subnets": [{"name": "servers", "addressPrefix": "10.90.1.0/24"}]}],
            "policies": [{"name": "bench-5min", "replicationFrequencySeconds": 300, "recoveryPointRetentionHours": 24,
                          "appConsistentSnapshotFrequencyHours": 4}],
            "associations": [{"vmmServer": s["name"], "cloud": c["name"], "policy": "bench-5min"}
                             for s in servers for c in s["clouds"] if c["vms"]],
            "networkMappings": [{"vmmServer": s["name"], "vmNetwork": "Bench-VMNet", "network": "bench-vnet",
                                 "resourceGroup": target_rg} for s in servers],
            "protectedVMs": [
                {"name": name, "vmmServer": sname, "cloud": cname, "policy": "bench-5min",
                 "target": {"resourceGroup": target_rg, "network": "bench-vnet", "subnet": "servers",
                            "logStorageAccount": "benchasrlogs01", "diskType": "Standard_LRS", "size": "Standard_D2s_v5"}}
                for sname, cname, name in vms_all[:seed_protected]
            ],
            "recoveryPlans": [],
        }
        if recovery_plans:
            names = [n for _, _, n in vms_all[:seed_protected]]
            per = max(1, len(names) // recovery_plans)
            first_server = vms_all[0][0]
            for r in range(recovery_plans):
                chunk = [n for (s, _, n) in vms_all[r * per:(r + 1) * per] if s == first_server][:50]
                if chunk:
                    estate["seed"]["recoveryPlans"].append({"name": f"plan{r + 1:03d}", "groups": [{"vms": chunk}]})
    return estate


_DEFAULT_DATA: dict[tuple[int, int], dict] = {}


def _default_estate_data() -> dict:
    """data/default-estate.yaml as data, a fresh copy each call (parsed once per file version:
    tests build this estate hundreds of times)."""
    import copy
    import os

    import yaml

    path = os.path.join(os.path.dirname(__file__), "data", "default-estate.yaml")
    st = os.stat(path)
    key = (st.st_mtime_ns, st.st_size)
    if key not in _DEFAULT_DATA:
        with open(path, encoding="utf-8") as f:
            _DEFAULT_DATA.clear()
            _DEFAULT_DATA[key] = yaml.safe_load(f)
    return copy.deepcopy(_DEFAULT_DATA[key])


def quickstart_estate(*, azure: bool = True, applied: bool = False) -> dict:
    """The default (quickstart) estate as data, optionally with a `seed:` block:
    azure=True seeds what examples/quickstart.yaml declares on the Azure side
    (resource groups, vault, storage account, corp-vnet and corp-test-vnet);
    applied=True also seeds the policy, its association with Gold, the Corp-VMNet
    mapping, the four protected VMs (Protected) and the recovery plan tier1."""
    import copy

    est = _default_estate_data()
    if not (azure or applied):
        return est
    loc = "westeurope"
    seed: dict[str, Any] = {
        "resourceGroups": [{"name": "contoso-dr-rg", "location": loc}, {"name": "contoso-failover-rg", "location": loc}],
        "vaults": [{"name": "contoso-asr-vault", "resourceGroup": "contoso-dr-rg", "location": loc, "storageRedundancy": "GeoRedundant"}],
        "storageAccounts": [{"name": "contosoasrlogs01", "resourceGroup": "contoso-failover-rg", "location": loc, "sku": "Standard_LRS"}],
        "virtualNetworks": [
            {"name": "corp-vnet", "resourceGroup": "contoso-failover-rg", "location": loc, "addressSpace": ["10.10.0.0/16"],
             "subnets": [{"name": "servers", "addressPrefix": "10.10.1.0/24"}]},
            {"name": "corp-test-vnet", "resourceGroup": "contoso-failover-rg", "location": loc, "addressSpace": ["10.20.0.0/16"],
             "subnets": [{"name": "servers", "addressPrefix": "10.20.1.0/24"}]},
        ],
    }
    if applied:
        target = {"resourceGroup": "contoso-failover-rg", "network": "corp-vnet", "subnet": "servers",
                  "logStorageAccount": "contosoasrlogs01", "diskType": "Standard_LRS", "size": "Standard_D2s_v5"}
        seed.update({
            "policies": [{"name": "every-5-min", "replicationFrequencySeconds": 300, "recoveryPointRetentionHours": 24,
                          "appConsistentSnapshotFrequencyHours": 4}],
            "associations": [{"vmmServer": "vmm01", "cloud": "Gold", "policy": "every-5-min"}],
            "networkMappings": [{"vmmServer": "vmm01", "vmNetwork": "Corp-VMNet", "network": "corp-vnet",
                                 "resourceGroup": "contoso-failover-rg"}],
            "protectedVMs": [
                {"name": "sql01", "vmmServer": "vmm01", "cloud": "Gold", "policy": "every-5-min",
                 "target": dict(target, vmName="sql01-dr", size="Standard_D4s_v5", diskType="Premium_LRS",
                                availabilityZone="1", licenseType="WindowsServer", sqlServerLicenseType="AHUB",
                                tags={"app": "erp", "tier": "db"})},
            ] + [
                {"name": n, "vmmServer": "vmm01", "cloud": "Gold", "policy": "every-5-min",
                 "target": dict(copy.deepcopy(target), **({"disks": [{"name": "app02_disk1.vhdx", "exclude": True}]}
                                                           if n == "app02" else {}))}
                for n in ("app01", "app02", "web01")
            ],
            "recoveryPlans": [{"name": "tier1", "groups": [{"vms": ["sql01"]}, {"vms": ["app01", "app02", "web01"]}]}],
        })
    est["seed"] = seed
    return est

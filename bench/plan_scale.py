"""Bench: `asr plan` against the emulator at scale, side by side with a
Terraform-style refresh (one GET per declared resource, 10 in parallel).

    python bench/plan_scale.py                      # 100, 1,000, 5,000 VMs, 50 ms latency
    python bench/plan_scale.py --sizes 1000 --latency 50ms
    python bench/plan_scale.py --arm-limits         # also: 5,000-VM plan under ARM's token buckets

Estates come from `reconciler.emulator.estate.generate_estate(n, seed_protected=n)`:
every VM already protected, as if applied. The manifest declaring exactly that
estate is written next to it, so a correct plan is empty. Each `asr plan` runs in
a child process (so its peak RSS is its own) through the same code as the CLI.
Requests are counted by the emulator (`/_emulator/stats`). Also measured: the
local diff (make_plan alone) of 10,000 VMs. Prints a Markdown table; `--write`
replaces the "asr plan" section of docs/performance.md with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

SUB = "00000000-0000-0000-0000-000000000001"
VAULT, RG, TRG, LOC = "bench-asr-vault", "bench-dr-rg", "bench-failover-rg", "westeurope"


def generated_manifest(n_vms: int, *, vmm_servers: int = 1, clouds_per_server: int = 4) -> dict[str, Any]:
    """The asr/v1 manifest that declares exactly what generate_estate(n, seed_protected=n) seeds."""
    from reconciler.emulator.estate import generate_estate

    est = generate_estate(n_vms, vmm_servers=vmm_servers, clouds_per_server=clouds_per_server)
    servers, vms = [], []
    for s in est["vmmServers"]:
        clouds = [c for c in s["clouds"] if c["vms"]]
        servers.append({"name": s["name"], "clouds": [{"name": c["name"], "policy": "bench-5min"} for c in clouds],
                        "networkMappings": [{"vmNetwork": "Bench-VMNet", "targetNetwork": "bench-vnet"}]})
        for c in clouds:
            for vm in c["vms"]:
                vms.append({"name": vm["name"], "source": {"vmmServer": s["name"], "cloud": c["name"]},
                            "target": {"size": "Standard_D2s_v5", "network": "bench-vnet", "subnet": "servers",
                                       "diskType": "Standard_LRS", "logStorageAccount": "benchasrlogs01"}})
    return {
        "apiVersion": "asr/v1", "kind": "SiteRecovery", "subscription": SUB,
        "vault": {"name": VAULT, "resourceGroup": RG, "location": LOC},
        "source": {"vmmServers": servers},
        "target": {"resourceGroup": TRG, "storageAccounts": [{"name": "benchasrlogs01", "sku": "Standard_LRS"}],
                   "networks": [{"name": "bench-vnet", "addressSpace": ["10.90.0.0/16"],
                                 "subnets": [{"name": "servers", "addressPrefix": "10.90.1.0/24"}]}]},
        "policies": [{"name": "bench-5min", "replicationFrequencySeconds": 300, "recoveryPointRetentionHours": 24,
                      "appConsistentSnapshotFrequencyHours": 4}],
        "protectedVMs": vms,
    }


def write_manifest(n_vms: int, directory: str) -> str:
    import yaml

    path = os.path.join(directory, f"bench-{n_vms}.yaml")
    with open(path, "w", encoding="utf-8") as fh:
        yaml.safe_dump(generated_manifest(n_vms), fh, sort_keys=False)
    return path


# --------------------------------------------------------------------------- child: one asr plan
def child(manifest_path: str) -> None:
    from reconciler.azure.clients import Clients
    from reconciler.live import read_live_state
    from reconciler.manifest import load_manifest
    from reconciler.plan import make_plan

    t0 = time.perf_counter()  # what `asr plan FILE` does, timed by phase
    manifest = load_manifest(manifest_path)
    clients = Clients(manifest.subscription)
    # set-up the baseline's measurement also leaves out: SDK imports and client construction, the token
    for client in (clients.site_recovery(), clients.vaults, clients.resources, clients.storage, clients.network):
        assert client is not None
    clients.credential.get_token("https://management.azure.com/.default")
    t1 = time.perf_counter()
    live = read_live_state(clients, manifest)
    t2 = time.perf_counter()
    plan = make_plan(manifest, live, manifest_path)
    t3 = time.perf_counter()
    clients.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(json.dumps({"wall": t3 - t0, "load": t1 - t0, "read": t2 - t1, "diff": t3 - t2,
                      "changes": sum(1 for c in plan.changes if c.is_change),
                      "objects": len(plan.changes), "client_requests": plan.requests_made, "rss_mb": rss}))


def run_plan(emu: Any, manifest_path: str) -> dict[str, Any]:
    emu.reset_stats()
    env = dict(os.environ, **emu.env)
    out = subprocess.run([sys.executable, __file__, "--child", manifest_path], capture_output=True, text=True, env=env,
                         check=False)
    if out.returncode != 0:
        raise SystemExit(f"asr plan failed:\n{out.stderr}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    st = emu.stats()
    res.update(requests=st["requests"], throttled=st.get("throttled", 0))
    return res


# --------------------------------------------------------------------------- baseline: GET per resource
def terraform_style_refresh(emu: Any, manifest: dict[str, Any]) -> dict[str, Any]:
    """One GET per declared resource, 10 at a time, as a state refresh does (ids known from state)."""
    from reconciler.azure.clients import AzureSettings, Clients

    os.environ.update(emu.env)
    clients = Clients(SUB, settings=AzureSettings.from_env())
    sr = clients.site_recovery()
    # what a Terraform state would hold: the ids (read once, outside the measurement)
    items = [i.as_dict() for i in sr.replication_protected_items.list(RG, VAULT)]
    mappings = [m.as_dict() for m in sr.replication_protection_container_mappings.list(RG, VAULT)]
    nmaps = [m.as_dict() for m in sr.replication_network_mappings.list(RG, VAULT)]

    def seg(arm_id: str, key: str) -> str:
        parts = arm_id.split("/")
        low = [p.lower() for p in parts]
        return parts[low.index(key.lower()) + 1]

    calls = [lambda: clients.resources.resource_groups.get(RG), lambda: clients.resources.resource_groups.get(TRG),
             lambda: clients.vaults.vaults.get(RG, VAULT),
             lambda: clients.storage.storage_accounts.get_properties(TRG, "benchasrlogs01"),
             lambda: clients.network.virtual_networks.get(TRG, "bench-vnet"),
             lambda: sr.replication_policies.get(RG, VAULT, "bench-5min")]
    for m in mappings:
        calls.append(lambda m=m: sr.replication_protection_container_mappings.get(
            RG, VAULT, seg(m["id"], "replicationFabrics"), seg(m["id"], "replicationProtectionContainers"), m["name"]))
    for m in nmaps:
        calls.append(lambda m=m: sr.replication_network_mappings.get(
            RG, VAULT, seg(m["id"], "replicationFabrics"), seg(m["id"], "replicationNetworks"), m["name"]))
    for it in items:
        calls.append(lambda it=it: sr.replication_protected_items.get(
            RG, VAULT, seg(it["id"], "replicationFabrics"), seg(it["id"], "replicationProtectionContainers"), it["name"]))
    emu.reset_stats()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda f: f(), calls))
    wall = time.perf_counter() - t0
    clients.close()
    st = emu.stats()
    return {"wall": wall, "requests": st["requests"], "throttled": st.get("throttled", 0)}


def local_diff(n_vms: int, emu: Any, tmp: str) -> float:
    """make_plan alone on a LiveState of n VMs read from the emulator (no latency)."""
    from reconciler.azure.clients import Clients
    from reconciler.emulator.estate import generate_estate
    from reconciler.live import read_live_state
    from reconciler.manifest import load_manifest
    from reconciler.plan import make_plan

    emu.reset(estate=generate_estate(n_vms, seed_protected=n_vms), page_size=1000)
    os.environ.update(emu.env)
    path = write_manifest(n_vms, tmp)
    m = load_manifest(path)
    clients = Clients(SUB)
    live = read_live_state(clients, m)
    clients.close()
    best, best_cpu = float("inf"), float("inf")
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        plan = make_plan(m, live, path)
        best, best_cpu = min(best, time.perf_counter() - t0), min(best_cpu, time.process_time() - c0)
    assert not plan.has_changes, "the generated manifest should match the seeded estate"
    return best, best_cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", metavar="MANIFEST", help=argparse.SUPPRESS)
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--latency", default="50ms")
    ap.add_argument("--arm-limits", action="store_true", help="also plan the largest estate under ARM's token buckets")
    ap.add_argument("--local-diff", type=int, default=10000, help="VMs for the local-diff timing (0: skip)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size and side; the best is reported")
    ap.add_argument("--write", action="store_true", help="write the results into docs/performance.md")
    args = ap.parse_args(argv)
    if args.child:
        child(args.child)
        return 0

    from reconciler.emulator.estate import generate_estate
    from reconciler.emulator.testing import EmulatorProcess

    sizes = [int(s) for s in args.sizes.split(",") if s]
    faults = f"latency={args.latency}" if args.latency else None
    rows = []
    with tempfile.TemporaryDirectory() as tmp, EmulatorProcess() as emu:
        for n in sizes:
            emu.reset(estate=generate_estate(n, seed_protected=n), faults=faults)
            path = write_manifest(n, tmp)
            # best of --repeat for both sides (the machine is shared; each side gets the same chances)
            plan = min((run_plan(emu, path) for _ in range(args.repeat)), key=lambda r: r["read"])
            base = min((terraform_style_refresh(emu, generated_manifest(n)) for _ in range(args.repeat)),
                       key=lambda r: r["wall"])
            rows.append((n, plan, base))
            print(f"{n:>6} VMs: asr plan {plan['requests']:>5} requests {plan['wall']:7.2f} s (read {plan['read']:.2f} s) "
                  f"(rss {plan['rss_mb']:.0f} MB, {plan['changes']} changes) | "
                  f"GET per resource {base['requests']:>5} requests {base['wall']:7.2f} s", flush=True)
        limits = None
        if args.arm_limits:
            n = max(sizes)
            emu.reset(estate=generate_estate(n, seed_protected=n), faults=faults, arm_limits=True)
            path = write_manifest(n, tmp)
            limits = (n, run_plan(emu, path))
            print(f"{n:>6} VMs with --arm-limits: {limits[1]['requests']} requests, {limits[1]['throttled']} throttled, "
                  f"{limits[1]['wall']:.2f} s", flush=True)
        diff = local_diff(args.local_diff, emu, tmp) if args.local_diff else None
        if diff is not None:
            print(f"local diff of {args.local_diff} VMs: {diff[0]:.3f} s wall, {diff[1]:.3f} s CPU", flush=True)
    table = render_table(rows, limits, diff, args)
    print()
    print(table)
    if args.write:
        write_section(table)
    return 0


def render_table(rows: list, limits: Any, diff: float | None, args: argparse.Namespace) -> str:
    lines = [f"Measured {time.strftime('%Y-%m-%d')} with `python bench/plan_scale.py"
             + (" --arm-limits" if args.arm_limits else "") + f"` (emulator `--faults latency={args.latency}`, "
             f"page size 100, every VM already protected: each plan is empty; best of {args.repeat} runs per side; "
             f"load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores).", "",
             "| VMs | asr plan: requests | live read | whole plan | peak RSS | GET per resource (10 parallel): requests | wall | requests ratio | time ratio (read / whole) |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for n, p, b in rows:
        lines.append(f"| {n:,} | {p['requests']} | {p['read']:.2f} s | {p['wall']:.2f} s | {p['rss_mb']:.0f} MB | "
                     f"{b['requests']:,} | {b['wall']:.2f} s | {b['requests'] / max(1, p['requests']):.1f}x | "
                     f"{b['wall'] / max(1e-9, p['read']):.1f}x / {b['wall'] / max(1e-9, p['wall']):.1f}x |")
    lines.append("")
    lines.append("\"live read\" is `read_live_state` with the SDK clients built and a token in hand, the exact "
                 "counterpart of the baseline's timed refresh (whose clients, token and ids are also prepared "
                 "beforehand); \"whole plan\" is the whole `asr plan` in a fresh process: manifest loading and "
                 "validation, SDK imports and client construction, token, read and diff. Peak RSS is the plan "
                 "process's.")
    lines.append("")
    if limits:
        n, p = limits
        lines.append(f"With `--arm-limits` (ARM token buckets, reads 250 + 25/s): plan of {n:,} VMs made "
                     f"{p['requests']} requests, **{p['throttled']} throttled**, {p['wall']:.2f} s.")
    if diff is not None:
        lines.append(f"Local diff (make_plan alone, live state already read) of {args.local_diff:,} VMs: "
                     f"{diff[0]:.3f} s wall, {diff[1]:.3f} s CPU (best of 3).")
    return "\n".join(lines)


def write_section(table: str) -> None:
    path = os.path.join(REPO, "docs", "performance.md")
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    head = "## asr plan (`bench/plan_scale.py`)"
    start = text.index(head) + len(head)
    nxt = text.find("\n## ", start)
    end = nxt if nxt != -1 else len(text)
    text = text[:start] + "\n\n" + table + "\n" + text[end:]
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


if __name__ == "__main__":
    sys.exit(main())

"""Bench: `asr apply` enabling protection for many VMs against the emulator with
Azure Resource Manager's request limits on (--arm-limits: writes 200 tokens,
refilled 10 per second; reads 250, 25 per second).

For each size (200 and 1,000 VMs by default) and each parallelism (the default 10
and 1) it starts from a fresh emulator state, runs the real `asr apply
--auto-approve` path in process, and prints, side by side:

    wall time, requests, writes, 429s received, job-list reads, and the floor set by
    the write limit: (writes - 200) / 10 s (nothing can be faster than that).

    python bench/apply_scale.py                       # 200 and 1000, parallelism 10 and 1
    python bench/apply_scale.py --sizes 200 --parallelism 10

Targets: 1,000 VMs within 1.25x of the floor, fewer than 1% of requests answered 429.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

SUB = "00000000-0000-0000-0000-000000000001"
TIME_SCALE = 600.0


def estate(n: int) -> dict:
    return {
        "subscription": SUB,
        "registrationDelaySeconds": 0,
        "vmmServers": [{
            "name": "vmm01",
            "registerWithVault": "bench-asr-vault",
            "clouds": [{"name": "Gold", "vms": [
                {"name": f"vm{i:04d}", "osType": "Windows", "disksGB": [127]} for i in range(n)]}],
            "vmNetworks": ["Corp-VMNet"],
        }],
    }


def manifest(n: int) -> dict:
    return {
        "apiVersion": "asr/v1",
        "kind": "SiteRecovery",
        "subscription": SUB,
        "vault": {"name": "bench-asr-vault", "resourceGroup": "bench-dr-rg", "location": "westeurope",
                  "storageRedundancy": "LocallyRedundant"},
        "source": {"vmmServers": [{
            "name": "vmm01",
            "clouds": [{"name": "Gold", "policy": "every-5-min"}],
            "networkMappings": [{"vmNetwork": "Corp-VMNet", "targetNetwork": "bench-vnet"}],
        }]},
        "target": {
            "resourceGroup": "bench-failover-rg",
            "storageAccounts": [{"name": "benchasrlogs01", "sku": "Standard_LRS"}],
            "networks": [{"name": "bench-vnet", "addressSpace": ["10.70.0.0/16"],
                          "subnets": [{"name": "servers", "addressPrefix": "10.70.0.0/20"}]}],
        },
        "policies": [{"name": "every-5-min", "replicationFrequencySeconds": 300,
                      "recoveryPointRetentionHours": 24, "appConsistentSnapshotFrequencyHours": 4}],
        "protectedVMs": [{
            "name": f"vm{i:04d}",
            "source": {"vmmServer": "vmm01", "cloud": "Gold"},
            "target": {"size": "Standard_D2s_v5", "network": "bench-vnet", "subnet": "servers",
                       "diskType": "Standard_LRS", "logStorageAccount": "benchasrlogs01"},
        } for i in range(n)],
    }


def run_one(emu, workdir: str, n: int, parallelism: int) -> dict:
    from reconciler.cli.main import main as asr_main

    path = os.path.join(workdir, f"bench-{n}.yaml")
    with open(path, "w") as fh:
        yaml.safe_dump(manifest(n), fh, sort_keys=False)
    emu.reset(estate=estate(n), time_scale=TIME_SCALE, arm_limits=True)
    emu.reset_stats()
    out = io.StringIO()
    t0 = time.monotonic()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        rc = asr_main(["apply", path, "--auto-approve", "--parallelism", str(parallelism), "--log-format", "json"])
    wall = time.monotonic() - t0
    stats = emu.stats()
    summary = {}
    import json

    for line in out.getvalue().splitlines():
        try:
            d = json.loads(line)
        except ValueError:
            continue
        if d.get("event") == "summary":
            summary = d
    writes = int(stats.get("writes", 0)) + int(stats.get("deletes", 0))
    floor = max(0.0, (writes - 200) / 10.0)
    req = int(stats.get("requests", 0))
    throttled = int(stats.get("throttled", 0))
    return {
        "vms": n, "parallelism": parallelism, "rc": rc, "wall": wall, "requests": req,
        "writes": writes, "reads": int(stats.get("reads", 0)), "throttled": throttled,
        "throttled_pct": 100.0 * throttled / req if req else 0.0, "floor": floor,
        "ratio": wall / floor if floor else float("nan"),
        "counts": summary.get("counts", {}),
        "job_list_reads": (summary.get("requests") or {}).get("job_list_reads"),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--parallelism", type=int, nargs="+", default=[10, 1])
    args = ap.parse_args(argv)

    from reconciler.emulator.testing import EmulatorProcess

    os.environ.setdefault("ASR_REPLAN_INTERVAL", "1")
    rows = []
    with tempfile.TemporaryDirectory() as wd, EmulatorProcess(args=["--arm-limits", "--time-scale", str(TIME_SCALE)]) as emu:
        os.environ.update(emu.env)
        for n in args.sizes:
            for p in args.parallelism:
                r = run_one(emu, wd, n, p)
                rows.append(r)
                print(f"  done: {n} VMs, parallelism {p}: {r['wall']:.1f} s, rc {r['rc']}", file=sys.stderr, flush=True)
    hdr = f"{'VMs':>5} {'par':>4} {'rc':>3} {'wall s':>8} {'floor s':>8} {'x floor':>8} {'requests':>9} " \
          f"{'writes':>7} {'reads':>6} {'429s':>5} {'429 %':>6} {'job lists':>9}"
    print(hdr)
    for r in rows:
        jl = r["job_list_reads"] if r["job_list_reads"] is not None else "-"
        print(f"{r['vms']:>5} {r['parallelism']:>4} {r['rc']:>3} {r['wall']:>8.1f} {r['floor']:>8.1f} "
              f"{r['ratio']:>8.2f} {r['requests']:>9} {r['writes']:>7} {r['reads']:>6} {r['throttled']:>5} "
              f"{r['throttled_pct']:>6.2f} {jl:>9}")
    ok = all(r["rc"] == 0 for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

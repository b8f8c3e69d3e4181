"""Bench: one full paged list of a vault's replicated items, through the real SDK.

Starts `asr emulator serve`, resets it to a generated estate whose N VMs are already
Protected (the estate's `seed:` block, applied through the emulator's own handlers),
then times `replication_protected_items.list()` over HTTPS, following every nextLink.

    python bench/emulator_list.py [--vms 5000] [--page-size 100] [--repeat 3]

Prints items, pages, wall time of the list (best and median of --repeat), the seed
time, and the peak RSS of the emulator and of this client process.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SUB = "00000000-0000-0000-0000-000000000001"


def peak_rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vms", type=int, default=5000)
    ap.add_argument("--page-size", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)

    from reconciler.emulator.estate import generate_estate
    from reconciler.emulator.testing import EmulatorProcess

    estate = generate_estate(args.vms, vmm_servers=2, clouds_per_server=4, seed_protected=args.vms)
    with EmulatorProcess() as emu:
        t0 = time.perf_counter()
        emu.reset(estate=estate, page_size=args.page_size)
        seed_s = time.perf_counter() - t0
        os.environ.update(emu.env)
        from reconciler.azure.clients import Clients

        clients = Clients(SUB)
        asr = clients.site_recovery()
        asr.replication_fabrics.list("bench-dr-rg", "bench-asr-vault")  # warm: token, TLS session
        list(asr.replication_fabrics.list("bench-dr-rg", "bench-asr-vault"))
        # what the emulator answers: every page over HTTPS, JSON parsed, no SDK models
        import requests

        token = clients.credential.get_token("https://management.azure.com/.default").token
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {token}"
        raw_times = []
        for _ in range(max(1, args.repeat)):
            t = time.perf_counter()
            url = (f"{emu.url}/subscriptions/{SUB}/resourceGroups/bench-dr-rg/providers/Microsoft.RecoveryServices/vaults/"
                   "bench-asr-vault/replicationProtectedItems?api-version=2025-08-01")
            raw_items = 0
            while url:
                page = http.get(url, verify=emu.ca_bundle).json()
                raw_items += len(page["value"])
                url = page.get("nextLink")
            raw_times.append(time.perf_counter() - t)
            assert raw_items == args.vms
        times = []
        items = pages = 0
        for _ in range(max(1, args.repeat)):
            emu.reset_stats()
            t = time.perf_counter()
            got = list(asr.replication_protected_items.list("bench-dr-rg", "bench-asr-vault"))
            times.append(time.perf_counter() - t)
            items = len(got)
            pages = emu.stats()["reads"]
            assert all(i.properties.protection_state == "Protected" for i in got)
        emu_rss = peak_rss_mb(emu.proc.pid) if emu.proc else None
        clients.close()
    client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"items            {items}")
    print(f"pages            {pages} (page size {args.page_size})")
    print(f"emulator answers best {min(raw_times):.3f} s, median {statistics.median(raw_times):.3f} s "
          f"(all pages over HTTPS, JSON parsed)")
    print(f"SDK list         best {min(times):.3f} s, median {statistics.median(times):.3f} s over {len(times)} runs "
          f"(replication_protected_items.list(), models deserialized)")
    print(f"seed (reset)     {seed_s:.2f} s for {args.vms} protected VMs")
    print(f"peak RSS         emulator {emu_rss:.0f} MB, client {client_rss:.0f} MB" if emu_rss else
          f"peak RSS         client {client_rss:.0f} MB")
    return 0 if items == args.vms else 1


if __name__ == "__main__":
    sys.exit(main())

"""Offline validation speed: `validate_text` of a manifest with N VMs in N/100 recovery plans,
valid and with every recovery-plan reference broken. Prints figures; asserts nothing.

    .venv/bin/python bench/validate_scale.py [N ...]
"""

from __future__ import annotations

import pathlib
import sys
import time

import yaml

from reconciler.manifest import validate_text

QUICKSTART = pathlib.Path(__file__).resolve().parent.parent / "examples" / "quickstart.yaml"


def manifest(n: int) -> str:
    doc = yaml.safe_load(QUICKSTART.read_text())
    vm = doc["protectedVMs"][1]
    doc["protectedVMs"] = [dict(vm, name=f"vm{i:05d}") for i in range(n)]
    doc["recoveryPlans"] = [{"name": f"rp{j}", "groups": [{"vms": [f"vm{i:05d}" for i in range(j * 100, j * 100 + 100)]}]}
                            for j in range(n // 100)]
    return yaml.safe_dump(doc, sort_keys=False)


def main(sizes: list[int]) -> None:
    print(f"{'VMs':>6} {'valid (s)':>10} {'broken refs (s)':>16} {'errors':>7}")
    for n in sizes:
        text = manifest(n)
        t0 = time.perf_counter()
        _, diags = validate_text(text, "big.yaml", env={})
        t1 = time.perf_counter()
        assert not diags, diags[:3]
        _, broken = validate_text(text.replace("- vm0", "- vx0"), "big.yaml", env={})
        t2 = time.perf_counter()
        print(f"{n:>6} {t1 - t0:>10.2f} {t2 - t1:>16.2f} {len(broken):>7}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 5000])

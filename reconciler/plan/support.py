"""Site Recovery's Azure VM requirements for Hyper-V to Azure, as the support matrix
states them (learn.microsoft.com/azure/site-recovery/hyper-v-azure-support-matrix,
"Azure VM requirements": "Prerequisites check fails if unsupported"). Azure checks them
in the enable job, after the PUT was accepted; the planner checks the discovered VM
against them first, so the plan warns before apply starts a job bound to fail
(docs/fidelity.md F-060..F-064)."""

from __future__ import annotations

from typing import Any

from reconciler.live.state import props
from reconciler.manifest import naming

OS_DISK_MAX_GB = {"1": 2048, "2": 300}
DATA_DISK_MAX_GB = 4095
DATA_DISK_MAX_COUNT = 16


def prerequisite_problems(protectable: dict[str, Any], azure_vm_name: str) -> list[str]:
    """What the enable job's prerequisites check would refuse for this discovered VM."""
    out: list[str] = []
    if not naming.VM.match(azure_vm_name or ""):
        out.append(f"the Azure VM name '{azure_vm_name}' is not 1-63 letters, digits and hyphens "
                   "starting and ending with a letter or digit")
    cd = props(protectable).get("customDetails") or {}
    gen = str(cd.get("generation") or "")
    os_type = str((cd.get("osDetails") or {}).get("osType") or "")
    if gen == "2" and os_type.lower() == "linux":
        out.append("it is a generation 2 Linux VM, which Site Recovery does not replicate to Azure")
    disks = cd.get("diskDetails") or []
    os_disks = [d for d in disks if str(d.get("vhdType") or "").lower() == "operatingsystem"]
    data = [d for d in disks if d not in os_disks]

    def gb(d: dict) -> float:
        try:
            return float(d.get("maxSizeMB") or 0) / 1024
        except (TypeError, ValueError):
            return 0.0

    limit = OS_DISK_MAX_GB.get(gen)
    if limit is not None and len(os_disks) == 1 and gb(os_disks[0]) > limit:
        out.append(f"its OS disk has {gb(os_disks[0]):g} GB; a generation {gen} VM's OS disk can have at most {limit} GB")
    if len(data) > DATA_DISK_MAX_COUNT:
        out.append(f"it has {len(data)} data disks; at most {DATA_DISK_MAX_COUNT} are supported")
    big = [d for d in data if gb(d) > DATA_DISK_MAX_GB]
    if big:
        out.append(f"its data disk {big[0].get('vhdName') or big[0].get('vhdId')} has {gb(big[0]):g} GB; "
                   f"at most {DATA_DISK_MAX_GB} GB")
    return out

"""ARM ids of the Site Recovery tree.

Microsoft's examples answer ids as `/Subscriptions/...` (capital S) while
clients send `/subscriptions/...`; everything here compares ids
case-insensitively and renders them the way Azure does.
"""

from __future__ import annotations

import functools
import hashlib
import re
import uuid

RP = "Microsoft.RecoveryServices"
AZURE_FABRIC = "Microsoft Azure"  # recovery fabric / container name for Hyper-V to Azure

_NS = uuid.UUID("5b0f4c36-5d0a-4d53-9a4e-3f1d2b6c7a10")


@functools.lru_cache(maxsize=65536)
def guid(*parts: str) -> str:
    """A stable GUID derived from names, so a re-loaded estate keeps its ids."""
    return str(uuid.uuid5(_NS, "/".join(p.lower() for p in parts)))


@functools.lru_cache(maxsize=4096)
def hexname(*parts: str) -> str:
    """A 64-hex-digit name, the form Azure uses for VMM fabric names."""
    return hashlib.sha256("/".join(p.lower() for p in parts).encode()).hexdigest()


def vault_id(subscription: str, resource_group: str, vault: str) -> str:
    return f"/Subscriptions/{subscription}/resourceGroups/{resource_group}/providers/{RP}/vaults/{vault}"


def norm(arm_id: str | None) -> str:
    """Key for case-insensitive comparison of ARM ids."""
    return (arm_id or "").strip().rstrip("/").lower()


def same(a: str | None, b: str | None) -> bool:
    return norm(a) == norm(b)


_SEG = re.compile(r"/+")


def segments(arm_id: str) -> list[str]:
    return [s for s in _SEG.split(arm_id.strip()) if s]


def parse(arm_id: str | None) -> dict[str, str]:
    """Split an ARM id into lower-cased type keys -> names:
    `{"subscriptions": sub, "resourcegroups": rg, "providers": ns, "vaults": v, ...}`.
    Unparseable input gives {}."""
    if not arm_id or not isinstance(arm_id, str) or not arm_id.startswith("/"):
        return {}
    segs = segments(arm_id)
    if len(segs) % 2:
        return {}
    out: dict[str, str] = {}
    for i in range(0, len(segs), 2):
        out[segs[i].lower()] = segs[i + 1]
    return out


def last_name(arm_id: str | None) -> str:
    segs = segments(arm_id or "")
    return segs[-1] if segs else ""


def resource_type_of(arm_id: str) -> str:
    """`Microsoft.Network/virtualNetworks` style type of an id (lower-cased), or ''."""
    segs = segments(arm_id)
    try:
        i = [s.lower() for s in segs].index("providers")
    except ValueError:
        return ""
    rest = segs[i + 1:]
    if not rest:
        return ""
    ns = rest[0]
    types = [rest[j] for j in range(1, len(rest), 2)]
    return "/".join([ns] + types).lower()

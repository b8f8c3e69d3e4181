"""Fixtures of the day-2 tests: manifests from examples/, REST-shaped items."""

from __future__ import annotations

import copy
import functools
import os
from typing import Any

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")


@functools.cache
def _example_doc(name: str) -> Any:
    with open(os.path.join(EXAMPLES, name), encoding="utf-8") as fh:
        return yaml.safe_load(fh)  # about 7 ms of pure-Python YAML per example: parsed once per process


def example_manifest(name: str) -> Any:
    """A new Manifest of examples/NAME each call (the parsed YAML is cached, a deep copy validated)."""
    from reconciler.manifest.models import Manifest

    return Manifest.model_validate(copy.deepcopy(_example_doc(name)))


@pytest.fixture
def quickstart() -> Any:
    return example_manifest("quickstart.yaml")


@pytest.fixture
def hyperv() -> Any:
    return example_manifest("hyperv-site.yaml")


def item_json(vm: str, *, state: str = "Protected", allowed: list[str] | None = None, location: str = "Primary",
              tfo: str = "None", health: str = "Normal", scenario: str = "None", job: str | None = None,
              rpo: int | None = 120, errors: list[dict] | None = None, fabric: str = "fab-vmm01",
              container: str = "cloud_1") -> dict[str, Any]:
    guid = f"guid-{vm}"
    base = ("/Subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/contoso-dr-rg/providers/"
            "Microsoft.RecoveryServices/vaults/contoso-asr-vault")
    return {
        "id": f"{base}/replicationFabrics/{fabric}/replicationProtectionContainers/{container}/replicationProtectedItems/{guid}",
        "name": guid,
        "type": "Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers/replicationProtectedItems",
        "properties": {
            "friendlyName": vm,
            "protectedItemType": "HyperVVirtualMachine",
            "protectionState": state,
            "protectionStateDescription": state,
            "activeLocation": location,
            "testFailoverState": tfo,
            "testFailoverStateDescription": tfo,
            "allowedOperations": allowed if allowed is not None else
            ["PlannedFailover", "UnplannedFailover", "DisableProtection", "TestFailover"],
            "replicationHealth": health,
            "healthErrors": errors or [],
            "policyId": f"{base}/replicationPolicies/every-5-min",
            "policyFriendlyName": "every-5-min",
            "currentScenario": {"scenarioName": scenario, "jobId": job, "startTime": "2026-01-01T00:00:00Z"},
            "providerSpecificDetails": {
                "instanceType": "HyperVReplicaAzure",
                "rpoInSeconds": rpo,
                "lastReplicatedTime": "2026-01-01T00:00:00Z",
                "recoveryAzureVmName": vm,
                "vmId": f"vmid-{vm}",
                "oSDetails": {"osType": "Windows"},
            },
        },
    }


@pytest.fixture
def protected(emulator, monkeypatch):
    """The quickstart estate with every VM of examples/quickstart.yaml protected (time scale 600), and the
    day-2 job polls sized to it."""
    from tests.ops.helpers import protect

    monkeypatch.setenv("ASR_JOB_POLL_MIN_SECONDS", "0.2")
    monkeypatch.setenv("ASR_JOB_POLL_SECONDS", "0.5")
    monkeypatch.setenv("ASR_JOB_TIMEOUT_SECONDS", "120")
    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "quickstart.yaml"), time_scale=600)
    protect(emulator, example_manifest("quickstart.yaml"))
    return emulator

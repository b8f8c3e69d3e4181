"""The Site Recovery objects of one vault and their exact REST JSON shapes
(azure-mgmt-recoveryservicessiterecovery 2.0.0 models, api-version 2025-08-01,
checked against Microsoft's example files for that version).

Objects are plain Python; `to_json(now)` renders what a GET answers at simulated
time `now` (progress, RPO and job state are computed, never stored).
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.emulator.siterecovery import statemachine as sm
from reconciler.emulator.siterecovery.ids import AZURE_FABRIC, guid, hexname, last_name
from reconciler.emulator.siterecovery.jobs import IDLE_START, Job, iso

T_FABRIC = "Microsoft.RecoveryServices/vaults/replicationFabrics"
T_PROVIDER = T_FABRIC + "/replicationRecoveryServicesProviders"
T_CONTAINER = T_FABRIC + "/replicationProtectionContainers"
T_PROTECTABLE = T_CONTAINER + "/replicationProtectableItems"
T_PROTECTED = T_CONTAINER + "/replicationProtectedItems"
T_CMAPPING = T_CONTAINER + "/replicationProtectionContainerMappings"
T_NETWORK = T_FABRIC + "/replicationNetworks"
T_NMAPPING = T_NETWORK + "/replicationNetworkMappings"
T_POLICY = "Microsoft.RecoveryServices/vaults/replicationPolicies"
T_PLAN = "Microsoft.RecoveryServices/vaults/replicationRecoveryPlans"

PROVIDER_VERSION = "5.24.0814.2"
SERVER_VERSION = "3.3.7290.0"
MARS_VERSION = "2.0.9277.0"

# Initial replication / resync speed (simulated): 100 GB per 10 minutes.
GB_PER_SECOND = 100.0 / 600.0
RESYNC_FRACTION = 0.1  # reverse replication transfers only the changed blocks: 10 % of the disks


class Vault:
    """ASR view of one Recovery Services vault."""

    def __init__(self, vault_id: str, subscription: str, resource_group: str, name: str, location: str, created: float) -> None:
        self.id = vault_id  # canonical /Subscriptions/... form
        self.subscription = subscription
        self.resource_group = resource_group
        self.name = name
        self.location = location
        self.created = created
        self.fabrics: dict[str, Fabric] = {}
        self.policies: dict[str, Policy] = {}
        self.plans: dict[str, RecoveryPlan] = {}
        self.jobs: list[Job] = []
        self.jobs_by_name: dict[str, Job] = {}
        self.pending: dict[tuple[str, str], Job] = {}  # (kind, lower name) -> create job of an object not there yet
        self.items_by_vm: dict[str, ProtectedItem] = {}  # lower VM guid -> item
        self.registered: set[str] = set()  # estate keys registered into this vault

    @property
    def azure_fabric_id(self) -> str:
        return f"{self.id}/replicationFabrics/{hexname(self.id, 'Microsoft Azure')}"

    @property
    def azure_container_id(self) -> str:
        return f"{self.azure_fabric_id}/replicationProtectionContainers/{guid(self.id, 'Microsoft Azure')}"

    def idle_scenario(self) -> dict[str, Any]:
        return {"scenarioName": "None", "jobId": f"{self.id}/replicationJobs/None", "startTime": IDLE_START}

    def protected_items(self) -> list[ProtectedItem]:
        out: list[ProtectedItem] = []
        for f in self.fabrics.values():
            for c in f.containers.values():
                out.extend(c.items.values())
        return out


class Fabric:
    def __init__(self, vault: Vault, name: str, friendly: str, kind: str, created: float) -> None:
        self.vault = vault
        self.name = name
        self.friendly = friendly
        self.kind = kind  # VMM | HyperVSite
        self.internal_id = guid(vault.id, "fabric", name)
        self.created = created
        self.providers: dict[str, Provider] = {}
        self.containers: dict[str, Container] = {}
        self.networks: dict[str, Network] = {}
        self.job: Job | None = None  # delete job in flight

    @property
    def id(self) -> str:
        return f"{self.vault.id}/replicationFabrics/{self.name}"

    def to_json(self, now: float) -> dict[str, Any]:
        custom: dict[str, Any] = {"instanceType": self.kind}
        if self.kind == "HyperVSite":
            custom["hyperVHosts"] = [
                {"id": p.name, "name": p.friendly, "marsAgentVersion": MARS_VERSION} for p in self.providers.values()
            ]
        return {
            "name": self.name,
            "type": T_FABRIC,
            "id": self.id,
            "properties": {
                "friendlyName": self.friendly,
                "encryptionDetails": {"kekState": "None"},
                "rolloverEncryptionDetails": {"kekState": "None"},
                "internalIdentifier": self.internal_id,
                "bcdrState": "Valid",
                "customDetails": custom,
                "healthErrorDetails": [],
                "health": "Normal",
            },
        }


class Provider:
    def __init__(self, fabric: Fabric, name: str, friendly: str, registered: float, connected: bool = True) -> None:
        self.fabric = fabric
        self.name = name
        self.friendly = friendly
        self.registered = registered
        self.connected = connected  # estate connectionStatus: a disconnected provider stops heartbeating

    @property
    def id(self) -> str:
        return f"{self.fabric.id}/replicationRecoveryServicesProviders/{self.name}"

    def to_json(self, now: float) -> dict[str, Any]:
        count = sum(
            1 for c in self.fabric.containers.values() for it in c.items.values() if it.vm.provider is self
        )
        # the provider heartbeats every 5 simulated minutes
        beat = now - ((now - self.registered) % 300.0) if now >= self.registered and self.connected else self.registered
        return {
            "name": self.name,
            "type": T_PROVIDER,
            "id": self.id,
            "properties": {
                "fabricType": self.fabric.kind,
                "friendlyName": self.friendly,
                "providerVersion": PROVIDER_VERSION,
                "serverVersion": SERVER_VERSION,
                "providerVersionState": "Latest",
                "fabricFriendlyName": self.fabric.friendly,
                "lastHeartBeat": iso(beat),
                "connectionStatus": "Connected" if self.connected else "Disconnected",
                "protectedItemCount": count,
                "allowedScenarios": ["Refresh"],
                "healthErrorDetails": [],
                "machineName": self.friendly,
                "machineId": guid(self.id, "machine"),
            },
        }


class VM:
    """An on-premises VM as ASR discovers it (a protectable item)."""

    __slots__ = ("container", "name", "friendly", "os_type", "disks_gb", "disk_ids", "nics", "provider",
                 "cpu", "memory_mb", "generation", "host", "health", "rpo_override", "os_disk")

    def __init__(self, container: Container, name: str, friendly: str, os_type: str, disks_gb: list[int],
                 nics: list[tuple[str, str | None, str | None]], provider: Provider, cpu: int, memory_mb: int,
                 generation: str, host: str | None) -> None:
        self.container = container
        self.name = name  # the VM's GUID
        self.friendly = friendly
        self.os_type = os_type
        self.disks_gb = disks_gb
        self.disk_ids = [guid(name, "disk", str(i)) for i in range(len(disks_gb))]
        self.nics = nics  # [(nicId, vmNetworkName or None, ip or None)]
        self.provider = provider
        self.cpu = cpu
        self.memory_mb = memory_mb
        self.generation = generation
        self.host = host
        self.health = "Normal"  # estate replicationHealth (degraded replication for status tests)
        self.rpo_override: int | None = None  # estate rpoSeconds
        self.os_disk = 0  # index of the OS disk in disks_gb (estate osDisk)

    @property
    def id(self) -> str:
        return f"{self.container.id}/replicationProtectableItems/{self.name}"

    def os_details(self) -> dict[str, Any]:
        if self.os_type.lower() == "linux":
            return {"osType": "Linux", "productType": "Ubuntu", "osEdition": "Ubuntu 22.04 LTS",
                    "oSVersion": "22.04", "oSMajorVersion": "22", "oSMinorVersion": "04"}
        return {"osType": "Windows", "productType": "Server", "osEdition": "Windows Server 2022 Datacenter",
                "oSVersion": "10.0.20348", "oSMajorVersion": "10", "oSMinorVersion": "0"}

    def disk_name(self, i: int) -> str:
        return f"{self.friendly}_disk{i}.vhdx"

    def to_json(self, now: float) -> dict[str, Any]:
        item = self.container.fabric.vault.items_by_vm.get(self.name.lower())
        return {
            "name": self.name,
            "type": T_PROTECTABLE,
            "id": self.id,
            "properties": {
                "friendlyName": self.friendly,
                "protectionStatus": "Protected" if item is not None else "Unprotected",
                "replicationProtectedItemId": item.id if item is not None else None,
                "recoveryServicesProviderId": self.provider.id,
                "protectionReadinessErrors": [],
                "supportedReplicationProviders": ["HyperVReplicaAzure"],
                "customDetails": {
                    # VMM VMs too: the SDK's ConfigurationSettings does not resolve
                    # "VmmVirtualMachine" (it would come back as a plain dict)
                    "instanceType": "HyperVVirtualMachine",
                    "sourceItemId": self.name,
                    "generation": self.generation,
                    "osDetails": self.os_details(),
                    # vhdType marks the OS disk "OperatingSystem" (what PowerShell's
                    # ASRProtectableItem looks for, PSObjects.cs), others "Data" (TestEnableDR.json): F-012
                    "diskDetails": [
                        {"maxSizeMB": gb * 1024, "vhdType": "OperatingSystem" if i == self.os_disk else "Data",
                         "vhdId": self.disk_ids[i], "vhdName": self.disk_name(i)}
                        for i, gb in enumerate(self.disks_gb)
                    ],
                    "hasPhysicalDisk": "NotPresent",
                    "hasFibreChannelAdapter": "NotPresent",
                    "hasSharedVhd": "NotPresent",
                    "hyperVHostId": self.host,
                },
            },
        }


class Container:
    def __init__(self, fabric: Fabric, name: str, friendly: str) -> None:
        self.fabric = fabric
        self.name = name
        self.friendly = friendly
        self.vms: dict[str, VM] = {}
        self.mappings: dict[str, ContainerMapping] = {}
        self.items: dict[str, ProtectedItem] = {}

    @property
    def id(self) -> str:
        return f"{self.fabric.id}/replicationProtectionContainers/{self.name}"

    def paired_policies(self) -> set[str]:
        return {m.policy.lower() for m in self.mappings.values() if m.state == "Paired"}

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": T_CONTAINER,
            "id": self.id,
            "properties": {
                "fabricFriendlyName": self.fabric.friendly,
                "friendlyName": self.friendly,
                "fabricType": self.fabric.kind,
                "protectedItemCount": len(self.items),
                "pairingStatus": "Paired" if self.paired_policies() else "NotPaired",
                "role": "Primary",
                # null for a Hyper-V site's container (TestEnableDR.json, F-006); VMM: unconfirmed
                "fabricSpecificDetails": None if self.fabric.kind == "HyperVSite" else {"instanceType": self.fabric.kind},
            },
        }


class Network:
    def __init__(self, fabric: Fabric, name: str, friendly: str) -> None:
        self.fabric = fabric
        self.name = name
        self.friendly = friendly
        self.mappings: dict[str, NetworkMapping] = {}

    @property
    def id(self) -> str:
        return f"{self.fabric.id}/replicationNetworks/{self.name}"

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": T_NETWORK,
            "id": self.id,
            "properties": {"fabricType": self.fabric.kind, "subnets": [], "friendlyName": self.friendly, "networkType": "NoIsolation"},
        }


class NetworkMapping:
    def __init__(self, network: Network, name: str, recovery_network_id: str, state: str) -> None:
        self.network = network
        self.name = name
        self.recovery_network_id = recovery_network_id
        self.state = state  # Pairing | Paired | Unpairing
        self.job: Job | None = None

    @property
    def id(self) -> str:
        return f"{self.network.id}/replicationNetworkMappings/{self.name}"

    def to_json(self, now: float) -> dict[str, Any]:
        vault = self.network.fabric.vault
        return {
            "name": self.name,
            "type": T_NMAPPING,
            "id": self.id,
            "properties": {
                "state": self.state,
                "primaryNetworkFriendlyName": self.network.friendly,
                "primaryNetworkId": self.network.id,
                "primaryFabricFriendlyName": self.network.fabric.friendly,
                "recoveryNetworkFriendlyName": last_name(self.recovery_network_id),
                "recoveryNetworkId": self.recovery_network_id,
                "recoveryFabricArmId": vault.azure_fabric_id,
                "recoveryFabricFriendlyName": AZURE_FABRIC,
                "fabricSpecificSettings": {"instanceType": "VmmToAzure"},
            },
        }


class Policy:
    def __init__(self, vault: Vault, name: str, interval: int, retention: int, app_consistent: int,
                 start_time: str | None, storage_accounts: list[str]) -> None:
        self.vault = vault
        self.name = name
        self.interval = interval
        self.retention = retention
        self.app_consistent = app_consistent
        self.start_time = start_time
        self.storage_accounts = storage_accounts
        self.job: Job | None = None  # update/delete in flight

    @property
    def id(self) -> str:
        return f"{self.vault.id}/replicationPolicies/{self.name}"

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": T_POLICY,
            "id": self.id,
            "properties": {
                "friendlyName": self.name,
                "providerSpecificDetails": {
                    "instanceType": "HyperVReplicaAzure",
                    "recoveryPointHistoryDurationInHours": self.retention,
                    "applicationConsistentSnapshotFrequencyInHours": self.app_consistent,
                    "replicationInterval": self.interval,
                    "onlineReplicationStartTime": self.start_time,
                    "encryption": "Disabled",  # as read back in TestEnableDR.json (F-021)
                    "activeStorageAccountId": self.storage_accounts[0] if self.storage_accounts else None,
                },
            },
        }


class ContainerMapping:
    def __init__(self, container: Container, name: str, policy: str, state: str) -> None:
        self.container = container
        self.name = name
        self.policy = policy  # policy name as created
        self.state = state  # Pairing | Paired | Unpairing
        self.job: Job | None = None

    @property
    def id(self) -> str:
        return f"{self.container.id}/replicationProtectionContainerMappings/{self.name}"

    def to_json(self, now: float) -> dict[str, Any]:
        vault = self.container.fabric.vault
        return {
            "name": self.name,
            "type": T_CMAPPING,
            "id": self.id,
            "properties": {
                "targetProtectionContainerId": AZURE_FABRIC,
                "targetProtectionContainerFriendlyName": AZURE_FABRIC,
                "health": "Normal",
                "healthErrorDetails": [],
                "policyId": f"{vault.id}/replicationPolicies/{self.policy}",
                "state": self.state,
                "sourceProtectionContainerFriendlyName": self.container.friendly,
                "sourceFabricFriendlyName": self.container.fabric.friendly,
                "targetFabricFriendlyName": AZURE_FABRIC,
                "policyFriendlyName": self.policy,
            },
        }


class ProtectedItem:
    """A replicated VM. `settings` holds the target side (camelCase keys of the read
    model); `phase` / `tfo` drive protectionState, activeLocation, testFailoverState
    and allowedOperations (statemachine.py)."""

    __slots__ = ("container", "name", "vm", "policy", "settings", "nic_settings", "phase", "tfo", "job",
                 "ir_start", "ir_end", "ir_kind", "protected_since", "last_failover", "last_tfo", "created", "tfo_job", "overlay",
                 "frozen_replicated", "rev", "_cache", "_text", "__weakref__")

    def __init__(self, container: Container, name: str, vm: VM, policy: str, settings: dict[str, Any],
                 nic_settings: dict[str, dict[str, Any]], created: float) -> None:
        self.container = container
        self.name = name
        self.vm = vm
        self.policy = policy
        self.settings = settings
        self.nic_settings = nic_settings  # nicId -> {recoveryVMNetworkId, recoverySubnetName, ...}
        self.phase = "Enabling"
        self.tfo: str | None = None
        self.job: Job | None = None
        self.ir_start: float | None = None
        self.ir_end: float | None = None
        self.ir_kind = "InitialReplication"
        self.protected_since: float | None = None
        self.last_failover: float | None = None
        self.last_tfo: float | None = None
        self.tfo_job: Job | None = None  # the test failover job waiting for its cleanup
        self.overlay: dict[str, Any] | None = None  # test hook: properties written over the rendering
        self.created = created
        self.frozen_replicated: float | None = None  # replication stopped (failed over) at
        self.rev = 0  # bumped by every change of settings / nic_settings (render cache key)
        self._cache: tuple[tuple, dict[str, Any]] | None = None
        self._text: tuple[tuple, str, str] | None = None

    @property
    def id(self) -> str:
        return f"{self.container.id}/replicationProtectedItems/{self.name}"

    @property
    def vault(self) -> Vault:
        return self.container.fabric.vault

    def busy(self) -> bool:
        """A job runs on the item (a suspended test failover job does not: it waits for the cleanup)."""
        return self.job is not None and self.job.final is None and self.job.suspended_at is None

    def allowed_operations(self) -> list[str]:
        ops = sm.allowed(self.phase, self.tfo, self.busy())
        from reconciler.emulator.siterecovery.repair import can_repair

        if can_repair(self):  # repair.py (J-009)
            ops.append("RepairReplication")
        return ops

    def policy_obj(self) -> Policy | None:
        return self.vault.policies.get(self.policy.lower())

    def start_replication(self, at: float, kind: str) -> None:
        total_gb: float = sum(self.vm.disks_gb[i] for i in self.included_disks())
        if kind == "Resync":
            total_gb *= RESYNC_FRACTION
        self.ir_kind = "InitialReplication" if kind != "Resync" else "ReverseReplication"
        self.ir_start = at
        self.ir_end = at + max(1.0, total_gb / GB_PER_SECOND)
        self.phase = "InitialReplication" if kind != "Resync" else "Resync"
        self.frozen_replicated = None

    def included_disks(self) -> list[int]:
        inc = self.settings.get("_disksToInclude")
        if not inc:
            return list(range(len(self.vm.disks_gb)))
        wanted = {d.lower() for d in inc}
        return [i for i, d in enumerate(self.vm.disk_ids) if d.lower() in wanted]

    def _replication(self, now: float) -> tuple[float | None, int | None, str | None]:
        """(lastReplicatedTime, rpoInSeconds, progress percentage)"""
        pol = self.policy_obj()
        interval = pol.interval if pol else 300
        if self.phase in ("InitialReplication", "Resync") and self.ir_start is not None and self.ir_end is not None:
            span = max(1e-9, self.ir_end - self.ir_start)
            pct = int(max(0.0, min(99.0, (now - self.ir_start) / span * 100)))
            return None, None, str(pct)
        if self.phase == "Protected" and self.protected_since is not None:
            since = self.protected_since
            last = now - ((now - since) % interval) if now >= since else since
            rpo = interval + int((now - since) % interval) // 10
            if self.vm.rpo_override is not None:
                rpo = self.vm.rpo_override
                last = now - rpo
            return last, rpo, "100"
        if self.frozen_replicated is not None:
            return self.frozen_replicated, None, "100"
        return None, None, None

    def _signature(self) -> tuple:
        job = self.job
        return (self.rev, self.phase, self.tfo, id(job), job.final if job is not None else None,
                job.suspended_at if job is not None else None, self.last_failover,
                self.last_tfo, self.ir_kind, self.policy)

    def to_json(self, now: float) -> dict[str, Any]:
        """The static part is rendered once per change (5,000 items list fast);
        replication progress, RPO and lastReplicatedTime are set per call."""
        key = self._signature()
        cached = self._cache
        if cached is None or cached[0] != key:
            cached = self._cache = (key, self._render_static())
        base = cached[1]
        last_rep, rpo, pct = self._replication(now)
        props = dict(base["properties"])
        d = dict(props["providerSpecificDetails"])
        if last_rep is not None:
            d["lastReplicatedTime"] = iso(last_rep)
        if rpo is not None:
            d["rpoInSeconds"] = rpo
            d["lastRpoCalculatedTime"] = iso(now)
        if pct is not None:
            d["initialReplicationDetails"] = {"initialReplicationType": self.ir_kind, "initialReplicationProgressPercentage": pct}
        props["providerSpecificDetails"] = d
        out = dict(base)
        out["properties"] = props
        return out

    def _health_errors(self) -> list[dict[str, Any]]:
        if self.vm.health == "Normal":
            return []
        level = "Error" if self.vm.health == "Critical" else "Warning"
        from reconciler.emulator.siterecovery.repair import health_error_id

        return [{
            "errorId": health_error_id("78069" if level == "Error" else "78122"),
            "errorSource": "VirtualMachine",
            "errorType": "Replication",
            "errorLevel": level,
            "errorCategory": "Replication",
            "errorCode": "78069" if level == "Error" else "78122",
            "summaryMessage": "Replication is paused for the virtual machine." if level == "Error"
            else "The recovery point objective is higher than configured.",
            "errorMessage": f"Replication of '{self.vm.friendly}' is degraded ({self.vm.health}).",
            "possibleCauses": "Network connectivity between the Hyper-V host and Azure, or host load.",
            "recommendedAction": "Check the host's connectivity to Azure and resume replication.",
            "entityId": self.name,
            "innerHealthErrors": [],
        }]

    def to_json_text(self, now: float) -> str:
        """The same JSON as to_json(now), serialized, from a cached text of the
        static part (lists of thousands of items are mostly string joins)."""
        key = self._signature()
        cached = getattr(self, "_text", None)
        if cached is None or cached[0] != key:
            if self._cache is None or self._cache[0] != key:
                self._cache = (key, self._render_static())
            base = self._cache[1]
            props = dict(base["properties"])
            props["providerSpecificDetails"] = dict(props["providerSpecificDetails"], __dynamic__=0)
            text = json.dumps(dict(base, properties=props), separators=(",", ":"))
            head, _, tail = text.partition(',"__dynamic__":0')
            cached = self._text = (key, head, tail)
        last_rep, rpo, pct = self._replication(now)
        dyn = []
        if last_rep is not None:
            dyn.append(f'"lastReplicatedTime":"{iso(last_rep)}"')
        if rpo is not None:
            dyn.append(f'"rpoInSeconds":{rpo},"lastRpoCalculatedTime":"{iso(now)}"')
        if pct is not None:
            dyn.append(f'"initialReplicationDetails":{{"initialReplicationType":"{self.ir_kind}",'
                       f'"initialReplicationProgressPercentage":"{pct}"}}')
        return cached[1] + "".join("," + x for x in dyn) + cached[2]

    def _render_static(self) -> dict[str, Any]:
        vault = self.vault
        fabric = self.container.fabric
        state, descr, location, _ = sm.PHASES[self.phase]
        tfo_state, tfo_descr, _ = sm.TFO[self.tfo]
        if self.tfo == "WaitingForCompletion" and self.phase == "Protected":
            descr = sm.TFO_PENDING_DESCRIPTION
        if self.job is not None and self.job.final is None:
            scenario = {"scenarioName": self.job.scenario, "jobId": self.job.id, "startTime": iso(self.job.created)}
        else:
            scenario = vault.idle_scenario()
        last_rep = rpo = pct = None  # set per call by to_json
        s = self.settings
        vm = self.vm
        included = self.included_disks()
        managed = str(s.get("useManagedDisks") or "false").lower() == "true"
        nics = []
        for i, (nic_id, vmnet, ip) in enumerate(vm.nics):
            ns = self.nic_settings.get(nic_id.lower(), {})
            net = ns.get("recoveryVMNetworkId", s.get("selectedRecoveryAzureNetworkId") if i == 0 else None)
            nics.append({
                "nicId": nic_id,
                "vMNetworkName": vmnet,
                "recoveryVMNetworkId": net,
                "ipConfigs": [{
                    "name": "ipconfig1",
                    "isPrimary": True,
                    "subnetName": None,
                    "staticIPAddress": ip,
                    "ipAddressType": "Static" if ip else "Dynamic",
                    "isSeletedForFailover": True,
                    "recoverySubnetName": ns.get("recoverySubnetName", s.get("_subnet") if i == 0 else None),
                    "recoveryStaticIPAddress": ns.get("recoveryStaticIPAddress"),
                    "recoveryIPAddressType": "Static" if ns.get("recoveryStaticIPAddress") else "Dynamic",
                    "tfoSubnetName": ns.get("tfoSubnetName"),
                    "tfoStaticIPAddress": ns.get("tfoStaticIPAddress"),
                    "recoveryPublicIPAddressId": ns.get("recoveryPublicIPAddressId"),
                    "tfoPublicIPAddressId": ns.get("tfoPublicIPAddressId"),
                }],
                "selectionType": ns.get("selectionType", "SelectedByUser" if net else "NotSelected"),
                "tfoVMNetworkId": ns.get("tfoVMNetworkId", s.get("_tfoNetworkId")),
                "recoveryNetworkSecurityGroupId": ns.get("recoveryNetworkSecurityGroupId"),
                "tfoNetworkSecurityGroupId": ns.get("tfoNetworkSecurityGroupId"),
                "recoveryNicName": ns.get("recoveryNicName"),
                "enableAcceleratedNetworkingOnRecovery": False,
                "reuseExistingNic": False,
            })
        disk_type = s.get("_diskType") or "Standard_LRS"
        details: dict[str, Any] = {
            "instanceType": "HyperVReplicaAzure",
            "azureVmDiskDetails": [
                {
                    "vhdType": "OperatingSystem" if i == vm.os_disk else "DataDisk",
                    "vhdId": vm.disk_ids[i],
                    "diskId": vm.disk_ids[i],
                    "vhdName": vm.disk_name(i),
                    "maxSizeMB": str(vm.disks_gb[i] * 1024),
                    "lunId": "-1" if i == vm.os_disk else str(i - 1 if i > vm.os_disk else i),
                }
                for i in included
            ],
            "recoveryAzureVmName": s.get("recoveryAzureVmName") or vm.friendly,
            "recoveryAzureVMSize": s.get("recoveryAzureVMSize"),
            "recoveryAzureStorageAccount": s.get("recoveryAzureStorageAccount"),
            "recoveryAzureLogStorageAccountId": s.get("recoveryAzureLogStorageAccountId"),
            "lastReplicatedTime": iso(last_rep),
            "rpoInSeconds": rpo,
            "lastRpoCalculatedTime": None,
            "vmId": vm.name,
            "vmProtectionState": state,
            "vmProtectionStateDescription": descr,
            "initialReplicationDetails": {
                "initialReplicationType": self.ir_kind,
                "initialReplicationProgressPercentage": pct,
            } if pct is not None else None,
            "vmNics": nics,
            "selectedRecoveryAzureNetworkId": s.get("selectedRecoveryAzureNetworkId"),
            "selectedSourceNicId": s.get("selectedSourceNicId") or (vm.nics[0][0] if vm.nics else None),
            "encryption": "Disabled",
            "oSDetails": {**vm.os_details(), **({"osType": s["_osType"]} if s.get("_osType") else {}),
                          "userSelectedOSName": s.get("userSelectedOSName")},
            "targetVmSecurityProfile": s.get("targetVmSecurityProfile"),
            "sourceVmRamSizeInMB": vm.memory_mb,
            "sourceVmCpuCount": vm.cpu,
            "enableRdpOnTargetOption": s.get("enableRdpOnTargetOption") or "Never",
            "recoveryAzureResourceGroupId": s.get("recoveryAzureResourceGroupId"),
            "recoveryAvailabilitySetId": s.get("recoveryAvailabilitySetId"),
            "targetAvailabilityZone": s.get("targetAvailabilityZone"),
            "targetProximityPlacementGroupId": s.get("targetProximityPlacementGroupId"),
            "useManagedDisks": "true" if managed else "false",
            "licenseType": s.get("licenseType") or "NoLicenseType",
            "sqlServerLicenseType": s.get("sqlServerLicenseType") or "NotSpecified",
            "targetVmTags": s.get("targetVmTags"),
            "seedManagedDiskTags": s.get("seedManagedDiskTags"),
            "targetManagedDiskTags": s.get("targetManagedDiskTags"),
            "targetNicTags": s.get("targetNicTags"),
            "protectedManagedDisks": [
                {
                    "diskId": vm.disk_ids[i],
                    "seedManagedDiskId": f"/subscriptions/{vault.subscription}/resourceGroups/"
                                         f"{last_name(s.get('recoveryAzureResourceGroupId') or '') or vault.resource_group}"
                                         f"/providers/Microsoft.Compute/disks/asrseeddisk-{vm.disk_ids[i][:8]}",
                    "replicaDiskType": (s.get("_diskTypes") or {}).get(vm.disk_ids[i].lower(), disk_type),
                    "targetDiskAccountType": (s.get("_diskTypes") or {}).get(vm.disk_ids[i].lower(), disk_type),
                    "diskSizeInGB": vm.disks_gb[i],
                    "diskEncryptionSetId": (s.get("_diskEncryptionSets") or {}).get(vm.disk_ids[i].lower(),
                                                                                   s.get("_diskEncryptionSetId")),
                }
                for i in included
            ] if managed else [],
        }
        return _pruned({
            "name": self.name,
            "type": T_PROTECTED,
            "id": self.id,
            "properties": {
                "friendlyName": vm.friendly,
                "protectedItemType": "HyperVVirtualMachine",
                "protectableItemId": vm.id,
                "recoveryServicesProviderId": vm.provider.id,
                "primaryFabricFriendlyName": fabric.friendly,
                "primaryFabricProvider": fabric.kind,
                "recoveryFabricFriendlyName": AZURE_FABRIC,
                "recoveryFabricId": AZURE_FABRIC,
                "primaryProtectionContainerFriendlyName": self.container.friendly,
                "recoveryProtectionContainerFriendlyName": AZURE_FABRIC,
                "protectionState": state,
                "protectionStateDescription": descr,
                "activeLocation": location,
                "testFailoverState": tfo_state,
                "testFailoverStateDescription": tfo_descr,
                "allowedOperations": self.allowed_operations(),
                "replicationHealth": vm.health if self.phase != "Enabling" else "Normal",
                "failoverHealth": "Normal",
                "healthErrors": self._health_errors() if self.phase != "Enabling" else [],
                "policyId": f"{vault.id}/replicationPolicies/{self.policy}",
                "policyFriendlyName": self.policy,
                "lastSuccessfulFailoverTime": iso(self.last_failover),
                "lastSuccessfulTestFailoverTime": iso(self.last_tfo),
                "currentScenario": scenario,
                "failoverRecoveryPointId": (f"{self.id}/recoveryPoints/"
                                            f"{self.settings.get('_failoverPoint') or guid(self.id, 'rp', str(self.last_failover))}"
                                            if self.last_failover is not None else None),
                "providerSpecificDetails": details,
                "recoveryContainerId": vault.azure_container_id,
                "eventCorrelationId": guid(self.id, "events"),
                **(self.overlay or {}),
            },
        })


class RecoveryPlan:
    def __init__(self, vault: Vault, name: str, primary_fabric: str, deployment_model: str,
                 groups: list[dict[str, Any]]) -> None:
        self.vault = vault
        self.name = name
        self.primary_fabric = primary_fabric  # fabric name
        self.deployment_model = deployment_model
        self.groups = groups  # [{groupType, items: [(fabric, container, item) lower names], start, end}]
        self.job: Job | None = None
        self.last_job: Job | None = None
        self.last_planned: float | None = None
        self.last_unplanned: float | None = None
        self.last_test: float | None = None

    @property
    def id(self) -> str:
        return f"{self.vault.id}/replicationRecoveryPlans/{self.name}"

    def busy(self) -> bool:
        return self.job is not None and self.job.final is None and self.job.suspended_at is None

    def items(self) -> list[ProtectedItem]:
        out = []
        for g in self.groups:
            for key in g["items"]:
                it = resolve_item(self.vault, key)
                if it is not None:
                    out.append(it)
        return out

    def allowed_operations(self) -> list[str]:
        if self.busy():
            return []
        items = self.items()
        if not items:
            return []
        if all(sm.PHASES[it.phase][2] == sm.RECOVERY for it in items):
            # failed over to Azure: ReplicationRecoveryPlans_PlannedFailover.json / _UnplannedFailover.json
            # (before the commit) and _FailoverCommit.json (after it) show these, whatever the
            # items allow; the items' own allowedOperations still decide (409 otherwise)
            ops = ["PlannedFailover", "UnplannedFailover", "TestFailover"]
            return ops + ["Commit"] if any("Commit" in it.allowed_operations() for it in items) else ops
        ops = []
        for op in sm.RECOVERY_PLAN_OPS:
            def ok(it: ProtectedItem, op: str = op) -> bool:
                allowed = it.allowed_operations()
                return op in allowed or (op == "PlannedFailover" and "Failback" in allowed)
            if all(ok(it) for it in items):
                ops.append(op)
        return ops

    def to_json(self, now: float) -> dict[str, Any]:
        vault = self.vault
        fabric = vault.fabrics.get(self.primary_fabric.lower())
        job = self.job if self.job is not None else self.last_job
        if job is not None:
            scenario = {"scenarioName": job.scenario, "jobId": job.id, "startTime": iso(job.created)}
            status = job.state(now)
            # Succeeded/Completed: ReplicationRecoveryPlans_PlannedFailover.json and the others;
            # Suspended/WaitingForStopTestFailover: ReplicationRecoveryPlans_TestFailover.json
            status_descr = {"Succeeded": "Completed", "Suspended": "WaitingForStopTestFailover"}.get(status, status)
        else:
            scenario = vault.idle_scenario()
            status, status_descr = "NotStarted", "NotStarted"
        groups = []
        for g in self.groups:
            members = []
            for key in g["items"]:
                it = resolve_item(vault, key)
                if it is None:
                    continue
                members.append({"id": it.id, "virtualMachineId": it.name})
            groups.append({
                "groupType": g["groupType"],
                "replicationProtectedItems": members,
                "startGroupActions": list(g.get("startGroupActions") or []),
                "endGroupActions": list(g.get("endGroupActions") or []),
            })
        return {
            "name": self.name,
            "type": T_PLAN,
            "id": self.id,
            "properties": {
                "friendlyName": self.name,
                "primaryFabricId": fabric.id if fabric else f"{vault.id}/replicationFabrics/{self.primary_fabric}",
                "primaryFabricFriendlyName": fabric.friendly if fabric else self.primary_fabric,
                "recoveryFabricId": AZURE_FABRIC,
                "recoveryFabricFriendlyName": AZURE_FABRIC,
                "failoverDeploymentModel": self.deployment_model,
                "replicationProviders": ["HyperVReplicaAzure"],
                "allowedOperations": self.allowed_operations(),
                "lastPlannedFailoverTime": iso(self.last_planned),
                "lastUnplannedFailoverTime": iso(self.last_unplanned),
                "lastTestFailoverTime": iso(self.last_test),
                "currentScenario": scenario,
                "currentScenarioStatus": status,
                "currentScenarioStatusDescription": status_descr,
                "groups": groups,
                "providerSpecificDetails": [],
            },
        }


def _pruned(obj: Any) -> Any:
    """Azure leaves unset properties out of its answers instead of sending nulls."""
    if isinstance(obj, dict):
        return {k: _pruned(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [_pruned(v) for v in obj]
    return obj


def resolve_item(vault: Vault, key: tuple[str, str, str]) -> ProtectedItem | None:
    fabric = vault.fabrics.get(key[0])
    if fabric is None:
        return None
    container = fabric.containers.get(key[1])
    if container is None:
        return None
    return container.items.get(key[2])

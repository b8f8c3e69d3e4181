"""Site Recovery operations: validation as Azure does it, jobs, state changes.

`SiteRecovery` lives in `state.extras["siterecovery"]`. The HTTP handlers
(handlers.py) and the estate's `seed:` block (seeding.py) both call the methods
here, so there is one code path for every change. Methods raise
`framework.ArmError` for every refusal; writes return the `Job` they started.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from typing import Any

from reconciler.emulator.framework import ArmError
from reconciler.emulator.siterecovery import registration
from reconciler.emulator.siterecovery import statemachine as sm
from reconciler.emulator.siterecovery.ids import AZURE_FABRIC, guid, hexname, last_name, norm, parse, resource_type_of, same, vault_id
from reconciler.emulator.siterecovery.jobs import Job, JobError, TaskSpec
from reconciler.emulator.siterecovery.model import (
    VM,
    Container,
    ContainerMapping,
    Fabric,
    Network,
    NetworkMapping,
    Policy,
    ProtectedItem,
    Provider,
    RecoveryPlan,
    Vault,
    resolve_item,
)
from reconciler.emulator.state import EmulatorState

# simulated seconds per job kind (docs/emulator.md)
DURATIONS = {
    "CreateSite": 20.0,
    "DeleteSite": 20.0,
    "AddProtectionProfile": 30.0,
    "UpdateProtectionProfile": 20.0,
    "RemoveProtectionProfile": 20.0,
    "AddProtectionContainerMapping": 60.0,
    "RemoveProtectionContainerMapping": 30.0,
    "MapNetwork": 30.0,
    "UnmapNetwork": 20.0,
    "CreateRecoveryPlan": 10.0,
    "UpdateRecoveryPlan": 10.0,
    "DeleteRecoveryPlan": 10.0,
}

JOBFAIL = JobError(
    "InjectedJobFailure",
    "The operation failed: an internal error occurred in the replication service (injected by the emulator's jobfail fault).",
    "A transient failure in Azure Site Recovery.",
    "Retry the operation.",
)

VM_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*$")
# Hyper-V to Azure support matrix, "Azure VM requirements" (learn.microsoft.com/azure/site-recovery/
# hyper-v-azure-support-matrix): VM name 1-63 letters, numbers and hyphens, starting and ending with a
# letter or number; OS disk up to 2,048 GB (generation 1) / 300 GB (generation 2); at most 16 data disks of
# up to 4,095 GB; generation 2 Linux not supported. "Prerequisites check fails if unsupported": F-060..F-066.
AZURE_VM_NAME_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# a VM size as Azure lists it; constrained vCPU sizes have a hyphen (Standard_M8-2ms: docs/fidelity.md T-012)
VM_SIZE_RE = re.compile(r"^(Standard|Basic)_[A-Za-z0-9_-]+$")
OS_DISK_MAX_GB = {"1": 2048, "2": 300}
DATA_DISK_MAX_GB = 4095
DATA_DISK_MAX_COUNT = 16
HHMM_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")
# tuples, not sets: a JSON list or object in the body must be a 400, not an unhashable-type crash
DISK_TYPES = ("Premium_LRS", "StandardSSD_LRS", "Standard_LRS")
SITE_CREATE_TYPES = ("FabricSpecificCreationInput", "HyperVSite")
DIRECTIONS = ("PrimaryToRecovery", "RecoveryToPrimary")
TFO_NETWORK_TYPES = ("NoNetworkAttachAsInput", "VmNetworkAsInput")


def bad(message: str, code: str = "InvalidParameter", target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target=target)


def arm_id_of(value: Any, provider_type: str, noun: str, key: str, target: str) -> str:
    """`value` when it is the ARM id of a `provider_type` resource ("microsoft.network/publicipaddresses"),
    else the InvalidParameter error naming `key` and what it should be."""
    if not isinstance(value, str) or f"/providers/{provider_type}/" not in value.lower():
        raise bad(f"{key} {value!r} is not the ARM id of {noun}.", "InvalidParameter", target)
    return value


def missing(path: str) -> ArmError:
    return ArmError(400, "InvalidRequestContent", f"The request content was invalid: required property '{path}' is missing.", target=path)


def get(body: Any, path: str, *, required: bool = False, types: type | tuple[type, ...] | None = None) -> Any:
    cur = body
    for part in path.split("."):
        if not isinstance(cur, dict) or cur.get(part) is None:
            if required:
                raise missing(path)
            return None
        cur = cur[part]
    if types is not None and not isinstance(cur, types) or (types is int and isinstance(cur, bool)):
        raise ArmError(400, "InvalidRequestContent", f"The request content was invalid: property '{path}' has the wrong type.", target=path)
    return cur


def not_found(kind: str, name: str) -> ArmError:
    return ArmError(404, "NotFound", f"The {kind} '{name}' was not found in the vault.")


def busy(what: str, job: Job) -> ArmError:
    return ArmError(409, "OperationInProgress",
                    f"Another operation ({job.scenario}, job {job.name}) is in progress on {what}. "
                    "Wait for it to finish and retry.")


class SiteRecovery:
    """The Site Recovery side of the emulator for one EmulatorState."""

    def __init__(self, state: EmulatorState, estate: Any = None) -> None:
        self.state = state
        self.estate = estate  # estate.Estate or None
        self.vaults: dict[str, Vault] = {}
        self.job_overlays: dict[str, dict[str, Any]] = {}  # lower scenarioName -> properties (overlay())

    # ------------------------------------------------------------------ time
    def now(self) -> float:
        return self.state.now()

    # ------------------------------------------------------------------ vaults
    def vault_resource(self, subscription: str, resource_group: str, name: str) -> dict | None:
        rid = f"/subscriptions/{subscription}/resourceGroups/{resource_group}/providers/Microsoft.RecoveryServices/vaults/{name}"
        return self.state.get(rid)

    def vault(self, subscription: str, resource_group: str, name: str) -> Vault:
        """The ASR view of an existing vault (404 if the vault does not exist)."""
        self.sync()
        res = self.vault_resource(subscription, resource_group, name)
        if res is None:
            raise ArmError(404, "ResourceNotFound",
                           f"The Resource 'Microsoft.RecoveryServices/vaults/{name}' under resource group '{resource_group}' was not found.")
        return self._vault_for(res)

    def _vault_for(self, res: dict) -> Vault:
        key = norm(res["id"])
        v = self.vaults.get(key)
        if v is not None and getattr(v, "_res", None) is res:
            return v
        p = parse(res["id"])
        sub, rg, name = p.get("subscriptions", ""), p.get("resourcegroups", ""), p.get("vaults", res.get("name", ""))
        marker = _created_marker(res)
        if v is not None and marker is not None and getattr(v, "_marker", None) not in (None, marker):
            v = None  # the vault was deleted and created again: a fresh ASR tree
        if v is None:
            created = _created_at(res) or self.now()
            vname = res.get("name") or name
            v = Vault(vault_id(sub, rg, vname), sub, rg, vname, _location(res), created)
            v._marker = marker  # type: ignore[attr-defined]
            self.vaults[key] = v
        v._res = res  # type: ignore[attr-defined]
        return v

    def sync(self) -> None:
        """Forget vaults that were deleted; register estate servers and hosts whose
        vault (and site) exist, at the simulated time they would have registered.
        Cheap when nothing changed: it runs on every Site Recovery request."""
        vaults = list(self.state.find("Microsoft.RecoveryServices/vaults"))
        sites = sum(1 for v in self.vaults.values() for f in v.fabrics.values() if f.kind == "HyperVSite")
        sig = (tuple(id(r) for r in vaults), sites)
        wake = getattr(self, "_wake", None)
        if sig == getattr(self, "_sig", None) and (wake is None or wake > self.now()):
            return
        self._sig = sig
        live = {norm(r["id"]) for r in vaults}
        for key in list(self.vaults):
            if key not in live:
                del self.vaults[key]
        if self.estate is not None:
            self._wake = None
            registration.register_due(self)
            sites = sum(1 for v in self.vaults.values() for f in v.fabrics.values() if f.kind == "HyperVSite")
            self._sig = (sig[0], sites)

    def find_vaults(self, subscription: str, name: str) -> list[Vault]:
        out = []
        for res in self.state.find("Microsoft.RecoveryServices/vaults", under=f"/subscriptions/{subscription}"):
            if str(res.get("name", "")).lower() == name.lower():
                out.append(self._vault_for(res))
        return out

    # ------------------------------------------------------------------ jobs
    def start_job(
        self,
        vault: Vault,
        scenario: str,
        friendly: str,
        *,
        target_id: str,
        target_name: str,
        target_type: str,
        tasks: list[Any],
        on_success: Callable[[float], None] | None = None,
        on_failure: Callable[[float], None] | None = None,
        client_request_id: str | None = None,
        fabric_id: str | None = None,
        affected: dict[str, str] | None = None,
        fail: JobError | None = None,
        fail_task: int | None = None,
    ) -> Job:
        now = self.now()
        name = str(uuid.UUID(int=self.state.rng.getrandbits(128), version=4))
        tasks = [t if isinstance(t, TaskSpec) else TaskSpec(*t) for t in tasks]
        activity = str(uuid.UUID(int=self.state.rng.getrandbits(128), version=4))
        job = Job(
            name=name,
            vault_id=vault.id,
            scenario=scenario,
            friendly_name=friendly,
            target_object_id=target_id,
            target_object_name=target_name,
            target_instance_type=target_type,
            activity_id=f"{client_request_id} ActivityId: {activity}" if client_request_id else activity,
            created=now,
            tasks=tasks,
            fabric_id=fabric_id,
            affected=dict(affected or {}),
            on_success=on_success,
            on_failure=on_failure,
        )
        if fail is None and self.state.job_should_fail():
            fail = JOBFAIL
        elif fail is not None:
            job.fail_task = fail_task
        job.fail = fail
        job.overlay = self.job_overlays.get(scenario.lower())
        vault.jobs.append(job)
        vault.jobs_by_name[name.lower()] = job
        end = job.end
        self.state.schedule(end, lambda: self._finish(job, end))
        if any(t.pause for t in job.tasks):  # a manual action suspends the job (jobcontrol.py)
            from reconciler.emulator.siterecovery.jobcontrol import schedule_pause

            schedule_pause(self, job)
        return job

    def _finish(self, job: Job, at: float) -> None:
        if job.final is not None:
            return
        if job.waiting is not None or job.cancel_at is not None or at + 1e-6 < job.end:
            return  # suspended at a manual action, cancelled, or moved later by a resume (jobcontrol.py)
        if job.fail is None and job.on_success is not None:
            try:
                job.on_success(at)
            except JobFailed as exc:
                job.fail = exc.error
        if job.fail is not None:
            job.final = "Failed"
            job.final_at = at
            if job.on_failure is not None:
                job.on_failure(at)
        elif job.suspend:
            # a Hyper-V-to-Azure test failover waits for its cleanup (ReplicationJobs_Resume.json):
            # Suspended, WaitingForStopTestFailover; its POST's operation ends with the item
            # in WaitingForCompletion (ReplicationProtectedItems_TestFailover.json)
            job.suspended_at = at
        else:
            job.final = "Succeeded"
            job.final_at = at
        op = getattr(job, "_operation", None)
        if op is not None and not op.done:
            if job.final == "Succeeded" or job.suspended_at is not None:
                op.succeed()
            else:
                err = job.error_body() or {"code": "JobFailed", "message": "The job failed."}
                op.fail(ArmError(400, err["code"], err["message"], details=err.get("details")))
            op.end = at

    def overlay(self, body: Any) -> dict[str, Any]:
        """Test hook (POST /_emulator/overlay): write `properties` over what the emulator
        renders, to see how asr copes with a value no recording shows.
        {"protectedItem": "<VM name>", "properties": {...}}: that item, from now on;
        {"jobScenario": "<scenarioName>", "properties": {...}}: every job of that scenario
        started from now on (and those running). {"properties": null} removes it."""
        if not isinstance(body, dict) or not isinstance(body.get("properties", {}), (dict, type(None))):
            raise ValueError('expected {"protectedItem" | "jobScenario": NAME, "properties": {...}}')
        props = body.get("properties") or None
        if body.get("protectedItem"):
            name = str(body["protectedItem"]).lower()
            found = [it for v in self.vaults.values() for it in v.protected_items()
                     if name in (it.vm.friendly.lower(), it.name.lower())]
            if not found:
                raise ValueError(f"no replicated item {body['protectedItem']!r}")
            for it in found:
                it.overlay = props
                it.rev += 1
            return {"ok": True, "items": [it.id for it in found]}
        if body.get("jobScenario"):
            scen = str(body["jobScenario"]).lower()
            if props is None:
                self.job_overlays.pop(scen, None)
            else:
                self.job_overlays[scen] = props
            hit = [j for v in self.vaults.values() for j in v.jobs if j.scenario.lower() == scen and j.final is None]
            for j in hit:
                j.overlay = props
            return {"ok": True, "jobs": [j.name for j in hit]}
        raise ValueError('expected "protectedItem" or "jobScenario"')

    def end_suspended(self, job: Job | None, at: float) -> None:
        """A suspended test failover job ends Succeeded when its cleanup job succeeds
        (the emulator's choice: no recording shows the test failover job after a cleanup)."""
        if job is not None and job.final is None and job.suspended_at is not None:
            job.final = "Succeeded"
            job.final_at = at

    def drain(self) -> None:
        """Finish every pending job now (seed: 'as if asr had already applied')."""
        # move the clock to the last due event so timestamps stay ordered
        while True:
            nxt = self.state.next_due()
            if nxt is None:
                return
            delta = nxt - self.now()
            if delta > 0:
                self.state.clock.advance(delta)
            self.state.run_due()

    def job(self, vault: Vault, name: str) -> Job:
        j = vault.jobs_by_name.get(name.lower())
        if j is None:
            raise ArmError(404, "NotFound", f"The job '{name}' was not found in the vault.")
        return j

    # ------------------------------------------------------------------ lookups
    def fabric(self, vault: Vault, name: str) -> Fabric:
        f = vault.fabrics.get(name.lower())
        if f is None:
            raise not_found("fabric", name)
        return f

    def container(self, vault: Vault, fabric: str, name: str) -> Container:
        f = self.fabric(vault, fabric)
        c = f.containers.get(name.lower())
        if c is None:
            raise not_found("protection container", name)
        return c

    def network(self, vault: Vault, fabric: str, name: str) -> Network:
        f = self.fabric(vault, fabric)
        n = f.networks.get(name.lower())
        if n is None:
            raise not_found("network", name)
        return n

    def protectable(self, vault: Vault, fabric: str, container: str, name: str) -> VM:
        c = self.container(vault, fabric, container)
        vm = c.vms.get(name.lower())
        if vm is None:
            raise not_found("protectable item", name)
        return vm

    def item(self, vault: Vault, fabric: str, container: str, name: str) -> ProtectedItem:
        c = self.container(vault, fabric, container)
        it = c.items.get(name.lower())
        if it is None:
            raise not_found("replication protected item", name)
        return it

    def policy(self, vault: Vault, name: str) -> Policy:
        p = vault.policies.get(name.lower())
        if p is None:
            raise not_found("replication policy", name)
        return p

    def plan(self, vault: Vault, name: str) -> RecoveryPlan:
        p = vault.plans.get(name.lower())
        if p is None:
            raise not_found("recovery plan", name)
        return p

    def _pending(self, vault: Vault, kind: str, name: str, body: Any = None) -> Job | None:
        """The create job still running for an object not there yet: the same body
        again gets that job (an idempotent PUT), another body 409."""
        job = vault.pending.get((kind, name.lower()))
        if job is not None and job.final is None:
            if body is not None and getattr(job, "_body_key", None) == _body_key(body):
                return job
            raise busy(f"{kind} '{name}'", job)
        return None

    # ---- Azure-side resources the inputs point to
    def arm_resource(self, arm_id: Any, rtype: str, what: str, target: str) -> dict:
        if not isinstance(arm_id, str) or not arm_id.startswith("/"):
            raise bad(f"The {what} id '{arm_id}' is not a valid Azure resource id.", "InvalidResourceId", target)
        if resource_type_of(arm_id) != rtype.lower():
            raise bad(f"The id '{arm_id}' given as {target} is not a {what} ({rtype}).", "InvalidResourceId", target)
        res = self.state.get(_lower_sub(arm_id))
        if res is None:
            raise bad(f"The {what} '{arm_id}' does not exist.", "ResourceNotFound" if what != "virtual network" else "NetworkNotFound", target)
        return res

    def target_network(self, vault: Vault, network_id: Any, target: str) -> dict:
        vnet = self.arm_resource(network_id, "Microsoft.Network/virtualNetworks", "virtual network", target)
        loc = _location(vnet)
        if loc and vault.location and loc != vault.location:
            raise bad(f"The virtual network '{last_name(network_id)}' is in region '{loc}', but the vault "
                      f"'{vault.name}' is in '{vault.location}'. Azure Site Recovery fails over into the vault's region.",
                      "RecoveryNetworkInDifferentRegion", target)
        return vnet

    def check_subnet(self, vnet: dict, subnet: Any, target: str) -> str:
        if not isinstance(subnet, str) or not subnet:
            raise bad(f"{target} must name a subnet.", "InvalidParameter", target)
        name = last_name(subnet) if subnet.startswith("/") else subnet
        if subnet.startswith("/") and not norm(subnet).startswith(norm(vnet.get("id")) + "/subnets/"):
            raise bad(f"The subnet '{subnet}' is not a subnet of the virtual network '{vnet.get('name')}'.", "SubnetNotFound", target)
        names = {str(s.get("name", "")).lower() for s in (vnet.get("properties") or {}).get("subnets") or []}
        if name.lower() not in names:
            raise bad(f"The subnet '{name}' does not exist in the virtual network '{vnet.get('name')}'.", "SubnetNotFound", target)
        return name

    def storage_account(self, vault: Vault, account_id: Any, target: str) -> dict:
        sa = self.arm_resource(account_id, "Microsoft.Storage/storageAccounts", "storage account", target)
        loc = _location(sa)
        if loc and vault.location and loc != vault.location:
            raise bad(f"The storage account '{last_name(account_id)}' is in region '{loc}', but the vault is in '{vault.location}'.",
                      "StorageAccountInDifferentRegion", target)
        return sa

    def resource_group(self, rg_id: Any, target: str) -> dict:
        if not isinstance(rg_id, str) or not rg_id.startswith("/"):
            raise bad(f"'{rg_id}' is not a resource group id.", "InvalidResourceId", target)
        p = parse(rg_id)
        if set(p) != {"subscriptions", "resourcegroups"}:
            raise bad(f"'{rg_id}' is not a resource group id.", "InvalidResourceId", target)
        res = self.state.get(f"/subscriptions/{p['subscriptions']}/resourceGroups/{p['resourcegroups']}")
        if res is None:
            raise bad(f"The resource group '{p['resourcegroups']}' does not exist.", "ResourceGroupNotFound", target)
        return res

    # ================================================================== registration (estate)
    def register_vmm(self, vault: Vault, server: Any, at: float) -> Fabric:
        """A VMM server registers: fabric (64-hex name, friendlyName = server),
        provider, clouds -> containers, VM networks -> networks, VMs -> protectable items."""
        fname = hexname(vault.id, "vmm", server.name)
        fabric = vault.fabrics.get(fname)
        if fabric is None:
            fabric = Fabric(vault, fname, server.name, "VMM", at)
            vault.fabrics[fname] = fabric
        pname = guid(vault.id, "provider", server.name)
        provider = fabric.providers.get(pname)
        if provider is None:
            provider = Provider(fabric, pname, server.name, at, getattr(server, "connected", True))
            fabric.providers[pname] = provider
        for net in server.vm_networks:
            nname = guid(vault.id, "vmnetwork", server.name, net)
            fabric.networks.setdefault(nname, Network(fabric, nname, net))
        for cloud in server.clouds:
            cname = "cloud_" + guid(server.name, "cloud", cloud.name)
            container = fabric.containers.get(cname)
            if container is None:
                container = Container(fabric, cname, cloud.name)
                fabric.containers[cname] = container
            for vm in cloud.vms:
                self._add_vm(container, provider, server.name + "/" + cloud.name, vm,
                             default_network=server.vm_networks[0] if server.vm_networks else None)
        return fabric

    def register_host(self, vault: Vault, fabric: Fabric, host: Any, at: float) -> Provider:
        """A Hyper-V host registers into a site: a provider of the site fabric, its
        VMs protectable items of the site's container."""
        pname = guid(vault.id, "host", fabric.friendly, host.name)
        provider = fabric.providers.get(pname)
        if provider is None:
            provider = Provider(fabric, pname, host.name, at, getattr(host, "connected", True))
            fabric.providers[pname] = provider
        container = next(iter(fabric.containers.values()))
        for vm in host.vms:
            self._add_vm(container, provider, fabric.friendly + "/" + host.name, vm, default_network=None, host=pname)
        return provider

    def _add_vm(self, container: Container, provider: Provider, scope: str, evm: Any, default_network: str | None,
                host: str | None = None) -> VM:
        vname = guid("vm", scope, evm.name)
        vm = container.vms.get(vname)
        if vm is not None:
            return vm
        nics = []
        specs = evm.nics if evm.nics else [{"vmNetwork": default_network}]
        for i, spec in enumerate(specs):
            # Azure's NIC ids: base64 of "Microsoft:<VM GUID>\\<NIC GUID>" (ReplicationProtectedItems_Update.json)
            raw = f"Microsoft:{vname.upper()}\\{guid(vname, 'nic', str(i)).upper()}"
            nics.append((base64.b64encode(raw.encode()).decode(), spec.get("vmNetwork"), spec.get("ipAddress")))
        vm = VM(container, vname, evm.name, evm.os_type, list(evm.disks_gb), nics, provider, evm.cpu, evm.memory_mb,
                evm.generation, host or guid(scope, "host"))
        vm.os_disk = getattr(evm, "os_disk", 0)
        vm.health = getattr(evm, "health", "Normal")
        vm.rpo_override = getattr(evm, "rpo_seconds", None)
        container.vms[vname] = vm
        return vm

    # ================================================================== fabrics
    def create_site(self, vault: Vault, name: str, body: Any, crid: str | None = None) -> Job | None:
        inst = get(body, "properties.customDetails.instanceType", required=True, types=str)
        # Azure's own clients send the base creation input and read back a HyperVSite
        # (ReplicationFabrics_Create.json; PowerShell CreateFabricTests.json): F-002.
        # "HyperVSite" (what an SDK user may send) is accepted too: unconfirmed.
        if inst not in SITE_CREATE_TYPES:
            raise bad(f"Fabric type '{inst}' cannot be created in this vault: only Hyper-V sites "
                      "(customDetails.instanceType 'FabricSpecificCreationInput', read back as 'HyperVSite') are "
                      "created over ARM; VMM servers register through the Azure Site Recovery provider.",
                      "InvalidFabricType", "properties.customDetails.instanceType")
        if not VM_NAME_RE.match(name) or len(name) > 64:
            raise bad(f"The site name '{name}' is invalid: use letters, digits and hyphens.", "InvalidSiteName")
        existing = vault.fabrics.get(name.lower())
        if existing is not None:
            if existing.kind != "HyperVSite":
                raise ArmError(409, "FabricAlreadyExists", f"A fabric named '{name}' already exists with type '{existing.kind}'.")
            return None  # idempotent PUT: 200 with the site
        for f in vault.fabrics.values():
            if f.kind == "HyperVSite" and f.friendly.lower() == name.lower():
                return None
        running = self._pending(vault, "fabric", name, body)
        if running is not None:
            return running

        def done(at: float) -> None:
            fabric = Fabric(vault, name, name, "HyperVSite", at)
            vault.fabrics[name.lower()] = fabric
            cname = "cloud_" + fabric.internal_id
            fabric.containers[cname] = Container(fabric, cname, name)

        # CreateFabricTests.json: "Create a site", one task RegisterVmmTask "Registering the server",
        # targetObjectId = the site's internalIdentifier (F-040)
        internal = guid(vault.id, "fabric", name)
        job = self.start_job(vault, "CreateSite", "Create a site", target_id=internal, target_name=name,
                             target_type="Server", tasks=[("RegisterVmmTask", "Registering the server", DURATIONS["CreateSite"])],
                             on_success=done, client_request_id=crid,
                             affected={"PrimaryVmmId": internal, "PrimaryVmmName": name, "PrimaryFabricProviderId": "HyperVSite"})
        vault.pending[("fabric", name.lower())] = job
        job._body_key = _body_key(body)  # type: ignore[attr-defined]
        return job

    def delete_fabric(self, vault: Vault, name: str, crid: str | None = None, purge: bool = False) -> Job:
        fabric = self.fabric(vault, name)
        if fabric.job is not None and fabric.job.final is None:
            raise busy(f"fabric '{fabric.friendly}'", fabric.job)
        if fabric.kind != "HyperVSite":
            if not purge:
                raise bad(f"The VMM server '{fabric.friendly}' cannot be removed over ARM while its provider is "
                          "connected; unregister the provider on the server.", "FabricDeletionNotAllowed")
        for c in fabric.containers.values():
            if c.items:
                raise ArmError(409, "ProtectionContainerNotEmpty",
                               f"The fabric '{fabric.friendly}' has replicated items in '{c.friendly}'. Disable replication first.")
            if c.mappings and not purge:
                raise ArmError(409, "ProtectionContainerMappingExists",
                               f"The container '{c.friendly}' is associated with a replication policy. Remove the association first.")

        def done(at: float) -> None:
            vault.fabrics.pop(fabric.name.lower(), None)
            vault.registered.discard(("site:" + fabric.friendly).lower())
            for key in [k for k in vault.registered if k.startswith(("host:" + fabric.friendly + "/").lower())]:
                vault.registered.discard(key)

        job = self.start_job(vault, "DeleteSite" if fabric.kind == "HyperVSite" else "RemoveFabric",
                             "Delete Hyper-V site" if fabric.kind == "HyperVSite" else "Remove server",
                             target_id=fabric.name, target_name=fabric.friendly, target_type="Server",
                             tasks=[("DeleteFabric", "Delete the fabric", DURATIONS["DeleteSite"])],
                             on_success=done, client_request_id=crid, fabric_id=fabric.id)
        fabric.job = job
        return job

    # ================================================================== policies
    def _policy_settings(self, body: Any, current: Policy | None) -> dict[str, Any]:
        root = "properties.providerSpecificInput" if current is None else "properties.replicationProviderSettings"
        psi = get(body, root, required=True, types=dict)
        inst = get(psi, "instanceType", required=True, types=str)
        if inst != "HyperVReplicaAzure":
            raise bad(f"The replication provider '{inst}' is not supported for Hyper-V to Azure policies; "
                      "use instanceType 'HyperVReplicaAzure'.", "InvalidReplicationProvider", f"{root}.instanceType")
        out: dict[str, Any] = {}
        interval = psi.get("replicationInterval", current.interval if current else 300)
        if isinstance(interval, bool) or not isinstance(interval, int) or interval not in (30, 300, 900):
            raise bad(f"The replication interval {interval!r} is not supported. Allowed values: 30, 300, 900 seconds.",
                      "InvalidReplicationInterval", f"{root}.replicationInterval")
        out["interval"] = interval
        retention = psi.get("recoveryPointHistoryDuration", current.retention if current else 24)
        if isinstance(retention, bool) or not isinstance(retention, int) or not 0 <= retention <= 24:
            raise bad(f"The recovery point retention {retention!r} hours is not valid (0 to 24).",
                      "InvalidRecoveryPointRetention", f"{root}.recoveryPointHistoryDuration")
        out["retention"] = retention
        app = psi.get("applicationConsistentSnapshotFrequencyInHours", current.app_consistent if current else 0)
        if isinstance(app, bool) or not isinstance(app, int) or not 0 <= app <= 12:
            raise bad(f"The app-consistent snapshot frequency {app!r} hours is not valid (0 to 12).",
                      "InvalidApplicationConsistentSnapshotFrequency", f"{root}.applicationConsistentSnapshotFrequencyInHours")
        if app > retention:
            raise bad(f"The app-consistent snapshot frequency ({app} h) must not exceed the recovery point retention ({retention} h).",
                      "InvalidApplicationConsistentSnapshotFrequency", f"{root}.applicationConsistentSnapshotFrequencyInHours")
        out["app_consistent"] = app
        start = psi.get("onlineReplicationStartTime", current.start_time if current else None)
        if start is not None and (not isinstance(start, str) or not HHMM_RE.match(start)):
            raise bad(f"The initial replication start time {start!r} is not a time of day (HH:MM or HH:MM:SS).",
                      "InvalidOnlineReplicationStartTime", f"{root}.onlineReplicationStartTime")
        out["start_time"] = start
        accounts = psi.get("storageAccounts", current.storage_accounts if current else [])
        if accounts is None:
            accounts = []
        if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
            raise bad("storageAccounts must be a list of storage account ids.", "InvalidRequestContent", f"{root}.storageAccounts")
        out["storage_accounts"] = accounts
        return out

    def create_policy(self, vault: Vault, name: str, body: Any, crid: str | None = None) -> Job | None:
        settings = self._policy_settings(body, None)
        for acc in settings["storage_accounts"]:
            self.storage_account(vault, acc, "properties.providerSpecificInput.storageAccounts")
        existing = vault.policies.get(name.lower())
        if existing is not None:
            return self.update_policy(vault, name, {"properties": {"replicationProviderSettings": get(body, "properties.providerSpecificInput")}}, crid)
        running = self._pending(vault, "policy", name, body)
        if running is not None:
            return running

        def done(at: float) -> None:
            vault.policies[name.lower()] = Policy(vault, name, settings["interval"], settings["retention"],
                                                  settings["app_consistent"], settings["start_time"], settings["storage_accounts"])

        job = self.start_job(vault, "AddProtectionProfile", "Create replication policy", target_id=name, target_name=name,
                             target_type="ProtectionProfile",
                             tasks=[("CreateProtectionProfile", "Create replication policy", DURATIONS["AddProtectionProfile"])],
                             on_success=done, client_request_id=crid)
        vault.pending[("policy", name.lower())] = job
        job._body_key = _body_key(body)  # type: ignore[attr-defined]
        return job

    def update_policy(self, vault: Vault, name: str, body: Any, crid: str | None = None) -> Job:
        pol = self.policy(vault, name)
        if pol.job is not None and pol.job.final is None:
            raise busy(f"replication policy '{pol.name}'", pol.job)
        settings = self._policy_settings(body, pol)
        for acc in settings["storage_accounts"]:
            self.storage_account(vault, acc, "properties.replicationProviderSettings.storageAccounts")

        def done(at: float) -> None:
            pol.interval = settings["interval"]
            pol.retention = settings["retention"]
            pol.app_consistent = settings["app_consistent"]
            pol.start_time = settings["start_time"]
            pol.storage_accounts = settings["storage_accounts"]

        job = self.start_job(vault, "UpdateProtectionProfile", "Update replication policy", target_id=pol.name,
                             target_name=pol.name, target_type="ProtectionProfile",
                             tasks=[("UpdateProtectionProfile", "Update replication policy", DURATIONS["UpdateProtectionProfile"])],
                             on_success=done, client_request_id=crid)
        pol.job = job
        return job

    def delete_policy(self, vault: Vault, name: str, crid: str | None = None) -> Job:
        pol = self.policy(vault, name)
        if pol.job is not None and pol.job.final is None:
            raise busy(f"replication policy '{pol.name}'", pol.job)
        for f in vault.fabrics.values():
            for c in f.containers.values():
                for m in c.mappings.values():
                    if m.policy.lower() == pol.name.lower():
                        raise ArmError(409, "PolicyInUse",
                                       f"The replication policy '{pol.name}' is associated with '{c.friendly}'. "
                                       "Remove the association before deleting the policy.")

        def done(at: float) -> None:
            vault.policies.pop(pol.name.lower(), None)

        job = self.start_job(vault, "RemoveProtectionProfile", "Delete replication policy", target_id=pol.name,
                             target_name=pol.name, target_type="ProtectionProfile",
                             tasks=[("RemoveProtectionProfile", "Delete replication policy", DURATIONS["RemoveProtectionProfile"])],
                             on_success=done, client_request_id=crid)
        pol.job = job
        return job

    # ================================================================== container mappings
    def create_mapping(self, vault: Vault, fabric: str, container: str, name: str, body: Any,
                       crid: str | None = None) -> Job | None:
        c = self.container(vault, fabric, container)
        target = get(body, "properties.targetProtectionContainerId", required=True, types=str)
        policy_id = get(body, "properties.policyId", required=True, types=str)
        psi = get(body, "properties.providerSpecificInput", types=dict)
        if psi is not None:
            inst = psi.get("instanceType")
            if inst not in (None, "ReplicationProviderSpecificContainerMappingInput"):
                raise bad(f"providerSpecificInput.instanceType '{inst}' is not valid for a Hyper-V to Azure association; "
                          "use 'ReplicationProviderSpecificContainerMappingInput'.", "InvalidReplicationProvider",
                          "properties.providerSpecificInput.instanceType")
        if target.lower() != AZURE_FABRIC.lower():
            raise bad(f"targetProtectionContainerId must be '{AZURE_FABRIC}' for replication to Azure, not '{target}'.",
                      "InvalidTargetProtectionContainer", "properties.targetProtectionContainerId")
        pol = self._policy_by_id(vault, policy_id, "properties.policyId")
        existing = c.mappings.get(name.lower())
        if existing is not None:
            if existing.policy.lower() == pol.name.lower():
                return None
            raise ArmError(409, "ProtectionContainerMappingExists",
                           f"The association '{name}' already exists with policy '{existing.policy}'.")
        for m in c.mappings.values():
            if m.policy.lower() == pol.name.lower():
                raise ArmError(409, "ProtectionContainerAlreadyAssociated",
                               f"'{c.friendly}' is already associated with the replication policy '{pol.name}' (association '{m.name}').")
        mapping = ContainerMapping(c, name, pol.name, "Pairing")
        c.mappings[name.lower()] = mapping

        def done(at: float) -> None:
            if c.mappings.get(name.lower()) is not mapping:
                raise JobFailed(JobError("AssociationRemoved", "The association was removed while it was being created."))
            mapping.state = "Paired"

        def failed(at: float) -> None:
            if c.mappings.get(name.lower()) is mapping:
                del c.mappings[name.lower()]

        job = self.start_job(vault, "AddProtectionContainerMapping", "Associate replication policy",
                             target_id=name, target_name=c.friendly, target_type="ProtectionContainer",
                             tasks=[("PairProtectionContainer", "Associate the replication policy", DURATIONS["AddProtectionContainerMapping"])],
                             on_success=done, on_failure=failed, client_request_id=crid, fabric_id=c.fabric.id,
                             affected={"PolicyName": pol.name, "ProtectionContainerName": c.friendly})
        mapping.job = job
        return job

    def delete_mapping(self, vault: Vault, fabric: str, container: str, name: str, crid: str | None = None,
                       purge: bool = False) -> Job:
        c = self.container(vault, fabric, container)
        m = c.mappings.get(name.lower())
        if m is None:
            raise not_found("protection container mapping", name)
        if m.job is not None and m.job.final is None:
            raise busy(f"association '{m.name}'", m.job)
        if any(it.policy.lower() == m.policy.lower() for it in c.items.values()) and not purge:
            raise ArmError(409, "ProtectionContainerMappingInUse",
                           f"Replicated items in '{c.friendly}' use the policy '{m.policy}'. Disable their replication first.")
        m.state = "Unpairing"

        def done(at: float) -> None:
            c.mappings.pop(name.lower(), None)

        def failed(at: float) -> None:
            m.state = "Paired"

        job = self.start_job(vault, "RemoveProtectionContainerMapping", "Dissociate replication policy",
                             target_id=m.name, target_name=c.friendly, target_type="ProtectionContainer",
                             tasks=[("UnpairProtectionContainer", "Dissociate the replication policy", DURATIONS["RemoveProtectionContainerMapping"])],
                             on_success=done, on_failure=failed, client_request_id=crid, fabric_id=c.fabric.id)
        m.job = job
        return job

    def _policy_by_id(self, vault: Vault, policy_id: str, target: str) -> Policy:
        p = parse(policy_id)
        name = p.get("replicationpolicies")
        if not name or not norm(policy_id).startswith(norm(vault.id) + "/"):
            raise bad(f"The policy id '{policy_id}' does not name a replication policy of this vault.", "InvalidPolicyId", target)
        pol = vault.policies.get(name.lower())
        if pol is None:
            raise bad(f"The replication policy '{name}' does not exist.", "PolicyNotFound", target)
        return pol

    # ================================================================== network mappings
    def create_network_mapping(self, vault: Vault, fabric: str, network: str, name: str, body: Any,
                               crid: str | None = None) -> Job | None:
        net = self.network(vault, fabric, network)
        rf = get(body, "properties.recoveryFabricName", types=str)
        rn = get(body, "properties.recoveryNetworkId", required=True, types=str)
        fsd = get(body, "properties.fabricSpecificDetails", types=dict)
        inst = (fsd or {}).get("instanceType")
        if inst != "VmmToAzure":
            raise bad(f"fabricSpecificDetails.instanceType must be 'VmmToAzure' for a VMM network mapped to Azure, not {inst!r}.",
                      "InvalidNetworkMappingType", "properties.fabricSpecificDetails.instanceType")
        if rf is not None and rf.lower() != AZURE_FABRIC.lower():
            raise bad(f"recoveryFabricName must be '{AZURE_FABRIC}', not '{rf}'.", "InvalidRecoveryFabric",
                      "properties.recoveryFabricName")
        vnet = self.target_network(vault, rn, "properties.recoveryNetworkId")
        existing = net.mappings.get(name.lower())
        if existing is not None:
            if same(existing.recovery_network_id, rn):
                return None
            if existing.job is not None and existing.job.final is None:
                raise busy(f"network mapping '{name}'", existing.job)
            return self.update_network_mapping(vault, fabric, network, name, body, crid)
        if net.mappings:
            other = next(iter(net.mappings.values()))
            raise ArmError(409, "NetworkAlreadyMapped",
                           f"The VM network '{net.friendly}' is already mapped (mapping '{other.name}'). Remove that mapping first.")
        mapping = NetworkMapping(net, name, vnet.get("id") or rn, "Pairing")
        net.mappings[name.lower()] = mapping

        def done(at: float) -> None:
            mapping.state = "Paired"

        def failed(at: float) -> None:
            if net.mappings.get(name.lower()) is mapping:
                del net.mappings[name.lower()]

        job = self.start_job(vault, "MapNetwork", "Create network mapping", target_id=name, target_name=net.friendly,
                             target_type="Network", tasks=[("MapNetwork", "Map the network", DURATIONS["MapNetwork"])],
                             on_success=done, on_failure=failed, client_request_id=crid, fabric_id=net.fabric.id)
        mapping.job = job
        return job

    def update_network_mapping(self, vault: Vault, fabric: str, network: str, name: str, body: Any,
                               crid: str | None = None) -> Job:
        net = self.network(vault, fabric, network)
        m = net.mappings.get(name.lower())
        if m is None:
            raise not_found("network mapping", name)
        if m.job is not None and m.job.final is None:
            raise busy(f"network mapping '{name}'", m.job)
        rn = get(body, "properties.recoveryNetworkId", required=True, types=str)
        fsd = get(body, "properties.fabricSpecificDetails", types=dict)
        if fsd is not None and fsd.get("instanceType") not in (None, "VmmToAzure", "VmmToAzureUpdateNetworkMappingInput"):
            raise bad("fabricSpecificDetails.instanceType must be 'VmmToAzure'.", "InvalidNetworkMappingType",
                      "properties.fabricSpecificDetails.instanceType")
        vnet = self.target_network(vault, rn, "properties.recoveryNetworkId")
        old = m.recovery_network_id

        def done(at: float) -> None:
            m.recovery_network_id = vnet.get("id") or rn
            m.state = "Paired"

        def failed(at: float) -> None:
            m.recovery_network_id = old

        job = self.start_job(vault, "MapNetwork", "Update network mapping", target_id=name, target_name=net.friendly,
                             target_type="Network", tasks=[("MapNetwork", "Map the network", DURATIONS["MapNetwork"])],
                             on_success=done, on_failure=failed, client_request_id=crid, fabric_id=net.fabric.id)
        m.job = job
        return job

    def delete_network_mapping(self, vault: Vault, fabric: str, network: str, name: str, crid: str | None = None) -> Job:
        net = self.network(vault, fabric, network)
        m = net.mappings.get(name.lower())
        if m is None:
            raise not_found("network mapping", name)
        if m.job is not None and m.job.final is None:
            raise busy(f"network mapping '{name}'", m.job)
        m.state = "Unpairing"

        def done(at: float) -> None:
            net.mappings.pop(name.lower(), None)

        def failed(at: float) -> None:
            m.state = "Paired"

        job = self.start_job(vault, "UnmapNetwork", "Delete network mapping", target_id=name, target_name=net.friendly,
                             target_type="Network", tasks=[("UnmapNetwork", "Remove the network mapping", DURATIONS["UnmapNetwork"])],
                             on_success=done, on_failure=failed, client_request_id=crid, fabric_id=net.fabric.id)
        m.job = job
        return job

    # ================================================================== protected items
    def enable_protection(self, vault: Vault, fabric: str, container: str, name: str, body: Any,
                          crid: str | None = None) -> Job | None:
        c = self.container(vault, fabric, container)
        if not VM_NAME_RE.match(name):
            raise bad(f"The replicated item name '{name}' is invalid.", "InvalidParameter")
        policy_id = get(body, "properties.policyId", required=True, types=str)
        pi_id = get(body, "properties.protectableItemId", required=True, types=str)
        psd = get(body, "properties.providerSpecificDetails", required=True, types=dict)
        inst = psd.get("instanceType")
        if inst != "HyperVReplicaAzure":
            raise bad(f"providerSpecificDetails.instanceType must be 'HyperVReplicaAzure' for Hyper-V to Azure, not {inst!r}.",
                      "InvalidReplicationProvider", "properties.providerSpecificDetails.instanceType")
        pol = self._policy_by_id(vault, policy_id, "properties.policyId")
        if pol.name.lower() not in c.paired_policies():
            raise bad(f"The replication policy '{pol.name}' is not associated with '{c.friendly}'. "
                      "Associate the policy with the cloud or site first.", "PolicyNotAssociated", "properties.policyId")
        vm = self._protectable_by_id(vault, c, pi_id)
        already = vault.items_by_vm.get(vm.name.lower())
        if already is not None:
            raise ArmError(409, "ProtectionAlreadyEnabled",
                           f"Protection is already enabled for the virtual machine '{vm.friendly}' ({already.name}).")
        if name.lower() in c.items:
            raise ArmError(409, "ReplicationProtectedItemExists", f"A replicated item named '{name}' already exists.")
        settings, nic_settings = self._enable_settings(vault, vm, psd)
        prereq = self._enable_prerequisites(vm, settings)
        item = ProtectedItem(c, name, vm, pol.name, settings, nic_settings, self.now())
        c.items[name.lower()] = item
        vault.items_by_vm[vm.name.lower()] = item

        def done(at: float) -> None:
            if c.items.get(name.lower()) is not item:
                return
            item.start_replication(at, "Initial")
            self._schedule_replication_end(item)

        def failed(at: float) -> None:
            self._remove_item(item)

        job = self._item_job(item, "EnableProtection", done, failed, crid, fail=prereq, fail_task=0 if prereq else None)
        return job

    def _enable_prerequisites(self, vm: VM, s: dict[str, Any]) -> JobError | None:
        """What Azure checks in the EnableDr job's first task ("Prerequisites check for enabling
        protection", TestEnableDR.json) rather than synchronously: the support matrix's Azure VM
        requirements. The error codes are the emulator's (no recorded source gives them): unconfirmed."""
        name = s.get("recoveryAzureVmName") or vm.friendly
        fix_name = "Set a valid name for the Azure VM in the replicated item's compute properties."
        if not AZURE_VM_NAME_RE.match(name):
            return JobError("AzureVmNameInvalid",
                            f"The Azure VM name '{name}' is not supported: it must have 1-63 characters, letters, "
                            "numbers and hyphens only, and start and end with a letter or number.",
                            "The name of the virtual machine in Azure does not meet Azure's requirements.", fix_name)
        if vm.generation == "2" and vm.os_type.lower() == "linux":
            return JobError("Generation2LinuxNotSupported",
                            f"The virtual machine '{vm.friendly}' is a generation 2 Linux VM, which Site Recovery "
                            "does not replicate from Hyper-V to Azure.",
                            "Linux generation 2 VMs aren't supported.", "Protect a generation 1 Linux VM.")
        included = [i for i, d in enumerate(vm.disk_ids) if d.lower() in {x.lower() for x in (s.get("_disksToInclude") or vm.disk_ids)}]
        os_gb = vm.disks_gb[vm.os_disk]
        limit = OS_DISK_MAX_GB.get(vm.generation, 2048)
        if os_gb > limit:
            return JobError("OsDiskSizeNotSupported",
                            f"The operating system disk of '{vm.friendly}' is {os_gb} GB; a generation {vm.generation} "
                            f"VM's operating system disk can be at most {limit} GB in Azure.",
                            "The operating system disk is larger than Azure supports.",
                            "Shrink the operating system disk, then enable replication again.")
        data = [i for i in included if i != vm.os_disk]
        if len(data) > DATA_DISK_MAX_COUNT:
            return JobError("DataDiskCountNotSupported",
                            f"'{vm.friendly}' replicates {len(data)} data disks; at most {DATA_DISK_MAX_COUNT} are supported.",
                            "The virtual machine has more data disks than Site Recovery supports.",
                            "Exclude data disks from replication or consolidate them.")
        big = [i for i in data if vm.disks_gb[i] > DATA_DISK_MAX_GB]
        if big:
            return JobError("DataDiskSizeNotSupported",
                            f"The data disk '{vm.disk_name(big[0])}' of '{vm.friendly}' is {vm.disks_gb[big[0]]} GB; "
                            f"data disks can be at most {DATA_DISK_MAX_GB} GB.",
                            "A data disk is larger than Azure supports.", "Exclude the disk from replication or shrink it.")
        vhd = s.get("_vhdId")
        if vhd is not None and vhd.lower() != vm.disk_ids[vm.os_disk].lower():
            return JobError("OsDiskNotSelected",
                            f"The disk '{vhd}' given as the operating system disk (vhdId) of '{vm.friendly}' is a data "
                            f"disk; its operating system disk is '{vm.disk_ids[vm.os_disk]}'.",
                            "The wrong disk was chosen as the operating system disk.",
                            "Send the vhdId of the disk the protectable item marks vhdType 'OperatingSystem'.")
        return None

    def _protectable_by_id(self, vault: Vault, c: Container, pi_id: str) -> VM:
        p = parse(pi_id)
        vname = p.get("replicationprotectableitems")
        target = "properties.protectableItemId"
        if not vname or not norm(pi_id).startswith(norm(vault.id) + "/"):
            raise bad(f"'{pi_id}' is not a protectable item of this vault.", "InvalidProtectableItemId", target)
        if (p.get("replicationfabrics", "").lower() != c.fabric.name.lower()
                or p.get("replicationprotectioncontainers", "").lower() != c.name.lower()):
            raise bad(f"The protectable item '{vname}' is not in the protection container '{c.friendly}'.",
                      "ProtectableItemNotInContainer", target)
        vm = c.vms.get(vname.lower())
        if vm is None:
            raise bad(f"The protectable item '{vname}' does not exist.", "ProtectableItemNotFound", target)
        return vm

    def _enable_settings(self, vault: Vault, vm: VM, psd: dict) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        root = "properties.providerSpecificDetails"
        s: dict[str, Any] = {}
        nic: dict[str, dict[str, Any]] = {}
        rg = psd.get("targetAzureV2ResourceGroupId")
        if rg is None:
            raise missing(f"{root}.targetAzureV2ResourceGroupId")
        self.resource_group(rg, f"{root}.targetAzureV2ResourceGroupId")
        s["recoveryAzureResourceGroupId"] = rg
        managed = str(psd.get("useManagedDisks") or "false").lower()
        if managed not in ("true", "false"):
            raise bad(f"useManagedDisks must be 'true' or 'false', not {psd.get('useManagedDisks')!r}.", "InvalidParameter",
                      f"{root}.useManagedDisks")
        s["useManagedDisks"] = managed
        log_sa = psd.get("logStorageAccountId")
        if managed == "true":
            # Hyper-V to Azure stages replicated data in a storage account with managed disks too:
            # New-AzRecoveryServicesAsrReplicationProtectedItem (HyperVSiteToAzure) always sends the
            # -RecoveryAzureStorageAccountId it requires as targetStorageAccountId and logStorageAccountId only
            # when given, so either names the log account (docs/fidelity.md T-010; the error is the emulator's)
            log_sa = log_sa or psd.get("targetStorageAccountId")
            if not log_sa:
                raise missing(f"{root}.logStorageAccountId")
        else:
            tsa = psd.get("targetStorageAccountId")
            if not tsa:
                raise missing(f"{root}.targetStorageAccountId")
            self.storage_account(vault, tsa, f"{root}.targetStorageAccountId")
            s["recoveryAzureStorageAccount"] = tsa
        if log_sa:
            sa = self.storage_account(vault, log_sa, f"{root}.logStorageAccountId")
            sku = str((sa.get("sku") or {}).get("name") or "")
            if sku.lower().startswith("premium"):
                raise bad(f"The log storage account '{last_name(log_sa)}' is a premium account; replication logs need a "
                          "standard storage account.", "InvalidLogStorageAccount", f"{root}.logStorageAccountId")
            s["recoveryAzureLogStorageAccountId"] = log_sa
        disk_type = psd.get("diskType")
        if disk_type is not None:
            if disk_type not in DISK_TYPES:
                raise bad(f"diskType {disk_type!r} is not valid. Allowed: {', '.join(sorted(DISK_TYPES))}.",
                          "InvalidDiskType", f"{root}.diskType")
            if managed != "true":
                raise bad("diskType applies to managed disks only; set useManagedDisks to 'true'.", "InvalidParameter",
                          f"{root}.diskType")
        s["_diskType"] = disk_type or "Standard_LRS"
        des = psd.get("diskEncryptionSetId")
        if des is not None:
            arm_id_of(des, "microsoft.compute/diskencryptionsets", "a disk encryption set", "diskEncryptionSetId",
                      f"{root}.diskEncryptionSetId")
            if managed != "true":
                raise bad("diskEncryptionSetId applies to managed disks only; set useManagedDisks to 'true'.",
                          "InvalidParameter", f"{root}.diskEncryptionSetId")
            s["_diskEncryptionSetId"] = des
        vm_name = psd.get("targetAzureVmName")
        if vm_name is not None and not isinstance(vm_name, str):
            raise bad(f"targetAzureVmName must be a string, not {vm_name!r}.", "InvalidParameter", f"{root}.targetAzureVmName")
        s["recoveryAzureVmName"] = vm_name or vm.friendly  # checked by the enable job's prerequisites check
        size = psd.get("targetVmSize")
        if size is not None and (not isinstance(size, str) or not VM_SIZE_RE.match(size)):
            raise bad(f"targetVmSize {size!r} is not an Azure VM size.", "InvalidVmSize", f"{root}.targetVmSize")
        s["recoveryAzureVMSize"] = size or ("Standard_D2s_v3" if vm.cpu <= 2 else "Standard_D4s_v3")
        net_id = psd.get("targetAzureNetworkId")
        subnet_id = psd.get("targetAzureSubnetId")
        if subnet_id is not None and net_id is None:
            raise bad("targetAzureSubnetId needs targetAzureNetworkId.", "InvalidParameter", f"{root}.targetAzureSubnetId")
        if net_id is not None:
            vnet = self.target_network(vault, net_id, f"{root}.targetAzureNetworkId")
            s["selectedRecoveryAzureNetworkId"] = vnet.get("id") or net_id
            if subnet_id is not None:
                s["_subnet"] = self.check_subnet(vnet, subnet_id, f"{root}.targetAzureSubnetId")
        disks = psd.get("disksToInclude")
        if disks is not None:
            if not isinstance(disks, list) or not disks:
                raise bad("disksToInclude must be a non-empty list of disk ids.", "InvalidParameter", f"{root}.disksToInclude")
            known = {d.lower() for d in vm.disk_ids}
            for d in disks:
                if not isinstance(d, str) or d.lower() not in known:
                    raise bad(f"The disk '{d}' is not a disk of the virtual machine '{vm.friendly}'.", "DiskNotFound",
                              f"{root}.disksToInclude")
            if vm.disk_ids[vm.os_disk].lower() not in {d.lower() for d in disks}:
                raise bad("The operating system disk must be replicated.", "OsDiskNotIncluded", f"{root}.disksToInclude")
            s["_disksToInclude"] = list(disks)
        per_disk = psd.get("disksToIncludeForManagedDisks")
        if per_disk is not None:
            if not isinstance(per_disk, list) or not per_disk:
                raise bad("disksToIncludeForManagedDisks must be a non-empty list.", "InvalidParameter",
                          f"{root}.disksToIncludeForManagedDisks")
            known = {d.lower() for d in vm.disk_ids}
            types: dict[str, str] = {}
            for i, dd in enumerate(per_disk):
                path = f"{root}.disksToIncludeForManagedDisks[{i}]"
                if not isinstance(dd, dict) or not isinstance(dd.get("diskId"), str):
                    raise missing(f"{path}.diskId")
                if dd["diskId"].lower() not in known:
                    raise bad(f"The disk '{dd['diskId']}' is not a disk of the virtual machine '{vm.friendly}'.", "DiskNotFound",
                              f"{path}.diskId")
                dt = dd.get("diskType")
                if dt is not None and dt not in DISK_TYPES:
                    raise bad(f"diskType {dt!r} is not valid. Allowed: {', '.join(sorted(DISK_TYPES))}.", "InvalidDiskType",
                              f"{path}.diskType")
                if dd.get("logStorageAccountId"):
                    self.storage_account(vault, dd["logStorageAccountId"], f"{path}.logStorageAccountId")
                types[dd["diskId"].lower()] = dt or s["_diskType"]
                if dd.get("diskEncryptionSetId"):
                    s.setdefault("_diskEncryptionSets", {})[dd["diskId"].lower()] = dd["diskEncryptionSetId"]
            if vm.disk_ids[vm.os_disk].lower() not in types:
                raise bad("The operating system disk must be replicated.", "OsDiskNotIncluded", f"{root}.disksToIncludeForManagedDisks")
            s["_disksToInclude"] = [d for d in vm.disk_ids if d.lower() in types]
            s["_diskTypes"] = types
        vhd = psd.get("vhdId")
        if vhd is not None and (not isinstance(vhd, str) or vhd.lower() not in {d.lower() for d in vm.disk_ids}):
            raise bad(f"vhdId '{vhd}' is not a disk of the virtual machine '{vm.friendly}'.", "DiskNotFound", f"{root}.vhdId")
        s["_vhdId"] = vhd
        os_type = psd.get("osType")
        if os_type is not None and os_type not in ("Windows", "Linux"):
            raise bad(f"osType must be 'Windows' or 'Linux', not {os_type!r}.", "InvalidParameter", f"{root}.osType")
        if os_type is not None and os_type.lower() != vm.os_type.lower():
            s["_osType"] = os_type  # an override of what Site Recovery discovered (unconfirmed how Azure reads it back)
        name = psd.get("userSelectedOSName")
        if name is not None:
            if not isinstance(name, str):
                raise bad("userSelectedOSName must be a string.", "InvalidParameter", f"{root}.userSelectedOSName")
            s["userSelectedOSName"] = name
        sec = psd.get("targetVmSecurityProfile")
        if sec is not None:
            if not isinstance(sec, dict) or sec.get("targetVmSecurityType") not in (None, "None", "TrustedLaunch", "ConfidentialVM"):
                raise bad("targetVmSecurityProfile.targetVmSecurityType must be None, TrustedLaunch or ConfidentialVM.",
                          "InvalidParameter", f"{root}.targetVmSecurityProfile")
            if sec.get("targetVmSecurityType") in ("TrustedLaunch", "ConfidentialVM") and vm.generation != "2":
                raise bad(f"Trusted launch needs a generation 2 virtual machine; '{vm.friendly}' is generation {vm.generation}.",
                          "InvalidParameter", f"{root}.targetVmSecurityProfile.targetVmSecurityType")
            s["targetVmSecurityProfile"] = dict(sec)
        rdp = psd.get("enableRdpOnTargetOption")
        if rdp is not None and rdp not in ("Never", "Always", "OnlyOnTestFailover"):
            raise bad(f"enableRdpOnTargetOption {rdp!r} is not valid.", "InvalidParameter", f"{root}.enableRdpOnTargetOption")
        for key in ("enableRdpOnTargetOption", "licenseType", "sqlServerLicenseType", "targetAvailabilityZone",
                    "targetProximityPlacementGroupId", "targetVmTags", "seedManagedDiskTags", "targetManagedDiskTags",
                    "targetNicTags"):
            if psd.get(key) is not None:
                s[key] = psd[key]
        if psd.get("targetAvailabilitySetId") is not None:
            s["recoveryAvailabilitySetId"] = psd["targetAvailabilitySetId"]
        return s, nic

    def _check_vm_name(self, name: Any, os_type: str, target: str) -> None:
        # update (PATCH): synchronous, with the support matrix's rule (the code is the emulator's: unconfirmed)
        if not isinstance(name, str) or not AZURE_VM_NAME_RE.match(name):
            raise bad(f"The Azure VM name {name!r} is invalid: 1-63 letters, numbers and hyphens, starting and "
                      "ending with a letter or number.", "InvalidVmName", target)

    def _schedule_replication_end(self, item: ProtectedItem) -> None:
        end = item.ir_end
        start = item.ir_start

        def finish() -> None:
            if item.ir_start != start or item.phase not in ("InitialReplication", "Resync"):
                return  # superseded (disabled, purged, or restarted)
            item.phase = "Protected"
            item.protected_since = end
        assert end is not None
        self.state.schedule(end, finish)

    def _remove_item(self, item: ProtectedItem) -> None:
        c = item.container
        if c.items.get(item.name.lower()) is item:
            del c.items[item.name.lower()]
        vault = c.fabric.vault
        if vault.items_by_vm.get(item.vm.name.lower()) is item:
            del vault.items_by_vm[item.vm.name.lower()]

    def _item_job(self, item: ProtectedItem, operation: str, done: Callable[[float], None],
                  failed: Callable[[float], None] | None, crid: str | None, plan: RecoveryPlan | None = None,
                  fail: JobError | None = None, fail_task: int | None = None, first: list | None = None) -> Job:
        scenario, friendly, tasks = sm.OPERATIONS[operation]
        tasks = list(first or []) + list(tasks)
        fabric = item.container.fabric
        job = self.start_job(
            item.vault, scenario, friendly, target_id=item.name, target_name=item.vm.friendly,
            target_type="ProtectionEntity", tasks=tasks, on_success=done, on_failure=failed,
            client_request_id=crid, fabric_id=fabric.id, fail=fail, fail_task=fail_task,
            # the keys of the EnableDr job of TestEnableDR.json (F-047); other item jobs: unconfirmed
            affected={"primaryVmId": item.vm.name, "primaryVmName": item.vm.friendly, "recoveryVmId": "",
                      "recoveryVmName": item.settings.get("recoveryAzureVmName") or item.vm.friendly,
                      "protectionProfileId": guid(item.vault.id, "policy", item.policy),
                      "primaryCloudId": item.container.name, "primaryCloudName": item.container.friendly,
                      "recoveryCloudName": AZURE_FABRIC, "primaryVmmId": fabric.internal_id,
                      "primaryVmmName": fabric.friendly, "recoveryVmmName": AZURE_FABRIC,
                      "primaryFabricProviderId": fabric.kind, "recoveryFabricProviderId": "Azure"},
        )
        item.job = job
        return job

    def _check_op(self, item: ProtectedItem, op: str) -> None:
        if item.busy():
            raise busy(f"the replicated item '{item.vm.friendly}'", item.job)  # type: ignore[arg-type]
        allowed = item.allowed_operations()
        if op not in allowed:
            raise ArmError(409, "OperationNotAllowed",
                           f"The operation '{op}' is not allowed for '{item.vm.friendly}' in its current state "
                           f"({sm.PHASES[item.phase][0]}, test failover state {sm.TFO[item.tfo][0]}). "
                           f"Allowed operations: {', '.join(allowed) or 'none'}.")

    def update_protection(self, vault: Vault, fabric: str, container: str, name: str, body: Any,
                          crid: str | None = None) -> Job:
        item = self.item(vault, fabric, container, name)
        if item.busy():
            raise busy(f"the replicated item '{item.vm.friendly}'", item.job)  # type: ignore[arg-type]
        props = get(body, "properties", required=True, types=dict)
        root = "properties"
        changes: dict[str, Any] = {}
        nic_changes: dict[str, dict[str, Any]] = {}
        vm = item.vm
        if props.get("recoveryAzureVMName") is not None:
            self._check_vm_name(props["recoveryAzureVMName"], vm.os_type, f"{root}.recoveryAzureVMName")
            changes["recoveryAzureVmName"] = props["recoveryAzureVMName"]
        if props.get("recoveryAzureVMSize") is not None:
            size = props["recoveryAzureVMSize"]
            if not isinstance(size, str) or not VM_SIZE_RE.match(size):
                raise bad(f"recoveryAzureVMSize {size!r} is not an Azure VM size.", "InvalidVmSize", f"{root}.recoveryAzureVMSize")
            changes["recoveryAzureVMSize"] = size
        vnet = None
        if props.get("selectedRecoveryAzureNetworkId") is not None:
            vnet = self.target_network(vault, props["selectedRecoveryAzureNetworkId"], f"{root}.selectedRecoveryAzureNetworkId")
            changes["selectedRecoveryAzureNetworkId"] = vnet.get("id") or props["selectedRecoveryAzureNetworkId"]
        elif item.settings.get("selectedRecoveryAzureNetworkId"):
            vnet = self.state.get(_lower_sub(item.settings["selectedRecoveryAzureNetworkId"]))
        tfo_vnet = None
        if props.get("selectedTfoAzureNetworkId") is not None:
            tfo_vnet = self.target_network(vault, props["selectedTfoAzureNetworkId"], f"{root}.selectedTfoAzureNetworkId")
            changes["_tfoNetworkId"] = tfo_vnet.get("id") or props["selectedTfoAzureNetworkId"]
        if props.get("selectedSourceNicId") is not None:
            if not isinstance(props["selectedSourceNicId"], str) or props["selectedSourceNicId"].lower() not in {n[0].lower() for n in vm.nics}:
                raise bad(f"selectedSourceNicId '{props['selectedSourceNicId']}' is not a NIC of '{vm.friendly}'.",
                          "NicNotFound", f"{root}.selectedSourceNicId")
            changes["selectedSourceNicId"] = props["selectedSourceNicId"]
        nics = props.get("vmNics")
        if nics is not None:
            if not isinstance(nics, list):
                raise bad("vmNics must be a list.", "InvalidRequestContent", f"{root}.vmNics")
            known = {n[0].lower() for n in vm.nics}
            for i, n in enumerate(nics):
                path = f"{root}.vmNics[{i}]"
                if not isinstance(n, dict) or not n.get("nicId"):
                    raise missing(f"{path}.nicId")
                if not isinstance(n["nicId"], str):
                    raise bad("nicId must be a string.", "InvalidRequestContent", f"{path}.nicId")
                if not isinstance(n.get("ipConfigs") or [], list):
                    raise bad("ipConfigs must be a list.", "InvalidRequestContent", f"{path}.ipConfigs")
                if n["nicId"].lower() not in known:
                    raise bad(f"The NIC '{n['nicId']}' is not a NIC of '{vm.friendly}'.", "NicNotFound", f"{path}.nicId")
                nc: dict[str, Any] = {}
                sel = n.get("selectionType")
                if sel is not None:
                    if sel not in ("NotSelected", "SelectedByUser", "SelectedByDefault", "SelectedByUserOverride"):
                        raise bad(f"selectionType {sel!r} is not valid.", "InvalidParameter", f"{path}.selectionType")
                    nc["selectionType"] = sel
                for ip_i, ipc in enumerate(n.get("ipConfigs") or []):
                    if not isinstance(ipc, dict):
                        raise bad("ipConfigs entries must be objects.", "InvalidRequestContent", f"{path}.ipConfigs[{ip_i}]")
                    sub = ipc.get("recoverySubnetName")
                    if sub is not None:
                        if vnet is None:
                            raise bad("recoverySubnetName needs a recovery network (selectedRecoveryAzureNetworkId).",
                                      "InvalidParameter", f"{path}.ipConfigs[{ip_i}].recoverySubnetName")
                        nc["recoverySubnetName"] = self.check_subnet(vnet, sub, f"{path}.ipConfigs[{ip_i}].recoverySubnetName")
                    tsub = ipc.get("tfoSubnetName")
                    if tsub is not None:
                        tv = tfo_vnet or (self.state.get(_lower_sub(item.settings["_tfoNetworkId"])) if item.settings.get("_tfoNetworkId") else None)
                        if tv is None:
                            raise bad("tfoSubnetName needs a test failover network (selectedTfoAzureNetworkId).",
                                      "InvalidParameter", f"{path}.ipConfigs[{ip_i}].tfoSubnetName")
                        nc["tfoSubnetName"] = self.check_subnet(tv, tsub, f"{path}.ipConfigs[{ip_i}].tfoSubnetName")
                    for k in ("recoveryStaticIPAddress", "tfoStaticIPAddress"):
                        if ipc.get(k) is not None:
                            nc[k] = ipc[k]
                    for k in ("recoveryPublicIPAddressId", "tfoPublicIPAddressId"):
                        if ipc.get(k) is not None:
                            nc[k] = arm_id_of(ipc[k], "microsoft.network/publicipaddresses", "a public IP address", k,
                                              f"{path}.ipConfigs[{ip_i}].{k}")
                for k in ("recoveryNetworkSecurityGroupId", "tfoNetworkSecurityGroupId"):
                    if n.get(k) is not None:
                        nc[k] = arm_id_of(n[k], "microsoft.network/networksecuritygroups", "a network security group", k,
                                          f"{path}.{k}")
                for k in ("recoveryNicName", "recoveryNicResourceGroupName", "tfoNicName"):
                    if n.get(k) is not None:
                        nc[k] = n[k]
                if vnet is not None and "selectedRecoveryAzureNetworkId" in changes:
                    nc["recoveryVMNetworkId"] = changes["selectedRecoveryAzureNetworkId"]
                nic_changes[n["nicId"].lower()] = nc
        if props.get("licenseType") is not None:
            if props["licenseType"] not in ("NotSpecified", "NoLicenseType", "WindowsServer"):
                raise bad(f"licenseType {props['licenseType']!r} is not valid.", "InvalidParameter", f"{root}.licenseType")
            changes["licenseType"] = props["licenseType"]
        if props.get("enableRdpOnTargetOption") is not None:
            changes["enableRdpOnTargetOption"] = props["enableRdpOnTargetOption"]
        if props.get("recoveryAvailabilitySetId") is not None:
            changes["recoveryAvailabilitySetId"] = props["recoveryAvailabilitySetId"]
        psd = props.get("providerSpecificDetails")
        if psd is not None:
            if not isinstance(psd, dict) or psd.get("instanceType") != "HyperVReplicaAzure":
                raise bad("providerSpecificDetails.instanceType must be 'HyperVReplicaAzure'.", "InvalidReplicationProvider",
                          f"{root}.providerSpecificDetails.instanceType")
            if psd.get("recoveryAzureV2ResourceGroupId") is not None:
                self.resource_group(psd["recoveryAzureV2ResourceGroupId"], f"{root}.providerSpecificDetails.recoveryAzureV2ResourceGroupId")
                changes["recoveryAzureResourceGroupId"] = psd["recoveryAzureV2ResourceGroupId"]
            if psd.get("useManagedDisks") is not None:
                um = str(psd["useManagedDisks"]).lower()
                if um not in ("true", "false"):
                    raise bad("useManagedDisks must be 'true' or 'false'.", "InvalidParameter", f"{root}.providerSpecificDetails.useManagedDisks")
                changes["useManagedDisks"] = um
            for k in ("targetAvailabilityZone", "targetProximityPlacementGroupId", "targetVmTags", "targetManagedDiskTags",
                      "targetNicTags", "sqlServerLicenseType", "userSelectedOSName"):
                if psd.get(k) is not None:
                    changes[k] = psd[k]
            if not isinstance(psd.get("vmDisks") or [], list):
                raise bad("vmDisks must be a list.", "InvalidRequestContent", f"{root}.providerSpecificDetails.vmDisks")
            for i, d in enumerate(psd.get("vmDisks") or []):
                if not isinstance(d, dict) or not isinstance(d.get("diskId"), str) or d["diskId"].lower() not in {x.lower() for x in vm.disk_ids}:
                    raise bad(f"vmDisks[{i}].diskId is not a disk of '{vm.friendly}'.", "DiskNotFound",
                              f"{root}.providerSpecificDetails.vmDisks[{i}].diskId")

        def done(at: float) -> None:
            item.settings.update(changes)
            for nid, nc in nic_changes.items():
                item.nic_settings.setdefault(nid, {}).update(nc)
            item.rev += 1

        return self._item_job(item, "UpdateProtection", done, None, crid)

    def disable_protection(self, vault: Vault, fabric: str, container: str, name: str, body: Any,
                           crid: str | None = None) -> Job:
        item = self.item(vault, fabric, container, name)
        props = get(body, "properties", required=True, types=dict)
        reason = props.get("disableProtectionReason")
        if reason is not None and reason not in ("NotSpecified", "MigrationComplete"):
            raise bad(f"disableProtectionReason {reason!r} is not valid (NotSpecified, MigrationComplete).", "InvalidParameter",
                      "properties.disableProtectionReason")
        rpi = props.get("replicationProviderInput")
        if rpi is not None and (not isinstance(rpi, dict) or rpi.get("instanceType") not in (None, "HyperVReplicaAzure", "DisableProtectionProviderSpecificInput")):
            raise bad("replicationProviderInput.instanceType is not valid for a Hyper-V to Azure item.", "InvalidReplicationProvider",
                      "properties.replicationProviderInput.instanceType")
        self._check_op(item, "DisableProtection")

        def done(at: float) -> None:
            self._remove_item(item)
            self._drop_from_plans(item)

        return self._item_job(item, "DisableProtection", done, None, crid)

    def purge_protection(self, vault: Vault, fabric: str, container: str, name: str, crid: str | None = None) -> Job:
        item = self.item(vault, fabric, container, name)
        if item.busy() and item.job.scenario in ("DisableDr", "PurgeProtection"):  # type: ignore[union-attr]
            raise busy(f"the replicated item '{item.vm.friendly}'", item.job)  # type: ignore[arg-type]

        def done(at: float) -> None:
            self._remove_item(item)
            self._drop_from_plans(item)

        return self._item_job(item, "PurgeProtection", done, None, crid)

    def _drop_from_plans(self, item: ProtectedItem) -> None:
        key = (item.container.fabric.name.lower(), item.container.name.lower(), item.name.lower())
        for plan in item.vault.plans.values():
            for g in plan.groups:
                g["items"] = [k for k in g["items"] if k != key]

    # ---- failover family on one item
    def failover_op(self, vault: Vault, fabric: str, container: str, name: str, action: str, body: Any,
                    crid: str | None = None) -> Job:
        item = self.item(vault, fabric, container, name)
        op = self._failover_input(vault, action, body, item.phase)
        self._check_op(item, op if op != "Failback" else "Failback")
        from reconciler.emulator.siterecovery import recoverypoints

        point = recoverypoints.chosen(item, self.now(), body) if op in ("PlannedFailover", "UnplannedFailover") else None
        return self._run_item_op(item, op, crid, body=body, point=point)

    def _failover_input(self, vault: Vault, action: str, body: Any, phase: str | None, plan: bool = False) -> str:
        """Validate the body of a failover-family POST; the operation name it means."""
        op = sm.ACTIONS[action.lower()]
        props = get(body, "properties", types=dict) if body is not None else None
        if op in ("TestFailover", "PlannedFailover", "UnplannedFailover"):
            if props is None:
                raise missing("properties")
            direction = props.get("failoverDirection")
            if direction is None and plan:
                raise missing("properties.failoverDirection")
            if direction is not None and direction not in DIRECTIONS:
                raise bad(f"failoverDirection {direction!r} is not valid (PrimaryToRecovery, RecoveryToPrimary).",
                          "InvalidFailoverDirection", "properties.failoverDirection")
            direction = direction or "PrimaryToRecovery"
            psd = props.get("providerSpecificDetails")
            entries = psd if isinstance(psd, list) else ([psd] if psd is not None else [])
            if plan and psd is not None and not isinstance(psd, list):
                raise bad("providerSpecificDetails of a recovery plan failover is a list.", "InvalidRequestContent",
                          "properties.providerSpecificDetails")
            kinds = set()
            for e in entries:
                if not isinstance(e, dict) or e.get("instanceType") not in ("HyperVReplicaAzure", "HyperVReplicaAzureFailback"):
                    raise bad("providerSpecificDetails.instanceType must be 'HyperVReplicaAzure' (or 'HyperVReplicaAzureFailback' "
                              "for a failback) for Hyper-V to Azure.", "InvalidReplicationProvider",
                              "properties.providerSpecificDetails.instanceType")
                kinds.add(e["instanceType"])
                if e["instanceType"] == "HyperVReplicaAzureFailback":
                    dso = e.get("dataSyncOption")
                    if dso is not None and dso not in ("ForDownTime", "ForSynchronization"):
                        raise bad(f"dataSyncOption {dso!r} is not valid (ForDownTime, ForSynchronization).", "InvalidParameter",
                                  "properties.providerSpecificDetails.dataSyncOption")
                    alt = e.get("providerIdForAlternateRecovery")
                    if alt and not any(str(alt).lower() in (pn.lower(), pv.friendly.lower())
                                       for f in vault.fabrics.values() for pn, pv in f.providers.items()):
                        # an alternate location names a registered provider (guess: its name; J-008)
                        raise bad(f"providerIdForAlternateRecovery {alt!r} is not a provider registered in the vault.",
                                  "InvalidParameter", "properties.providerSpecificDetails.providerIdForAlternateRecovery")
                    rvc = e.get("recoveryVmCreationOption")
                    if rvc is not None and rvc not in ("CreateVmIfNotFound", "NoAction"):
                        raise bad(f"recoveryVmCreationOption {rvc!r} is not valid.", "InvalidParameter",
                                  "properties.providerSpecificDetails.recoveryVmCreationOption")
            if op == "TestFailover":
                if direction != "PrimaryToRecovery":
                    raise bad("A test failover of a Hyper-V VM to Azure runs PrimaryToRecovery.", "InvalidFailoverDirection",
                              "properties.failoverDirection")
                ntype = props.get("networkType")
                if ntype is None and plan:
                    raise missing("properties.networkType")
                if ntype is not None and ntype not in TFO_NETWORK_TYPES:
                    raise bad(f"networkType {ntype!r} is not valid ({', '.join(sorted(TFO_NETWORK_TYPES))}).",
                              "InvalidNetworkType", "properties.networkType")
                if ntype == "VmNetworkAsInput" or props.get("networkId") is not None:
                    if props.get("networkId") is None:
                        raise missing("properties.networkId")
                    self.target_network(vault, props["networkId"], "properties.networkId")
            if op == "UnplannedFailover":
                if direction != "PrimaryToRecovery":
                    raise bad("An unplanned failover of a Hyper-V VM to Azure runs PrimaryToRecovery; fail back with a "
                              "planned failover (RecoveryToPrimary).", "InvalidFailoverDirection", "properties.failoverDirection")
                sso = props.get("sourceSiteOperations")
                if sso is None and plan:
                    raise missing("properties.sourceSiteOperations")
                if sso is not None and sso not in ("Required", "NotRequired"):
                    raise bad(f"sourceSiteOperations {sso!r} is not valid (Required, NotRequired).", "InvalidParameter",
                              "properties.sourceSiteOperations")
            if op == "PlannedFailover":
                if direction == "RecoveryToPrimary":
                    if "HyperVReplicaAzure" in kinds:
                        raise bad("A failback (RecoveryToPrimary) takes providerSpecificDetails of instanceType "
                                  "'HyperVReplicaAzureFailback'.", "InvalidReplicationProvider",
                                  "properties.providerSpecificDetails.instanceType")
                    op = "Failback"
                elif "HyperVReplicaAzureFailback" in kinds:
                    raise bad("'HyperVReplicaAzureFailback' input is for failback (failoverDirection RecoveryToPrimary).",
                              "InvalidReplicationProvider", "properties.providerSpecificDetails.instanceType")
        elif op == "ReverseReplicate" and props is not None:
            direction = props.get("failoverDirection")
            if direction is not None and direction not in DIRECTIONS:
                raise bad(f"failoverDirection {direction!r} is not valid.", "InvalidFailoverDirection", "properties.failoverDirection")
            psd = props.get("providerSpecificDetails")
            if psd is not None and (not isinstance(psd, dict) or psd.get("instanceType") != "HyperVReplicaAzure"):
                raise bad("providerSpecificDetails.instanceType must be 'HyperVReplicaAzure'.", "InvalidReplicationProvider",
                          "properties.providerSpecificDetails.instanceType")
            if isinstance(psd, dict) and psd.get("logStorageAccountId"):
                self.storage_account(vault, psd["logStorageAccountId"], "properties.providerSpecificDetails.logStorageAccountId")
        return op

    def _run_item_op(self, item: ProtectedItem, op: str, crid: str | None, job_for_plan: Job | None = None,
                     body: Any = None, point: str | None = None) -> Job:
        before = (item.phase, item.tfo)

        def done(at: float) -> None:
            if item.container.items.get(item.name.lower()) is not item:
                return
            self._apply_op(item, op, at)
            if op in ("PlannedFailover", "UnplannedFailover"):  # the point used (recoverypoints.py)
                from reconciler.emulator.siterecovery.recoverypoints import record

                record(item, point)

        def failed(at: float) -> None:
            if item.container.items.get(item.name.lower()) is item:
                item.phase, item.tfo = before

        # While a test failover job runs, testFailoverState keeps its value (no recording
        # shows it); a cleanup shows MarkedForDeletion from its start (the emulator's choice;
        # ReplicationProtectedItems_TestFailoverCleanup.json shows it at the end).
        if op == "TestFailoverCleanup":
            item.tfo = "MarkedForDeletion"
        if job_for_plan is not None:
            item.job = job_for_plan
            return job_for_plan
        first = None
        if op == "Failback":
            from reconciler.emulator.siterecovery.jobcontrol import failback_first_tasks

            first = failback_first_tasks(body)
        job = self._item_job(item, op, done, failed, crid, first=first)
        self._describe_failover_job(job, [item], op, body)
        return job

    def _describe_failover_job(self, job: Job, items: list[ProtectedItem], op: str, body: Any) -> None:
        """customDetails and suspension of a failover-family job of items (not of a plan)."""
        props: dict[str, Any] = body["properties"] if isinstance(body, dict) and isinstance(body.get("properties"), dict) else {}
        if op in ("TestFailover", "TestFailoverCleanup"):
            # TestFailoverJobDetails: TestTFO.json (both jobs), ReplicationJobs_Resume.json
            job.custom_instance_type = "TestFailoverJobDetails"
            extra: dict[str, Any] = {"comments": props.get("comments") or ""}
            if op == "TestFailover":
                net = str(props.get("networkId") or "").rstrip("/").split("/")[-1] or None
                extra.update({"networkName": net, "networkFriendlyName": net,
                              "networkType": props.get("networkType") or ("VmNetworkAsInput" if net else None)})
                job.details_when_done = [self._item_details(it, test=True, network=net) for it in items]
                job.suspend = self.state.config.faults.tfojob == "suspended"
            job.custom_extra = {k: v for k, v in extra.items() if v is not None}
        elif op in ("PlannedFailover", "UnplannedFailover", "Failback"):
            # FailoverJobDetails: TestPlannedFailover.json (planned); unplanned and failback: guess
            job.custom_instance_type = "FailoverJobDetails"
            job.details_when_done = [self._item_details(it, test=False, network=None) for it in items]

    @staticmethod
    def _item_details(item: ProtectedItem, *, test: bool, network: str | None) -> dict[str, Any]:
        target = item.settings.get("recoveryAzureVMName") or item.vm.friendly
        d: dict[str, Any] = {"name": item.name, "friendlyName": item.vm.friendly}
        if test:
            # ASR names the test VM "<target VM name>-test" (ReplicationJobs_Resume.json, TestTFO.json)
            d.update({"testVmName": f"{target}-test", "testVmFriendlyName": f"{target}-test",
                      "networkConnectionStatus": "Connected"})
        if network:
            d["networkFriendlyName"] = network
        return d

    def _apply_op(self, item: ProtectedItem, op: str, at: float) -> None:
        if op == "TestFailover":
            # WaitingForCompletion until the cleanup (ReplicationProtectedItems_TestFailover.json)
            item.tfo = "WaitingForCompletion"
            item.tfo_job = item.job
            # lastSuccessfulTestFailoverTime is the test failover job's start time
            # (ReplicationProtectedItems_TestFailoverCleanup.json against ..._TestFailover.json)
            item.last_tfo = item.job.start if item.job is not None else at
            return
        if op == "TestFailoverCleanup":
            # MarkedForDeletion stays on the idle item (..._TestFailoverCleanup.json and the later
            # failover examples); the suspended test failover job ends (guess: Succeeded)
            item.tfo = "MarkedForDeletion"
            self.end_suspended(item.tfo_job, at)
            item.tfo_job = None
            return
        if op in ("PlannedFailover", "UnplannedFailover"):
            item.frozen_replicated = at if item.phase == "Protected" else item.frozen_replicated
            item.last_failover = at
        if op == "Failback":
            item.last_failover = at
        item.phase = sm.next_phase(op, item.phase)
        if op == "CancelFailover":
            item.protected_since = at
            item.frozen_replicated = None
        if op == "ReverseReplicate":
            item.start_replication(at, "Resync")
            self._schedule_replication_end(item)

    # ================================================================== recovery plans
    def _plan_groups(self, vault: Vault, props: dict, primary: Fabric | None) -> tuple[list[dict[str, Any]], Fabric | None]:
        groups = props.get("groups")
        if not isinstance(groups, list) or not groups:
            raise missing("properties.groups")
        out: list[dict[str, Any]] = []
        seen: set[tuple[str, str, str]] = set()
        fabric = primary
        for gi, g in enumerate(groups):
            path = f"properties.groups[{gi}]"
            if not isinstance(g, dict):
                raise bad("A group is an object.", "InvalidRequestContent", path)
            gtype = g.get("groupType")
            if gtype not in ("Shutdown", "Boot", "Failover"):
                raise bad(f"groupType {gtype!r} is not valid (Shutdown, Boot, Failover).", "InvalidGroupType", f"{path}.groupType")
            keys = []
            members_in = g.get("replicationProtectedItems") or []
            if not isinstance(members_in, list):
                raise bad("replicationProtectedItems must be a list.", "InvalidRequestContent", f"{path}.replicationProtectedItems")
            for ii, member in enumerate(members_in):
                mpath = f"{path}.replicationProtectedItems[{ii}]"
                if not isinstance(member, dict) or not isinstance(member.get("id"), str):
                    raise missing(f"{mpath}.id")
                p = parse(member["id"])
                if not norm(member["id"]).startswith(norm(vault.id) + "/") or "replicationprotecteditems" not in p:
                    raise bad(f"'{member['id']}' is not a replicated item of this vault.", "InvalidReplicationProtectedItemId", f"{mpath}.id")
                key = (p.get("replicationfabrics", "").lower(), p.get("replicationprotectioncontainers", "").lower(),
                       p["replicationprotecteditems"].lower())
                it = resolve_item(vault, key)
                if it is None:
                    raise bad(f"The replicated item '{p['replicationprotecteditems']}' does not exist.",
                              "ReplicationProtectedItemNotFound", f"{mpath}.id")
                vmid = member.get("virtualMachineId")
                if vmid is not None and str(vmid).lower() != it.name.lower():
                    raise bad(f"virtualMachineId '{vmid}' does not match the replicated item '{it.name}'.",
                              "InvalidVirtualMachineId", f"{mpath}.virtualMachineId")
                if key in seen:
                    raise bad(f"The replicated item '{it.vm.friendly}' appears more than once in the recovery plan.",
                              "DuplicateReplicationProtectedItem", f"{mpath}.id")
                if fabric is not None and it.container.fabric is not fabric:
                    raise bad(f"The replicated item '{it.vm.friendly}' is not in the plan's primary fabric "
                              f"'{fabric.friendly}'.", "ItemNotInPrimaryFabric", f"{mpath}.id")
                seen.add(key)
                keys.append(key)
            for k in ("startGroupActions", "endGroupActions"):
                acts = g.get(k)
                if acts is not None and not isinstance(acts, list):
                    raise bad(f"{k} must be a list.", "InvalidRequestContent", f"{path}.{k}")
                for ai, act in enumerate(acts or []):
                    _check_rp_action(act, f"{path}.{k}[{ai}]")
            out.append({"groupType": gtype, "items": keys, "startGroupActions": list(g.get("startGroupActions") or []),
                        "endGroupActions": list(g.get("endGroupActions") or [])})
        types = [g["groupType"] for g in out]
        if "Boot" not in types:
            raise bad("A recovery plan needs at least one Boot group.", "InvalidGroups", "properties.groups")
        if "Failover" not in types:
            out.insert(0, {"groupType": "Failover", "items": [], "startGroupActions": [], "endGroupActions": []})
        if "Shutdown" not in types:
            out.insert(0, {"groupType": "Shutdown", "items": [], "startGroupActions": [], "endGroupActions": []})
        return out, fabric

    def create_plan(self, vault: Vault, name: str, body: Any, crid: str | None = None) -> Job | None:
        props = get(body, "properties", required=True, types=dict)
        pf = get(props, "primaryFabricId", types=str)
        if pf is None:
            raise missing("properties.primaryFabricId")
        rf = get(props, "recoveryFabricId", types=str)
        if rf is None:
            raise missing("properties.recoveryFabricId")
        if rf.lower() != AZURE_FABRIC.lower():
            raise bad(f"recoveryFabricId must be '{AZURE_FABRIC}' for Hyper-V to Azure, not '{rf}'.", "InvalidRecoveryFabric",
                      "properties.recoveryFabricId")
        p = parse(pf)
        fabric = vault.fabrics.get(p.get("replicationfabrics", "").lower()) if norm(pf).startswith(norm(vault.id) + "/") else None
        if fabric is None:
            raise bad(f"The primary fabric '{pf}' does not exist in this vault.", "FabricNotFound", "properties.primaryFabricId")
        model = props.get("failoverDeploymentModel") or "ResourceManager"
        if model not in ("ResourceManager", "Classic", "NotApplicable"):
            raise bad(f"failoverDeploymentModel {model!r} is not valid.", "InvalidParameter", "properties.failoverDeploymentModel")
        psi = props.get("providerSpecificInput")
        if psi is not None and not isinstance(psi, list):
            raise bad("providerSpecificInput must be a list.", "InvalidRequestContent", "properties.providerSpecificInput")
        groups, _ = self._plan_groups(vault, props, fabric)
        existing = vault.plans.get(name.lower())
        if existing is not None:
            if existing.busy():
                raise busy(f"recovery plan '{existing.name}'", existing.job)  # type: ignore[arg-type]
            return self._update_plan_groups(vault, existing, groups, crid)
        running = self._pending(vault, "plan", name, body)
        if running is not None:
            return running

        def done(at: float) -> None:
            vault.plans[name.lower()] = RecoveryPlan(vault, name, fabric.name, model, groups)

        # a recovery plan job's targetObjectId is a GUID, its targetObjectName the plan (ReplicationJobs_Get.json): F-072
        job = self.start_job(vault, "CreateRecoveryPlan", "Create a recovery plan", target_id=guid(vault.id, "recoveryplan", name), target_name=name,
                             target_type="RecoveryPlan", tasks=[("CreateRecoveryPlanTask", "Create a recovery plan task", DURATIONS["CreateRecoveryPlan"])],
                             on_success=done, client_request_id=crid, fabric_id=fabric.id)
        vault.pending[("plan", name.lower())] = job
        job._body_key = _body_key(body)  # type: ignore[attr-defined]
        return job

    def update_plan(self, vault: Vault, name: str, body: Any, crid: str | None = None) -> Job:
        plan = self.plan(vault, name)
        if plan.busy():
            raise busy(f"recovery plan '{plan.name}'", plan.job)  # type: ignore[arg-type]
        props = get(body, "properties", required=True, types=dict)
        fabric = vault.fabrics.get(plan.primary_fabric.lower())
        groups, _ = self._plan_groups(vault, props, fabric)
        return self._update_plan_groups(vault, plan, groups, crid)

    def _update_plan_groups(self, vault: Vault, plan: RecoveryPlan, groups: list[dict], crid: str | None) -> Job:
        def done(at: float) -> None:
            plan.groups = groups

        job = self.start_job(vault, "UpdateRecoveryPlan", "Update a recovery plan", target_id=guid(vault.id, "recoveryplan", plan.name), target_name=plan.name,
                             target_type="RecoveryPlan", tasks=[("UpdateRecoveryPlanTask", "Update a recovery plan task", DURATIONS["UpdateRecoveryPlan"])],
                             on_success=done, client_request_id=crid)
        plan.job = job
        return job

    def delete_plan(self, vault: Vault, name: str, crid: str | None = None) -> Job:
        plan = self.plan(vault, name)
        if plan.busy():
            raise busy(f"recovery plan '{plan.name}'", plan.job)  # type: ignore[arg-type]

        def done(at: float) -> None:
            if vault.plans.get(plan.name.lower()) is plan:
                del vault.plans[plan.name.lower()]

        job = self.start_job(vault, "DeleteRecoveryPlan", "Delete a recovery plan", target_id=guid(vault.id, "recoveryplan", plan.name), target_name=plan.name,
                             target_type="RecoveryPlan", tasks=[("DeleteRecoveryPlanTask", "Delete a recovery plan task", DURATIONS["DeleteRecoveryPlan"])],
                             on_success=done, client_request_id=crid)
        plan.job = job
        return job

    def plan_failover_op(self, vault: Vault, name: str, action: str, body: Any, crid: str | None = None) -> Job:
        plan = self.plan(vault, name)
        op = self._failover_input(vault, action, body, None, plan=True)
        if plan.busy():
            raise busy(f"recovery plan '{plan.name}'", plan.job)  # type: ignore[arg-type]
        items = plan.items()
        if not items:
            raise ArmError(409, "OperationNotAllowed", f"The recovery plan '{plan.name}' has no replicated items.")
        for it in items:
            if it.busy():
                raise busy(f"the replicated item '{it.vm.friendly}' of recovery plan '{plan.name}'", it.job)  # type: ignore[arg-type]
            self._check_op(it, op)
        scenario, friendly, item_tasks = sm.OPERATIONS[op]
        tasks: list[TaskSpec] = []
        item_seconds = sum(t[2] for t in item_tasks)
        boot = 0
        for gi, g in enumerate(plan.groups):
            members = [m for m in (resolve_item(vault, k) for k in g["items"]) if m is not None]
            if g["groupType"] == "Boot":
                boot += 1
            from reconciler.emulator.siterecovery.jobcontrol import action_tasks

            tasks += action_tasks(g.get("startGroupActions"), op, body)
            if members:
                label = f"Group {boot}: {g['groupType']}" if g["groupType"] == "Boot" else f"All groups {g['groupType'].lower()}"
                name = f"BootGroup{boot}" if g["groupType"] == "Boot" else f"{g['groupType']}Group"
                tasks.append(TaskSpec(name, f"{label} ({len(members)} virtual machines)", item_seconds,
                                      group=(str(gi), g["groupType"]), children=[(m.name, m.vm.friendly) for m in members]))
            tasks += action_tasks(g.get("endGroupActions"), op, body)
        if op == "Failback":  # ForDownTime: synchronise first, then wait for a resume (jobcontrol.py)
            from reconciler.emulator.siterecovery.jobcontrol import failback_first_tasks

            tasks = (failback_first_tasks(body) or []) + tasks
        before = {id(it): (it.phase, it.tfo) for it in items}

        from reconciler.emulator.siterecovery import recoverypoints

        rp_type = recoverypoints.plan_type(body)

        def done(at: float) -> None:
            for it in items:
                if it.container.items.get(it.name.lower()) is it:
                    p = recoverypoints.latest(it, at, rp_type) if op in ("PlannedFailover", "UnplannedFailover") else None
                    self._apply_op(it, op, at)
                    if op in ("PlannedFailover", "UnplannedFailover"):
                        recoverypoints.record(it, p[0] if p else None)
            if op == "TestFailover":
                plan.last_test = job.start
            elif op in ("PlannedFailover", "Failback"):
                plan.last_planned = at
            elif op == "UnplannedFailover":
                plan.last_unplanned = at

        def failed(at: float) -> None:
            for it in items:
                if it.container.items.get(it.name.lower()) is it:
                    it.phase, it.tfo = before[id(it)]

        job = self.start_job(vault, scenario, friendly, target_id=plan.name, target_name=plan.name, target_type="RecoveryPlan",
                             tasks=tasks, on_success=done, on_failure=failed, client_request_id=crid,
                             fabric_id=vault.fabrics[plan.primary_fabric.lower()].id if plan.primary_fabric.lower() in vault.fabrics else None,
                             affected={"RecoveryPlanName": plan.name})
        job.custom_instance_type = "AsrJobDetails"  # of a plan's failover job: guess
        # a plan's test failover job waits for its cleanup too (ReplicationRecoveryPlans_TestFailover.json:
        # currentScenarioStatus Suspended, WaitingForStopTestFailover)
        job.suspend = op == "TestFailover" and self.state.config.faults.tfojob == "suspended"
        plan.job = job
        plan.last_job = job
        for it in items:
            self._run_item_op(it, op, crid, job_for_plan=job)
        return job


class JobFailed(Exception):
    """Raised by a completion callback: the job fails with `error` instead."""

    def __init__(self, error: JobError) -> None:
        super().__init__(error.message)
        self.error = error


def _body_key(body: Any) -> str:
    import json

    return json.dumps(body, sort_keys=True, default=str)


def _lower_sub(arm_id: str) -> str:
    """State keys are case-insensitive; normalise the spelling for state.get."""
    return arm_id


def _location(res: dict) -> str:
    return str(res.get("location") or "").replace(" ", "").lower()


def _created_at(res: dict) -> float | None:
    sd = res.get("systemData") or {}
    ts = sd.get("createdAt") or (res.get("properties") or {}).get("_createdAt") or res.get("_createdAt")
    if not ts:
        return None
    if isinstance(ts, (int, float)):
        return float(ts)
    from reconciler.emulator.siterecovery.jobs import parse_iso

    try:
        return parse_iso(str(ts))
    except ValueError:
        return None


def _created_marker(res: dict) -> str | None:
    sd = res.get("systemData") or {}
    m = sd.get("createdAt") or res.get("_createdAt") or (res.get("properties") or {}).get("_createdAt")
    return str(m) if m else None


RP_ACTION_TYPES = ("ManualActionDetails", "ScriptActionDetails", "AutomationRunbookActionDetails")


def _check_rp_action(act: Any, path: str) -> None:
    """A RecoveryPlanAction as the 2025-08-01 spec requires it (actionName, failoverTypes,
    failoverDirections, customDetails with a known instanceType); stored and returned as given.
    The error code is a guess (docs/emulator.md)."""
    if not isinstance(act, dict):
        raise bad("A recovery plan action is an object.", "InvalidRequestContent", path)
    if not isinstance(act.get("actionName"), str) or not act["actionName"]:
        raise missing(f"{path}.actionName")
    for key in ("failoverTypes", "failoverDirections"):
        if not isinstance(act.get(key), list):
            raise missing(f"{path}.{key}")
    typ = (act.get("customDetails") or {}).get("instanceType") if isinstance(act.get("customDetails"), dict) else None
    if typ not in RP_ACTION_TYPES:
        raise bad(f"customDetails.instanceType {typ!r} is not one of {', '.join(RP_ACTION_TYPES)}.",
                  "InvalidRequestContent", f"{path}.customDetails.instanceType")


# ---------------------------------------------------------------------------- one per state

KEY = "siterecovery"  # its slot in EmulatorState.extras


def attach(state: EmulatorState, estate: Any = None) -> SiteRecovery:
    """A fresh SiteRecovery for `state` (app.install_estate calls it)."""
    sr = SiteRecovery(state, estate)
    state.extras[KEY] = sr
    return sr


def get_sr(state: EmulatorState) -> SiteRecovery:
    """The SiteRecovery of `state` (created empty if absent)."""
    sr = state.extras.get(KEY)
    if sr is None:
        sr = attach(state, None)
    return sr

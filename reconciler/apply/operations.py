"""The allow-list of SDK calls the applier makes.

A plan's `Request(operation, args)` names an entry of `OPERATIONS`:
`<client>.<operations group>.<method>`, where `<client>` is an attribute (or, for
`site_recovery`, a method) of `reconciler.azure.clients.Clients`. The applier never
invents calls: an operation not in the table is refused before anything is sent.

Three ways to carry an operation out (`OpSpec.style`):

- "asr":  a Site Recovery write. Sent with `polling=False` and our own
          `x-ms-client-request-id`; the 200/202 answer is read here and the ASR job
          it started is followed by the `JobTracker` (one job list per interval for
          every operation in flight), never by polling the operation itself.
- "lro":  a non-ASR long-running operation (resource group delete, vault, storage,
          vnet). Followed through its own azure-core poller, with a bounded wait.
- "sync": a plain call whose answer is the result (resource group create).

Vault creation is sent with `If-None-Match: *` so that two appliers racing to
create the same vault cannot both win (the loser gets 412 and goes on to the lock).
"""

from __future__ import annotations

import inspect
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reconciler.azure.jobs import Sent, send_write
from reconciler.errors import UsageError

ASR = "asr"
LRO = "lro"
SYNC = "sync"
AWAIT = "await"  # read an ASR job already running (the request of an AWAIT change), then follow it


@dataclass(frozen=True)
class OpSpec:
    key: str
    style: str  # asr | lro | sync
    destructive: bool = False
    target_arg: str | None = None  # argument naming the object the job acts on
    scenarios: tuple[str, ...] = ()  # ASR job scenarioName values this call starts (hint only)
    if_none_match: bool = False  # send If-None-Match: * (create-only)

    @property
    def client_name(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def group(self) -> str:
        return self.key.split(".")[1]

    @property
    def method(self) -> str:
        return self.key.split(".")[2]


def _table(*specs: OpSpec) -> dict[str, OpSpec]:
    return {s.key: s for s in specs}


_SR = "site_recovery"

OPERATIONS: dict[str, OpSpec] = _table(
    # resource groups
    OpSpec("resources.resource_groups.create_or_update", SYNC),
    OpSpec("resources.resource_groups.update", SYNC),
    OpSpec("resources.resource_groups.begin_delete", LRO, destructive=True),
    # vaults
    OpSpec("vaults.vaults.begin_create_or_update", LRO),
    OpSpec("vaults.vaults.begin_update", LRO),
    OpSpec("vaults.vaults.begin_delete", LRO, destructive=True),
    # storage
    OpSpec("storage.storage_accounts.begin_create", LRO),
    OpSpec("storage.storage_accounts.update", SYNC),
    OpSpec("storage.storage_accounts.delete", SYNC, destructive=True),
    # network
    OpSpec("network.virtual_networks.begin_create_or_update", LRO),
    OpSpec("network.virtual_networks.update_tags", SYNC),
    OpSpec("network.virtual_networks.begin_delete", LRO, destructive=True),
    OpSpec("network.subnets.begin_create_or_update", LRO),
    OpSpec("network.subnets.begin_delete", LRO, destructive=True),
    # vault security: Site Recovery private endpoints, email notifications
    OpSpec("network.private_endpoints.begin_create_or_update", LRO),
    OpSpec("network.private_endpoints.begin_delete", LRO, destructive=True),
    OpSpec(f"{_SR}.replication_alert_settings.create", SYNC),
    # site recovery: fabrics (Hyper-V sites)
    OpSpec(f"{_SR}.replication_fabrics.begin_create", ASR, target_arg="fabric_name",
           scenarios=("CreateSite", "AddSite", "CreateFabric")),
    OpSpec(f"{_SR}.replication_fabrics.begin_delete", ASR, destructive=True, target_arg="fabric_name",
           scenarios=("DeleteSite", "RemoveSite", "DeleteFabric")),
    OpSpec(f"{_SR}.replication_fabrics.begin_purge", ASR, destructive=True, target_arg="fabric_name",
           scenarios=("DeleteSite", "RemoveSite", "PurgeFabric")),
    # policies
    OpSpec(f"{_SR}.replication_policies.begin_create", ASR, target_arg="policy_name",
           scenarios=("AddProtectionProfile", "CreatePolicy")),
    OpSpec(f"{_SR}.replication_policies.begin_update", ASR, target_arg="policy_name",
           scenarios=("UpdateProtectionProfile", "UpdatePolicy")),
    OpSpec(f"{_SR}.replication_policies.begin_delete", ASR, destructive=True, target_arg="policy_name",
           scenarios=("RemoveProtectionProfile", "DeletePolicy")),
    # policy associations (protection container mappings)
    OpSpec(f"{_SR}.replication_protection_container_mappings.begin_create", ASR, target_arg="mapping_name",
           scenarios=("PairCloud", "ConfigureProtection", "CreateProtectionContainerMapping")),
    OpSpec(f"{_SR}.replication_protection_container_mappings.begin_update", ASR, target_arg="mapping_name",
           scenarios=("UpdateCloudPairing", "UpdateProtectionContainerMapping")),
    OpSpec(f"{_SR}.replication_protection_container_mappings.begin_delete", ASR, destructive=True,
           target_arg="mapping_name", scenarios=("UnpairCloud", "DeleteProtectionContainerMapping")),
    OpSpec(f"{_SR}.replication_protection_container_mappings.begin_purge", ASR, destructive=True,
           target_arg="mapping_name", scenarios=("UnpairCloud", "PurgeProtectionContainerMapping")),
    # network mappings
    OpSpec(f"{_SR}.replication_network_mappings.begin_create", ASR, target_arg="network_mapping_name",
           scenarios=("MapNetwork", "CreateNetworkMapping")),
    OpSpec(f"{_SR}.replication_network_mappings.begin_update", ASR, target_arg="network_mapping_name",
           scenarios=("UpdateNetworkMapping", "MapNetwork")),
    OpSpec(f"{_SR}.replication_network_mappings.begin_delete", ASR, destructive=True,
           target_arg="network_mapping_name", scenarios=("UnmapNetwork", "DeleteNetworkMapping")),
    # protected items
    OpSpec(f"{_SR}.replication_protected_items.begin_create", ASR, target_arg="replicated_protected_item_name",
           scenarios=("EnableDr", "EnableProtection")),
    OpSpec(f"{_SR}.replication_protected_items.begin_update", ASR, target_arg="replicated_protected_item_name",
           scenarios=("UpdateVmProperties", "UpdateProtectedItem")),
    OpSpec(f"{_SR}.replication_protected_items.begin_delete", ASR, destructive=True,
           target_arg="replicated_protected_item_name", scenarios=("DisableDr", "DisableProtection")),
    OpSpec(f"{_SR}.replication_protected_items.begin_purge", ASR, destructive=True,
           target_arg="replicated_protected_item_name", scenarios=("DisableDr", "PurgeProtection")),
    # jobs already running at plan time (AWAIT changes)
    OpSpec(f"{_SR}.replication_jobs.get", AWAIT),
    # recovery plans
    OpSpec(f"{_SR}.replication_recovery_plans.begin_create", ASR, target_arg="recovery_plan_name",
           scenarios=("CreateRecoveryPlan",)),
    OpSpec(f"{_SR}.replication_recovery_plans.begin_update", ASR, target_arg="recovery_plan_name",
           scenarios=("UpdateRecoveryPlan",)),
    OpSpec(f"{_SR}.replication_recovery_plans.begin_delete", ASR, destructive=True,
           target_arg="recovery_plan_name", scenarios=("DeleteRecoveryPlan",)),
)

# Vault creation must not overwrite a vault someone else created meanwhile.
CREATE_ONLY = {"vaults.vaults.begin_create_or_update"}


def spec_for(operation: str) -> OpSpec:
    spec = OPERATIONS.get(operation)
    if spec is None:
        raise UsageError(
            f"the plan asks for operation {operation!r}, which asr apply does not carry out",
            hint="the plan may come from a newer asr, or was edited by hand",
        )
    return spec


def check_request(operation: str, args: dict[str, Any], clients: Any = None) -> OpSpec:
    """Refuse a request whose operation is unknown, or (with clients) whose
    arguments do not fit the SDK method, before anything is sent."""
    spec = spec_for(operation)
    if not isinstance(args, dict):
        raise UsageError(f"{operation}: arguments must be a mapping")
    if clients is not None:
        fn = resolve(clients, spec)
        sig = inspect.signature(fn)
        params = sig.parameters
        has_var_kw = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
        named = {n for n, p in params.items() if p.kind is not inspect.Parameter.VAR_KEYWORD}
        missing = [
            n for n, p in params.items()
            if p.default is inspect.Parameter.empty
            and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
            and n not in args
        ]
        # the SDK methods take **kwargs (pipeline options); a plan may only name real parameters
        unknown = [a for a in args if a not in named or a == "self"]
        del has_var_kw
        if missing:
            raise UsageError(f"{operation}: missing argument(s) {', '.join(missing)}")
        if unknown:
            raise UsageError(f"{operation}: unknown argument(s) {', '.join(unknown)}")
    return spec


def resolve(clients: Any, spec: OpSpec) -> Callable[..., Any]:
    attr = getattr(clients, spec.client_name)
    client = attr() if callable(attr) and not hasattr(attr, "_config") else attr
    group = getattr(client, spec.group)
    return getattr(group, spec.method)


def new_request_id() -> str:
    return str(uuid.uuid4())


def send_asr(clients: Any, spec: OpSpec, args: dict[str, Any], request_id: str | None = None) -> Sent:
    """Send an ASR write through the shared sender (`reconciler.azure.jobs.send_write`:
    polling=False, our client request id); return what the answer said. Raises the
    SDK's exception on refusal (marked with asr_request_id / asr_attempts / asr_sent_at)."""
    return send_write(resolve(clients, spec), counter=getattr(clients, "counter", None), request_id=request_id,
                      **args)


def run_lro(clients: Any, spec: OpSpec, args: dict[str, Any], *, timeout: float,
            should_stop: Callable[[], bool] | None = None,
            on_waiting: Callable[[float], None] | None = None, every: float = 30.0) -> Any:
    """Run a non-ASR operation to its end (bounded wait). Returns the result. `on_waiting(elapsed)`
    is called every `every` seconds while it runs (no silent waits)."""
    fn = resolve(clients, spec)
    kwargs: dict[str, Any] = dict(args)
    headers: dict[str, str] = {"x-ms-client-request-id": new_request_id()}
    if spec.key in CREATE_ONLY:
        headers["If-None-Match"] = "*"
    kwargs["headers"] = headers
    if spec.style == SYNC:
        return fn(**kwargs)
    poller = fn(**kwargs, polling_interval=1)
    start = time.monotonic()
    deadline = start + timeout
    reported = start
    while not poller.done():
        if should_stop is not None and should_stop():
            raise InterruptedError("stopped while waiting")
        now = time.monotonic()
        left = deadline - now
        if left <= 0:
            from reconciler.settings import format_seconds

            raise TimeoutError(f"{spec.key} did not finish within {format_seconds(timeout)}")
        if on_waiting is not None and now - reported >= every:
            reported = now
            on_waiting(now - start)
        poller.wait(min(1.0, left, every))
    return poller.result()

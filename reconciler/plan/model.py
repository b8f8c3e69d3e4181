"""The plan as a value.

A `Plan` is produced by `reconciler.plan.planner` and consumed by renderers
(`reconciler.plan.render`) and the applier (`reconciler.apply`). It is plain
data: JSON-serialisable with `to_dict()` / `from_dict()`, so a saved plan is
exactly what was reviewed.

What `before` and `after` mean, per action (as in Terraform's changes.go):

| action   | before                     | after                                 |
|----------|----------------------------|---------------------------------------|
| noop     | normalized live state      | same as before                        |
| create   | None                       | normalized desired state              |
| update   | normalized live state      | normalized desired state              |
| replace  | normalized live state      | normalized desired state              |
| delete   | normalized live state      | None                                  |
| manual   | None or what is known      | what the manual step must bring about |
| await    | normalized live state, or None when the object does not exist yet | what the running job brings about |

`await` is an ASR job already running at plan time (an earlier apply was
interrupted, someone else started it): its one request,
`site_recovery.replication_jobs.get(job_name=...)`, names the job; apply reads it and
waits for it to end, never repeating the operation. It is not destructive.

`reason` explains an action to people; the applier never branches on it.
`request` is what the applier sends: the SDK operation key and its arguments,
computed by the planner, so apply does exactly what was planned.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any

PLAN_FORMAT_VERSION = 1


class Action(str, Enum):
    NOOP = "noop"
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"  # delete then create; `replace_fields` says why
    DELETE = "delete"
    MANUAL = "manual"  # a prerequisite no API can do (provider registration on-premises)
    AWAIT = "await"  # an ASR job already running for it: wait for that job (request: replication_jobs.get)


class Reason(str, Enum):
    NONE = "none"
    MISSING = "missing"  # create: not found in Azure
    DRIFTED = "drifted"  # update: live differs from manifest
    CANNOT_UPDATE = "cannot_update"  # replace: a field that cannot change in place changed
    NOT_IN_MANIFEST = "not_in_manifest"  # delete: undeclared and pruning is on
    NOT_REGISTERED = "not_registered"  # manual: server/host has not registered yet
    IN_FAILOVER = "in_failover"  # noop: VM is failed over / in test failover, left alone
    OPERATION_IN_PROGRESS = "operation_in_progress"  # noop/await: Azure job already running for it
    EXISTING_REQUIRED = "existing_required"  # manual: `existing: true` resource not found
    NOT_DISCOVERED = "not_discovered"  # manual: cloud / VM network / VM not (yet) seen by the registered server
    INVALID_TARGET = "invalid_target"  # manual (additive): Azure would refuse the VM's declared target settings


class Kind(str, Enum):
    RESOURCE_GROUP = "resource_group"
    VAULT = "vault"
    STORAGE_ACCOUNT = "storage_account"
    VIRTUAL_NETWORK = "virtual_network"
    SUBNET = "subnet"  # additive: a subnet of a declared vnet the manifest does not list (unmanaged / pruned)
    VMM_SERVER = "vmm_server"  # registration (manual) only
    HYPERV_SITE = "hyperv_site"  # fabric of type HyperVSite
    HYPERV_HOST = "hyperv_host"  # registration (manual) only
    POLICY = "policy"
    POLICY_ASSOCIATION = "policy_association"  # protection container mapping
    NETWORK_MAPPING = "network_mapping"
    PROTECTED_VM = "protected_vm"
    RECOVERY_PLAN = "recovery_plan"
    PRIVATE_ENDPOINT = "private_endpoint"  # additive: Site Recovery private endpoint of the vault
    ALERT_SETTINGS = "alert_settings"  # additive: the vault's Site Recovery email notifications


@dataclass
class Request:
    """An SDK call the applier makes. `operation` is a key in the applier's
    operation table (e.g. "replication_policies.begin_create"); `args` are the
    keyword arguments, JSON-serialisable (bodies are plain dicts in REST shape)."""

    operation: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Change:
    address: str  # stable, human: "policy.every-5-min", "protected_vm.sql01"
    kind: Kind
    action: Action
    reason: Reason = Reason.NONE
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    replace_fields: list[str] = field(default_factory=list)  # dotted paths that forced a replace
    depends_on: list[str] = field(default_factory=list)  # addresses
    blocked_by: list[str] = field(default_factory=list)  # addresses of MANUAL changes this waits for
    requests: list[Request] = field(default_factory=list)  # in order; empty for noop/manual
    arm_id: str | None = None  # id of the live (or to-be) object, for people and for `await`
    note: str | None = None  # one human sentence: cost of a replace, manual instructions, state
    # additive (planner): 0 = no pending dependency; changes with the same wave are independent of each
    # other and may run in parallel; a change only depends on changes of lower waves
    wave: int = 0
    # additive: parts of the object in Azure that this change removes although the manifest never declared
    # them (tags, recovery-plan group actions set elsewhere), under `prune:`; like a delete, they need
    # --allow-destroy (apply/runner.py `destroying`)
    removes: list[str] = field(default_factory=list)

    @property
    def is_change(self) -> bool:
        return self.action not in (Action.NOOP,)

    @property
    def destructive(self) -> bool:
        return self.action in (Action.DELETE, Action.REPLACE)

    @property
    def blocked(self) -> bool:
        return bool(self.blocked_by)


@dataclass
class Unmanaged:
    """An object in the vault the manifest does not declare (left alone), or, with `part`,
    a part of a declared object asr does not manage (a tag, a recovery-plan group action)."""

    kind: Kind
    name: str
    arm_id: str | None = None
    # additive: e.g. "tags.owner", "groups.Boot[1].endGroupActions.check-sql"; None = the whole object
    part: str | None = None
    note: str | None = None  # one human phrase, e.g. "ManualActionDetails"


@dataclass
class Plan:
    manifest_path: str
    subscription: str
    vault: str
    resource_group: str
    changes: list[Change] = field(default_factory=list)  # topologically ordered
    unmanaged: list[Unmanaged] = field(default_factory=list)
    manifest_fingerprint: str = ""  # sha256 of the normalized manifest
    live_fingerprint: str = ""  # sha256 of the normalized live state that was read
    created_at: str = ""  # ISO 8601 UTC
    requests_made: int = 0  # reads it took to build the plan
    warnings: list[str] = field(default_factory=list)
    format_version: int = PLAN_FORMAT_VERSION
    # additive (planner): sha256 per address of the normalized live objects read; lets
    # check_plan_current name exactly what moved
    live_fingerprints: dict[str, str] = field(default_factory=dict)
    # additive (`--target`): the plan holds only these addresses and what they depend on
    partial: bool = False
    targets: list[str] = field(default_factory=list)

    # --- queries -------------------------------------------------------
    def by_address(self) -> dict[str, Change]:
        return {c.address: c for c in self.changes}

    def summary(self) -> dict[str, int]:
        counts = {"add": 0, "change": 0, "replace": 0, "destroy": 0, "manual": 0, "blocked": 0, "await": 0}
        for c in self.changes:
            if c.blocked and c.action != Action.MANUAL:
                counts["blocked"] += 1
            if c.action == Action.CREATE:
                counts["add"] += 1
            elif c.action == Action.UPDATE:
                counts["change"] += 1
            elif c.action == Action.REPLACE:
                counts["replace"] += 1
            elif c.action == Action.DELETE:
                counts["destroy"] += 1
            elif c.action == Action.MANUAL:
                counts["manual"] += 1
            elif c.action == Action.AWAIT:
                counts["await"] += 1
        return counts

    @property
    def has_changes(self) -> bool:
        return any(c.is_change for c in self.changes)

    @property
    def destructive(self) -> list[Change]:
        return [c for c in self.changes if c.destructive]

    # --- serialisation -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for c in d["changes"]:
            c["kind"] = Kind(c["kind"]).value
            c["action"] = Action(c["action"]).value
            c["reason"] = Reason(c["reason"]).value
        for u in d["unmanaged"]:
            u["kind"] = Kind(u["kind"]).value
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Plan:
        d = dict(d)
        changes = []
        for c in d.pop("changes", []):
            c = dict(c)
            c["kind"] = Kind(c["kind"])
            c["action"] = Action(c["action"])
            c["reason"] = Reason(c.get("reason", "none"))
            c["requests"] = [Request(**r) for r in c.get("requests", [])]
            changes.append(Change(**c))
        unmanaged = [Unmanaged(kind=Kind(u["kind"]), name=u["name"], arm_id=u.get("arm_id"), part=u.get("part"),
                               note=u.get("note")) for u in d.pop("unmanaged", [])]
        return cls(changes=changes, unmanaged=unmanaged, **d)

"""Diagnostics: what every manifest check yields, and the rule catalogue.

A check (YAML loader, schema, semantic rule) yields a `Diagnostic` with a path in
the document (a tuple of YAML keys and list indices), a message and a rule id. The
rule id's first letter is the severity (E error, W warning), as in cfn-lint.
File, line and column are attached in exactly one place: `attach_positions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from reconciler.manifest.loader import LoadedYaml

Path = tuple  # tuple[str | int, ...]
ROOT = "<document>"  # printed path of findings about the whole file


@dataclass(frozen=True)
class Rule:
    id: str
    short: str
    long: str


_RULES = [
    # E0xxx: reading the file
    Rule("E0001", "unreadable file", "The file cannot be read (missing, a directory, not UTF-8)."),
    Rule("E0002", "YAML syntax", "The file is not well-formed YAML."),
    Rule("E0003", "duplicate key", "A mapping has the same key twice; YAML parsers would silently keep the last one."),
    Rule("E0004", "unset environment variable", "A `${NAME}` reference names an environment variable that is not set."),
    Rule("E0005", "malformed environment reference", "`${` must be followed by a variable name and `}`; write `$${` for a literal `${`."),
    Rule("E0006", "not one manifest", "A manifest file holds exactly one YAML document whose top level is a mapping."),
    # E1xxx: shape (the JSON Schema)
    Rule("E1001", "unknown key", "A key the asr/v1 format does not define (often a typo)."),
    Rule("E1002", "missing key", "A required key is missing."),
    Rule("E1003", "wrong type", "A value has the wrong type (string, integer, boolean, list, mapping)."),
    Rule("E1004", "value not allowed", "A value is not one of the allowed values."),
    Rule("E1005", "empty list", "A list that must not be empty is empty."),
    Rule("E1006", "invalid value", "A value does not satisfy the format's constraints."),
    # E2xxx: references and duplicates
    Rule("E2001", "undefined reference", "A name refers to a policy, network, subnet, storage account, VMM server, cloud, site or VM that the manifest does not declare."),
    Rule("E2002", "duplicate name", "Two entries of the same kind have the same name (names are compared case-insensitively, as Azure and VMM do)."),
    Rule("E2003", "VM twice in a recovery plan", "A VM appears in more than one group of a recovery plan, or twice in one group."),
    Rule("E2004", "recovery plan spans sources", "All VMs of an ASR recovery plan come from one source (one VMM server or one Hyper-V site)."),
    Rule("E2005", "recovery plan too large", "An ASR recovery plan holds at most 100 protected VMs."),
    Rule("E2006", "Hyper-V host in two sites", "A Hyper-V host registers into exactly one Hyper-V site."),
    Rule("E2007", "target VM name taken", "Two protected VMs would fail over to Azure VMs of the same name in the target resource group."),
    Rule("E2008", "recovery plan action", "A group action (before / after) is exactly one of manual, script or runbook; its name is unique in the recovery plan; a runbook names its Azure Automation account by ARM id."),
    # E3xxx: Azure naming rules
    Rule("E3001", "vault name", "Recovery Services vault names have 2-50 characters: letters, digits and hyphens, starting with a letter."),
    Rule("E3002", "resource group name", "Resource group names have 1-90 characters: letters, digits, underscores, hyphens, periods and parentheses, and do not end with a period."),
    Rule("E3003", "storage account name", "Storage account names have 3-24 characters: lower-case letters and digits only."),
    Rule("E3004", "virtual network name", "Virtual network names have 2-64 characters: letters, digits, underscores, periods and hyphens; they start with a letter or digit and end with a letter, digit or underscore."),
    Rule("E3005", "subnet name", "Subnet names have 1-80 characters: letters, digits, underscores, periods and hyphens; they start with a letter or digit and end with a letter, digit or underscore."),
    Rule("E3006", "VM name", "Site Recovery names the Azure VM with 1-63 characters: letters, digits and hyphens, starting and ending with a letter or digit (Hyper-V to Azure support matrix); otherwise the enable job fails its prerequisites check. The target name defaults to the source VM name."),
    Rule("E3007", "subscription id", "The subscription is a UUID such as 00000000-0000-0000-0000-000000000001."),
    Rule("E3008", "ARM resource name", "Names that become Azure resource names (policies, recovery plans, Hyper-V sites) have 1-260 characters and none of < > % & : \\ ? / # or control characters."),
    Rule("E3009", "tags", "Azure tags: at most 50, names of 1-512 characters without < > % & \\ ? /, values of at most 256 characters."),
    Rule("E3010", "VM size", "Azure VM sizes are named Standard_<size> or Basic_<size>, e.g. Standard_D4s_v5."),
    # E4xxx: addresses
    Rule("E4001", "invalid CIDR", "An address prefix is not a valid CIDR block (or has host bits set)."),
    Rule("E4002", "overlapping address spaces", "Address spaces of one virtual network overlap."),
    Rule("E4003", "subnet outside its network", "A subnet's prefix lies outside every address space of its virtual network."),
    Rule("E4004", "overlapping subnets", "Two subnets of one virtual network overlap."),
    Rule("E4005", "subnet too small", "Azure subnets are at least /29 (IPv4) or /64 (IPv6)."),
    Rule("E4006", "network without address space", "A virtual network asr creates (existing: false) needs at least one address prefix."),
    # E5xxx: replication
    Rule("E5001", "replication frequency", "Hyper-V to Azure replicates every 30, 300 or 900 seconds."),
    Rule("E5002", "recovery point retention", "Hyper-V to Azure keeps recovery points for 0-24 hours."),
    Rule("E5003", "app-consistent snapshot frequency", "App-consistent snapshots are taken every 0-12 hours (0 turns them off), and not less often than the recovery point retention: the frequency must not exceed the retention."),
    Rule("E5004", "initial replication start", 'initialReplicationStart is "immediately" or a time of day "HH:MM" (24-hour clock).'),
    Rule("E5005", "log storage account", "Every protected VM needs a logStorageAccount: Hyper-V to Azure replication stages data in a Standard storage account, with managed disks of every type (Premium_LRS, StandardSSD_LRS and Standard_LRS alike); a Premium account cannot hold replication logs."),
    Rule("E5006", "VM placement and references", "A failed-over VM is in an availability zone or an availability set, not both; availabilitySet, proximityPlacementGroup, diskEncryptionSet and networkSecurityGroup are names (looked up in the VM's resource group) or ARM ids of resources of that type."),
    Rule("E5007", "VM disks", "A disk is listed once in target.disks; an excluded disk has no type."),
    Rule("E5008", "VM network interfaces", "A static IP is an address inside its subnet, not one of the five Azure reserves (the first four and the last), and not another VM's failover address in the same network; test failover settings need target.testNetwork."),
    # E6xxx: vault security
    Rule("E6001", "private endpoint without managed identity", "Site Recovery private endpoints need the vault's system-assigned managed identity (vault.identity: SystemAssigned): Learn, \"Replicate on-premises machines by using private endpoints\", has the identity enabled before the endpoint is created."),
    Rule("E6002", "email address", "Alert recipients are email addresses: local@domain.tld, no spaces."),
    Rule("E6003", "private endpoint name", "Private endpoint names have 2-64 characters: letters, digits, underscores, periods and hyphens; they start with a letter or digit and end with a letter, digit or underscore."),
    Rule("E6004", "virtual network id", "A private endpoint's network is a target.networks name or the ARM id of a virtual network: /subscriptions/<id>/resourceGroups/<rg>/providers/Microsoft.Network/virtualNetworks/<name>."),
    # W: warnings, do not fail validation
    Rule("W2001", "unused policy", "A policy is not associated with any VMM cloud or Hyper-V site."),
    Rule("W2002", "test network is a production network", "target.testNetwork is also a failover network of some VM or network mapping: test failovers would share it with production failovers."),
    Rule("W2003", "unmapped target network", "A VMM VM fails over into a network that no VM network of its VMM server is mapped to; ASR needs a network mapping for VMM-managed VMs."),
    Rule("W2004", "Hyper-V site without hosts", "VMs replicate from a Hyper-V site that lists no hosts; list the hosts that register into it, so `asr vault-credentials` and the plan's manual steps name them."),
    Rule("W6001", "public access disabled without a private endpoint", "vault.publicNetworkAccess is Disabled and no private endpoint is declared: VMM servers and Hyper-V hosts cannot reach the vault unless a private endpoint made elsewhere exists."),
    Rule("W5001", "encryptAtRest is deprecated", "Microsoft retired encryption at rest as a replication policy setting in April 2022: server-side encryption now applies to replicated data automatically. The key is ignored."),
    Rule("W3002", "unknown region", "The vault location is not a known public Azure region."),
    Rule("W4001", "networks overlap", "Two failover networks (other than the test network) have overlapping address spaces, so they cannot be peered or routed together."),
]

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


@dataclass(frozen=True)
class Diagnostic:
    """One finding. `path` uses YAML keys (camelCase) and list indices.

    `at_key`: point at the key of the path's last element rather than its value
    (unknown and duplicate keys, missing keys reported on their parent).
    `file`, `line`, `column` (1-based) are filled in by `attach_positions`.
    """

    path: Path
    message: str
    rule_id: str
    severity: str = ""
    file: str | None = None
    line: int = 0
    column: int = 0
    at_key: bool = False

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", "warning" if self.rule_id.startswith("W") else "error")

    @property
    def dotted_path(self) -> str:
        """The path as printed; `<document>` for findings about the whole file (syntax errors)."""
        return dotted(self.path) or ROOT

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "rule": self.rule_id,
            "path": self.dotted_path,
            "message": self.message,
        }


def dotted(path: Path) -> str:
    """('protectedVMs', 2, 'target', 'network') -> 'protectedVMs[2].target.network'."""
    out = ""
    for el in path:
        if isinstance(el, int):
            out += f"[{el}]"
        else:
            out += ("." if out else "") + str(el)
    return out


def attach_positions(diags: Iterable[Diagnostic], file: str, loaded: LoadedYaml | None) -> list[Diagnostic]:
    """The one place a diagnostic's path becomes FILE:LINE:COL.

    Falls back to the nearest parent path that has a position; redacts values that
    came from environment variables; drops follow-on diagnostics on a value whose
    environment reference could not be resolved. Sorted by line, column.
    """
    out = []
    for d in diags:
        if loaded is not None and not d.line and d.path in loaded.unresolved:
            continue  # a follow-on of a loader error on this very value (unset variable, recursive alias)
        line, col = (d.line, d.column) if d.line else (1, 1)
        message = d.message
        if loaded is not None:
            if not d.line:
                line, col = loaded.positions.lookup(d.path, at_key=d.at_key)
            message = loaded.redact(message)
        out.append(replace(d, file=file, line=line, column=col, message=message))
    out.sort(key=lambda d: (d.line, d.column, d.rule_id, d.dotted_path))
    return _dedupe(out)


def _dedupe(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen = set()
    out = []
    for d in diags:
        key = (d.line, d.column, d.path, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out

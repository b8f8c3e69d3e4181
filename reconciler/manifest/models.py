"""The `asr/v1` manifest as pydantic v2 models.

Attribute names are snake_case; the YAML keys are their camelCase aliases
(`protected_vms` <-> `protectedVMs`). Unknown keys are rejected. Every field
carries a description: they flow into `schemas/asr-manifest.schema.json` and
the generated manifest reference in `docs/`.

These models check shapes and single-field rules only. Rules that span fields
(references, duplicates, overlaps, naming) live in `reconciler.manifest.checks`
so that all of them are reported together with file, line and column.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag
from pydantic.alias_generators import to_camel


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        frozen=False,
        use_enum_values=False,
    )


class StorageRedundancy(str, Enum):
    """Backup storage redundancy of a Recovery Services vault."""

    LOCALLY_REDUNDANT = "LocallyRedundant"
    ZONE_REDUNDANT = "ZoneRedundant"
    GEO_REDUNDANT = "GeoRedundant"


class StorageSku(str, Enum):
    """SKU of a target storage account."""

    STANDARD_LRS = "Standard_LRS"
    STANDARD_GRS = "Standard_GRS"
    STANDARD_RAGRS = "Standard_RAGRS"
    STANDARD_ZRS = "Standard_ZRS"
    PREMIUM_LRS = "Premium_LRS"


class DiskType(str, Enum):
    """Managed disk type of a failed-over VM."""

    STANDARD_LRS = "Standard_LRS"
    STANDARDSSD_LRS = "StandardSSD_LRS"
    PREMIUM_LRS = "Premium_LRS"


class VaultIdentity(str, Enum):
    """Managed identity of the vault (IdentityData.type)."""

    NONE = "None"
    SYSTEM_ASSIGNED = "SystemAssigned"


class PublicNetworkAccess(str, Enum):
    """Inbound access to the vault from public networks (VaultProperties.publicNetworkAccess)."""

    ENABLED = "Enabled"
    DISABLED = "Disabled"


class PrivateEndpoint(_Model):
    name: str = Field(description="Private endpoint name (Microsoft.Network/privateEndpoints), created in the vault's resource group.")
    network: str = Field(description="Name of an entry in `target.networks`, or the ARM id of an existing virtual network (the bypass network that on-premises reaches privately).")
    subnet: str = Field(description="Subnet of that network the endpoint takes its private IP addresses from.")


class AzureMonitorAlerts(_Model):
    replication_issues: bool | None = Field(default=None, description="Azure Monitor alerts for all replication issues (alertsForAllReplicationIssues); omitted: left as Azure has it.")
    failover_issues: bool | None = Field(default=None, description="Azure Monitor alerts for all failover issues (alertsForAllFailoverIssues); omitted: left as Azure has it.")


class EmailAlerts(_Model):
    send_to_owners: bool = Field(default=False, description="Email Site Recovery notifications to the subscription owners (replicationAlertSettings sendToOwners).")
    recipients: list[str] = Field(default_factory=list, description="Other email addresses that get Site Recovery notifications (customEmailAddresses).")


class VaultAlerts(_Model):
    azure_monitor: AzureMonitorAlerts | None = Field(default=None, description="Built-in Azure Monitor alerts of the vault (monitoringSettings.azureMonitorAlertSettings).")
    email: EmailAlerts | None = Field(default=None, description="Site Recovery email notifications (classic alerts: the vault's replicationAlertSettings).")


class Vault(_Model):
    name: str = Field(description="Recovery Services vault name (2-50 characters: letters, digits, hyphens; starts with a letter).")
    resource_group: str = Field(description="Resource group of the vault; created if missing.")
    location: str = Field(description="Azure region of the vault, e.g. westeurope. Also the failover region.")
    storage_redundancy: StorageRedundancy = Field(
        default=StorageRedundancy.GEO_REDUNDANT,
        description="Backup storage redundancy of the vault. Can only be changed before items are protected.",
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Azure tags on the vault.")
    identity: VaultIdentity | None = Field(
        default=None,
        description="Managed identity of the vault: None (the default) or SystemAssigned. Site Recovery private endpoints need SystemAssigned. Omitted: left as Azure has it.",
    )
    public_network_access: PublicNetworkAccess | None = Field(
        default=None,
        description="Enabled (the default) or Disabled: whether the vault accepts traffic from public networks. Omitted: Enabled on create, otherwise left as Azure has it.",
    )
    private_endpoints: list[PrivateEndpoint] = Field(
        default_factory=list,
        description="Site Recovery private endpoints of the vault (group id AzureSiteRecovery). Created before any VMM server or Hyper-V host registers.",
    )
    alerts: VaultAlerts | None = Field(default=None, description="Azure Monitor alerts and email notifications of the vault.")


class Cloud(_Model):
    name: str = Field(description="VMM cloud name; ASR shows it as a protection container.")
    policy: str = Field(description="Name of an entry in `policies` to associate with this cloud.")


class NetworkMapping(_Model):
    vm_network: str = Field(description="VMM VM network name (an ASR replication network).")
    target_network: str = Field(description="Name of an entry in `target.networks` that VMs on this VM network fail over to.")


class VmmServer(_Model):
    name: str = Field(description="Friendly name the VMM server was registered under with the ASR provider.")
    clouds: list[Cloud] = Field(default_factory=list, description="VMM clouds to protect, each with its replication policy.")
    network_mappings: list[NetworkMapping] = Field(default_factory=list, description="VM network to Azure virtual network mappings.")


class HypervSite(_Model):
    name: str = Field(description="Hyper-V site name; created in the vault by asr.")
    hosts: list[str] = Field(default_factory=list, description="Hyper-V hosts that register into this site (registration happens on the host).")
    policy: str = Field(description="Name of an entry in `policies` to associate with the site.")


class Source(_Model):
    vmm_servers: list[VmmServer] = Field(default_factory=list, description="System Center VMM servers registered with the ASR provider.")
    hyperv_sites: list[HypervSite] = Field(default_factory=list, description="Hyper-V sites: standalone Hyper-V hosts without VMM.")


class Subnet(_Model):
    name: str = Field(description="Subnet name.")
    address_prefix: str = Field(description="Subnet CIDR; must lie inside the network's address space.")


class TargetStorageAccount(_Model):
    name: str = Field(description="Storage account name (3-24 lower-case letters and digits, globally unique).")
    sku: StorageSku = Field(default=StorageSku.STANDARD_LRS, description="Storage account SKU. Replication logs need a Standard account.")
    existing: bool = Field(default=False, description="true: the account must already exist and is never created or changed.")


class TargetNetwork(_Model):
    name: str = Field(description="Azure virtual network name.")
    address_space: list[str] = Field(default_factory=list, description="Address prefixes (CIDR) of the virtual network.")
    subnets: list[Subnet] = Field(default_factory=list, description="Subnets of the virtual network.")
    existing: bool = Field(default=False, description="true: the network must already exist and is never created or changed.")


class Target(_Model):
    resource_group: str = Field(description="Resource group where failed-over VMs, target networks and storage are created.")
    storage_accounts: list[TargetStorageAccount] = Field(default_factory=list, description="Storage accounts for replication logs.")
    networks: list[TargetNetwork] = Field(default_factory=list, description="Azure virtual networks that VMs fail over into.")
    test_network: str | None = Field(
        default=None,
        description="Name of an entry in `networks` used for test failovers and drills (isolated from production).",
    )


class Policy(_Model):
    name: str = Field(description="Replication policy name.")
    replication_frequency_seconds: Literal[30, 300, 900] = Field(
        default=300, description="Copy frequency in seconds: 30, 300 or 900."
    )
    recovery_point_retention_hours: int = Field(
        default=24, ge=0, le=24, description="Hours of recovery points kept (0-24 for Hyper-V to Azure)."
    )
    app_consistent_snapshot_frequency_hours: int = Field(
        default=4, ge=0, le=12, description="Hours between app-consistent snapshots (0-12); 0 disables them. Must not exceed retention."
    )
    initial_replication_start: str = Field(
        default="immediately",
        pattern=r"^(immediately|([01][0-9]|2[0-3]):[0-5][0-9])$",
        description='When initial replication starts: "immediately" or a time of day "HH:MM" (24-hour clock).',
    )
    encrypt_at_rest: bool | None = Field(
        default=None,
        description="Deprecated: Microsoft retired it in April 2022 and server-side encryption now applies to "
        "replicated data automatically; the key is ignored (warning W1010).",
    )


class VmSourceVmm(_Model):
    vmm_server: str = Field(description="Name of an entry in `source.vmmServers`.")
    cloud: str = Field(description="Name of a cloud of that VMM server.")


class VmSourceSite(_Model):
    hyperv_site: str = Field(description="Name of an entry in `source.hypervSites`.")


def _vm_source_tag(value: Any) -> str | None:
    """Which source shape a protected VM's `source` has: 'vmm', 'site' or None."""
    if isinstance(value, dict):
        has_vmm = "vmmServer" in value or "vmm_server" in value or "cloud" in value
        has_site = "hypervSite" in value or "hyperv_site" in value
    else:
        has_vmm = isinstance(value, VmSourceVmm)
        has_site = isinstance(value, VmSourceSite)
    if has_vmm == has_site:
        return None
    return "vmm" if has_vmm else "site"


VmSource = Annotated[
    Annotated[VmSourceVmm, Tag("vmm")] | Annotated[VmSourceSite, Tag("site")],
    Discriminator(
        _vm_source_tag,
        custom_error_type="vm_source",
        custom_error_message="expected either {vmmServer, cloud} or {hypervSite}",
    ),
]


class LicenseType(str, Enum):
    """Azure Hybrid Benefit for Windows Server of a failed-over VM."""

    NO_LICENSE_TYPE = "NoLicenseType"
    WINDOWS_SERVER = "WindowsServer"


class SqlServerLicenseType(str, Enum):
    """SQL Server licence of a failed-over VM (AHUB: Azure Hybrid Benefit)."""

    NO_LICENSE_TYPE = "NoLicenseType"
    PAYG = "PAYG"
    AHUB = "AHUB"


class VmDisk(_Model):
    name: str = Field(description="The disk's VHD file name as Hyper-V knows it, e.g. sql01_disk1.vhdx.")
    exclude: bool = Field(default=False, description="true: the disk is not replicated (not on the failed-over VM). The OS disk cannot be excluded.")
    type: DiskType | None = Field(default=None, description="Managed disk type of this disk; default: the VM's diskType.")


class VmNic(_Model):
    static_ip: str | None = Field(default=None, description="Static IP address on failover; default: dynamic.")
    subnet: str | None = Field(default=None, description="Subnet of the target network on failover; default (first NIC): target.subnet.")
    test_static_ip: str | None = Field(default=None, description="Static IP address on test failover, in target.testNetwork.")
    test_subnet: str | None = Field(default=None, description="Subnet of target.testNetwork on test failover.")
    network_security_group: str | None = Field(
        default=None,
        description="Network security group of the NIC on failover: a name (in the VM's resource group) or an ARM id.",
    )
    public_ip: str | None = Field(
        default=None,
        description="Public IP address resource the NIC gets on failover: a name (in the VM's resource group) or an ARM id.",
    )
    primary: bool | None = Field(
        default=None, description="true: this NIC is the failed-over VM's primary NIC (selectedSourceNicId); at most one."
    )


class OsType(str, Enum):
    """Operating system type of a protected VM."""

    WINDOWS = "Windows"
    LINUX = "Linux"


class SecurityType(str, Enum):
    """Security type of the failed-over VM."""

    NONE = "None"
    TRUSTED_LAUNCH = "TrustedLaunch"


class SecurityProfile(_Model):
    type: SecurityType = Field(description="TrustedLaunch (generation 2 VMs only) or None (standard security).")
    secure_boot: bool = Field(default=True, description="Secure boot on the failed-over VM (TrustedLaunch).")
    v_tpm: bool = Field(default=True, alias="vTpm", description="Virtual TPM on the failed-over VM (TrustedLaunch).")
    integrity_monitoring: bool = Field(default=False, description="Guest attestation / integrity monitoring (TrustedLaunch).")


class VmTarget(_Model):
    vm_name: str | None = Field(default=None, description="Name of the Azure VM created at failover; defaults to the source VM name.")
    size: str | None = Field(default=None, description="Azure VM size, e.g. Standard_D4s_v5; ASR picks one if omitted. Changed in place.")
    resource_group: str | None = Field(
        default=None, description="Resource group of the failed-over VM (a name); default: target.resourceGroup. Changed in place."
    )
    network: str = Field(description="Name of an entry in `target.networks`.")
    subnet: str = Field(description="Name of a subnet of that network.")
    availability_zone: str | None = Field(
        default=None, pattern=r"^[1-3]$", description='Availability zone of the failed-over VM: "1", "2" or "3". Not with availabilitySet.'
    )
    availability_set: str | None = Field(
        default=None, description="Availability set of the failed-over VM: a name (in the VM's resource group) or an ARM id. Not with availabilityZone."
    )
    proximity_placement_group: str | None = Field(
        default=None, description="Proximity placement group: a name (in the VM's resource group) or an ARM id."
    )
    license_type: LicenseType | None = Field(
        default=None, description="WindowsServer: Azure Hybrid Benefit for Windows Server. Undeclared: left as Azure holds it (NoLicenseType by default)."
    )
    sql_server_license_type: SqlServerLicenseType | None = Field(
        default=None, description="SQL Server licence: NoLicenseType, PAYG or AHUB (Azure Hybrid Benefit)."
    )
    tags: dict[str, str] = Field(default_factory=dict, description="Tags of the failed-over VM (targetVmTags); undeclared tags are kept.")
    disk_tags: dict[str, str] = Field(default_factory=dict, description="Tags of its managed disks (targetManagedDiskTags).")
    nic_tags: dict[str, str] = Field(default_factory=dict, description="Tags of its network interfaces (targetNicTags).")
    disk_type: DiskType = Field(default=DiskType.STANDARD_LRS, description="Managed disk type of every replicated disk not listed in `disks`. Changing it re-enables protection.")
    log_storage_account: str | None = Field(
        default=None,
        description="Name of an entry in `target.storageAccounts` (a Standard account) for replication logs. "
        "Required: Hyper-V to Azure replication stages data in it, with managed disks of every type. Changing it re-enables protection.",
    )
    disk_encryption_set: str | None = Field(
        default=None,
        description="Disk encryption set (customer-managed key) of the replicated disks: a name (in the VM's resource group) or an ARM id. "
        "Changing it re-enables protection.",
    )
    os_type: OsType | None = Field(
        default=None,
        description="Operating system type sent at enable, where Site Recovery did not discover it; default: what it discovered. Changing it re-enables protection.",
    )
    os_name: str | None = Field(
        default=None, description="Operating system name of the failed-over VM (userSelectedOsName), e.g. 'Windows Server 2022 Datacenter'. Changed in place."
    )
    security_profile: SecurityProfile | None = Field(
        default=None,
        description="Security profile of the failed-over VM: trusted launch for generation 2 VMs. Changing it re-enables protection.",
    )
    disks: list[VmDisk] = Field(default_factory=list, description="Per-disk settings by VHD file name; unlisted disks replicate with diskType. Changing them re-enables protection.")
    nics: list[VmNic] = Field(default_factory=list, description="Network interfaces in the VM's order: static IPs, subnets, test failover settings, NSG. Changed in place.")


class ProtectedVM(_Model):
    name: str = Field(description="VM name as VMM / Hyper-V knows it.")
    source: VmSource = Field(
        description="Where the VM runs: {vmmServer, cloud} or {hypervSite}."
    )
    target: VmTarget = Field(description="How the VM comes up in Azure.")


class FailoverType(str, Enum):
    """A failover a recovery plan action runs in (RecoveryPlanAction.failoverTypes)."""

    TEST_FAILOVER = "TestFailover"
    PLANNED_FAILOVER = "PlannedFailover"
    UNPLANNED_FAILOVER = "UnplannedFailover"


class FailoverDirection(str, Enum):
    """The direction a recovery plan action runs in (RecoveryPlanAction.failoverDirections)."""

    PRIMARY_TO_RECOVERY = "PrimaryToRecovery"
    RECOVERY_TO_PRIMARY = "RecoveryToPrimary"


class ScriptAction(_Model):
    """A script on the VMM server (ScriptActionDetails)."""

    path: str = Field(min_length=1, description="Path of the script, e.g. on the VMM library share.")
    timeout: int | None = Field(default=None, ge=1, description="Seconds the script may run (ScriptActionDetails.timeout).")


class RunbookAction(_Model):
    """An Azure Automation runbook (AutomationRunbookActionDetails), for failover to Azure."""

    automation_account: str = Field(description="ARM id of the Azure Automation account.")
    runbook: str = Field(min_length=1, description="Runbook name in that account.")
    timeout: int | None = Field(default=None, ge=1, description="Seconds the runbook may run.")


class GroupAction(_Model):
    """An action run before or after a recovery plan group: exactly one of manual, script, runbook."""

    name: str = Field(min_length=1, description="Action name (actionName), unique in the recovery plan.")
    manual: str | None = Field(default=None, description="Instructions of a manual action: the failover pauses here until it is resumed.")
    script: ScriptAction | None = Field(default=None, description="A script on the VMM server.")
    runbook: RunbookAction | None = Field(default=None, description="An Azure Automation runbook.")
    failover_types: list[FailoverType] = Field(
        default_factory=lambda: [FailoverType.TEST_FAILOVER, FailoverType.PLANNED_FAILOVER, FailoverType.UNPLANNED_FAILOVER],
        min_length=1, description="Failovers the action runs in (default: all).")
    failover_directions: list[FailoverDirection] | None = Field(
        default=None, min_length=1,
        description="Directions it runs in (default: a manual action both, a runbook PrimaryToRecovery, a script RecoveryToPrimary).")

    def directions(self) -> list[str]:
        if self.failover_directions:
            return [d.value for d in self.failover_directions]
        if self.runbook is not None:
            return [FailoverDirection.PRIMARY_TO_RECOVERY.value]
        if self.script is not None:
            return [FailoverDirection.RECOVERY_TO_PRIMARY.value]
        return [FailoverDirection.PRIMARY_TO_RECOVERY.value, FailoverDirection.RECOVERY_TO_PRIMARY.value]


class RecoveryPlanGroup(_Model):
    vms: list[str] = Field(min_length=1, description="Names of protected VMs failed over together, in parallel.")
    before: list[GroupAction] = Field(default_factory=list, description="Actions before the group fails over (startGroupActions).")
    after: list[GroupAction] = Field(default_factory=list, description="Actions after the group failed over (endGroupActions).")


class RecoveryPlan(_Model):
    name: str = Field(description="Recovery plan name.")
    groups: list[RecoveryPlanGroup] = Field(min_length=1, description="Boot groups, failed over in this order.")


class Prune(_Model):
    """Opt-in deletion of vault objects the manifest does not declare."""

    protected_vms: bool = Field(default=False, alias="protectedVMs", description="Disable replication of protected VMs not in the manifest.")
    recovery_plans: bool = Field(default=False, description="Delete recovery plans not in the manifest.")
    policies: bool = Field(default=False, description="Delete replication policies not in the manifest (and their associations).")
    network_mappings: bool = Field(default=False, description="Delete network mappings not in the manifest.")
    subnets: bool = Field(default=False, description="Delete subnets of a declared virtual network that the manifest does not list (a destroy: needs --allow-destroy).")
    tags: bool = Field(default=False, description="Remove tags asr does not declare from the objects that declare tags (the vault; a destroy: needs --allow-destroy); otherwise undeclared tags are kept.")
    recovery_plan_actions: bool = Field(default=False, description="Remove the group actions (startGroupActions / endGroupActions) of declared recovery plans that the manifest does not declare (a destroy: needs --allow-destroy); otherwise actions set in Azure are kept.")


class Manifest(_Model):
    api_version: Literal["asr/v1"] = Field(description="Manifest format version: asr/v1.")
    kind: Literal["SiteRecovery"] = Field(description="Always SiteRecovery.")
    subscription: str = Field(description='Azure subscription id (a UUID); "${ENV_VAR}" references allowed.')
    vault: Vault = Field(description="The Recovery Services vault everything replicates into.")
    source: Source = Field(default_factory=Source, description="The on-premises side: VMM servers and Hyper-V sites.")
    target: Target = Field(description="The Azure side: resource group, storage accounts, virtual networks.")
    policies: list[Policy] = Field(default_factory=list, description="Replication policies.")
    protected_vms: list[ProtectedVM] = Field(default_factory=list, alias="protectedVMs", description="VMs to replicate.")
    recovery_plans: list[RecoveryPlan] = Field(default_factory=list, description="Recovery plans: ordered groups of VMs.")
    prune: Prune = Field(default_factory=Prune, description="Which undeclared vault objects asr may delete (all off by default).")

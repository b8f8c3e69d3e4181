"""Azure naming rules used by the semantic checks (one regular expression each).

Sources: Azure Resource Manager "Naming rules and restrictions for Azure resources"
(Microsoft.RecoveryServices/vaults, resourcegroups, Microsoft.Storage/storageAccounts,
Microsoft.Network/virtualNetworks and subnets, Microsoft.Compute/virtualMachines).
"""

from __future__ import annotations

import re

VAULT = re.compile(r"[A-Za-z][A-Za-z0-9-]{1,49}\Z")
RESOURCE_GROUP = re.compile(r"[-\w.()]{0,89}[-\w()]\Z", re.UNICODE)
STORAGE_ACCOUNT = re.compile(r"[a-z0-9]{3,24}\Z")
VNET = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}[A-Za-z0-9_]\Z")
SUBNET = re.compile(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,78}[A-Za-z0-9_])?\Z")
# Hyper-V to Azure support matrix (learn.microsoft.com/azure/site-recovery/hyper-v-azure-support-matrix,
# "Azure VM requirements"): 1-63 letters, numbers and hyphens, starting and ending with a letter or
# number. The emulator's enable prerequisites check uses the same rule (docs/fidelity.md F-060).
VM = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
# as Azure lists sizes (Standard_D4s_v5; constrained vCPU sizes carry a hyphen: Standard_M8-2ms)
VM_SIZE = re.compile(r"(?:Standard|Basic)_[A-Za-z0-9_-]+\Z")
SUBSCRIPTION = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
ARM_NAME_FORBIDDEN = re.compile(r"[<>%&:\\?/#\x00-\x1f\x7f]")
TAG_NAME_FORBIDDEN = re.compile(r"[<>%&\\?/]")

# Public Azure regions (programmatic names), for the W3002 hint only.
REGIONS = frozenset(
    """
    australiacentral australiacentral2 australiaeast australiasoutheast austriaeast belgiumcentral
    brazilsouth brazilsoutheast canadacentral canadaeast centralindia centralus chilecentral
    eastasia eastus eastus2 francecentral francesouth germanynorth germanywestcentral
    indonesiacentral israelcentral italynorth japaneast japanwest jioindiacentral jioindiawest
    koreacentral koreasouth malaysiawest mexicocentral newzealandnorth northcentralus northeurope
    norwayeast norwaywest polandcentral qatarcentral southafricanorth southafricawest
    southcentralus southindia southeastasia spaincentral swedencentral swedensouth
    switzerlandnorth switzerlandwest uaecentral uaenorth uksouth ukwest westcentralus
    westeurope westindia westus westus2 westus3
    """.split()
)

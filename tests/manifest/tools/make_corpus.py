"""Regenerates tests/manifest/bad/*.yaml and warn/*.yaml from good/base.yaml.

Each case is base.yaml with one mistake; the first line says what it is, and the
`# expect:` lines at the end are what `asr validate` must print for it (review them
by hand before committing: the test compares them exactly).

    python tests/manifest/tools/make_corpus.py            # writes files with current output

Every file in bad/ and warn/ is a case here (the hand-written ones were made cases too), so running it
changes nothing in git unless a case or the validator changed (tests/manifest/test_manifest_corpus.py,
test_the_corpus_tool_changes_nothing). A file no case makes is kept, never deleted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent
BASE = (HERE / "good" / "base.yaml").read_text()


def sub(*pairs: tuple[str, str]):
    def apply(text: str) -> str:
        for old, new in pairs:
            assert text.count(old) == 1, (old, text.count(old))
            text = text.replace(old, new)
        return text

    return apply


def whole(text: str):
    return lambda _base: text


CASES: list[tuple[str, str, Any]] = [
    # reading the file
    ("yaml-unclosed-flow", "an unclosed flow sequence", sub(("addressSpace: [10.10.0.0/16]", "addressSpace: [10.10.0.0/16"))),
    ("yaml-tab-indent", "a tab used for indentation", sub(("  location: westeurope\n", "\tlocation: westeurope\n"))),
    ("yaml-bad-indent", "a key indented deeper than its siblings", sub(("  location: westeurope\n", "    location: westeurope\n"))),
    ("duplicate-key-vault", "the same key twice in one mapping", sub(("  location: westeurope\n", "  location: westeurope\n  name: other-vault\n"))),
    ("duplicate-key-top", "a top-level section given twice", sub(("recoveryPlans:\n", "policies: []\nrecoveryPlans:\n"))),
    ("env-unset", "a ${NAME} reference to an unset variable", sub(("subscription: 00000000-0000-0000-0000-000000000001", "subscription: ${ASR_TEST_UNSET_SUBSCRIPTION}"))),
    ("env-malformed", "a malformed ${...} reference", sub(("  resourceGroup: contoso-dr-rg", "  resourceGroup: ${1-rg"))),
    ("yaml-control-char", "a control character in a value", sub(("  location: westeurope\n", "  location: west\x07europe\n"))),
    ("yaml-recursive-alias", "an alias inside the node it names", sub(("  tags: {env: prod}", "  tags: &t {env: *t}"))),
    ("empty-file", "an empty file", whole("# nothing here\n")),
    ("top-level-list", "a list at the top level", whole("- apiVersion: asr/v1\n- kind: SiteRecovery\n")),
    ("two-documents", "two YAML documents in one file", lambda b: b + "---\napiVersion: asr/v1\n"),
    # shape
    ("unknown-key-typo", "a misspelt key", sub(("  resourceGroup: contoso-dr-rg", "  resorceGroup: contoso-dr-rg"))),
    ("unknown-key-top", "an unknown top-level key", sub(("recoveryPlans:\n", "recoveryPlan: []\nrecoveryPlans:\n"))),
    ("missing-vault", "no vault section", sub(("vault:\n  name: contoso-asr-vault\n  resourceGroup: contoso-dr-rg\n  location: westeurope\n  storageRedundancy: GeoRedundant\n  tags: {env: prod}\n", ""))),
    ("missing-target-network", "a VM target without network", sub(("target: {network: corp-vnet, subnet: servers, logStorageAccount: contosoasrlogs01}", "target: {subnet: servers, logStorageAccount: contosoasrlogs01}"))),
    ("api-version", "an apiVersion this asr does not read", sub(("apiVersion: asr/v1", "apiVersion: asr/v2"))),
    ("kind", "a wrong kind", sub(("kind: SiteRecovery", "kind: Recovery"))),
    ("enum-redundancy", "a storage redundancy that does not exist", sub(("storageRedundancy: GeoRedundant", "storageRedundancy: Geo"))),
    ("enum-disk-type", "a disk type ASR does not offer", sub(("      diskType: Premium_LRS", "      diskType: UltraSSD_LRS"))),
    ("type-address-space", "a string where a list is expected", sub(("addressSpace: [10.10.0.0/16]", "addressSpace: 10.10.0.0/16"))),
    ("type-tag-number", "an unquoted number as a tag value", sub(("tags: {env: prod}", "tags: {env: prod, costCenter: 4711}"))),
    ("type-bool", "a non-boolean for a boolean", sub(("      sku: Standard_LRS", "      sku: Standard_LRS\n      existing: sometimes"))),
    ("type-vault-null", "an empty section", sub(("vault:\n  name: contoso-asr-vault\n  resourceGroup: contoso-dr-rg\n  location: westeurope\n  storageRedundancy: GeoRedundant\n  tags: {env: prod}\n", "vault:\n"))),
    ("source-both", "a VM source with both a VMM server and a site", sub(("source: {hypervSite: branch-site}", "source: {hypervSite: branch-site, vmmServer: vmm01}"))),
    ("empty-groups", "a recovery plan without groups", sub(("    groups:\n      - vms: [sql01]\n      - vms: [app01]\n", "    groups: []\n"))),
    # replication
    ("frequency-60", "a replication frequency ASR does not support", sub(("replicationFrequencySeconds: 300", "replicationFrequencySeconds: 60"))),
    ("retention-48", "a retention beyond 24 hours", sub(("recoveryPointRetentionHours: 24", "recoveryPointRetentionHours: 48"))),
    ("app-consistent-13", "app-consistent snapshots beyond 12 hours", sub(("appConsistentSnapshotFrequencyHours: 4", "appConsistentSnapshotFrequencyHours: 13"))),
    ("app-consistent-above-retention", "app-consistent snapshots less often than the retention", sub(("recoveryPointRetentionHours: 24", "recoveryPointRetentionHours: 2"))),
    ("initial-start", "an initial replication time that is not a time", sub(("initialReplicationStart: immediately", "initialReplicationStart: 25:00"))),
    ("premium-no-log", "a VM (with Premium disks) without a log storage account", sub(("      logStorageAccount: contosoasrlogs01\n  - name: app01", "  - name: app01"))),
    ("premium-log-account", "replication logs on a Premium account", sub(("      sku: Standard_LRS", "      sku: Premium_LRS"))),
    # naming
    ("subscription-not-uuid", "a subscription that is not a UUID", sub(("subscription: 00000000-0000-0000-0000-000000000001", "subscription: my-subscription"))),
    ("vault-name-digit", "a vault name starting with a digit", sub(("  name: contoso-asr-vault", "  name: 1contoso-vault"))),
    ("vault-name-long", "a vault name over 50 characters", sub(("  name: contoso-asr-vault", "  name: contoso-asr-vault-for-the-west-europe-region-production"))),
    ("rg-trailing-period", "a resource group ending with a period", sub(("  resourceGroup: contoso-failover-rg", "  resourceGroup: contoso-failover-rg."))),
    ("storage-uppercase", "a storage account name with capitals", sub(("    - name: contosoasrlogs01\n", "    - name: ContosoAsrLogs01\n"), ("logStorageAccount: contosoasrlogs01\n  - name: app01", "logStorageAccount: ContosoAsrLogs01\n  - name: app01"), ("subnet: servers, logStorageAccount: contosoasrlogs01}", "subnet: servers, logStorageAccount: ContosoAsrLogs01}"), ("{logStorageAccount: contosoasrlogs01, network", "{logStorageAccount: ContosoAsrLogs01, network"))),
    ("storage-short", "a storage account name under 3 characters", sub(("    - name: contosoasrlogs01\n      sku", "    - name: ab\n      sku"), ("logStorageAccount: contosoasrlogs01\n  - name: app01", "logStorageAccount: ab\n  - name: app01"), ("subnet: servers, logStorageAccount: contosoasrlogs01}", "subnet: servers, logStorageAccount: ab}"), ("{logStorageAccount: contosoasrlogs01, network", "{logStorageAccount: ab, network"))),
    ("vnet-name-hyphen", "a virtual network name ending with a hyphen", sub(("    - name: corp-test-vnet\n", "    - name: corp-test-\n"), ("testNetwork: corp-test-vnet", "testNetwork: corp-test-"))),
    ("subnet-name", "a subnet name starting with an underscore", sub(("{name: servers, addressPrefix: 10.20.1.0/24}", "{name: _servers, addressPrefix: 10.20.1.0/24}"))),
    ("vm-name-space", "a source VM name that is no Azure VM name", sub(("  - name: file01", "  - name: file 01"))),
    ("vm-name-long", "a target VM name over 63 characters", sub(("vmName: sql01-dr", "vmName: sql01-dr-" + "x" * 60))),
    ("policy-name-slash", "a policy name that cannot be an ARM name", sub(("  - name: every-15-min", "  - name: every/15/min"), ("policy: every-15-min", "policy: every/15/min"))),
    ("vm-size", "a VM size without its Standard_ prefix", sub(("size: Standard_D4s_v5", "size: D4s_v5"))),
    ("tag-name", "a tag name with a character Azure refuses", sub(("tags: {env: prod}", "tags: {env: prod, \"cost/center\": \"4711\"}"))),
    ("tag-value-long", "a tag value over 256 characters", sub(("tags: {env: prod}", "tags: {env: prod, note: " + "x" * 257 + "}"))),
    # addresses
    ("no-address-space", "a network asr creates without an address space", sub(("      addressSpace: [10.20.0.0/16]\n      subnets:\n        - {name: servers, addressPrefix: 10.20.1.0/24}\n", "      subnets: []\n"))),
    ("cidr-invalid", "a prefix length beyond 32", sub(("addressSpace: [10.20.0.0/16]", "addressSpace: [10.20.0.0/33]"))),
    ("cidr-host-bits", "a CIDR with host bits set", sub(("addressPrefix: 10.10.1.0/24", "addressPrefix: 10.10.1.7/24"))),
    ("cidr-no-prefix", "an address without a prefix length", sub(("addressPrefix: 10.10.1.0/24", "addressPrefix: 10.10.1.0"))),
    ("address-space-overlap", "overlapping address spaces of one network", sub(("addressSpace: [10.10.0.0/16]", "addressSpace: [10.10.0.0/16, 10.10.128.0/17]"))),
    ("subnet-outside", "a subnet outside its network", sub(("addressPrefix: 10.20.1.0/24", "addressPrefix: 10.21.1.0/24"))),
    ("subnet-overlap", "two overlapping subnets", sub(("        - {name: servers, addressPrefix: 10.10.1.0/24}\n", "        - {name: servers, addressPrefix: 10.10.1.0/24}\n        - {name: web, addressPrefix: 10.10.0.0/23}\n"))),
    ("subnet-too-small", "a subnet smaller than /29", sub(("addressPrefix: 10.20.1.0/24", "addressPrefix: 10.20.1.0/30"))),
    # references
    ("ref-policy", "a cloud naming an undeclared policy", sub(("          policy: every-5-min", "          policy: every-5-mins"))),
    ("ref-site-policy", "a site naming an undeclared policy", sub(("      policy: every-15-min", "      policy: hourly"))),
    ("ref-mapping-network", "a network mapping to an undeclared network", sub(("targetNetwork: corp-vnet", "targetNetwork: corp-net"))),
    ("ref-test-network", "a test network that is not declared", sub(("testNetwork: corp-test-vnet", "testNetwork: Corp-Test-VNet"))),
    ("ref-vmm-server", "a VM on an undeclared VMM server", sub(("  - name: app01\n    source: {vmmServer: vmm01, cloud: Gold}", "  - name: app01\n    source: {vmmServer: vmm02, cloud: Gold}"))),
    ("ref-cloud", "a VM in an undeclared cloud", sub(("  - name: app01\n    source: {vmmServer: vmm01, cloud: Gold}", "  - name: app01\n    source: {vmmServer: vmm01, cloud: Silver}"))),
    ("ref-site", "a VM in an undeclared Hyper-V site", sub(("source: {hypervSite: branch-site}", "source: {hypervSite: branch-office}"))),
    ("ref-subnet", "a VM in a subnet its network does not have", sub(("contosoasrlogs01, network: corp-vnet, subnet: servers}", "contosoasrlogs01, network: corp-vnet, subnet: app}"))),
    ("ref-storage", "a VM naming an undeclared storage account", sub(("subnet: servers, logStorageAccount: contosoasrlogs01}", "subnet: servers, logStorageAccount: contosologs}"))),
    ("ref-plan-vm", "a recovery plan naming an undeclared VM", sub(("      - vms: [app01]", "      - vms: [app01, app02]"))),
    # duplicates
    ("dup-vm", "a VM declared twice", sub(("  - name: file01", "  - name: APP01"))),
    ("dup-plan-group", "a VM in two groups of one plan", sub(("      - vms: [app01]", "      - vms: [app01, sql01]"))),
    ("dup-network", "two networks with one name", sub(("    - name: corp-test-vnet\n", "    - name: corp-vnet\n"))),
    ("dup-host", "a Hyper-V host in two sites", sub(("      policy: every-15-min\n", "      policy: every-15-min\n    - name: branch-site-2\n      hosts: [hv-host-01]\n      policy: every-15-min\n"))),
    ("plan-mixed-sources", "a recovery plan with VMs from a VMM server and a site", sub(("      - vms: [app01]", "      - vms: [app01, file01]"))),
    ("dup-target-vm-name", "two VMs failing over to one Azure VM name", sub(("vmName: sql01-dr", "vmName: app01"))),
    ("vm-name-period", "a target VM name with a period (Site Recovery allows letters, digits and hyphens only)", sub(("vmName: sql01-dr", "vmName: sql01.dr"))),
    # protected VM target settings
    ("vm-zone-and-set", "a VM in an availability zone and an availability set", sub(("      logStorageAccount: contosoasrlogs01\n  - name: app01", "      logStorageAccount: contosoasrlogs01\n      availabilityZone: \"1\"\n      availabilitySet: sql-avset\n      diskEncryptionSet: /subscriptions/x/resourceGroups/y/providers/Microsoft.KeyVault/vaults/z\n  - name: app01"))),
    ("vm-disk-twice", "a disk listed twice, and an excluded disk with a type", sub(("      logStorageAccount: contosoasrlogs01\n  - name: app01", "      logStorageAccount: contosoasrlogs01\n      disks:\n        - {name: sql01_disk1.vhdx, type: StandardSSD_LRS}\n        - {name: SQL01_disk1.vhdx, exclude: true, type: Premium_LRS}\n  - name: app01"))),
    ("vm-nic-addresses", "static IPs outside the subnet, reserved by Azure, and given twice", sub(("      logStorageAccount: contosoasrlogs01\n  - name: app01", "      logStorageAccount: contosoasrlogs01\n      nics:\n        - {staticIp: 10.10.2.10, testStaticIp: 10.20.1.3}\n        - {staticIp: 10.10.1.20, subnet: server}\n  - name: app01"), ("target: {network: corp-vnet, subnet: servers, logStorageAccount: contosoasrlogs01}", "target: {network: corp-vnet, subnet: servers, logStorageAccount: contosoasrlogs01, nics: [{staticIp: 10.10.1.20}]}"))),
    # vault security
    ("vault-security", "vault security: private endpoints without identity, unknown network/subnet, bad id and name, bad email",
     sub(("  tags: {env: prod}\n", "  tags: {env: prod}\n  publicNetworkAccess: Disabled\n  privateEndpoints:\n"
          "    - {name: contoso-asr-pe, network: corp-vnet, subnet: endpointz}\n"
          "    - {name: -pe2, network: /subscriptions/x/resourceGroups/y/vnets/z, subnet: a}\n"
          "    - {name: pe3, network: dmz-vnet, subnet: a}\n"
          "  alerts:\n    email: {sendToOwners: true, recipients: [dr-team@contoso.com, \"bad@x\"]}\n"))),
    # recovery plan group actions
    ("plan-actions", "recovery plan group actions: one kind each, unique names, runbook account by ARM id",
     sub(("      - vms: [sql01]\n", "      - vms: [sql01]\n        before:\n          - name: check-sql\n"
          "            manual: \"Check SQL\"\n            script: {path: \"\\\\\\\\vmm01\\\\lib\\\\x.ps1\"}\n"
          "        after:\n          - name: check-sql\n            manual: \"again\"\n          - name: switch-dns\n"
          "            runbook: {automationAccount: aa1, runbook: Switch-Dns}\n          - name: nothing\n"))),
    # protected VM target settings, checked offline (issue 13)
    ("vm-target-tags", "tags of the failed-over VM, its disks and NICs that Azure refuses", sub(("      logStorageAccount: contosoasrlogs01\n  - name: app01", "      logStorageAccount: contosoasrlogs01\n      tags: {\"app<1>\": erp}\n      diskTags: {tier: " + "x" * 257 + "}\n  - name: app01"))),
    ("vm-size-case", "a VM size not spelled as Azure lists it", sub(("size: Standard_D4s_v5", "size: standard_D4s_v5"))),
]

WARN_CASES: list[tuple[str, str, Any]] = [
    ("unused-policy", "a policy nothing uses", sub(("protectedVMs:\n", "  - name: spare\nprotectedVMs:\n"))),
    ("unknown-region", "a location that is not an Azure region", sub(("location: westeurope", "location: West Europe"))),
    ("networks-overlap", "two failover networks with overlapping spaces", sub(("    - name: corp-test-vnet\n", "    - name: corp-dmz-vnet\n      addressSpace: [10.10.0.0/20]\n    - name: corp-test-vnet\n"))),
    ("test-network-in-use", "a VM failing over into the test network", sub(("contosoasrlogs01, network: corp-vnet, subnet: servers}", "contosoasrlogs01, network: corp-test-vnet, subnet: servers}"))),
    ("site-without-hosts", "a Hyper-V site with VMs but no hosts", sub(("      hosts: [HV-HOST-01]\n", ""))),
    ("unmapped-network", "a VMM VM failing over into an unmapped network", sub(("    target: {network: corp-vnet, subnet: servers, logStorageAccount", "    target: {network: corp-dmz, subnet: dmz, logStorageAccount"), ("  testNetwork:", "    - name: corp-dmz\n      addressSpace: [10.30.0.0/16]\n      subnets: [{name: dmz, addressPrefix: 10.30.1.0/24}]\n  testNetwork:"))),
    ("encrypt-at-rest", "the retired encryptAtRest policy setting", sub(("    # encryptAtRest: retired by Microsoft in April 2022 (server-side encryption is automatic)", "    encryptAtRest: true"))),
    ("public-access-without-endpoint", "public network access disabled, no private endpoint declared",
     sub(("  tags: {env: prod}\n", "  tags: {env: prod}\n  identity: SystemAssigned\n  publicNetworkAccess: Disabled\n"))),
]


def generated(folder: str) -> dict[str, str]:
    """{file name: content} of what the tool writes into bad/ or warn/ (numbered in CASES order)."""
    sys.path.insert(0, str(HERE.parent.parent))
    from reconciler.manifest import validate_text

    env = {k: v for k, v in os.environ.items() if not k.startswith("ASR_TEST_")}
    out: dict[str, str] = {}
    for i, (name, what, make) in enumerate(CASES if folder == "bad" else WARN_CASES, 1):
        body = make(BASE)
        if body.startswith("# A small valid manifest"):
            body = f"# {what}\n" + body.split("\n", 1)[1]
        fname = f"{i:02d}-{name}.yaml"
        _, diags = validate_text(body, fname, env=env)
        expect = "".join(f"# expect: {d.line}:{d.column}: {d.severity}: {d.dotted_path}: {d.message}\n" for d in diags)
        if not body.endswith("\n"):
            body += "\n"
        out[fname] = body + expect
    return out


def _case_name(fname: str) -> str:
    return fname.split("-", 1)[1] if "-" in fname and fname.split("-", 1)[0].isdigit() else fname


def main() -> None:
    """Write every case; remove only files of these cases under an old number. A file no case makes (written
    by hand) is kept, and its number must not be one the tool uses."""
    for folder in ("bad", "warn"):
        out_dir = HERE / folder
        out_dir.mkdir(exist_ok=True)
        files = generated(folder)
        names = {_case_name(f) for f in files}
        numbers = {f.split("-", 1)[0] for f in files}
        for f in sorted(out_dir.glob("*.yaml")):
            if f.name in files:
                continue
            if _case_name(f.name) in names:
                f.unlink()  # the same case under another number
                continue
            if f.name.split("-", 1)[0] in numbers:
                raise SystemExit(f"{f.relative_to(HERE)}: written by hand with a number the tool uses; "
                                 "make it a case in tools/make_corpus.py, or renumber it")
            print(f"{f.relative_to(HERE)}: kept (no case makes it)")
        for fname, text in files.items():
            path = out_dir / fname
            if not path.exists() or path.read_text() != text:
                path.write_text(text)
            print(f"{path.relative_to(HERE)}\n" + "".join(line + "\n" for line in text.splitlines()
                                                           if line.startswith("# expect:")))


if __name__ == "__main__":
    main()

"""`asr vault-credentials`: the registration kit a VMM / Hyper-V admin runs on-premises.

1. A fresh self-signed certificate (RSA 2048, valid 5 days, like the portal's key) is
   uploaded to the vault through the vault certificates API
   (`RecoveryServicesClient.vault_certificates.create`, authType AAD); the answer
   carries the AAD details the provider needs.
2. The vault credentials file (XML, with the certificate and its private key as a
   base64 PFX) is written with mode 0600 and never printed: one for the VMM servers,
   one per Hyper-V site (the site's fabric must exist: `asr apply` creates it).
3. A PowerShell script per VMM server and per Hyper-V site: silent provider install,
   registration with the credentials file, Recovery Services agent install
   (`MARSAgentInstaller.exe /q /nu`) and proxy settings. Proxy passwords are never
   written anywhere: the script asks for them when it runs.

Nothing runs on-premises from here; the command prints what to do.
"""

from __future__ import annotations

import base64
import datetime as _dt
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from reconciler.azure.errors import azure_errors
from reconciler.errors import NotFoundError, UsageError
from reconciler.ops.inventory import as_json, read_inventory

PROVIDER_URL = "https://aka.ms/downloaddra"  # Azure Site Recovery provider (AzureSiteRecoveryProvider.exe)
MARS_URL = "https://aka.ms/azurebackup_agent"  # Recovery Services agent (MARSAgentInstaller.exe)
VALID_DAYS = 5


@dataclass
class Proxy:
    address: str  # http://host
    port: int
    user: str | None = None

    @classmethod
    def parse(cls, url: str, user: str | None = None) -> "Proxy":
        u = urlsplit(url if "://" in url else f"http://{url}")
        if not u.hostname:
            raise UsageError(f"--proxy {url!r}: expected http://HOST:PORT")
        if u.password:
            raise UsageError("--proxy must not contain a password: the scripts ask for it when they run")
        try:
            port = u.port or (443 if u.scheme == "https" else 8080)
        except ValueError:
            raise UsageError(f"--proxy {url!r}: bad port") from None
        return cls(address=f"{u.scheme or 'http'}://{u.hostname}", port=port, user=user or u.username)


@dataclass
class Kit:
    out_dir: str
    files: list[str] = field(default_factory=list)  # paths written
    credentials: list[str] = field(default_factory=list)  # the secret ones (0600)
    scripts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sites whose fabric does not exist yet
    thumbprint: str = ""
    valid_to: str = ""
    instructions: str = ""


def make_certificate(subject: str, days: int = VALID_DAYS) -> tuple[bytes, bytes, str, _dt.datetime]:
    """(DER certificate, PFX with private key, SHA-1 thumbprint, not-after)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = _dt.datetime.now(_dt.timezone.utc)
    not_after = now + _dt.timedelta(days=days)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - _dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                         data_encipherment=True, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=False)
            .sign(key, hashes.SHA256()))
    der = cert.public_bytes(serialization.Encoding.DER)
    pfx = pkcs12.serialize_key_and_certificates(subject.encode(), key, cert, None, serialization.NoEncryption())
    thumb = cert.fingerprint(hashes.SHA1()).hex().upper()
    return der, pfx, thumb, not_after


def credentials_xml(*, vault: str, subscription: str, resource_group: str, pfx: bytes,
                    aad: dict[str, Any], site_id: str = "", site_name: str = "",
                    private_endpoint_state: str = "None") -> str:
    """The ASR vault credentials file (the format the provider's DRConfigurator reads)."""
    p = aad.get("properties") or aad
    # Field names and order of the ASR vault credentials data contract (VaultCreds:
    # SubscriptionId, ResourceType, ResourceName, ManagementCert; ASRVaultCreds:
    # ChannelIntegrityKey, ResourceGroup, Version, SiteId, SiteName), plus the AAD details
    # and private-endpoint state of the AAD-era format.
    fields = [
        ("SubscriptionId", subscription), ("ResourceType", "vaults"), ("ResourceName", vault),
        ("ManagementCert", base64.b64encode(pfx).decode()),
        ("ChannelIntegrityKey", base64.b64encode(os.urandom(32)).decode()),
        ("ResourceGroup", resource_group), ("Version", "2.0"),
        ("SiteId", site_id), ("SiteName", site_name),
        ("PrivateEndpointStateForSiteRecovery", private_endpoint_state),
    ]
    aad_fields = [
        ("AadAuthority", p.get("aadAuthority")), ("AadTenantId", p.get("aadTenantId")),
        ("ServicePrincipalClientId", p.get("servicePrincipalClientId")),
        ("IdMgmtRestEndpoint", p.get("azureManagementEndpointAudience")),
        ("ArmResourceId", p.get("serviceResourceId") or ""),
        ("AadVaultAudience", p.get("aadAudience") or p.get("azureManagementEndpointAudience")),
    ]
    lines = ['<?xml version="1.0" encoding="utf-8"?>',
             '<ASRVaultCreds xmlns:i="http://www.w3.org/2001/XMLSchema-instance" '
             'xmlns="http://schemas.datacontract.org/2004/07/Microsoft.Azure.Portal.RecoveryServices.Models.Common">']
    lines += [f"  <{k}>{escape(str(v or ''))}</{k}>" for k, v in fields]
    lines.append("  <AadDetails>")
    lines += [f"    <{k}>{escape(str(v or ''))}</{k}>" for k, v in aad_fields]
    lines.append("  </AadDetails>")
    lines.append("</ASRVaultCreds>")
    return "\n".join(lines) + "\n"


def write_secret(path: str, text: str) -> None:
    """Create or replace a file readable by its owner only (0600), before any byte is written."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)


def _ps_quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _proxy_ps(proxy: Proxy | None) -> str:
    if proxy is None:
        return "$Proxy = $null\n"
    user = _ps_quote(proxy.user) if proxy.user else "$null"
    return (f"$Proxy = @{{ Address = {_ps_quote(proxy.address)}; Port = {proxy.port}; User = {user} }}\n"
            "$ProxyPassword = $null\n"
            "if ($Proxy.User) {\n"
            "    # asked here, never stored in this kit\n"
            "    $sec = Read-Host -AsSecureString \"Password of proxy user $($Proxy.User)\"\n"
            "    $ProxyPassword = [Runtime.InteropServices.Marshal]::PtrToStringAuto("
            "[Runtime.InteropServices.Marshal]::SecureStringToBSTR($sec))\n"
            "}\n")


_COMMON = r"""$ErrorActionPreference = 'Stop'
function Get-Installer([string]$Path, [string]$Url) {
    if (-not (Test-Path $Path)) {
        Write-Host "Downloading $Url"
        $wc = New-Object System.Net.WebClient
        if ($Proxy) {
            $wp = New-Object System.Net.WebProxy("$($Proxy.Address):$($Proxy.Port)")
            if ($Proxy.User) { $wp.Credentials = New-Object System.Net.NetworkCredential($Proxy.User, $ProxyPassword) }
            $wc.Proxy = $wp
        }
        $wc.DownloadFile($Url, $Path)
    }
    return $Path
}
function Invoke-Checked([string]$Exe, [string[]]$Arguments, [string]$What) {
    Write-Host "== $What"
    $p = Start-Process -FilePath $Exe -ArgumentList $Arguments -Wait -PassThru -NoNewWindow
    if ($p.ExitCode -ne 0) { throw "$What failed with exit code $($p.ExitCode)" }
}
function Get-ProxyArgs([string]$Style) {
    if (-not $Proxy) { return @() }
    if ($Style -eq 'mars') {
        $a = @("/ap", $Proxy.Address, "/po", "$($Proxy.Port)")
        if ($Proxy.User) { $a += @("/pu", $Proxy.User, "/pw", $ProxyPassword) }
        return $a
    }
    $a = @("/proxyaddress", $Proxy.Address, "/proxyport", "$($Proxy.Port)")
    if ($Proxy.User) { $a += @("/proxyusername", $Proxy.User, "/proxypassword", $ProxyPassword) }
    return $a
}
"""


def vmm_script(server: str, creds_file: str, proxy: Proxy | None, endpoint: "Endpoint | None" = None) -> str:
    return (
        f"# Register VMM server {server} with the Recovery Services vault (generated by `asr vault-credentials`).\n"
        "# Run as administrator on the VMM server; then run the Recovery Services agent part on every\n"
        "# Hyper-V host managed by this VMM server (`-AgentOnly`).\n"
        "param([switch]$AgentOnly,\n"
        f"      [string]$Credentials = (Join-Path $PSScriptRoot {_ps_quote(creds_file)}),\n"
        "      [string]$Work = (Join-Path $env:TEMP 'asr-provider'))\n"
        + _proxy_ps(proxy) + _COMMON + endpoint_ps(endpoint) +
        "New-Item -ItemType Directory -Force -Path $Work | Out-Null\n"
        "if (-not $AgentOnly) {\n"
        f"    $provider = Get-Installer (Join-Path $PSScriptRoot 'AzureSiteRecoveryProvider.exe') '{PROVIDER_URL}'\n"
        "    Invoke-Checked $provider @('/x:' + $Work, '/q') 'extract the Azure Site Recovery provider'\n"
        "    Invoke-Checked (Join-Path $Work 'SETUPDR.EXE') @('/i') 'install the provider (silent)'\n"
        "    $vmmBin = Get-ChildItem 'C:\\Program Files\\Microsoft System Center*\\Virtual Machine Manager\\bin' -Directory | Select-Object -First 1\n"
        "    $drc = Join-Path $vmmBin.FullName 'DRConfigurator.exe'\n"
        f"    Invoke-Checked $drc (@('/r', '/Friendlyname', {_ps_quote(server)}, '/Credentials', $Credentials) + (Get-ProxyArgs 'dra')) "
        f"'register {server} with the vault'\n"
        "}\n"
        f"$mars = Get-Installer (Join-Path $PSScriptRoot 'MARSAgentInstaller.exe') '{MARS_URL}'\n"
        "Invoke-Checked $mars (@('/q', '/nu') + (Get-ProxyArgs 'mars')) 'install the Recovery Services agent (silent)'\n"
        "Write-Host 'Done. Check the registration with: asr status <manifest>'\n"
    )


def hyperv_script(site: str, hosts: list[str], creds_file: str, proxy: Proxy | None,
                  endpoint: "Endpoint | None" = None) -> str:
    host_list = ", ".join(hosts) or "(none declared)"
    return (
        f"# Register a Hyper-V host into site {site} of the Recovery Services vault (generated by `asr vault-credentials`).\n"
        f"# Run as administrator on each host of the site: {host_list}.\n"
        f"param([string]$Credentials = (Join-Path $PSScriptRoot {_ps_quote(creds_file)}),\n"
        "      [string]$Work = (Join-Path $env:TEMP 'asr-provider'))\n"
        + _proxy_ps(proxy) + _COMMON + endpoint_ps(endpoint) +
        "New-Item -ItemType Directory -Force -Path $Work | Out-Null\n"
        f"$provider = Get-Installer (Join-Path $PSScriptRoot 'AzureSiteRecoveryProvider.exe') '{PROVIDER_URL}'\n"
        "Invoke-Checked $provider @('/x:' + $Work, '/q') 'extract the Azure Site Recovery provider'\n"
        "Invoke-Checked (Join-Path $Work 'SETUPDR.EXE') @('/i') 'install the provider (silent)'\n"
        "$drc = 'C:\\Program Files\\Microsoft Azure Site Recovery Provider\\DRConfigurator.exe'\n"
        "Invoke-Checked $drc (@('/r', '/Credentials', $Credentials, '/FriendlyName', $env:COMPUTERNAME) + (Get-ProxyArgs 'dra')) "
        "\"register $env:COMPUTERNAME with the vault\"\n"
        f"$mars = Get-Installer (Join-Path $PSScriptRoot 'MARSAgentInstaller.exe') '{MARS_URL}'\n"
        "Invoke-Checked $mars (@('/q', '/nu') + (Get-ProxyArgs 'mars')) 'install the Recovery Services agent (silent)'\n"
        "Write-Host 'Done. Check the registration with: asr status <manifest>'\n"
    )


@dataclass
class Endpoint:
    """The vault's Site Recovery private endpoint state, and the names its endpoints answer for."""

    state: str = "None"  # VaultProperties.privateEndpointStateForSiteRecovery: None | Enabled
    public_access: str = "Enabled"
    records: list[tuple[str, str]] = field(default_factory=list)  # (fqdn, private IP)

    def notes(self) -> list[str]:
        if self.state.lower() == "enabled":
            return ["",
                    f"The vault has a Site Recovery private endpoint: the credentials say PrivateEndpointStateForSiteRecovery"
                    f" Enabled, and the scripts first check that these names resolve to the endpoint's private IPs"
                    " (fix DNS before registering: docs/security.md):",
                    *[f"  {fqdn} -> {ip}" for fqdn, ip in self.records]]
        if self.public_access.lower() == "disabled":
            return ["", "warning: the vault's public network access is Disabled and it has no Site Recovery private endpoint:"
                        " servers cannot reach it. Declare vault.privateEndpoints and `asr apply` before registering."]
        return []


def read_endpoint(ctx: Any) -> Endpoint:
    """One vault GET, plus one GET per private endpoint connection (their DNS names and IPs)."""
    with azure_errors(f"read vault {ctx.vault}"):
        try:
            vault = as_json(ctx.clients.vaults.vaults.get(ctx.resource_group, ctx.vault))
        except Exception:
            return Endpoint()  # the certificate upload right after names the problem
    p = vault.get("properties") or {}
    ep = Endpoint(state=str(p.get("privateEndpointStateForSiteRecovery") or "None"),
                  public_access=str(p.get("publicNetworkAccess") or "Enabled"))
    for conn in p.get("privateEndpointConnections") or []:
        cp = conn.get("properties") or {}
        if not any(str(g).lower() == "azuresiterecovery" for g in cp.get("groupIds") or []):
            continue
        pe_id = (cp.get("privateEndpoint") or {}).get("id") or ""
        parts = pe_id.split("/")
        low = [x.lower() for x in parts]
        if "resourcegroups" not in low or "privateendpoints" not in low:
            continue
        rg, name = parts[low.index("resourcegroups") + 1], parts[low.index("privateendpoints") + 1]
        with azure_errors(f"read private endpoint {name}"):
            pe = as_json(ctx.clients.network.private_endpoints.get(rg, name))
        for cfg in (pe.get("properties") or {}).get("customDnsConfigs") or []:
            for ip in cfg.get("ipAddresses") or []:
                if cfg.get("fqdn"):
                    ep.records.append((cfg["fqdn"], ip))
    return ep


def endpoint_ps(endpoint: Endpoint | None) -> str:
    """PowerShell: with a private endpoint, check the Site Recovery names resolve to its private IPs
    before anything is installed or registered."""
    if endpoint is None or endpoint.state.lower() != "enabled" or not endpoint.records:
        return ""
    rows = "\n".join(f"    @{{ Fqdn = {_ps_quote(f)}; Ip = {_ps_quote(ip)} }}" for f, ip in endpoint.records)
    return ("# The vault is reached through its Site Recovery private endpoint: these names must resolve to its\n"
            "# private IPs here (private DNS zone privatelink.siterecovery.windowsazure.com, or your DNS servers).\n"
            "$PrivateEndpoint = @(\n" + rows + "\n)\n"
            "foreach ($r in $PrivateEndpoint) {\n"
            "    $ips = @(Resolve-DnsName -Name $r.Fqdn -Type A -ErrorAction SilentlyContinue | ForEach-Object { $_.IPAddress })\n"
            "    if ($ips -notcontains $r.Ip) { throw \"$($r.Fqdn) resolves to '$($ips -join ', ')', not the private endpoint's $($r.Ip): fix DNS first (docs/security.md)\" }\n"
            "}\n"
            "Write-Host 'Private endpoint names resolve to private IPs.'\n")


def upload_certificate(ctx: Any, der: bytes, cert_name: str) -> dict[str, Any]:
    body = {"properties": {"authType": "AAD", "certificate": base64.b64encode(der).decode()}}
    try:
        with azure_errors(f"upload the registration certificate to vault {ctx.vault}"):
            res = ctx.clients.vaults.vault_certificates.create(ctx.resource_group, ctx.vault, cert_name, body)
    except NotFoundError as err:
        err.hint = err.hint or f"create the vault first: `asr apply {ctx.file}` (the kit registers servers with it)"
        raise
    return as_json(res)


def write_kit(ctx: Any, out_dir: str, *, proxy: Proxy | None = None) -> Kit:
    m = ctx.manifest
    if not m.source.vmm_servers and not m.source.hyperv_sites:
        raise UsageError(f"{ctx.file} declares no VMM server and no Hyper-V site: nothing to register")
    os.makedirs(out_dir, exist_ok=True)
    kit = Kit(out_dir=out_dir)
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("fabrics",)) if m.source.hyperv_sites else None
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d%H%M")
    der, pfx, thumb, not_after = make_certificate(f"{ctx.vault}-{stamp}-vaultcredentials"[:64])
    kit.thumbprint = thumb
    kit.valid_to = not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    aad = upload_certificate(ctx, der, f"{ctx.vault}-{stamp}-vaultcredentials")
    endpoint = read_endpoint(ctx)
    common = dict(vault=ctx.vault, subscription=m.subscription, resource_group=ctx.resource_group,
                  pfx=pfx, aad=aad, private_endpoint_state=endpoint.state)
    steps: list[str] = []
    if m.source.vmm_servers:
        creds = f"{ctx.vault}_{stamp}.VaultCredentials"
        path = os.path.join(out_dir, creds)
        write_secret(path, credentials_xml(**common))
        kit.credentials.append(path)
        for s in m.source.vmm_servers:
            sp = os.path.join(out_dir, f"register-vmm-{s.name}.ps1")
            with open(sp, "w", encoding="utf-8", newline="\r\n") as fh:
                fh.write(vmm_script(s.name, creds, proxy, endpoint))
            kit.scripts.append(sp)
            steps.append(f"VMM server {s.name}: copy {creds} and {os.path.basename(sp)} to it and run, as administrator,\n"
                         f"      powershell -ExecutionPolicy Bypass -File {os.path.basename(sp)}\n"
                         f"    then on every Hyper-V host it manages: ... -File {os.path.basename(sp)} -AgentOnly")
    for site in m.source.hyperv_sites:
        fab = None
        if inv is not None:
            for f in inv.fabrics:
                props = f.get("properties") or {}
                if (props.get("friendlyName") or f.get("name") or "").lower() == site.name.lower() or \
                        (f.get("name") or "").lower() == site.name.lower():
                    fab = f
        if fab is None:
            kit.skipped.append(site.name)
            steps.append(f"Hyper-V site {site.name}: not in the vault yet; run `asr apply {ctx.file}` "
                         f"(it creates the site), then run this command again")
            continue
        creds = f"{ctx.vault}_{site.name}_{stamp}.VaultCredentials"
        path = os.path.join(out_dir, creds)
        write_secret(path, credentials_xml(**common, site_id=fab.get("name") or site.name,
                                           site_name=(fab.get("properties") or {}).get("friendlyName") or site.name))
        kit.credentials.append(path)
        sp = os.path.join(out_dir, f"register-hyperv-{site.name}.ps1")
        with open(sp, "w", encoding="utf-8", newline="\r\n") as fh:
            fh.write(hyperv_script(site.name, list(site.hosts), creds, proxy, endpoint))
        kit.scripts.append(sp)
        steps.append(f"Hyper-V site {site.name}: on each host ({', '.join(site.hosts) or 'none declared'}), copy {creds} "
                     f"and {os.path.basename(sp)} and run, as administrator,\n"
                     f"      powershell -ExecutionPolicy Bypass -File {os.path.basename(sp)}")
    kit.files = kit.credentials + kit.scripts
    proxy_note = (f"Proxy {proxy.address}:{proxy.port} is configured in the scripts"
                  + (f"; they ask for the password of {proxy.user} when they run." if proxy and proxy.user else ".")
                  if proxy else "No proxy configured (--proxy http://HOST:PORT [--proxy-user NAME] adds one).")
    lines = [
        f"Registration kit for vault {ctx.vault} written to {out_dir}:",
        *[f"  {p}  (secret: mode 0600, valid until {kit.valid_to})" for p in kit.credentials],
        *[f"  {p}" for p in kit.scripts],
        "",
        "The .VaultCredentials files hold a private key: copy them only to the servers below, and delete them",
        "after registration. Nothing was run on-premises. Next steps:",
        *[f"  {i}. {s}" for i, s in enumerate(steps, 1)],
        f"  {len(steps) + 1}. `asr status {ctx.file}` shows each server as registered and connected; then `asr plan`.",
        "",
        proxy_note,
        *endpoint.notes(),
    ]
    kit.instructions = "\n".join(lines)
    readme = os.path.join(out_dir, "README.txt")
    with open(readme, "w", encoding="utf-8") as fh:
        fh.write(kit.instructions + "\n")
    kit.files.append(readme)
    return kit

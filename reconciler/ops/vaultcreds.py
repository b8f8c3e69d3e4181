"""`asr vault-credentials`: the registration kit a VMM / Hyper-V admin runs on-premises.

1. A fresh self-signed certificate (RSA 2048, valid 5 days, like the portal's key) is
   uploaded to the vault through the vault certificates API
   (`RecoveryServicesClient.vault_certificates.create`, authType AAD); the answer
   carries the AAD details the provider needs.
2. The vault credentials file (XML, with the certificate and its private key as a
   base64 PFX) is written with mode 0600 and never printed: one for the VMM servers,
   one per Hyper-V site (the site's fabric must exist: `asr apply` creates it). The kit
   goes to ~/.asr/kit/<vault> (0700) unless `--out` says otherwise; `KitDir` refuses
   folders others can write and never writes through a symbolic link.
3. A PowerShell script per VMM server and per Hyper-V site: silent provider install,
   registration with the credentials file, Recovery Services agent install
   (`MARSAgentInstaller.exe /q /nu`) and proxy settings (mode 0700). Proxy passwords are never
   written anywhere: the script asks for them when it runs.

Nothing runs on-premises from here; the command prints what to do.
"""

from __future__ import annotations

import base64
import datetime as _dt
import os
import secrets
import stat
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
    def parse(cls, url: str, user: str | None = None) -> Proxy:
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
    now = _dt.datetime.now(_dt.UTC)
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


DEFAULT_KIT_ROOT = os.path.join("~", ".asr", "kit")  # the kit goes to ~/.asr/kit/<vault> unless --out says
SECRET_MODE = 0o600  # .VaultCredentials (a private key) and README.txt
SCRIPT_MODE = 0o700  # register-*.ps1


def default_out_dir(vault: str) -> str:
    return os.path.join(os.path.expanduser(DEFAULT_KIT_ROOT), vault)


class KitDir:
    """The kit's output folder, opened once; every file is written through that handle.

    Rules (a private key goes in here):
    - a missing folder is created with mode 0700 (parents 0700 too, when asr creates them);
    - the folder itself must not be a symbolic link, must belong to us and must not be
      group- or world-writable. A sticky world-writable folder (/tmp) is refused as well:
      others can still plant a name in it. Use a folder only you can write (`--out /tmp/NEW`
      is fine: asr creates NEW with mode 0700);
    - an existing file with a kit file's name must be a regular file of ours: a symbolic
      link, another user's file or anything else is refused, and nothing is written through it;
    - each file is written to a fresh temporary name (O_CREAT|O_EXCL|O_NOFOLLOW), given its
      mode with fchmod (umask plays no part), then renamed over the old name: a re-run over
      our own earlier kit replaces it, and a reader never sees half a file.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self.fd = self._open(self.path)

    @staticmethod
    def _open(path: str) -> int:
        parent = os.path.dirname(path)
        missing = []
        while parent and not os.path.isdir(parent) and parent != os.path.dirname(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for d in reversed(missing):  # parents asr creates are private too (os.makedirs would not make them 0700)
            try:
                os.mkdir(d, 0o700)
                os.chmod(d, 0o700)
            except FileExistsError:
                pass
            except OSError as err:
                raise UsageError(f"--out {path}: cannot create {d}: {err.strerror}") from None
        created = False
        try:
            os.mkdir(path, 0o700)
            created = True
        except FileExistsError:
            pass
        except OSError as err:
            raise UsageError(f"--out {path}: cannot create the folder: {err.strerror}") from None
        flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(path, flags)
        except OSError as err:
            if os.path.islink(path):
                raise UsageError(f"--out {path} is a symbolic link (to {os.readlink(path)}); refusing to write a "
                                 "private key through it", hint=_DIR_HINT) from None
            raise UsageError(f"--out {path}: {err.strerror}", hint=_DIR_HINT) from None
        try:
            if created:
                os.fchmod(fd, 0o700)
            st = os.fstat(fd)
            if st.st_uid != os.geteuid():
                raise UsageError(f"--out {path} belongs to {_owner(st.st_uid)}, not to you; refusing to write a "
                                 "private key into it", hint=_DIR_HINT)
            if st.st_mode & 0o022:
                raise UsageError(f"--out {path} is writable by others (mode {stat.S_IMODE(st.st_mode):04o}); others "
                                 "could plant files or links at the kit's names", hint=_DIR_HINT)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def check(self, name: str) -> None:
        """Refuse an existing `name` that is not a regular file of ours."""
        try:
            st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        where = os.path.join(self.path, name)
        if stat.S_ISLNK(st.st_mode):
            try:
                target = os.readlink(name, dir_fd=self.fd)
            except OSError:
                target = "?"
            raise UsageError(f"{where} is a symbolic link (to {target}); refusing to write the kit through it",
                             hint="remove it, or use another --out folder only you can write")
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{where} exists and is not a regular file; refusing to replace it",
                             hint="remove it, or use another --out folder")
        if st.st_uid != os.geteuid():
            raise UsageError(f"{where} belongs to {_owner(st.st_uid)}, not to you; refusing to replace it",
                             hint="remove it, or use another --out folder only you can write")

    def write(self, name: str, data: bytes, mode: int) -> str:
        """Write `data` to `name` with `mode` (exactly, whatever the umask); returns the path."""
        self.check(name)
        tmp = f".{name}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(tmp, flags, mode & 0o600, dir_fd=self.fd)
        try:
            try:
                os.fchmod(fd, mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            self.check(name)
            os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=self.fd)
            except OSError:
                pass
            raise
        return os.path.join(self.path, name)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> KitDir:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


_DIR_HINT = ("use a folder only you can write, e.g. the default ~/.asr/kit/VAULT, or a new path "
             "(asr creates it with mode 0700)")


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"user {pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def write_secret(path: str, text: str) -> None:
    """Create or replace a file readable by its owner only (0600), in a folder that is ours;
    never through a symbolic link (see `KitDir`)."""
    with KitDir(os.path.dirname(os.path.abspath(path)) or ".") as d:
        d.write(os.path.basename(path), text.encode("utf-8"), SECRET_MODE)


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


def vmm_script(server: str, creds_file: str, proxy: Proxy | None, endpoint: Endpoint | None = None) -> str:
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
                  endpoint: Endpoint | None = None) -> str:
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
                    "The vault has a Site Recovery private endpoint: the credentials say PrivateEndpointStateForSiteRecovery"
                    " Enabled, and the scripts first check that these names resolve to the endpoint's private IPs"
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


def _site_fabric(inv: Any, site_name: str) -> dict[str, Any] | None:
    fab = None
    if inv is not None:
        for f in inv.fabrics:
            props = f.get("properties") or {}
            if (props.get("friendlyName") or f.get("name") or "").lower() == site_name.lower() or \
                    (f.get("name") or "").lower() == site_name.lower():
                fab = f
    return fab


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8")


def write_kit(ctx: Any, out_dir: str | None = None, *, proxy: Proxy | None = None) -> Kit:
    """Write the kit to `out_dir` (default ~/.asr/kit/<vault>). Every name is checked
    (see `KitDir`) before the certificate is uploaded, so a refusal changes nothing in Azure."""
    m = ctx.manifest
    if not m.source.vmm_servers and not m.source.hyperv_sites:
        raise UsageError(f"{ctx.file} declares no VMM server and no Hyper-V site: nothing to register")
    with KitDir(out_dir or default_out_dir(ctx.vault)) as kd:
        return _write_kit(ctx, kd, proxy)


def _write_kit(ctx: Any, kd: KitDir, proxy: Proxy | None) -> Kit:
    m = ctx.manifest
    out_dir = kd.path
    kit = Kit(out_dir=out_dir)
    inv = read_inventory(ctx.clients, ctx.resource_group, ctx.vault, parts=("fabrics",)) if m.source.hyperv_sites else None
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y%m%d%H%M")
    vmm_creds = f"{ctx.vault}_{stamp}.VaultCredentials"
    sites = [(site, _site_fabric(inv, site.name)) for site in m.source.hyperv_sites]
    names = ["README.txt"]
    if m.source.vmm_servers:
        names += [vmm_creds] + [f"register-vmm-{s.name}.ps1" for s in m.source.vmm_servers]
    for site, fab in sites:
        if fab is not None:
            names += [f"{ctx.vault}_{site.name}_{stamp}.VaultCredentials", f"register-hyperv-{site.name}.ps1"]
    for name in names:  # before anything is uploaded
        kd.check(name)

    der, pfx, thumb, not_after = make_certificate(f"{ctx.vault}-{stamp}-vaultcredentials"[:64])
    kit.thumbprint = thumb
    kit.valid_to = not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    aad = upload_certificate(ctx, der, f"{ctx.vault}-{stamp}-vaultcredentials")
    endpoint = read_endpoint(ctx)
    common = dict(vault=ctx.vault, subscription=m.subscription, resource_group=ctx.resource_group,
                  pfx=pfx, aad=aad, private_endpoint_state=endpoint.state)
    steps: list[str] = []
    if m.source.vmm_servers:
        creds = vmm_creds
        kit.credentials.append(kd.write(creds, credentials_xml(**common).encode("utf-8"), SECRET_MODE))
        for s in m.source.vmm_servers:
            sp = kd.write(f"register-vmm-{s.name}.ps1", _crlf(vmm_script(s.name, creds, proxy, endpoint)), SCRIPT_MODE)
            kit.scripts.append(sp)
            steps.append(f"VMM server {s.name}: copy {creds} and {os.path.basename(sp)} to it and run, as administrator,\n"
                         f"      powershell -ExecutionPolicy Bypass -File {os.path.basename(sp)}\n"
                         f"    then on every Hyper-V host it manages: ... -File {os.path.basename(sp)} -AgentOnly")
    for site, fab in sites:
        if fab is None:
            kit.skipped.append(site.name)
            steps.append(f"Hyper-V site {site.name}: not in the vault yet; run `asr apply {ctx.file}` "
                         f"(it creates the site), then run this command again")
            continue
        creds = f"{ctx.vault}_{site.name}_{stamp}.VaultCredentials"
        xml = credentials_xml(**common, site_id=fab.get("name") or site.name,
                              site_name=(fab.get("properties") or {}).get("friendlyName") or site.name)
        kit.credentials.append(kd.write(creds, xml.encode("utf-8"), SECRET_MODE))
        sp = kd.write(f"register-hyperv-{site.name}.ps1",
                      _crlf(hyperv_script(site.name, list(site.hosts), creds, proxy, endpoint)), SCRIPT_MODE)
        kit.scripts.append(sp)
        steps.append(f"Hyper-V site {site.name}: on each host ({', '.join(site.hosts) or 'none declared'}), copy {creds} "
                     f"and {os.path.basename(sp)} and run, as administrator,\n"
                     f"      powershell -ExecutionPolicy Bypass -File {os.path.basename(sp)}")
    kit.files = kit.credentials + kit.scripts
    proxy_note = (f"Proxy {proxy.address}:{proxy.port} is configured in the scripts"
                  + (f"; they ask for the password of {proxy.user} when they run." if proxy and proxy.user else ".")
                  if proxy else "No proxy configured (--proxy http://HOST:PORT [--proxy-user NAME] adds one).")
    lines = [
        f"Registration kit for vault {ctx.vault} written to {out_dir} (mode 0700):",
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
    kit.files.append(kd.write("README.txt", (kit.instructions + "\n").encode("utf-8"), SECRET_MODE))
    return kit

"""`asr vault-credentials` against the emulator: certificate uploaded through the vault
certificates API, credentials file 0600 and never printed, scripts written."""

from __future__ import annotations

import base64
import os
import stat
import xml.etree.ElementTree as ET

from reconciler.cli.main import main
from tests.ops.conftest import EXAMPLES, example_manifest
from tests.ops.helpers import make_vault

QS = os.path.join(EXAMPLES, "quickstart.yaml")
NS = {"a": "http://schemas.datacontract.org/2004/07/Microsoft.Azure.Portal.RecoveryServices.Models.Common"}


def test_kit_for_the_quickstart(emulator, tmp_path, capsys):
    make_vault(example_manifest("quickstart.yaml"), emulator)
    emulator.reset_stats()
    out = tmp_path / "kit"
    code = main(["vault-credentials", QS, "--out", str(out), "--proxy", "http://proxy.contoso.local:3128",
                 "--proxy-user", "svc-asr"])
    stdout, stderr = capsys.readouterr()
    assert code == 0, stderr
    assert emulator.stats()["writes"] == 1  # the certificate upload, nothing else
    creds = sorted(p for p in os.listdir(out) if p.endswith(".VaultCredentials"))
    assert len(creds) == 1 and creds[0].startswith("contoso-asr-vault_")
    path = out / creds[0]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    root = ET.parse(path).getroot()
    assert root.find("a:ResourceName", NS).text == "contoso-asr-vault"
    assert root.find("a:ResourceGroup", NS).text == "contoso-dr-rg"
    assert root.find("a:AadDetails/a:AadTenantId", NS).text  # from the vault certificates API answer
    assert root.find("a:AadDetails/a:ServicePrincipalClientId", NS).text
    secret = root.find("a:ManagementCert", NS).text
    assert base64.b64decode(secret)
    assert secret not in stdout and secret[:40] not in stdout and secret[:40] not in stderr
    script = (out / "register-vmm-vmm01.ps1").read_text()
    assert "MARSAgentInstaller.exe" in script and "'/nu'" in script and "3128" in script
    assert creds[0] in script
    assert "Next steps" in stdout and "register-vmm-vmm01.ps1" in stdout and "0600" in stdout


def test_missing_vault_is_a_clear_error(emulator, tmp_path, capsys):
    code = main(["vault-credentials", QS, "--out", str(tmp_path / "kit")])
    _, err = capsys.readouterr()
    assert code == 1 and "Traceback" not in err
    assert err.startswith("error: upload the registration certificate to vault contoso-asr-vault: ")
    assert f"hint: create the vault first: `asr apply {QS}`" in err
    assert not any(p.endswith(".VaultCredentials") for p in os.listdir(tmp_path / "kit"))


def test_kit_for_a_hyperv_site_needs_the_site(emulator, tmp_path, capsys):
    from tests.ops.helpers import protect

    hv = os.path.join(EXAMPLES, "hyperv-site.yaml")
    make_vault(example_manifest("hyperv-site.yaml"), emulator)
    code = main(["vault-credentials", hv, "--out", str(tmp_path / "k1")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Hyper-V site branch-site: not in the vault yet; run `asr apply" in out
    assert not [p for p in os.listdir(tmp_path / "k1") if p.endswith(".VaultCredentials")]

    emulator.reset(estate=os.path.join(EXAMPLES, "estates", "hyperv-site.yaml"), time_scale=600)
    protect(emulator, example_manifest("hyperv-site.yaml"), wait_protected=False)
    code = main(["vault-credentials", hv, "--out", str(tmp_path / "k2")])
    out, err = capsys.readouterr()
    assert code == 0, err
    creds = [p for p in os.listdir(tmp_path / "k2") if p.endswith(".VaultCredentials")]
    assert len(creds) == 1 and "_branch-site_" in creds[0]
    root = ET.parse(tmp_path / "k2" / creds[0]).getroot()
    assert root.find("a:SiteName", NS).text == "branch-site" and root.find("a:SiteId", NS).text
    script = (tmp_path / "k2" / "register-hyperv-branch-site.ps1").read_text()
    assert "HV-HOST-01, HV-HOST-02" in script and "DRConfigurator.exe" in script

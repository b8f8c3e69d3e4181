"""Credential failures name the credential tried and why it failed, against real failing
endpoints (issue 10, part 6): a managed-identity endpoint refusing the header, Microsoft
Entra ID rejecting a federated token, an Azure CLI that is not signed in, CA bundles that
are missing or not PEM. No secret (IDENTITY_HEADER, the federated token) is ever printed,
with or without ASR_DEBUG=1."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.emulator import certs
from tests.azure.fake_identity import FakeIdentity

pytestmark = pytest.mark.e2e  # real HTTPS, real credential chain, `asr` subprocesses (tests/conftest.py);
# where no secret is in play (a CLI not signed in, CA bundle errors) `asr` runs in process

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart.yaml"
ASR = [sys.executable, "-m", "reconciler.cli.main"]
HEADER = "hdr-5ecret-7f3a9c21e4"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.garbage-federated-5ecret.c2lnbmF0dXJl"


@pytest.fixture
def env(tmp_path):
    """A clean environment: ARM at a closed port (no token is ever obtained, so ARM is never reached)."""
    e = {k: v for k, v in os.environ.items()
         if not k.startswith(("AZURE_", "IDENTITY_", "MSI_", "ASR_", "REQUESTS_CA", "CURL_CA"))}
    e.update(NO_COLOR="1", ASR_RETRY_TOTAL="0", ASR_ARM_ENDPOINT="https://127.0.0.1:9")
    return e


def manifest(tmp: Path) -> str:
    p = tmp / "site-recovery.yaml"
    p.write_text(QUICKSTART.read_text().replace("../schemas/", str(REPO / "schemas") + "/"))
    return p.name


def asr_plan(env: dict, tmp: Path) -> subprocess.CompletedProcess:
    r = subprocess.run(ASR + ["plan", manifest(tmp)], env=env, cwd=tmp, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in r.stderr, r.stderr
    return r


def asr_plan_in_process(env: dict, tmp: Path, monkeypatch, capfd) -> subprocess.CompletedProcess:
    """`asr plan` in this process with exactly `env` as its environment, for the checks that
    are about what asr says, not about the process (no secret is in play): its output as
    the file descriptors saw it (tests/asr_in_process.py, with capfd)."""
    from tests.asr_in_process import run_asr

    return run_asr(["plan", manifest(tmp)], env=env, cwd=tmp, monkeypatch=monkeypatch, capsys=capfd)


def no_secret(r: subprocess.CompletedProcess, *secrets: str) -> None:
    for s in secrets:
        assert s not in r.stdout and s not in r.stderr, f"secret {s!r} printed:\n{r.stderr}"
        assert s[:12] not in r.stderr


@pytest.mark.parametrize("status", [400, 401, 500])
def test_managed_identity_endpoint_refuses(env, tmp_path, status):
    with FakeIdentity(status) as mi:
        env.update(IDENTITY_ENDPOINT=f"{mi.url}/msi/token", IDENTITY_HEADER=HEADER,
                   AZURE_TOKEN_CREDENTIALS="ManagedIdentityCredential", ASR_DEBUG="1")
        r = asr_plan(env, tmp_path)
    assert r.returncode == 1
    err = r.stderr
    assert "debug: ManagedIdentityCredential (failed): " in err, (status, len(mi.requests), err[-600:])
    assert ("error: list resource groups of subscription 00000000-0000-0000-0000-000000000001: could not get an "
            f"Azure token: ManagedIdentityCredential: the managed identity endpoint {mi.url}/msi/token answered "
            f"{status} ") in err
    assert "X-IDENTITY-HEADER '<redacted>' is not valid for this site" in err
    assert "no Azure credentials found" not in err
    assert "hint: AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential (the emulator's `export` lines set it)" in err
    assert "`unset AZURE_TOKEN_CREDENTIALS`" in err and "`az login`" in err
    no_secret(r, HEADER)


def test_asr_debug_shows_the_chain_redacted(env, tmp_path):
    with FakeIdentity(401) as mi:
        env.update(IDENTITY_ENDPOINT=f"{mi.url}/msi/token", IDENTITY_HEADER=HEADER,
                   AZURE_TOKEN_CREDENTIALS="ManagedIdentityCredential", ASR_DEBUG="1")
        r = asr_plan(env, tmp_path)
    assert r.returncode == 1
    debug = [ln for ln in r.stderr.splitlines() if ln.startswith("debug: ")]
    assert "debug: AZURE_TOKEN_CREDENTIALS=ManagedIdentityCredential; the chain tried, in order:" in debug
    assert any(ln.startswith("debug: ManagedIdentityCredential (failed): ") for ln in debug), r.stderr
    assert any(f"GET {mi.url}/msi/token -> 401 invalid_request" in ln for ln in debug), r.stderr
    assert any(ln.startswith("debug: caused by azure.core.exceptions.ClientAuthenticationError") for ln in debug)
    no_secret(r, HEADER)


def test_federated_token_rejected(env, tmp_path):
    tls = certs.generate(str(tmp_path / "tls"))
    token_file = tmp_path / "federated-token"
    token_file.write_text(TOKEN)
    with FakeIdentity(401, tls=tls) as aad:
        env.update(AZURE_FEDERATED_TOKEN_FILE=str(token_file), AZURE_CLIENT_ID="11111111-2222-3333-4444-555555555555",
                   AZURE_TENANT_ID="66666666-7777-8888-9999-000000000000", AZURE_AUTHORITY_HOST=aad.url,
                   REQUESTS_CA_BUNDLE=tls.ca_cert, ASR_DEBUG="1")
        r = asr_plan(env, tmp_path)
    assert r.returncode == 1
    assert aad.requests and aad.requests[-1][0] == "POST"  # the token really was sent and refused
    err = r.stderr
    assert (f"could not get an Azure token: WorkloadIdentityCredential: Microsoft Entra ID ({aad.url}/"
            f"66666666-7777-8888-9999-000000000000/oauth2/v2.0/token) rejected the federated token from "
            f"AZURE_FEDERATED_TOKEN_FILE={token_file}: 401 invalid_client: AADSTS700211: No matching federated "
            "identity record found") in err
    assert "hint: check AZURE_CLIENT_ID and AZURE_TENANT_ID" in err
    assert "debug: WorkloadIdentityCredential (failed): " in err
    no_secret(r, TOKEN, "garbage-federated-5ecret")


def test_cli_not_signed_in(env, tmp_path, monkeypatch, capfd):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text("#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n")
    az.chmod(az.stat().st_mode | stat.S_IXUSR)
    env.update(AZURE_TOKEN_CREDENTIALS="AzureCliCredential", PATH=f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}")
    r = asr_plan_in_process(env, tmp_path, monkeypatch, capfd)
    assert r.returncode == 1
    assert "no Azure credentials found (tried AzureCliCredential: the Azure CLI is not signed in)" in r.stderr
    assert "hint: AZURE_TOKEN_CREDENTIALS=AzureCliCredential limits the chain to AzureCliCredential" in r.stderr
    assert "sign in with `az login`" in r.stderr


@pytest.mark.parametrize("var", ["ASR_CA_BUNDLE", "REQUESTS_CA_BUNDLE"])
def test_missing_ca_bundle_is_a_tls_configuration_error(env, tmp_path, var, monkeypatch, capfd):
    env[var] = str(tmp_path / "nowhere" / "ca.pem")
    r = asr_plan_in_process(env, tmp_path, monkeypatch, capfd)
    assert r.returncode == 1
    assert f"error: TLS configuration: {var}={tmp_path}/nowhere/ca.pem: no such file" in r.stderr
    assert "unreachable" not in r.stderr and "network" not in r.stderr
    assert f"hint: point {var} at the PEM file" in r.stderr


def test_ca_bundle_that_is_not_pem(env, tmp_path, monkeypatch, capfd):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    env["ASR_CA_BUNDLE"] = str(bad)
    r = asr_plan_in_process(env, tmp_path, monkeypatch, capfd)
    assert r.returncode == 1
    assert f"error: TLS configuration: ASR_CA_BUNDLE={bad}: not a PEM certificate bundle" in r.stderr


def test_redact_knows_the_secrets(monkeypatch, tmp_path):
    from reconciler.azure.credentials import redact

    f = tmp_path / "tok"
    f.write_text("plain-federated-token-value\n")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(f))
    monkeypatch.setenv("IDENTITY_HEADER", "hdr-value-123")
    monkeypatch.setenv("AZURE_CLIENT_SECRET", "s3cr3t~value")
    text = ("a plain-federated-token-value b hdr-value-123 c s3cr3t~value client_assertion=abc.def&x=1 "
            '"access_token": "zzz" eyJhbGciOi.eyJzdWIiOiJ4In0.sig')
    out = redact(text)
    for s in ("plain-federated-token-value", "hdr-value-123", "s3cr3t~value", "abc.def", "zzz", "eyJzdWIiOiJ4In0"):
        assert s not in out
    assert "x=1" in out

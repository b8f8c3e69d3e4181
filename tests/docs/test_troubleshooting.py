"""docs/troubleshooting.md quotes the messages asr really prints.

Every `<!-- scenario: NAME -->` in the page is followed by a ```text block with
the lines the command prints on stderr (errors, hints, manifest diagnostics),
with run-specific values masked (ports, GUIDs, times, temp paths). Each test
reproduces its scenario against the emulator and compares. To refresh the
quotes after changing a message:

    ASR_UPDATE_DOCS=1 python -m pytest tests/docs/test_troubleshooting.py
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# Every scenario but one runs `asr` in process (`reconciler.cli.main.main`, through
# tests/asr_in_process.py): the same code prints the same lines, without a Python start-up
# and the Azure SDK's imports (about 2 s of CPU) per command. The scenarios about TLS, the
# endpoint or the credential chain (marker e2e) reach the HTTPS emulator subprocess with
# the real credential chain the environment selects; the others (marker inproc) the
# in-process emulator (tests/conftest.py). `no-terminal` is about the program's stdin:
# it runs `asr` as a subprocess.
e2e = pytest.mark.e2e
inproc = pytest.mark.inproc

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "troubleshooting.md"
QUICKSTART = REPO / "examples" / "quickstart.yaml"
ESTATE = REPO / "examples" / "estates" / "quickstart.yaml"
SUB = "00000000-0000-0000-0000-000000000001"
READER_ID = "11111111-2222-3333-4444-555555555555"
ASR = [sys.executable, "-m", "reconciler.cli.main"]

_BLOCK = re.compile(r"(<!-- scenario: (?P<name>[\w-]+) -->\n```text\n)(?P<body>(?:(?!```).)*?)(\n```)", re.S)


def normalize(text: str, tmp: Path) -> str:
    text = text.replace(str(tmp) + os.sep, "").replace(str(tmp), ".")
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:PORT", text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<guid>", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z?", "<time>", text)
    text = re.sub(r"\bpid \d+", "pid N", text)
    text = re.sub(r"\b(lock ID |force-unlock MANIFEST )[0-9a-f]{12}\b", r"\1<lock-id>", text)
    text = re.sub(r"\|\d+\|", "|N|", text)
    text = re.sub(r"\d+(\.\d+)? ?s\b", "N s", text)
    return text


def interesting(stderr: str) -> str:
    keep = [ln for ln in stderr.splitlines() if re.match(r"(error|hint|warning):|\S+:\d+:\d+: (error|warning)", ln)]
    return "\n".join(keep)


def doc_blocks() -> dict[str, str]:
    return {m["name"]: m["body"] for m in _BLOCK.finditer(DOC.read_text())}


def check(name: str, stderr: str, tmp: Path) -> None:
    got = normalize(interesting(stderr), tmp)
    assert got, f"scenario {name} printed no error lines:\n{stderr}"
    if os.environ.get("ASR_UPDATE_DOCS"):
        text = DOC.read_text()
        text, n = _BLOCK.subn(lambda m: m.group(1) + got + m.group(4) if m["name"] == name else m.group(0), text)
        DOC.write_text(text)
        return
    blocks = doc_blocks()
    assert name in blocks, f"docs/troubleshooting.md has no block for scenario {name}"
    assert blocks[name] == got, f"docs/troubleshooting.md is stale for {name}; run with ASR_UPDATE_DOCS=1"


@pytest.fixture
def env(emulator, tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_") or k == "AZURE_TOKEN_CREDENTIALS"}
    e.update(emulator.env)
    e["NO_COLOR"] = "1"
    e["ASR_RETRY_TOTAL"] = "2"
    # the emulator runs at time scale 600 where a scenario needs jobs to end: follow them
    # (and wait for servers registering) on that scale, not on Azure's
    e.update(ASR_JOB_POLL_MIN="0.1", ASR_JOB_POLL_MAX="0.3", ASR_REGISTRATION_WAIT="1", ASR_REPLAN_INTERVAL="0.2")
    return e


def asr(args: list[str], env: dict, cwd: Path, *, process: bool = False) -> subprocess.CompletedProcess:
    """`asr ARGS` with `env` as its environment and `cwd` as its directory, no terminal on
    stdin: in this process, or as a subprocess with `process=True`."""
    if not process:
        return _IN_PROCESS[-1](args, env, cwd)
    r = subprocess.run(ASR + args, env=env, cwd=cwd, capture_output=True, text=True, timeout=180, input="")
    assert "Traceback" not in r.stderr, r.stderr
    return r


_IN_PROCESS: list = []


@pytest.fixture(autouse=True)
def _asr_in_process(monkeypatch, capsys):
    from tests.asr_in_process import run_asr

    def run(args: list[str], env: dict, cwd: Path) -> subprocess.CompletedProcess:
        return run_asr(args, env=env, cwd=cwd, monkeypatch=monkeypatch, capsys=capsys)

    _IN_PROCESS.append(run)
    try:
        yield
    finally:
        _IN_PROCESS.remove(run)


def manifest(tmp: Path, edit=None) -> Path:
    text = QUICKSTART.read_text().replace("../schemas/", str(REPO / "schemas") + "/")
    if edit:
        text = edit(text)
    p = tmp / "site-recovery.yaml"
    p.write_text(text)
    return p


@inproc
def test_invalid_manifest(env, tmp_path):
    m = manifest(tmp_path, lambda t: t.replace("policy: every-5-min", "policy: every-5-minutes", 1)
                 .replace("name: contoso-asr-vault", "name: contoso_asr_vault", 1)
                 .replace("replicationFrequencySeconds: 300", "replicationFrequencySeconds: 60", 1))
    r = asr(["validate", m.name], env, tmp_path)
    assert r.returncode == 1
    check("invalid-manifest", r.stderr, tmp_path)


@inproc
def test_unset_environment_reference(env, tmp_path):
    m = manifest(tmp_path, lambda t: t.replace(f"subscription: {SUB}", "subscription: ${ASR_DOC_SUBSCRIPTION}", 1))
    env.pop("ASR_DOC_SUBSCRIPTION", None)
    r = asr(["plan", m.name], env, tmp_path)
    assert r.returncode == 1
    check("unset-env", r.stderr, tmp_path)


@e2e
def test_no_credentials(env, tmp_path):
    # Only the Azure CLI credential, and no `az` on PATH: nothing can produce a token.
    # (Never drop the identity endpoint alone: managed identity would then try IMDS.)
    for k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        env.pop(k, None)
    env["AZURE_TOKEN_CREDENTIALS"] = "AzureCliCredential"
    env["PATH"] = str(Path(sys.executable).parent)
    r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    check("no-credentials", r.stderr, tmp_path)


@e2e
def test_managed_identity_refused(env, tmp_path):
    # the emulator's `export` lines from an earlier start: its identity header changed since
    env["IDENTITY_HEADER"] = "stale-identity-header-from-an-earlier-start"
    r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    assert "stale-identity-header" not in r.stderr + r.stdout
    check("managed-identity-refused", r.stderr, tmp_path)


@e2e
def test_federated_token_rejected(env, tmp_path):
    from reconciler.emulator import certs
    from tests.azure.fake_identity import FakeIdentity

    tls = certs.generate(str(tmp_path / "entra-tls"))
    (tmp_path / "federated-token").write_text("eyJhbGciOiJSUzI1NiJ9.not-a-valid-token.c2ln")
    for k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "AZURE_TOKEN_CREDENTIALS"):
        env.pop(k, None)
    with FakeIdentity(401, tls=tls, echo=False) as entra:
        env.update(AZURE_FEDERATED_TOKEN_FILE=str(tmp_path / "federated-token"), AZURE_CLIENT_ID=READER_ID,
                   AZURE_TENANT_ID=SUB, AZURE_AUTHORITY_HOST=entra.url, REQUESTS_CA_BUNDLE=tls.ca_cert)
        r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    assert "not-a-valid-token" not in r.stderr + r.stdout
    check("federated-token-rejected", r.stderr, tmp_path)


@e2e
def test_cli_not_signed_in(env, tmp_path):
    for k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"):
        env.pop(k, None)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "az").write_text("#!/bin/sh\necho \"ERROR: Please run 'az login' to setup account.\" >&2\nexit 1\n")
    (bin_dir / "az").chmod(0o755)
    env["AZURE_TOKEN_CREDENTIALS"] = "AzureCliCredential"
    env["PATH"] = f"{bin_dir}{os.pathsep}{Path(sys.executable).parent}"
    r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    check("cli-not-signed-in", r.stderr, tmp_path)


@e2e
def test_ca_bundle_missing(env, tmp_path):
    env["ASR_CA_BUNDLE"] = str(tmp_path / "old-emulator" / "ca.pem")
    r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    check("ca-bundle-missing", r.stderr, tmp_path)


@e2e
def test_permission_denied(env, emulator, tmp_path):
    estate = yaml.safe_load(ESTATE.read_text())
    estate["principals"] = [{"clientId": READER_ID, "role": "Reader", "name": "pipeline-reader"}]
    emulator.reset(estate=estate, time_scale=600)
    env["AZURE_CLIENT_ID"] = READER_ID
    r = asr(["apply", manifest(tmp_path).name, "--auto-approve"], env, tmp_path)
    assert r.returncode == 1
    check("permission-denied", r.stderr, tmp_path)


@e2e
def test_endpoint_unreachable(env, tmp_path):
    env["ASR_ARM_ENDPOINT"] = "https://127.0.0.1:9"
    env["ASR_RETRY_TOTAL"] = "0"  # the same lines after retries; without them, no backoff sleeps
    r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    check("unreachable", r.stderr, tmp_path)


@e2e
def test_tls_verification(env, tmp_path):
    env.pop("ASR_CA_BUNDLE")
    env["ASR_RETRY_TOTAL"] = "0"  # the same lines after retries; without them, no backoff sleeps
    r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    check("tls", r.stderr, tmp_path)


@inproc
def test_throttled_past_retries(env, emulator, tmp_path):
    emulator.reset(faults="throttle=1,seed=1")
    env["ASR_RETRY_TOTAL"] = "1"
    r = asr(["plan", manifest(tmp_path).name], env, tmp_path)
    assert r.returncode == 1
    check("throttled", r.stderr, tmp_path)


@inproc
def test_manual_registration_step(env, emulator, tmp_path):
    estate = yaml.safe_load(ESTATE.read_text())
    for s in estate.get("vmmServers", []):
        s["registerWithVault"] = None  # nobody runs the registration kit
    emulator.reset(estate=estate, time_scale=600)
    r = asr(["apply", manifest(tmp_path).name, "--auto-approve"], env, tmp_path)
    assert r.returncode == 1
    check("manual-step", r.stderr, tmp_path)


@inproc
def test_stale_saved_plan(env, emulator, tmp_path):
    emulator.reset(time_scale=600)
    m = manifest(tmp_path)
    assert asr(["plan", m.name, "--out", "plan.json"], env, tmp_path).returncode == 0
    m.write_text(m.read_text().replace("recoveryPointRetentionHours: 24", "recoveryPointRetentionHours: 12"))
    r = asr(["apply", "plan.json", "--auto-approve"], env, tmp_path)
    assert r.returncode == 1
    check("stale-plan", r.stderr, tmp_path)


def _applied(env, emulator, tmp_path) -> Path:
    emulator.reset(time_scale=600)
    m = manifest(tmp_path)
    r = asr(["apply", m.name, "--auto-approve"], env, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    return m


@inproc
def test_modified_saved_plan(env, emulator, tmp_path):
    import json

    emulator.reset(time_scale=600)
    m = manifest(tmp_path)
    assert asr(["plan", m.name, "--out", "plan.json"], env, tmp_path).returncode == 0
    plan = tmp_path / "plan.json"
    data = json.loads(plan.read_text())
    data["changes"][0]["note"] = "edited"
    plan.write_text(json.dumps(data))
    r = asr(["apply", "plan.json", "--auto-approve"], env, tmp_path)
    assert r.returncode == 1
    check("plan-modified", r.stderr, tmp_path)


@inproc
def test_saved_plan_not_what_the_manifest_gives(env, emulator, tmp_path):
    import json

    from reconciler.plan.saved import plan_digest

    m = _applied(env, emulator, tmp_path)
    assert asr(["plan", m.name, "--out", "plan.json"], env, tmp_path).returncode == 0
    plan = tmp_path / "plan.json"
    data = json.loads(plan.read_text())
    c = next(c for c in data["changes"] if c["address"] == "protected_vm.app02")
    c["action"] = "update"
    c["requests"] = [{"operation": "resources.resource_groups.begin_delete",
                      "args": {"resource_group_name": "contoso-failover-rg"}}]
    data["digest"] = plan_digest(data)
    plan.write_text(json.dumps(data))
    r = asr(["apply", "plan.json", "--auto-approve", "--allow-destroy"], env, tmp_path)
    assert r.returncode == 1
    check("plan-mismatch", r.stderr, tmp_path)


@inproc
def test_saved_plan_follow_up_not_run(env, emulator, tmp_path):
    m = _applied(env, emulator, tmp_path)
    data = yaml.safe_load(m.read_text())
    next(v for v in data["protectedVMs"] if v["name"] == "app02")["target"]["diskType"] = "Premium_LRS"
    m.write_text(yaml.safe_dump(data, sort_keys=False))
    assert asr(["plan", m.name, "--out", "plan.json"], env, tmp_path).returncode == 0
    r = asr(["apply", "plan.json", "--auto-approve", "--allow-destroy"], env, tmp_path)
    assert r.returncode == 1
    check("followup-saved", r.stderr, tmp_path)


@inproc
def test_destroy_needs_allow_destroy(env, emulator, tmp_path):
    m = _applied(env, emulator, tmp_path)
    data = yaml.safe_load(m.read_text())
    data["protectedVMs"] = [v for v in data["protectedVMs"] if v["name"] != "web01"]
    for rp in data.get("recoveryPlans", []):
        for g in rp["groups"]:
            g["vms"] = [v for v in g["vms"] if v != "web01"]
    data["prune"] = {"protectedVMs": True}
    m.write_text(yaml.safe_dump(data, sort_keys=False))
    r = asr(["apply", m.name, "--auto-approve"], env, tmp_path)
    assert r.returncode == 1
    check("destroy-refused", r.stderr, tmp_path)


@e2e
def test_no_terminal_for_confirmation(env, emulator, tmp_path):
    emulator.reset(time_scale=600)
    r = asr(["apply", manifest(tmp_path).name], env, tmp_path, process=True)
    assert r.returncode == 1
    check("no-terminal", r.stderr, tmp_path)


@inproc
def test_vault_locked_by_another_apply(env, emulator, tmp_path, monkeypatch):
    m = _applied(env, emulator, tmp_path)
    from reconciler.azure.clients import AzureSettings, Clients

    for k, v in env.items():  # monkeypatch: ASR_RETRY_TOTAL=2 must not leak into later tests of this worker
        if k.startswith(("ASR_", "IDENTITY_", "AZURE_TOKEN")):
            monkeypatch.setenv(k, v)
    clients = Clients(SUB, AzureSettings.from_env())
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    lease = "|".join(["pipeline-42", "build-agent-7", "4242", (now - dt.timedelta(seconds=30)).isoformat().replace("+00:00", "Z"),
                      (now + dt.timedelta(minutes=10)).isoformat().replace("+00:00", "Z")])
    vault = clients.vaults.vaults.get("contoso-dr-rg", "contoso-asr-vault")
    tags = dict(vault.tags or {})
    tags["asr-lock"] = lease
    clients.vaults.vaults.begin_update("contoso-dr-rg", "contoso-asr-vault", {"tags": tags}).result()
    m.write_text(m.read_text().replace("recoveryPointRetentionHours: 24", "recoveryPointRetentionHours: 12"))
    r = asr(["apply", m.name, "--auto-approve"], env, tmp_path)
    assert r.returncode == 1
    check("locked", r.stderr, tmp_path)


@inproc
def test_operation_not_allowed_in_state(env, emulator, tmp_path):
    m = _applied(env, emulator, tmp_path)
    emulator.advance(7 * 24 * 3600)  # initial replication done: the state the quote shows, whatever the load
    r = asr(["failover", "commit", m.name, "--vm", "app01", "--yes"], env, tmp_path)
    assert r.returncode == 1
    check("not-allowed", r.stderr, tmp_path)


def test_every_block_in_the_page_has_a_test():
    names = set(doc_blocks())
    tested = {
        "invalid-manifest", "unset-env", "no-credentials", "managed-identity-refused", "federated-token-rejected",
        "cli-not-signed-in", "ca-bundle-missing", "permission-denied", "unreachable", "tls", "throttled",
        "manual-step", "stale-plan", "plan-modified", "plan-mismatch", "followup-saved", "destroy-refused",
        "no-terminal", "locked", "not-allowed",
    }
    assert names == tested

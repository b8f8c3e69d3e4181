"""ASR_LOG=debug / --debug: every HTTP request and response on stderr (method, URL,
status, time, request ids) through an azure-core policy; secrets never appear."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from reconciler.azure.debuglog import REDACTED, redact_header, redact_url

SUB = "00000000-0000-0000-0000-000000000001"
REPO = Path(__file__).resolve().parents[2]


def test_redaction_of_headers_and_query_strings():
    for name in ("Authorization", "X-IDENTITY-HEADER", "IDENTITY_HEADER", "x-ms-client-secret", "Cookie",
                 "Ocp-Apim-Subscription-Key", "x-ms-access-token"):
        assert redact_header(name, "s3cret") == REDACTED, name
    for name in ("x-ms-client-request-id", "Content-Type", "User-Agent", "Accept"):
        assert redact_header(name, "v") == "v", name
    url = "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&se=2026-01-01&sig=AbCd%2Bsecret%3D&sp=r"
    out = redact_url(url)
    assert "AbCd" not in out and f"sig={REDACTED}" in out and "sv=2022-11-02" in out
    assert "secret" not in redact_url("https://h/p?client_secret=hunter2&api-version=1").replace("client_secret", "")
    assert redact_url("https://h/p?api-version=2024-04-01") == "https://h/p?api-version=2024-04-01"


def test_debug_log_shows_each_request_and_never_the_bearer_token(emulator, monkeypatch, capsys):
    from azure.identity import DefaultAzureCredential

    from reconciler.azure.clients import ARM_SCOPE, Clients

    monkeypatch.setenv("ASR_LOG", "debug")
    cred = DefaultAzureCredential(exclude_interactive_browser_credential=True)
    token = cred.get_token(ARM_SCOPE).token  # cached: the very token the requests below carry
    assert len(token) > 20
    clients = Clients(SUB, credential=cred)
    try:
        groups = list(clients.resources.resource_groups.list())
        try:
            clients.vaults.vaults.get("no-such-rg", "no-such-vault")
        except Exception:
            pass
    finally:
        clients.close()
    err = capsys.readouterr().err
    assert token not in err and token[:40] not in err
    assert not re.search(r"Bearer\s+\S", err)
    assert f"Authorization={REDACTED}" in err  # the header as sent was seen, and redacted
    assert f"asr-debug: GET {emulator.env['ASR_ARM_ENDPOINT']}/subscriptions/{SUB}/resourcegroups?api-version=" in err
    assert re.search(r"asr-debug:   -> 200 OK in \d+ ms; x-ms-client-request-id=[0-9a-f-]{36}", err)
    assert re.search(r"-> 404 .*x-ms-request-id=\S+", err)
    assert isinstance(groups, list)


def test_debug_flag_through_the_cli_and_off_by_default(emulator, tmp_path, monkeypatch, capfd):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "reconciler.cli.main", *args], capture_output=True, text=True,
                              timeout=120, cwd=REPO)

    r = run("plan", "examples/quickstart.yaml", "--debug")
    assert r.returncode == 0, r.stderr
    gets = re.findall(r"^asr-debug: GET \S+", r.stderr, re.M)
    assert len(gets) >= 5 and len(gets) == len(re.findall(r"^asr-debug:   -> \d{3} ", r.stderr, re.M))
    assert "asr-debug" not in r.stdout  # the plan on stdout stays clean
    assert emulator.env["IDENTITY_HEADER"] not in r.stderr
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}", r.stderr)  # no JWT
    # off by default: asr in process (the same HTTPS emulator and credential chain, no secret printed either way)
    from reconciler.cli.main import main

    monkeypatch.chdir(REPO)
    monkeypatch.delenv("ASR_LOG", raising=False)
    capfd.readouterr()
    assert main(["plan", "examples/quickstart.yaml"]) == 0
    out = capfd.readouterr()
    assert "Plan:" in out.out or "No changes" in out.out, out.out
    assert "asr-debug" not in out.err

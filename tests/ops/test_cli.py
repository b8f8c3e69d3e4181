"""Day-2 commands' argument handling: user errors are one `error:` line (+ hint),
exit 1, no traceback, nothing sent to Azure."""

from __future__ import annotations

import io
import os
import sys

import pytest

from reconciler.cli.main import main
from tests.ops.conftest import EXAMPLES

QS = os.path.join(EXAMPLES, "quickstart.yaml")


@pytest.fixture
def no_azure(monkeypatch):
    # an endpoint nobody listens on: a test that reached Azure would fail loudly
    monkeypatch.setenv("ASR_ARM_ENDPOINT", "https://127.0.0.1:9")
    monkeypatch.setenv("ASR_RETRY_TOTAL", "0")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_vm_not_in_manifest(no_azure, capsys):
    code, _, err = run(capsys, "failover", "test", QS, "--vm", "nope", "--yes")
    assert code == 1
    assert err.splitlines()[0] == f"error: VM not in {QS}: nope (declared: sql01, app01, app02, web01)"


def test_recovery_plan_not_in_manifest(no_azure, capsys):
    code, _, err = run(capsys, "drill", QS, "--recovery-plan", "tier9", "--yes")
    assert code == 1 and "recovery plan 'tier9' is not declared" in err


def test_no_terminal_and_no_yes_refuses_before_reading(no_azure, capsys):
    for argv in (("failover", "planned", QS, "--vm", "sql01"), ("reprotect", QS, "--vm", "sql01"),
                 ("failback", QS, "--recovery-plan", "tier1"), ("drill", QS, "--recovery-plan", "tier1")):
        code, _, err = run(capsys, *argv)
        assert code == 1, argv
        assert "no terminal to ask on" in err and "hint: re-run with --yes" in err


def test_selector_required_and_exclusive(no_azure, capsys):
    code, _, err = run(capsys, "failover", "test", QS, "--yes")
    assert code == 1 and "nothing selected" in err
    code, _, err = run(capsys, "failover", "test", QS, "--vm", "sql01", "--recovery-plan", "tier1")
    assert code == 1 and "not allowed with argument" in err


def test_bad_manifest_gets_file_line_col(no_azure, capsys, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(open(QS).read().replace("replicationFrequencySeconds: 300", "replicationFrequencySeconds: 301"))
    code, _, err = run(capsys, "status", str(bad))
    assert code == 1
    assert any(line.startswith(f"{bad}:") and ": error:" in line for line in err.splitlines()), err


def test_status_bad_max_rpo(no_azure, capsys):
    code, _, err = run(capsys, "status", QS, "--max-rpo", "soon")
    assert code == 1 and "--max-rpo" in err


def test_test_failover_needs_a_test_network(no_azure, capsys, tmp_path):
    text = open(QS).read().replace("  testNetwork: corp-test-vnet\n", "")
    m = tmp_path / "q.yaml"
    m.write_text(text)
    code, _, err = run(capsys, "failover", "test", str(m), "--vm", "sql01", "--yes")
    assert code == 1 and "no test network" in err and "target.testNetwork" in err


def test_vault_credentials_refuses_proxy_password(no_azure, capsys, tmp_path):
    code, _, err = run(capsys, "vault-credentials", QS, "--out", str(tmp_path / "kit"), "--proxy", "http://u:pw@p:8080")
    assert code == 1 and "must not contain a password" in err and "pw" not in err.replace("password", "")


def test_out_into_a_missing_directory_is_refused_up_front(no_azure, capsys, tmp_path):
    missing = tmp_path / "nope" / "report.md"
    code, _, err = run(capsys, "drill", QS, "--recovery-plan", "tier1", "--yes", "--out", str(missing))
    assert code == 1 and "does not exist" in err
    code, _, err = run(capsys, "export", "--subscription", "s", "--resource-group", "rg", "--vault", "v",
                       "--out", str(missing))
    assert code == 1 and "does not exist" in err


def test_test_network_must_be_isolated(no_azure, capsys, tmp_path):
    m = tmp_path / "q.yaml"
    m.write_text(open(QS).read().replace("testNetwork: corp-test-vnet", "testNetwork: corp-vnet"))
    code, _, err = run(capsys, "failover", "test", str(m), "--vm", "sql01", "--yes")
    assert code == 1 and "target.testNetwork corp-vnet is also a production network" in err
    code, _, err = run(capsys, "drill", str(m), "--recovery-plan", "tier1", "--yes")
    assert code == 1 and "also a production network" in err

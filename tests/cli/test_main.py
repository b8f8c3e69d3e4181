"""The CLI shell: exit statuses, version, no tracebacks on usage errors."""

import subprocess
import sys

from reconciler import __version__
from reconciler.cli.main import COMMANDS, build_parser, main


def run_asr(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reconciler.cli.main", *args], capture_output=True, text=True, timeout=60)


def test_version_prints_package_version():
    r = run_asr("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"asr {__version__}"


def test_unknown_command_is_usage_error_exit_1_without_traceback():
    r = run_asr("frobnicate")
    assert r.returncode == 1
    assert "invalid choice" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_required_argument_exits_1():
    assert main(["plan"]) == 1


def test_no_command_prints_help_and_exits_1(capsys):
    assert main([]) == 1
    assert "usage: asr" in capsys.readouterr().err


def test_every_contract_command_is_registered():
    # CONTRACT.md section 2
    for name in ["validate", "plan", "apply", "status", "failover", "reprotect", "failback", "drill", "export", "emulator"]:
        assert name in COMMANDS
    parser = build_parser()
    ns = parser.parse_args(["failover", "test", "m.yaml", "--recovery-plan", "tier1"])
    assert ns.kind == "test" and ns.recovery_plan == "tier1"
    ns = parser.parse_args(["apply", "p.json", "--auto-approve", "--parallelism", "4", "--allow-destroy"])
    assert ns.auto_approve and ns.parallelism == 4 and ns.allow_destroy


def test_emulator_estate_errors_are_located_once_without_double_prefix(tmp_path):
    bad = tmp_path / "estate.yaml"
    bad.write_text("vmmServers:\n  - name: x\n    bogus: 1\n")
    r = run_asr("emulator", "serve", "--estate", str(bad))
    assert r.returncode == 1
    assert r.stderr.splitlines()[0].startswith(f"{bad}:3:5: error: vmmServers[0].bogus: unknown key")
    assert "error: " + str(bad) not in r.stderr and "Traceback" not in r.stderr

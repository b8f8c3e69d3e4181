"""The CLI shell: exit statuses, version, no tracebacks on usage errors. `asr --version` runs as a
program (a subprocess); the rest call `main()` in process (what they test is its answer)."""

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


def test_unknown_command_is_usage_error_exit_1_without_traceback(capsys):
    assert main(["frobnicate"]) == 1  # in process: argparse's usage error, mapped to the contract's exit 1
    err = capsys.readouterr().err
    assert "invalid choice" in err
    assert "Traceback" not in err


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


def test_emulator_estate_errors_are_located_once_without_double_prefix(tmp_path, capsys):
    bad = tmp_path / "estate.yaml"
    bad.write_text("vmmServers:\n  - name: x\n    bogus: 1\n")
    assert main(["emulator", "serve", "--estate", str(bad)]) == 1  # in process: refused before it serves
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(f"{bad}:3:5: error: vmmServers[0].bogus: unknown key")
    assert "error: " + str(bad) not in err and "Traceback" not in err

"""The CLI shell: exit statuses, version, no tracebacks on usage errors. `asr --version` runs as a
program (a subprocess); the rest call `main()` in process (what they test is its answer)."""

import subprocess
import sys
from pathlib import Path

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


def test_a_command_imports_only_its_own_module_and_offline_ones_no_azure_sdk():
    # every `asr` process pays for what it imports (docs/performance.md): a command builds
    # only its own options; --version, --help and validate load no Azure SDK
    probe = (
        "import contextlib, io, sys\n"
        "from reconciler.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(sys.argv[1:])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('reconciler.cli.cmd_', 'reconciler.ops', 'azure.')))))\n"
    )
    for args, loaded in ((["--version"], ""), (["--help"], ""),
                         (["validate", "examples/quickstart.yaml"], "reconciler.cli.cmd_validate")):
        r = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=60,
                           cwd=Path(__file__).resolve().parents[2])
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().splitlines()[-1:] == ([loaded] if loaded else []), (args, r.stdout)

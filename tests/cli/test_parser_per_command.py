"""`main` parses a command line that starts with a command with a parser of that one
command (build_parser(only=...)): the other commands' modules are not imported for it,
and what the user sees (parsed values, usage errors, help) is the same."""

from __future__ import annotations

import subprocess
import sys

from reconciler.cli.main import COMMANDS, build_parser, main


def _commands(parser) -> set[str]:
    return {name for a in parser._subparsers._group_actions for name in a.choices}


def test_one_command_tree_parses_as_the_whole_tree():
    assert _commands(build_parser()) == set(COMMANDS)
    assert _commands(build_parser(only="apply")) == {"apply"}
    argv = ["apply", "p.json", "--auto-approve", "--parallelism", "4", "--allow-destroy", "--deadline", "30"]
    whole, one = vars(build_parser().parse_args(argv)), vars(build_parser(only="apply").parse_args(argv))
    assert whole == one and one["parallelism"] == 4


def test_a_command_line_imports_only_its_command(tmp_path):
    code = ("import sys; from reconciler.cli.main import main; rc = main(['validate', 'examples/quickstart.yaml']); "
            "print(rc, sorted(m for m in sys.modules if m.startswith('reconciler.cli.cmd_')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().splitlines()[-1] == "0 ['reconciler.cli.cmd_validate']", r.stdout + r.stderr


def test_usage_errors_and_help_stay_those_of_the_whole_tree(capsys):
    assert main(["plann"]) == 1  # a misspelt command: the whole tree names the choices
    err = capsys.readouterr().err
    assert "invalid choice: 'plann'" in err and "'plan'" in err and "'drill'" in err
    assert main(["plan", "m.yaml", "--bogus"]) == 1
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert main(["plan", "--help"]) == 0
    assert capsys.readouterr().out.startswith("usage: asr plan ")
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)

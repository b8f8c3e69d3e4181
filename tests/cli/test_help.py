"""Every command's --help, walked through the argparse tree `cli/main.py` builds: a
description, examples on lines of their own, help on every option; and the flags
every command spells the same way (--yes / --auto-approve, --no-color)."""

from __future__ import annotations

import argparse
import io

import pytest

from reconciler.cli.main import build_parser, main


def _walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every parser of the tree, commands with sub-commands (emulator) and their sub-commands."""
    yield path, parser
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction):
            for name, sp in a.choices.items():
                yield from _walk(sp, path + (name,))


def _commands() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    return sorted(_walk(build_parser()))


COMMANDS = _commands()


def test_the_walk_finds_every_command_and_nested_ones():
    names = {" ".join(p) for p, _ in COMMANDS}
    assert {"plan", "apply", "validate", "emulator", "emulator serve", "completion", "demo", "drill"} <= names


@pytest.mark.parametrize("path,parser", COMMANDS, ids=[" ".join(p) or "asr" for p, _ in COMMANDS])
def test_help_has_description_examples_on_their_own_lines_and_option_help(path, parser):
    text = parser.format_help()
    assert parser.description and parser.description.strip(), f"asr {' '.join(path)}: no description"
    assert issubclass(parser.formatter_class, argparse.RawDescriptionHelpFormatter)
    example_lines = [ln for ln in (parser.epilog or "").splitlines() if ln.strip().startswith(("asr ", "source ", ". ", "until "))]
    assert any(ln.strip().startswith("asr ") for ln in example_lines), f"asr {' '.join(path)}: no example"
    help_lines = text.splitlines()
    for ln in example_lines:  # each example is a line of the rendered help, not run together
        assert ln in help_lines, f"asr {' '.join(path)}: example {ln!r} not on a line of its own"
    for a in parser._actions:
        if isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
            continue
        assert a.help and a.help.strip(), f"asr {' '.join(path)}: {a.option_strings or a.dest} has no help"


def test_plan_format_has_help():
    plan = dict(COMMANDS)[("plan",)]
    fmt = next(a for a in plan._actions if "--format" in a.option_strings)
    assert "markdown" in fmt.help and "json" in fmt.help


def _flags(parser):
    return {f for a in parser._actions for f in a.option_strings}


def test_yes_and_auto_approve_are_the_same_flag_everywhere():
    with_either = [(p, sp) for p, sp in COMMANDS if _flags(sp) & {"--yes", "--auto-approve"}]
    assert {("apply",), ("drill",), ("failover",), ("reprotect",), ("failback",)} <= {p for p, _ in with_either}
    for path, sp in with_either:
        assert {"--yes", "--auto-approve"} <= _flags(sp), path
        a = next(a for a in sp._actions if "--yes" in a.option_strings)
        assert "--auto-approve" in a.option_strings  # one action: one destination
    parser = build_parser()
    assert parser.parse_args(["apply", "m.yaml", "--yes"]).auto_approve is True
    assert parser.parse_args(["failover", "test", "m.yaml", "--vm", "a", "--auto-approve"]).yes is True
    assert parser.parse_args(["drill", "m.yaml", "--recovery-plan", "x", "--auto-approve"]).yes is True


def test_no_color_is_accepted_by_every_command_that_colours():
    for path in [("validate",), ("plan",), ("apply",), ("status",), ("failover",), ("drill",), ("demo",)]:
        assert "--no-color" in _flags(dict(COMMANDS)[path]), path


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_color_flag_term_dumb_and_no_color_env_turn_colour_off(tmp_path, monkeypatch, capsys):
    from reconciler.cli.common import use_color
    from reconciler.manifest.formatters import use_color as diag_color

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_color(_Tty()) and diag_color(_Tty())
    monkeypatch.setenv("TERM", "dumb")
    assert not use_color(_Tty()) and not diag_color(_Tty())
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color(_Tty()) and not diag_color(_Tty())
    monkeypatch.delenv("NO_COLOR")

    # --no-color reaches the renderers for the run, and only for the run
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: asr/v1\nkind: Nope\n")
    seen = []
    import reconciler.cli.cmd_validate as v

    real = v.run

    def spy(args):
        seen.append(use_color(_Tty()))
        return real(args)

    monkeypatch.setattr(v, "run", spy)
    main(["validate", str(bad), "--no-color"])
    main(["validate", str(bad)])
    assert seen == [False, True]
    import os

    assert "NO_COLOR" not in os.environ

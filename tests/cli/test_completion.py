"""Shell completion scripts are generated from the real argparse tree."""

import contextlib
import io
import shutil
import subprocess

import pytest

from reconciler.cli.main import COMMANDS, main

_SCRIPTS: dict[str, str] = {}


def script(shell: str) -> str:
    """What `asr completion SHELL` prints, run once per shell in process (it reads only the
    argparse tree; the bash, zsh and fish runs below are real shells)."""
    if shell not in _SCRIPTS:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["completion", shell])
        assert code == 0, err.getvalue()
        _SCRIPTS[shell] = out.getvalue()
    return _SCRIPTS[shell]


def bash_complete(words: list[str]) -> list[str]:
    prog = script("bash") + "\nCOMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + f"); COMP_CWORD={len(words) - 1}; _asr_complete; printf '%s\\n' \"${{COMPREPLY[@]}}\"\n"
    r = subprocess.run(["bash", "-c", prog], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return [w for w in r.stdout.splitlines() if w]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash not installed")
def test_bash_completes_commands_flags_and_choices():
    assert bash_complete(["asr", "pla"]) == ["plan"]
    assert set(bash_complete(["asr", "plan", "--format", ""])) == {"text", "json", "markdown"}
    assert "--detailed-exitcode" in bash_complete(["asr", "plan", "--d"])
    assert set(bash_complete(["asr", "failover", "p"])) >= {"planned"}


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_name_every_command(shell):
    text = script(shell)
    for name in COMMANDS:
        assert name in text
    assert "--allow-destroy" in text or "allow-destroy" in text


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_parse_when_the_shell_is_installed(shell, tmp_path):
    exe = shutil.which(shell)
    if exe is None:
        pytest.skip(f"{shell} not installed here")
    f = tmp_path / f"asr.{shell}"
    f.write_text(script(shell))
    r = subprocess.run([exe, "-n", str(f)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr

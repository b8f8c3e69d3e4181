"""`asr plan` command-line behaviour that needs no Azure."""

import io

from reconciler.cli import cmd_plan
from reconciler.cli.main import main as asr


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert cmd_plan._use_color(Tty())
    assert not cmd_plan._use_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not cmd_plan._use_color(Tty())


def test_bad_manifest_is_file_line_col_and_no_azure_call(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("ASR_ARM_ENDPOINT", "https://127.0.0.1:9")  # would be unreachable: must not be reached
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: asr/v1\nkind: SiteRecovery\nsubscription: x\nvault: {name: v}\n")
    rc = asr(["plan", str(bad)])
    err = capsys.readouterr().err
    assert rc == 1
    assert f"{bad}:3:15: error: subscription:" in err
    assert "Traceback" not in err and "unreachable" not in err


def test_missing_file_is_a_usage_error(capsys):
    assert asr(["plan", "/nonexistent/x.yaml"]) == 1
    assert "no such file" in capsys.readouterr().err

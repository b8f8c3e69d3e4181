"""`Settings`: flags, then environment (new names, then deprecated aliases), then
defaults; an invalid value is a clear error naming the variable, exit 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.cli.main import main as asr
from reconciler.settings import SETTINGS, Settings, SettingsError

REPO = Path(__file__).resolve().parents[1]


def test_flags_then_environment_then_defaults():
    s = Settings.load(env={"ASR_DEADLINE": "2m", "ASR_JOB_POLL_MIN": "0.5"}, flags={"deadline": "30"})
    assert s.deadline == 30.0 and s.source_of("deadline") == "--deadline"
    assert s.job_poll_min == 0.5 and s.source_of("job_poll_min") == "ASR_JOB_POLL_MIN"
    assert s.read_timeout == Settings().read_timeout and s.source_of("read_timeout") == "ASR_READ_TIMEOUT"
    assert Settings.load(env={"ASR_DEADLINE": "1h"}).deadline == 3600.0


def test_retry_backoff_reaches_the_sdk_retry_settings():
    from reconciler.azure.clients import AzureSettings

    assert AzureSettings.from_settings(Settings()).retry_backoff_factor == 0.5  # azure-core's 1 s, 2 s, 4 s...
    s = Settings.load(env={"ASR_RETRY_BACKOFF": "0.05"})
    assert s.retry_backoff == 0.05 and AzureSettings.from_settings(s).retry_backoff_factor == 0.05


def test_deprecated_ops_names_still_work_and_new_names_win():
    s = Settings.load(env={"ASR_JOB_POLL_MIN_SECONDS": "0.2", "ASR_JOB_POLL_SECONDS": "0.5",
                           "ASR_JOB_TIMEOUT_SECONDS": "120"})
    assert (s.job_poll_min, s.job_poll_max, s.deadline) == (0.2, 0.5, 120.0)
    s = Settings.load(env={"ASR_JOB_POLL_SECONDS": "0.5", "ASR_JOB_POLL_MAX": "3"})
    assert s.job_poll_max == 3.0


@pytest.mark.parametrize("value", ["abc", "", "-1", "0", "1x"])
def test_invalid_values_name_the_variable(value):
    if value == "":
        assert Settings.load(env={"ASR_JOB_POLL_MAX": ""}).job_poll_max == 15.0  # empty = unset
        return
    with pytest.raises(SettingsError, match=re.escape(f'ASR_JOB_POLL_MAX: "{value}"')):
        Settings.load(env={"ASR_JOB_POLL_MAX": value})


def test_invalid_value_on_the_command_line_is_exit_1_without_traceback(monkeypatch, capsys):
    monkeypatch.setenv("ASR_JOB_POLL_MAX", "abc")
    rc = asr(["plan", str(REPO / "examples" / "quickstart.yaml")])
    err = capsys.readouterr().err
    assert rc == 1
    assert 'error: ASR_JOB_POLL_MAX: "abc" is not a number of seconds' in err
    assert "Traceback" not in err
    monkeypatch.delenv("ASR_JOB_POLL_MAX")
    assert asr(["apply", str(REPO / "examples" / "quickstart.yaml"), "--deadline", "soon"]) == 1
    assert 'error: --deadline: "soon" is not a number of seconds' in capsys.readouterr().err


def test_docs_list_every_setting():
    doc = (REPO / "docs" / "settings.md").read_text()
    for s in SETTINGS:
        assert f"`{s.env}`" in doc, s.env
        for alias in s.aliases:
            assert f"`{alias}`" in doc, alias
        if s.flag:
            assert f"`{s.flag}`" in doc, s.flag

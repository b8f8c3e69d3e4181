"""The bad-manifest corpus: each file in bad/ must produce exactly its `# expect:` lines
(line, column, severity, path and message), exit status 1 and no traceback; each
file in warn/ only its warnings and exit status 0.

The files are made by tools/make_corpus.py from good/base.yaml and reviewed by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.cli.main import main

HERE = Path(__file__).parent
BAD = sorted((HERE / "bad").glob("*.yaml"))
WARN = sorted((HERE / "warn").glob("*.yaml"))


def expected(path: Path) -> list[str]:
    prefix = "# expect: "
    return [line[len(prefix):] for line in path.read_text().splitlines() if line.startswith(prefix)]


def printed(stderr: str, path: Path) -> list[str]:
    lines = []
    for line in stderr.splitlines():
        assert line.startswith(f"{path}:"), line
        lines.append(line[len(f"{path}:"):])
    return lines


@pytest.fixture(autouse=True)
def _no_color(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("ASR_TEST_UNSET_SUBSCRIPTION", raising=False)


def test_corpus_is_large_enough():
    assert len(BAD) >= 40
    assert all(expected(p) for p in BAD), [p.name for p in BAD if not expected(p)]
    rules = {line.split(": ")[1] for p in BAD for line in expected(p)}
    assert rules == {"error", "warning"}


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_bad_manifest(path: Path, capsys):
    rc = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out == ""
    assert "Traceback" not in err
    assert printed(err, path) == expected(path)


@pytest.mark.parametrize("path", WARN, ids=[p.stem for p in WARN])
def test_warning_manifest(path: Path, capsys):
    rc = main(["validate", str(path)])
    out, err = capsys.readouterr()
    assert rc == 0
    n = len(expected(path))
    assert n >= 1
    assert out == f"{path}: valid ({n} warning{'s' if n != 1 else ''})\n"
    assert printed(err, path) == expected(path)
    assert all(": warning: " in line for line in expected(path))


def test_whole_corpus_in_one_real_process():
    """The installed entry point, as a user runs it: every file at once, all errors, no traceback."""
    env = {k: v for k, v in __import__("os").environ.items() if k != "ASR_TEST_UNSET_SUBSCRIPTION"}
    env["NO_COLOR"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "reconciler.cli.main", "validate", *map(str, BAD)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""
    want = [f"{p}:{line}" for p in BAD for line in expected(p)]
    assert proc.stderr.splitlines() == want


CONTRACT = __import__("re").compile(r"^(?P<line>\d+):(?P<col>\d+): (error|warning): (?P<path>[^\s:]+): (?P<msg>\S.*)$")


def test_every_expected_line_has_the_contract_shape():
    """FILE:LINE:COL: error: <dotted.path>: <message>, for every kind of error."""
    for p in BAD + WARN:
        for line in expected(p):
            assert CONTRACT.match(line), (p.name, line)


def _corpus_copy(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "manifest"
    for part in ("good", "bad", "warn", "tools"):
        shutil.copytree(HERE / part, root / part)
    return root


def _run_tool(root: Path) -> subprocess.CompletedProcess:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("ASR_TEST_")}
    env["PYTHONPATH"] = str(HERE.parent.parent)
    return subprocess.run([sys.executable, str(root / "tools" / "make_corpus.py")], capture_output=True, text=True,
                          env=env, timeout=120)


def _files(root: Path) -> dict[str, str]:
    return {f"{p.parent.name}/{p.name}": p.read_text() for part in ("bad", "warn") for p in sorted((root / part).glob("*"))}


def test_the_corpus_tool_changes_nothing(tmp_path):
    """tools/make_corpus.py makes every committed corpus file as it is (hand-written cases are cases of it too):
    running it leaves git clean. A file no case makes is kept; one under a number the tool uses is refused."""
    root = _corpus_copy(tmp_path)
    (root / "bad" / "99-by-hand.yaml").write_text("# written by hand\n")
    r = _run_tool(root)
    assert r.returncode == 0, r.stderr
    after = _files(root)
    assert after.pop("bad/99-by-hand.yaml") == "# written by hand\n"
    assert after == _files(HERE)
    (root / "bad" / "05-by-hand.yaml").write_text("# written by hand\n")
    r = _run_tool(root)
    assert r.returncode != 0 and "bad/05-by-hand.yaml" in r.stderr and "renumber" in r.stderr


def test_no_two_corpus_files_share_a_number():
    for folder in ("bad", "warn"):
        numbers = [p.name.split("-", 1)[0] for p in sorted((HERE / folder).glob("*.yaml"))]
        assert len(numbers) == len(set(numbers)), [n for n in numbers if numbers.count(n) > 1]

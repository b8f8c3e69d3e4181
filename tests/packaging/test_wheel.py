"""The distribution: builds the wheel and installs it into a new virtualenv, then runs
`asr --version`, `asr validate` and `asr demo` from there. Offline: the wheel is built without
build isolation (the dev venv has setuptools >= 77) and the new venv borrows the
already-installed dependencies through a .pth file instead of downloading them; the
test checks the wheel's declared runtime requirements are all satisfied there, so a
missing declaration would still fail. Marked `packaging` (deselect: -m 'not packaging')."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.packaging


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180, **kw)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    env = {**os.environ, "PIP_NO_INDEX": "1"}
    # a copy of the tree's sources keeps build/ and *.egg-info out of the worktree
    r = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out),
              str(REPO)], env={**env, "TMPDIR": str(build)}, cwd=str(build))
    assert r.returncode == 0, r.stdout + r.stderr
    text = r.stdout + r.stderr
    assert "License classifiers are deprecated" not in text and "project.license` as a TOML table" not in text
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_metadata_name_licence_and_extras(wheel):
    assert wheel.name.startswith("asr_iac-")
    with zipfile.ZipFile(wheel) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = email.message_from_string(z.read(meta_name).decode())
        names = z.namelist()
    assert meta["Name"] == "asr-iac"
    assert meta["License-Expression"] == "MIT"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    reqs = meta.get_all("Requires-Dist")
    runtime = [r for r in reqs if "extra ==" not in r]
    for server_dep in ("starlette", "uvicorn"):
        assert not any(r.startswith(server_dep) for r in runtime), runtime
        assert any(r.startswith(server_dep) and 'extra == "emulator"' in r for r in reqs)
    assert not any(r.startswith("pytest") for r in runtime)
    assert "emulator" in meta.get_all("Provides-Extra") and "test" in meta.get_all("Provides-Extra")


def test_wheel_installs_into_a_new_venv_and_runs(wheel, tmp_path):
    venv = tmp_path / "venv"
    r = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert r.returncode == 0, r.stderr
    py = venv / "bin" / "python"
    new_site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    # the dependencies already installed here, without this project itself
    dev_site = sysconfig.get_paths()["purelib"]
    (new_site / "zz_borrowed_deps.pth").write_text(dev_site + "\n")
    r = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", str(wheel)])
    assert r.returncode == 0, r.stdout + r.stderr
    check = (
        "import importlib.metadata as m, re, reconciler, sys\n"
        "from packaging.requirements import Requirement\n"
        "assert reconciler.__file__.startswith(sys.prefix), reconciler.__file__\n"
        "bad = []\n"
        "for r in m.requires('asr-iac'):\n"
        "    q = Requirement(r)\n"
        "    if q.marker and not q.marker.evaluate({'extra': ''}): continue\n"
        "    try: v = m.version(q.name)\n"
        "    except m.PackageNotFoundError: bad.append(q.name); continue\n"
        "    if not q.specifier.contains(v, prereleases=True): bad.append(f'{q.name} {v}')\n"
        "print('unsatisfied:', bad); sys.exit(1 if bad else 0)\n"
    )
    r = _run([str(py), "-c", check], cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    asr = venv / "bin" / "asr"
    r = _run([str(asr), "--version"], cwd=str(tmp_path))
    assert r.returncode == 0 and r.stdout.startswith("asr "), r.stdout + r.stderr
    r = _run([str(asr), "validate", str(REPO / "examples" / "quickstart.yaml")], cwd=str(tmp_path))
    assert r.returncode == 0 and "valid" in r.stdout, r.stdout + r.stderr
    # the demo from the installed wheel: its embedded emulator (package data) plans and applies
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASR_", "IDENTITY_", "AZURE_"))}
    r = _run([str(asr), "demo", str(REPO / "examples" / "quickstart.yaml")], cwd=str(tmp_path), env=env)
    assert r.returncode == 0 and "Demo complete" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]

"""The registration kit holds a private key: `asr vault-credentials` never writes through a
planted symbolic link, never reuses another user's file, refuses folders others can write,
and gives the files their modes whatever the umask (issue 10, part 4)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from reconciler.cli.main import main
from reconciler.ops.vaultcreds import SCRIPT_MODE, SECRET_MODE, KitDir
from tests.ops.conftest import EXAMPLES, ROOT, example_manifest
from tests.ops.helpers import make_vault

QS = os.path.join(EXAMPLES, "quickstart.yaml")
OTHER_UID = 4242


def _mode(p) -> int:
    return stat.S_IMODE(os.lstat(p).st_mode)


def _kit(out, capsys) -> tuple[int, str, str]:
    code = main(["vault-credentials", QS, "--out", str(out)])
    o, e = capsys.readouterr()
    return code, o, e


def test_modes_under_umask_0_and_rerun_over_our_own_kit(emulator, tmp_path, capsys):
    make_vault(example_manifest("quickstart.yaml"), emulator)
    out = tmp_path / "kit"
    old = os.umask(0)
    try:
        code, o, e = _kit(out, capsys)
        assert code == 0, e
        assert _mode(out) == 0o700
        names = sorted(os.listdir(out))
        creds = [n for n in names if n.endswith(".VaultCredentials")]
        assert len(creds) == 1 and _mode(out / creds[0]) == 0o600
        assert _mode(out / "register-vmm-vmm01.ps1") == 0o700
        assert _mode(out / "README.txt") == 0o600
        # our own earlier kit: replaced, same modes, no temporary file left behind
        os.chmod(out / "register-vmm-vmm01.ps1", 0o644)
        (out / "register-vmm-vmm01.ps1").write_text("old")
        code, o, e = _kit(out, capsys)
        assert code == 0, e
        assert "old" != (out / "register-vmm-vmm01.ps1").read_text()
        assert _mode(out / "register-vmm-vmm01.ps1") == 0o700
        assert not [n for n in os.listdir(out) if n.startswith(".")]
        assert all(_mode(out / n) == 0o600 for n in os.listdir(out) if n.endswith(".VaultCredentials"))
    finally:
        os.umask(old)


def test_planted_symlink_is_refused_and_its_target_untouched(emulator, tmp_path, capsys):
    make_vault(example_manifest("quickstart.yaml"), emulator)
    out = tmp_path / "kit"
    out.mkdir(mode=0o700)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    os.symlink(victim, out / "register-vmm-vmm01.ps1")
    emulator.reset_stats()
    code, o, e = _kit(out, capsys)
    assert code == 1 and "Traceback" not in e
    assert "register-vmm-vmm01.ps1 is a symbolic link (to " in e and "refusing to write the kit through it" in e
    assert victim.read_text() == "precious"
    assert os.path.islink(out / "register-vmm-vmm01.ps1")
    assert not [n for n in os.listdir(out) if n.endswith(".VaultCredentials")]  # no key written anywhere
    assert emulator.stats()["writes"] == 0  # refused before the certificate upload


def test_symlink_at_the_key_name_is_never_written_through(tmp_path):
    d = tmp_path / "kit"
    d.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_text("x")
    os.symlink(victim, d / "v_1.VaultCredentials")
    with KitDir(str(d)) as kd:
        with pytest.raises(Exception) as ei:
            kd.write("v_1.VaultCredentials", b"PRIVATE KEY", SECRET_MODE)
    assert "symbolic link" in str(ei.value)
    assert victim.read_text() == "x"
    assert not [n for n in os.listdir(d) if n.endswith(".tmp")]


def test_file_of_another_user_is_refused(emulator, tmp_path, capsys):
    if os.geteuid() != 0:
        pytest.skip("needs root to chown a file to another user")
    make_vault(example_manifest("quickstart.yaml"), emulator)
    out = tmp_path / "kit"
    out.mkdir(mode=0o700)
    planted = out / "README.txt"
    planted.write_text("theirs")
    os.chmod(planted, 0o666)
    os.chown(planted, OTHER_UID, OTHER_UID)
    code, o, e = _kit(out, capsys)
    assert code == 1
    assert f"README.txt belongs to uid {OTHER_UID}, not to you; refusing to replace it" in e
    assert planted.read_text() == "theirs" and os.stat(planted).st_uid == OTHER_UID
    assert not [n for n in os.listdir(out) if n.endswith(".VaultCredentials")]


def test_folder_of_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to chown a folder to another user")
    d = tmp_path / "kit"
    d.mkdir(mode=0o700)
    os.chown(d, OTHER_UID, OTHER_UID)
    with pytest.raises(Exception) as ei:
        KitDir(str(d))
    assert f"belongs to uid {OTHER_UID}, not to you" in str(ei.value)


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770])
def test_folder_others_can_write_is_refused(emulator, tmp_path, capsys, mode):
    out = tmp_path / "shared"
    out.mkdir()
    os.chmod(out, mode)
    code, o, e = _kit(out, capsys)
    assert code == 1 and "Traceback" not in e
    assert f"is writable by others (mode {mode:04o})" in e
    assert "hint: use a folder only you can write" in e
    assert os.listdir(out) == []


def test_out_folder_that_is_a_symlink_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    os.symlink(real, tmp_path / "link")
    with pytest.raises(Exception) as ei:
        KitDir(str(tmp_path / "link"))
    assert "is a symbolic link" in str(ei.value)


def test_new_folder_under_a_sticky_tmp_is_fine(tmp_path):
    shared = tmp_path / "tmp"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    with KitDir(str(shared / "mine")) as kd:
        p = kd.write("register-vmm-x.ps1", b"x", SCRIPT_MODE)
    assert _mode(shared / "mine") == 0o700 and _mode(p) == 0o700


def test_default_location_is_outside_the_working_tree(emulator, tmp_path, capsys, monkeypatch):
    make_vault(example_manifest("quickstart.yaml"), emulator)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    code = main(["vault-credentials", QS])
    o, e = capsys.readouterr()
    assert code == 0, e
    kit = tmp_path / "home" / ".asr" / "kit" / "contoso-asr-vault"
    assert f"written to {kit}" in o
    assert [n for n in os.listdir(kit) if n.endswith(".VaultCredentials")]
    assert _mode(tmp_path / "home" / ".asr") == 0o700


@pytest.mark.skipif(shutil.which("git") is None, reason="git not installed")
@pytest.mark.parametrize("where", [".", "examples"])
def test_gitignore_covers_kit_file_names(where):
    names = ["contoso-asr-vault_202612060506.VaultCredentials", "contoso-asr-vault_branch-site_202612060506.VaultCredentials",
             "register-vmm-vmm01.ps1", "register-hyperv-branch-site.ps1", "kit/README.txt"]
    for n in names:
        path = os.path.join(where, n)
        r = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, capture_output=True)
        assert r.returncode == 0, f"{path} is not ignored by git"

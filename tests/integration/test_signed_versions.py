"""Signed versions and trust by signer: A signs versions with an SSH key (Git's own
signing setup), pushes; B clones. A pickled user class from A's signed version is refused
until B trusts A's key (`trust_signer`); then it loads. An unsigned version, or one signed
by another key, stays refused. `mvc log` says who signed."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

import jupyter_mvc
from jupyter_mvc import cli
from jupyter_mvc.errors import UntrustedDataError
from tests.support.git import git

pytestmark = pytest.mark.skipif(
    shutil.which("ssh-keygen") is None, reason="needs ssh-keygen (apt install openssh-client)"
)

MODEL = """
class TeamModel:
    def __init__(self, w):
        self.w = w
"""


def _key(folder, name):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(folder / name)], check=True)
    return folder / f"{name}.pub"


@pytest.fixture
def team(tmp_path, monkeypatch):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "teammodel.py").write_text(MODEL)
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    sys.modules.pop("teammodel", None)
    alice_key = _key(tmp_path, "alice")
    a = tmp_path / "alice-project"
    a.mkdir()
    jupyter_mvc.open_repo(a).close()
    for k, v in (("gpg.format", "ssh"), ("user.signingkey", str(alice_key)), ("commit.gpgsign", "true")):
        git(a, "config", k, v)
    remote = tmp_path / "remote"
    remote.mkdir()
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=a)
    return tmp_path, a, alice_key, remote


def test_a_trusted_signer_loads_a_user_class_and_an_unsigned_version_is_refused(team):
    import teammodel

    tmp_path, a, alice_key, remote = team
    signed = jupyter_mvc.commit({"model": teammodel.TeamModel([1.0, 2.0])}, "signed by alice", path=a).id
    assert "gpgsig" in git(a, "cat-file", "-p", signed)
    git(a, "config", "commit.gpgsign", "false")
    unsigned = jupyter_mvc.commit({"model": teammodel.TeamModel([3.0])}, "not signed", path=a).id
    jupyter_mvc.push(path=a)

    b = tmp_path / "bob-project"
    jupyter_mvc.clone(remote.as_uri(), b)
    with pytest.raises(UntrustedDataError, match="teammodel.TeamModel"):
        jupyter_mvc.load(signed, "model", path=b)
    key = jupyter_mvc.trust_signer(alice_key, path=b)
    assert key.startswith("ssh-ed25519 ") and "alice" not in key  # the comment is not kept
    model = jupyter_mvc.load(signed, "model", path=b)
    assert type(model).__name__ == "TeamModel" and model.w == [1.0, 2.0]
    with pytest.raises(UntrustedDataError):
        jupyter_mvc.load(unsigned, "model", path=b)  # trusting a signer trusts only what it signed

    marks = jupyter_mvc.signatures([signed, unsigned], path=b)
    assert set(marks) == {signed} and marks[signed][0] == "trusted" and marks[signed][1].startswith("SHA256:")


def test_a_version_signed_by_another_key_is_refused(team, capsys):
    import teammodel

    tmp_path, a, _alice_key, remote = team
    mallory_key = _key(tmp_path, "mallory")
    git(a, "config", "user.signingkey", str(mallory_key))
    forged = jupyter_mvc.commit({"model": teammodel.TeamModel([9.0])}, "signed by someone else", path=a).id
    jupyter_mvc.push(path=a)
    b = tmp_path / "bob-project"
    jupyter_mvc.clone(remote.as_uri(), b)
    jupyter_mvc.trust_signer(team[2], path=b)  # bob trusts alice, not mallory
    with pytest.raises(UntrustedDataError):
        jupyter_mvc.load(forged, "model", path=b)
    assert cli.main(["-C", str(b), "log"]) == 0
    assert "[signed: unknown key, SHA256:" in capsys.readouterr().out


def test_trusting_something_that_is_not_a_key_says_so(tmp_path):
    jupyter_mvc.open_repo(tmp_path).close()
    with pytest.raises(ValueError, match="not an SSH public key"):
        jupyter_mvc.trust_signer("hello world", path=tmp_path)

"""A remote is other people's bytes: a flipped byte in a pack, a damaged index, a ref to
a version that is not there, a ref name Git would refuse, a bundle carrying refs of its
own. Each is refused with an error that names it; nothing crashes, nothing damaged is
stored, and no ref outside refs/mvc/ moves."""

from __future__ import annotations

import json

import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc.errors import MvcError, RemoteError
from tests.support.git import git


@pytest.fixture
def shared(tmp_path):
    a = tmp_path / "alice"
    a.mkdir()
    jupyter_mvc.commit({"w": np.arange(50_000, dtype=np.float64)}, "w", path=a)
    remote = tmp_path / "remote"
    remote.mkdir()
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=a)
    jupyter_mvc.push(path=a)
    return tmp_path, a, remote


def test_a_flipped_byte_in_a_pack_is_refused_and_never_stored(shared):
    tmp_path, _a, remote = shared
    (pack,) = (remote / "packs").glob("*.pack")
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    b = tmp_path / "bob"
    jupyter_mvc.clone(remote.as_uri(), b)
    with pytest.raises(MvcError, match="corrupt"):
        jupyter_mvc.load("HEAD", "w", path=b)
    objects = b / ".git" / "mvc" / "objects"
    stored = [p for p in objects.rglob("*") if p.is_file()] if objects.exists() else []
    index = json.loads(next((remote / "packs").glob("*.idx")).read_text())
    bad = {oid for oid, off, n in index["objects"] if off <= len(data) // 2 < off + n}
    assert not any(p.parent.name + p.name in bad for p in stored)


def test_a_damaged_index_is_refused_by_name(shared):
    tmp_path, _a, remote = shared
    (idx,) = (remote / "packs").glob("*.idx")
    idx.chmod(0o644)
    idx.write_text('{"format": "jupyter_mvc pack index 1", "pack": "nope", "objects": []}')
    with pytest.raises(RemoteError, match=r"pack index packs/.*\.idx is damaged"):
        jupyter_mvc.clone(remote.as_uri(), tmp_path / "bob")
    assert not (tmp_path / "bob").exists(), "a failed clone leaves nothing behind"


def test_a_ref_to_a_missing_version_and_a_bad_ref_name(shared):
    tmp_path, _a, remote = shared
    (remote / "refs" / "heads" / "ghost").write_text("0123456789abcdef0123456789abcdef01234567\n")
    with pytest.raises(RemoteError, match="heads/ghost names 01234567, a version no history bundle there holds"):
        jupyter_mvc.clone(remote.as_uri(), tmp_path / "bob")
    (remote / "refs" / "heads" / "ghost").unlink()
    (remote / "refs" / "heads" / "bad..name").write_text("0123456789abcdef0123456789abcdef01234567\n")
    report = jupyter_mvc.clone(remote.as_uri(), tmp_path / "carol")
    assert report.branches == ("main",)  # the name Git refuses never becomes a ref


def test_a_bundle_with_refs_of_its_own_moves_none_of_the_users_refs(shared):
    tmp_path, _a, remote = shared
    evil = tmp_path / "evil"
    evil.mkdir()
    git(evil, "init", "-q", "-b", "main")
    (evil / "f").write_text("x")
    git(evil, "add", "f")
    git(evil, "commit", "-q", "-m", "evil")
    git(evil, "update-ref", "refs/mvc/heads/main", "HEAD")
    git(evil, "bundle", "create", str(tmp_path / "evil.bundle"), "refs/heads/main", "refs/mvc/heads/main")
    import blake3

    data = (tmp_path / "evil.bundle").read_bytes()
    (remote / "history" / f"{blake3.blake3(data).hexdigest()}.bundle").write_bytes(data)
    b = tmp_path / "bob"
    b.mkdir()
    git(b, "init", "-q", "-b", "main")
    (b / "code.py").write_text("print(1)")
    git(b, "add", "code.py")
    git(b, "commit", "-q", "-m", "my code")
    before = git(b, "for-each-ref")
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=b)
    jupyter_mvc.fetch(path=b)
    after = git(b, "for-each-ref")
    assert [line for line in after.splitlines() if "refs/mvc/" not in line] == before.splitlines()
    assert "evil" not in git(b, "log", "--all", "--format=%s", "--", ".").replace("my code", "")
    assert jupyter_mvc.resolve("origin/main", path=b) == jupyter_mvc.resolve("HEAD", path=shared[1])

"""Resource faults: a full disk, a read-only store, a stale lock, a user's rebase."""

import os
import subprocess
import uuid

import numpy as np
import pytest

from jupyter_mvc.errors import RefLockedError, StorageError
from jupyter_mvc.repo import Repo
from jupyter_mvc.repo.maintenance import fsck, gc
from tests.support.git import git


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MiB tmpfs with a Git repo on it (needs root and mount rights)."""
    mnt = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {r.stderr.strip()}")
    try:
        git(mnt, "init", "-q")
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _refs(repo):
    return repo.git.refs("refs/mvc/"), repo.git.symbolic_ref("refs/mvc/HEAD")


def test_disk_full_gives_clear_error_and_keeps_history_whole(small_disk):
    repo = Repo.open(small_disk, create=False)
    keep = np.arange(1000.0)
    repo.commit({"keep": keep}, "small")
    before = _refs(repo)
    with pytest.raises(StorageError) as err:
        repo.commit({"big": np.random.default_rng(0).random(1 << 20)}, "too big")  # 8 MiB
    assert "No space left on device" in str(err.value) and "Nothing was committed" in str(err.value)
    assert _refs(repo) == before
    assert not any(repo.store.tmp_dir.glob("*"))  # the partial chunk was removed
    assert fsck(repo).ok and repo.load("HEAD", "keep").tobytes() == keep.tobytes()
    gc(repo, grace_seconds=0)  # whole chunks of the failed commit are unreachable: gc frees them
    repo.commit({"keep": keep, "more": 1}, "fits again")
    assert [v.subject for v in repo.log()] == ["fits again", "small"]


def test_read_only_store_gives_clear_error(small_disk):
    repo = Repo.open(small_disk, create=False)
    repo.commit({"x": np.arange(10)}, "one")
    before = _refs(repo)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        with pytest.raises(StorageError, match="Read-only file system"):
            repo.commit({"x": np.arange(20)}, "two")
        assert _refs(repo) == before
        assert repo.load("HEAD", "x").tolist() == list(range(10))  # reading still works
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)


def test_lock_left_by_a_dead_process(repo):
    repo.commit({"x": 1}, "one")
    lock = repo.git.git_dir / "refs" / "mvc" / "heads" / "main.lock"
    lock.write_text("")
    os.utime(lock, (0, 0))
    before = _refs(repo)
    with pytest.raises(RefLockedError) as err:
        repo.commit({"x": 2}, "two")
    assert str(lock) in str(err.value) and "delete that file" in str(err.value)
    assert _refs(repo) == before
    lock.unlink()
    repo.commit({"x": 2}, "two")
    assert [v.subject for v in repo.log()] == ["two", "one"]


def test_commit_during_a_users_rebase_leaves_the_rebase_alone(repo, git_repo):
    f = git_repo / "f.txt"
    f.write_text("base\n")
    git(git_repo, "add", "f.txt")
    git(git_repo, "commit", "-qm", "base")
    git(git_repo, "checkout", "-qb", "topic")
    f.write_text("topic\n")
    git(git_repo, "commit", "-qam", "topic")
    git(git_repo, "checkout", "-q", "master")
    f.write_text("master\n")
    git(git_repo, "commit", "-qam", "master")
    git(git_repo, "checkout", "-q", "topic")
    r = subprocess.run(["git", "rebase", "master"], cwd=git_repo, capture_output=True, text=True)
    assert r.returncode != 0 and (git_repo / ".git" / "rebase-merge").exists()  # stopped on a conflict
    state = (git(git_repo, "status", "--porcelain"), f.read_text(), (git_repo / ".git" / "index").read_bytes())
    repo.commit({"w": np.ones(3)}, "mid-rebase")
    repo.checkout("HEAD")
    assert (git(git_repo, "status", "--porcelain"), f.read_text(), (git_repo / ".git" / "index").read_bytes()) == state
    assert (git_repo / ".git" / "rebase-merge").exists()
    git(git_repo, "rebase", "--abort")
    assert repo.log()[0].subject == "mid-rebase"

"""SIGKILL in the middle of commits, at every step boundary and at random moments.

A forked child commits with a kill point armed at its k-th I/O step (chunk write, fsync,
rename, git object write, ref read or move); the parent then checks that every ref points
at a complete version, every earlier version restores bit-identical, fsck is clean, and
that leftover temp files go with the next gc.
"""

import os
import random
import signal
import time

import blake3
import numpy as np
import pytest

from jupyter_mvc import gitrepo as gitrepo_module
from jupyter_mvc.repo import Repo
from jupyter_mvc.repo.maintenance import fsck, gc

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")]

SMALL_CHUNKS = 64 << 10


def _payload(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    return {"w": rng.random(SMALL_CHUNKS * 3 // 8 + 100), "meta": {"seed": seed, "tags": ["a", "b"]}}


def _fingerprint(objects: dict) -> str:
    return blake3.blake3(objects["w"].tobytes() + repr(objects["meta"]).encode()).hexdigest()


def _arm_kill_points(k: int) -> list[int]:
    """SIGKILL this process at its k-th I/O step (k=0: never); returns the step counter."""
    count = [0]

    def step():
        count[0] += 1
        if count[0] == k:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(owner, name):
        original = getattr(owner, name)

        def wrapped(*args, **kwargs):
            step()
            result = original(*args, **kwargs)
            step()
            return result

        setattr(owner, name, wrapped)

    for name in ("write", "fsync", "replace"):  # chunk writes (the store calls os.*)
        wrap(os, name)
    for name in ("write_blob", "write_tree", "write_commit", "_run"):  # git objects and refs
        wrap(gitrepo_module.GitRepo, name)
    return count


def _child_commit(root, seed: int, k: int, detach: bool) -> int:
    """Fork a child that commits v<seed> with kill point k; returns the steps it took."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 1
        try:
            os.close(read_end)
            repo = Repo.open(root, create=False)
            repo.store.chunk_size = SMALL_CHUNKS
            if detach:
                repo.checkout("HEAD~1")
            count = _arm_kill_points(k)
            repo.commit(_payload(seed), f"v{seed}")
            os.write(write_end, str(count[0]).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            with os.fdopen(read_end, "rb") as f:
                out = f.read()
            return int(out) if out else -1
        time.sleep(0.005)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail(f"child committing v{seed} with kill point {k} hung")


def _check_consistent(repo: Repo, expected: dict[str, str]) -> None:
    """Every ref -> complete version; every version we know of restores bit-identical."""
    for ref, sha in repo.git.refs("refs/mvc/").items():
        manifest = repo.manifest(sha)
        for entry in manifest.variables.values():
            for oid in entry.object_ids():
                assert repo.store.verify(oid) is None, f"{ref} -> {sha[:8]}: {oid[:12]} damaged"
    for sha in repo.versions():
        objects = repo.checkout(sha, move_head=False)
        assert not objects.failed, objects.failed
        subject = repo.info(sha).subject
        if subject in expected:
            assert _fingerprint(objects.objects) == expected[subject], f"{subject} differs"
    report = fsck(repo)
    assert report.ok, report.problems


def test_kill_at_every_step_of_a_commit(repo):
    repo.store.chunk_size = SMALL_CHUNKS
    expected = {}
    for seed in (0, 1):
        repo.commit(_payload(seed), f"v{seed}")
        expected[f"v{seed}"] = _fingerprint(_payload(seed))
    seed = 100
    kill_points = 0
    for detach in (False, True, False):
        seed += 1
        steps = _child_commit(repo.root, seed, 0, detach)  # a clean run counts the steps
        expected[f"v{seed}"] = _fingerprint(_payload(seed))
        assert steps > 20
        if detach:
            repo.checkout("main")
        for k in range(1, steps + 1):
            seed += 1
            before = (repo.git.refs("refs/mvc/"), repo.git.symbolic_ref("refs/mvc/HEAD"))
            _child_commit(repo.root, seed, k, detach)
            kill_points += 1
            expected[f"v{seed}"] = _fingerprint(_payload(seed))
            landed = f"v{seed}" in {v.subject for v in repo.log(all=True)}
            if not landed and not detach:
                assert (repo.git.refs("refs/mvc/"), repo.git.symbolic_ref("refs/mvc/HEAD")) == before
            _check_consistent(repo, expected)
            if detach:
                repo.checkout("main")
    assert kill_points >= 60
    leftovers = list(repo.store.tmp_dir.glob("*"))
    report = gc(repo, grace_seconds=0)
    assert report.temp_files_removed == len(leftovers)
    assert not any(repo.store.tmp_dir.glob("*"))
    _check_consistent(repo, expected)


def test_kill_at_random_moments(repo):
    repo.store.chunk_size = SMALL_CHUNKS
    rng = random.Random(7)
    expected = {}
    repo.commit(_payload(0), "v0")
    expected["v0"] = _fingerprint(_payload(0))
    for i in range(1, 61):
        pid = os.fork()
        if pid == 0:
            try:
                r = Repo.open(repo.root, create=False)
                r.store.chunk_size = SMALL_CHUNKS
                for j in range(1000):
                    r.commit(_payload(i * 1000 + j), f"v{i * 1000 + j}")
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0, 0.08))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        for v in repo.log():
            if v.subject not in expected:
                seed = int(v.subject[1:])
                expected[v.subject] = _fingerprint(_payload(seed))
    _check_consistent(repo, expected)
    gc(repo, grace_seconds=0)
    assert not any(repo.store.tmp_dir.glob("*"))
    _check_consistent(repo, expected)

"""Scattered edits are stored as XOR-against-parent deltas: real repositories, real commits."""

import os

import numpy as np
import pytest

from jupyter_mvc.errors import CorruptObjectError
from jupyter_mvc.repo.maintenance import fsck, gc
from jupyter_mvc.store import MAX_DELTA_DEPTH
from tests.support.git import git


def _disk(repo) -> int:
    return sum(repo.store.stored_size(o) for o in repo.store.iter_oids())


def _deltas(repo) -> list[str]:
    """Every id with a delta file (the tip's have a full copy beside it)."""
    return [o for o in repo.store.iter_oids() if repo.store.has_delta(o)]


def _scatter(a: np.ndarray, n: int, seed: int) -> None:
    idx = np.random.default_rng(seed).choice(a.size, n, replace=False)
    a[idx] += 0.5


def test_scattered_edit_stores_a_small_delta(repo):
    a = np.random.default_rng(0).random(2_500_000)  # 20 MB: 10 chunks of 2 MiB
    repo.commit({"a": a}, "first")
    before = _disk(repo)
    assert _deltas(repo) == []  # nothing to be a delta of
    _scatter(a, 1000, 1)
    info = repo.commit({"a": a}, "scattered")
    v2 = info.id
    # The first edit after a full version: deltas, plus the tip's full copies (the first
    # version's chunks have no delta, so they stay: they are the chains' anchors).
    added = _disk(repo) - before
    assert a.nbytes < added < a.nbytes * 1.1 and info.added == added
    chunks = repo.manifest(v2).variables["a"].object_ids()
    assert set(_deltas(repo)) >= set(chunks[1:])  # every data chunk changed; all are deltas
    assert all(repo.store.has_full(c) for c in chunks)  # and the tip reads no chain
    assert repo.load(v2, "a").tobytes() == a.tobytes()
    # The next edit: its deltas and tip copies, less v2's copies (no tip uses them now).
    before = _disk(repo)
    _scatter(a, 1000, 2)
    info = repo.commit({"a": a}, "scattered again")
    added = _disk(repo) - before
    assert 0 < added < a.nbytes // 10 and info.added == added
    assert all(repo.store.is_delta(c) for c in chunks[1:])
    assert repo.load(v2, "a").tobytes() != a.tobytes() == repo.load(info.id, "a").tobytes()
    assert fsck(repo).ok


def test_dense_change_falls_back_to_full_chunks(repo):
    a = np.random.default_rng(0).random(600_000)  # ~4.6 MB: 3 chunks
    repo.commit({"a": a}, "first")
    before = _disk(repo)
    a += 1.0  # every value
    repo.commit({"a": a}, "dense")
    assert _deltas(repo) == []
    assert _disk(repo) - before >= a.nbytes
    assert repo.load("HEAD", "a").tobytes() == a.tobytes()


def test_chains_are_capped_and_every_version_loads(repo):
    a = np.random.default_rng(0).random(300_000)  # 2 chunks
    shas, copies = [], []
    for i in range(MAX_DELTA_DEPTH + 4):
        shas.append(repo.commit({"a": a}, f"v{i}").id)
        copies.append(a.tobytes())
        _scatter(a, 20, i)
    depths = [repo.store.depth(o) for sha in shas for o in repo.manifest(sha).variables["a"].object_ids()]
    assert max(depths) == MAX_DELTA_DEPTH  # the cap is reached, never passed
    assert all(d is not None for d in depths)
    for sha, data in zip(shas, copies):
        assert repo.load(sha, "a").tobytes() == data
    assert fsck(repo).ok


def _flip(path, at):
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0x10
    path.write_bytes(bytes(raw))


@pytest.fixture
def two_versions(repo):
    good = np.arange(1000.0)
    victim = np.random.default_rng(1).random(300_000)  # 2 chunks
    v1 = repo.commit({"good": good, "victim": victim}, "one").id
    base = repo.manifest(v1).variables["victim"].streams[0].chunks[0]
    _scatter(victim, 30, 2)
    v2 = repo.commit({"good": good, "victim": victim}, "two").id
    delta = repo.manifest(v2).variables["victim"].streams[0].chunks[0]
    assert repo.store.has_delta(delta) and repo.store.delta_base(delta) == base
    assert repo.store.drop_full_copies([delta])[0] == 1  # as once v2 is no tip: only the delta
    return repo, v1, v2, base, delta, good


def test_flipped_byte_in_delta_is_detected(two_versions):
    repo, v1, v2, base, delta, good = two_versions
    _flip(repo.store.delta_path(delta), -2)  # inside the zstd payload
    result = repo.checkout(v2)
    assert result.objects["good"].tobytes() == good.tobytes()
    err = result.failed["victim"]
    assert isinstance(err, CorruptObjectError) and "'victim'" in str(err) and v2[:8] in str(err)
    assert repo.checkout(v1).failed == {}
    report = fsck(repo)
    assert [(p.version, p.variable, p.oid) for p in report.problems] == [(v2, "victim", delta)]


def test_flipped_byte_in_base_is_detected_through_the_delta(two_versions):
    repo, v1, v2, base, delta, good = two_versions
    _flip(repo.store.path(base), 4321)
    for sha in (v1, v2):
        err = repo.checkout(sha).failed["victim"]
        assert isinstance(err, CorruptObjectError) and "'victim'" in str(err) and sha[:8] in str(err)
    with pytest.raises(CorruptObjectError, match=base[:16]):
        repo.load(v2, "victim")
    report = fsck(repo)
    assert sorted((p.version, p.variable, p.oid) for p in report.problems) == sorted(
        [(v1, "victim", base), (v2, "victim", delta)]
    )
    assert base[:16] in next(p.why for p in report.problems if p.oid == delta)


def test_gc_keeps_bases_of_reachable_deltas_and_removes_unreachable_deltas(two_versions):
    repo, v1, v2, base, delta, good = two_versions
    # Squash history: v2's tree with no parent, so v1 and its manifest are unreachable.
    squashed = git(repo.root, "commit-tree", f"{v2}^{{tree}}", "-m", "squashed").strip()
    git(repo.root, "update-ref", "refs/mvc/heads/main", squashed)
    victim = repo.load(squashed, "victim")
    # A later scattered edit, then dropped: its deltas are unreachable.
    _scatter(victim, 30, 3)
    v3 = repo.commit({"victim": victim}, "three").id
    dropped = [o for o in repo.manifest(v3).variables["victim"].object_ids() if repo.store.has_delta(o)]
    assert dropped
    git(repo.root, "update-ref", "refs/mvc/heads/main", squashed)
    assert base not in repo.manifest(squashed).variables["victim"].object_ids()
    report = gc(repo, grace_seconds=0)
    assert report.objects_removed >= len(dropped)
    assert repo.store.has(base)  # only a reachable delta refers to it
    assert not any(repo.store.has(o) for o in dropped)
    assert repo.load(squashed, "victim").tobytes() == repo.load(v2, "victim").tobytes()
    assert fsck(repo).ok

"""Newest is fastest (issue #16 item 2): a chunk committed as a delta gets a full tip copy,
so checking out a tip never rebuilds a delta chain; copies no branch or tag tip uses are
dropped (after the next commit, or by gc), never a chunk's only copy."""

from __future__ import annotations

import numpy as np
import pytest

from jupyter_mvc.magics.messages import added_text
from jupyter_mvc.repo.maintenance import fsck, gc
from jupyter_mvc.store import MAX_DELTA_DEPTH, ObjectStore


def _scatter(a: np.ndarray, seed: int) -> None:
    idx = np.random.default_rng(seed).choice(a.size, a.size // 100, replace=False)  # 1 %
    a[idx] += 0.5


def _chunks(repo, sha: str, name: str = "a") -> list[str]:
    return repo.manifest(sha).variables[name].object_ids()


@pytest.fixture
def delta_reads(monkeypatch) -> list[str]:
    """The ids whose delta files a read opens (ObjectStore._read_delta, spied on)."""
    opened: list[str] = []
    real = ObjectStore._read_delta

    def spy(self, oid, out, budget, verify):
        opened.append(oid)
        return real(self, oid, out, budget, verify)

    monkeypatch.setattr(ObjectStore, "_read_delta", spy)
    return opened


@pytest.fixture
def chain(repo):
    """A full version, then 12 commits of 1 % scattered edits (past the depth cap)."""
    a = np.random.default_rng(0).random(600_000)  # 4.8 MB: 3 chunks of 2 MiB
    shas, copies = [repo.commit({"a": a}, "full").id], [a.tobytes()]
    for i in range(12):
        _scatter(a, i)
        shas.append(repo.commit({"a": a}, f"edit {i}").id)
        copies.append(a.tobytes())
    return repo, shas, copies


def test_the_tip_of_a_chain_reads_no_delta_and_old_versions_still_load(chain, delta_reads):
    repo, shas, copies = chain
    store = repo.store
    tip = shas[-1]
    assert any(store.has_delta(c) for c in _chunks(repo, tip))  # the tip is stored as deltas...
    assert all(store.has_full(c) for c in _chunks(repo, tip))  # ...and has its full copies
    assert repo.load(tip, "a").tobytes() == copies[-1]
    assert delta_reads == []  # no chain rebuilt for the newest version
    tip_chunks = set(_chunks(repo, tip))
    for sha in shas[:-1]:  # older versions: their copies went when they stopped being the tip
        for c in _chunks(repo, sha):
            if c not in tip_chunks:
                assert store.has_full(c) != store.has_delta(c), c  # a delta alone, or an anchor
    depths = {c: store.depth(c) for sha in shas for c in _chunks(repo, sha)}
    assert max(depths.values()) == MAX_DELTA_DEPTH and None not in depths.values()  # capped
    for sha, data in zip(shas, copies):
        assert repo.load(sha, "a").tobytes() == data
    assert delta_reads  # old versions do rebuild their chains (the spy sees them)
    assert fsck(repo).ok


def test_a_tag_or_branch_left_on_an_old_version_keeps_its_copies(repo, delta_reads):
    a = np.random.default_rng(1).random(600_000)
    repo.commit({"a": a}, "full")
    _scatter(a, 1)
    prod = repo.commit({"a": a}, "served").id
    repo.refs.create_tag("prod", prod)
    _scatter(a, 2)
    kept = repo.commit({"a": a}, "on a branch too").id
    repo.refs.create_branch("experiment", kept)
    _scatter(a, 3)
    dropped = repo.commit({"a": a}, "next").id
    _scatter(a, 4)
    tip = repo.commit({"a": a}, "tip").id
    store = repo.store
    for sha in (prod, kept, tip):
        assert all(store.has_full(c) for c in _chunks(repo, sha)), sha
    assert all(store.is_delta(c) for c in _chunks(repo, dropped)[1:])  # data chunks: no tip uses them
    repo.load(prod, "a")
    repo.load(kept, "a")
    assert delta_reads == []
    # The tag goes: its copies stay until gc, which keeps young files (a commit in flight)...
    repo.refs.delete_tag("prod")
    assert gc(repo).tip_copies_dropped == 0
    assert all(store.has_full(c) for c in _chunks(repo, prod))
    # ...and drops them once old enough; the branch's stay, and so does every anchor.
    report = gc(repo, grace_seconds=0)
    assert report.tip_copies_dropped == len(_chunks(repo, prod)) - 1  # all but its unchanged skeleton
    assert all(store.is_delta(c) for c in _chunks(repo, prod)[1:])
    assert all(store.has_full(c) for c in _chunks(repo, kept))
    for sha in repo.versions():
        for c in _chunks(repo, sha):
            assert store.has_full(c) or store.has_delta(c)
            if not store.has_delta(c):
                assert store.has_full(c)  # a chunk with no delta is an anchor: its copy is its only one
    assert fsck(repo).ok
    assert repo.load(prod, "a") is not None and delta_reads  # read through its chain now


def test_the_bytes_added_are_the_net_growth(repo):
    def disk() -> int:
        return sum(repo.store.stored_size(o) for o in repo.store.iter_oids())

    a = np.random.default_rng(2).random(600_000)
    b = np.arange(10.0)
    repo.commit({"a": a, "b": b}, "full")
    for i in range(3):
        before = disk()
        _scatter(a, i)
        info = repo.commit({"a": a, "b": b}, f"edit {i}")
        assert info.added == disk() - before
        assert info.added > (a.nbytes if i == 0 else 0)  # the first edit writes the tip copies
        if i:
            assert info.added < a.nbytes // 10  # later: deltas, new copies less the old copies
    before = disk()
    info = repo.commit({}, "stop tracking a", remove=["a"])  # its tip copies are dropped
    assert info.added == disk() - before < 0
    assert added_text(info.added).endswith(" freed")
    assert fsck(repo).ok


def test_fsck_checks_the_delta_beside_a_full_copy(repo):
    a = np.random.default_rng(3).random(600_000)
    repo.commit({"a": a}, "full")
    _scatter(a, 1)
    tip = repo.commit({"a": a}, "edit").id
    chunk = _chunks(repo, tip)[1]
    path = repo.store.delta_path(chunk)
    assert repo.store.has_full(chunk) and path.exists()
    path.chmod(0o644)
    raw = bytearray(path.read_bytes())
    raw[-2] ^= 0x10  # inside the zstd payload
    path.write_bytes(bytes(raw))
    assert repo.load(tip, "a").tobytes() == a.tobytes()  # the full copy still reads
    problems = fsck(repo).problems
    assert [(p.oid, p.version) for p in problems] == [(chunk, tip)]
    assert "in its delta" in problems[0].why


def test_a_crash_between_a_delta_and_its_copy_still_reads_and_heals(repo, monkeypatch, delta_reads):
    from jupyter_mvc.errors import StorageError

    a = np.random.default_rng(4).random(600_000)
    repo.commit({"a": a}, "full")
    _scatter(a, 1)
    real = ObjectStore._write_file

    def crash_on_copies(self, oid, final, data):
        if final == self.path(oid) and self.delta_path(oid).exists():
            raise OSError(28, "No space left on device")  # the delta landed, its copy did not
        return real(self, oid, final, data)

    monkeypatch.setattr(ObjectStore, "_write_file", crash_on_copies)
    with pytest.raises(StorageError):
        repo.commit({"a": a}, "crashed")
    planned = repo.store.plan(a.tobytes()).chunks
    orphans = [c for c in planned if repo.store.has_delta(c)]
    assert orphans and all(repo.store.is_delta(c) for c in orphans)
    for c in orphans:  # a delta alone reads, through its chain
        assert repo.store.verify(c) is None
    monkeypatch.setattr(ObjectStore, "_write_file", real)
    tip = repo.commit({"a": a}, "again").id  # the retry writes the missing copies
    assert all(repo.store.has_full(c) for c in _chunks(repo, tip))
    delta_reads.clear()
    assert repo.load(tip, "a").tobytes() == a.tobytes() and delta_reads == []
    assert fsck(repo).ok


def test_drop_full_copies_never_drops_an_only_copy(tmp_path):
    store = ObjectStore(tmp_path / "mvc", chunk_size=64 * 1024)
    old = np.random.default_rng(5).random(8192).tobytes()  # one chunk
    base = store.put(old)
    new = bytearray(old)
    new[100] ^= 1
    (stream,), written = store.put_many([bytes(new)], [base])
    oid, anchor = stream.chunks[0], base.chunks[0]
    assert store.has_delta(oid) and store.has_full(oid) and written > len(new)
    assert store.drop_full_copies([anchor, "not an id", "../" * 30]) == (0, 0)  # no delta: its only copy
    assert store.drop_full_copies([oid], older_than=0) == (0, 0)  # too young
    store.path(anchor).rename(tmp_path / "away")  # the chain's anchor is gone: keep the copy
    assert store.drop_full_copies([oid]) == (0, 0) and store.has_full(oid)
    (tmp_path / "away").rename(store.path(anchor))
    size = store.path(oid).stat().st_size
    assert store.drop_full_copies([oid, oid]) == (1, size)
    assert store.is_delta(oid) and bytes(store.read_stream(stream)) == bytes(new)
    assert store.depth(oid) == 1 and store.depth(anchor) == 0

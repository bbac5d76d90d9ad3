"""Local packs: a big write lands in a few pack files (not a file per chunk), reads and
lazy loads come from them, gc packs loose chunks and rewrites packs without what nothing
reaches, and a damaged or crafted pack or index is reported by name, never a crash."""

from __future__ import annotations

import json
import os
import subprocess

import numpy as np
import pytest

from jupyter_mvc.errors import CorruptObjectError
from jupyter_mvc.repo import maintenance
from jupyter_mvc.store import chunks as chunks_module
from jupyter_mvc.store import packfiles

MiB = 1 << 20


def files_under(folder) -> list:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def pack_of(repo, oid):
    where = repo.store.packs.find(oid)
    assert where is not None, "not packed"
    return where


def flip_byte(path, offset) -> None:
    path.chmod(0o644)
    with open(path, "r+b") as f:
        f.seek(offset)
        byte = f.read(1)
        f.seek(offset)
        f.write(bytes([byte[0] ^ 0x10]))


@pytest.fixture
def small_packs(monkeypatch):
    """Packs of 8 MiB and writes from 4 MiB, so a test of a few packs stays small."""
    monkeypatch.setattr(packfiles, "PACK_TARGET", 8 * MiB)
    monkeypatch.setattr(chunks_module, "PACK_FROM", 4 * MiB)


@pytest.fixture
def big(repo, small_packs):
    w = np.random.default_rng(0).standard_normal(3 * MiB)  # 24 MiB: 12 chunks, 3 packs of 8 MiB
    info = repo.commit({"w": w, "b": np.arange(10.0)}, "big")
    return repo, info, w


def test_a_big_commit_writes_a_few_packs_not_a_file_per_chunk(big):
    repo, info, w = big
    chunks = repo.manifest(info.id).variables["w"].streams[0].chunks
    assert len(chunks) == 12
    packs = {pack_of(repo, c).path for c in chunks}
    # 24 MiB and the small chunks before it, in packs of 8 MiB at most
    assert len(packs) in (3, 4) and all(p.parent == repo.store.root / "packs" for p in packs)
    assert all(p.stat().st_size <= 8 * MiB for p in packs)
    assert not any(repo.store.has_loose(c) for c in chunks)
    assert len(files_under(repo.store.root / "packs")) == 2 * len(packs)  # each pack and its index
    # in stream order and page-aligned: a checkout reads each pack front to back, a lazy load maps it
    for pack in packs:
        offsets = [pack_of(repo, c).offset for c in chunks if pack_of(repo, c).path == pack]
        assert offsets == sorted(offsets) and all(o % 4096 == 0 for o in offsets)
    assert np.array_equal(repo.load(info.id, "w"), w)
    assert np.array_equal(repo.load(info.id, "w", lazy=True), w)
    assert maintenance.fsck(repo).ok


def test_a_small_commit_stays_loose_and_gc_packs_it(repo):
    a, b = np.arange(50_000.0), np.ones(30_000)
    first = repo.commit({"a": a}, "a").id
    repo.commit({"a": a, "b": b}, "b")
    ids = [c for sha in repo.versions() for e in repo.manifest(sha).variables.values() for c in e.object_ids()]
    assert ids and all(repo.store.has_loose(c) for c in ids)
    report = maintenance.gc(repo, grace_seconds=0)
    assert report.chunks_packed == len(set(ids)) and report.objects_removed == 0
    assert not files_under(repo.store.objects_dir)
    assert all(repo.store.packs.find(c) for c in ids)
    assert np.array_equal(repo.load(first, "a"), a) and np.array_equal(repo.load("HEAD", "b"), b)
    assert maintenance.fsck(repo).ok
    packs = sorted(p.name for p in files_under(repo.store.root / "packs"))
    again = maintenance.gc(repo, grace_seconds=0)  # nothing left to do: the pack is not rewritten
    assert again.chunks_packed == 0 and again.objects_removed == 0
    assert sorted(p.name for p in files_under(repo.store.root / "packs")) == packs


def test_gc_rewrites_packs_without_the_chunks_nothing_reaches(big, git_repo):
    repo, info, w = big
    branch = f"refs/mvc/heads/{repo.refs.current_branch()}"
    subprocess.run(["git", "update-ref", "-d", branch], cwd=git_repo, check=True)  # `big` is reached no more
    kept = repo.commit({"k": np.random.default_rng(1).random(MiB)}, "kept").id  # 8 MiB, a new root
    assert info.id not in repo.versions() and kept in repo.versions()
    before = sum(p.stat().st_size for p in files_under(repo.store.root / "packs"))
    young = maintenance.gc(repo)  # within the grace period the packs stay whole
    assert young.objects_removed == 0
    report = maintenance.gc(repo, grace_seconds=0)
    after = sum(p.stat().st_size for p in files_under(repo.store.root / "packs"))
    assert report.objects_removed >= 12 and before - after >= 24 * MiB - MiB
    assert np.array_equal(repo.load(kept, "k"), np.random.default_rng(1).random(MiB))
    assert maintenance.fsck(repo).ok


def test_a_reader_whose_pack_was_repacked_reads_from_the_new_one(repo, monkeypatch):
    monkeypatch.setattr(packfiles, "PACK_TARGET", 32 * MiB)  # packs under 8 MiB count as small
    monkeypatch.setattr(chunks_module, "PACK_FROM", 4 * MiB)
    data = np.random.default_rng(2).random(MiB // 2)  # 4 MiB: one small pack
    first = repo.commit({"d": data}, "d").id
    extra = repo.commit({"d": data, "e": np.random.default_rng(3).random(MiB // 2)}, "e").id
    chunk = repo.manifest(first).variables["d"].streams[0].chunks[0]
    stale = pack_of(repo, chunk)  # this store object now caches where the chunk was
    os.utime(stale.path, (1, 1))
    for p in files_under(repo.store.root / "packs"):
        os.utime(p, (1, 1))
    # a second store merges the small packs (as another process's gc would)
    from jupyter_mvc.repo import Repo

    with Repo.open(repo.root, create=False) as other:
        assert maintenance.gc(other, grace_seconds=0).objects_kept > 0
    assert not stale.path.exists()
    assert np.array_equal(repo.load(first, "d"), data) and repo.load(extra, "e").size == MiB // 2


def test_a_flipped_byte_in_a_pack_names_the_chunk_and_spares_the_rest(big):
    repo, info, w = big
    chunks = repo.manifest(info.id).variables["w"].streams[0].chunks
    where = pack_of(repo, chunks[5])
    flip_byte(where.path, where.offset + 1234)
    result = repo.checkout(info.id)
    assert isinstance(result.failed["w"], CorruptObjectError) and chunks[5][:16] in str(result.failed["w"])
    assert np.array_equal(result.objects["b"], np.arange(10.0))
    problems = maintenance.fsck(repo).problems
    assert [(p.variable, p.oid) for p in problems] == [("w", chunks[5])] and "corrupt" in problems[0].why


@pytest.mark.parametrize("damaged", ["packed", "loose"])
def test_a_damaged_copy_of_a_chunk_with_a_whole_duplicate_reads_from_the_duplicate(big, damaged):
    # Both copies exist after a repack that stopped before it removed the loose files it
    # packed; whichever one is damaged, the whole one is read.
    repo, info, w = big
    oid = repo.manifest(info.id).variables["w"].streams[0].chunks[5]
    where = pack_of(repo, oid)
    with open(where.path, "rb") as f:
        f.seek(where.offset)
        data = f.read(where.length)
    loose = repo.store.path(oid)
    loose.parent.mkdir(parents=True, exist_ok=True)
    loose.write_bytes(data)
    assert repo.store.has_loose(oid)
    if damaged == "packed":
        flip_byte(where.path, where.offset + 1234)
    else:
        flip_byte(loose, 1234)
    assert np.array_equal(repo.load(info.id, "w"), w)
    assert maintenance.fsck(repo).ok
    if damaged == "packed":  # without the whole duplicate, the damage is reported by chunk
        loose.unlink()
        with pytest.raises(CorruptObjectError, match="corrupt") as exc:
            repo.load(info.id, "w")
        assert oid[:16] in str(exc.value)


def test_a_truncated_pack_is_refused_as_truncated(big):
    repo, info, _w = big
    chunks = repo.manifest(info.id).variables["w"].streams[0].chunks
    where = pack_of(repo, chunks[-1])
    where.path.chmod(0o644)
    os.truncate(where.path, where.offset + 100)
    with pytest.raises(CorruptObjectError, match="truncated"):
        repo.load(info.id, "w")
    with pytest.raises(CorruptObjectError, match="truncated"):
        repo.load(info.id, "w", lazy=True)
    assert any("truncated" in p.why for p in maintenance.fsck(repo).problems)


@pytest.mark.parametrize(
    "damage,words",
    [
        (lambda raw, pid: b"{not json", "not JSON"),
        (lambda raw, pid: raw.replace(pid.encode(), b"0" * 64), "names another pack"),
        (lambda raw, pid: json.dumps({**json.loads(raw), "format": "v99"}).encode(), "unknown format"),
        (
            lambda raw, pid: json.dumps(
                {**json.loads(raw), "objects": [[r[0], 0, r[2]] for r in json.loads(raw)["objects"]]}
            ).encode(),
            "bad offset",
        ),
        (
            lambda raw, pid: json.dumps(
                {**json.loads(raw), "objects": [[r[0], r[1], 1 << 40] for r in json.loads(raw)["objects"]]}
            ).encode(),
            "bad offset or length",
        ),
    ],
)
def test_a_damaged_or_crafted_index_is_reported_not_trusted(big, damage, words):
    repo, info, w = big
    chunk = repo.manifest(info.id).variables["w"].streams[0].chunks[0]
    pid = pack_of(repo, chunk).path.name[:-5]
    idx = repo.store.root / "packs" / f"{pid}.idx"
    raw = idx.read_bytes()
    idx.chmod(0o644)
    idx.write_bytes(damage(raw, pid))
    repo.store.packs.reload()
    assert words in repo.store.packs.damaged[pid]
    with pytest.raises(CorruptObjectError, match=f"missing.*{pid[:16]}.*{words}"):
        repo.load(info.id, "w")
    report = maintenance.fsck(repo)
    assert {p.variable for p in report.problems} == {"w", ""}
    assert [p.oid for p in report.problems if not p.variable] == [f"packs/{pid}.idx"]
    assert np.array_equal(repo.load(info.id, "b"), np.arange(10.0))
    maintenance.gc(repo, grace_seconds=0)  # gc leaves a pack it cannot read alone
    assert (repo.store.root / "packs" / f"{pid}.pack").exists()


def test_fsck_names_a_damaged_index_even_when_no_version_needs_its_chunks(repo, small_packs):
    info = repo.commit({"w": np.random.default_rng(4).random(MiB // 2)}, "w")  # 4 MiB: one pack
    chunk = repo.manifest(info.id).variables["w"].streams[0].chunks[0]
    spare = pack_of(repo, chunk).path.with_name("f" * 64 + ".idx")
    spare.write_text("{}")  # an index with no pack, that nothing needs
    report = maintenance.fsck(repo)
    assert [(p.oid, p.variable) for p in report.problems] == [(f"packs/{'f' * 64}.idx", "")]
    assert "unknown format" in report.problems[0].why and "damaged" in str(report.problems[0])
    spare.unlink()
    assert maintenance.fsck(repo).ok


def test_an_index_entry_past_the_end_of_its_pack_is_truncated_not_a_crash(big):
    repo, info, _w = big
    chunk = repo.manifest(info.id).variables["w"].streams[0].chunks[0]
    where = pack_of(repo, chunk)
    idx = where.path.with_suffix(".idx")
    raw = json.loads(idx.read_bytes())
    raw["objects"][-1][1] += 1 << 30
    idx.chmod(0o644)
    idx.write_text(json.dumps(raw))
    repo.store.packs.reload()
    with pytest.raises(CorruptObjectError, match="truncated"):
        repo.load(info.id, "w")


def test_a_symlinked_pack_or_index_is_not_followed(big, tmp_path):
    repo, info, _w = big
    chunk = repo.manifest(info.id).variables["w"].streams[0].chunks[0]
    where = pack_of(repo, chunk)
    outside = tmp_path / "outside.pack"
    outside.write_bytes(where.path.read_bytes())
    where.path.chmod(0o644)
    where.path.unlink()
    where.path.symlink_to(outside)
    with pytest.raises(CorruptObjectError, match="not a regular file|symbolic links"):
        repo.load(info.id, "w")
    maintenance.gc(repo, grace_seconds=0)
    assert outside.exists() and where.path.is_symlink()


def test_a_pack_replaced_by_a_fifo_is_refused_not_waited_on(big):
    # Opening a FIFO for reading blocks until a writer comes: a crafted store must not
    # hang a load, plain or lazy (which maps packs in place).
    repo, info, w = big
    where = pack_of(repo, repo.manifest(info.id).variables["w"].streams[0].chunks[-1])  # a pack of w alone
    where.path.chmod(0o644)
    where.path.unlink()
    os.mkfifo(where.path)
    for lazy in (False, True):
        with pytest.raises(CorruptObjectError, match="not a regular file"):
            repo.load(info.id, "w", lazy=lazy)


def test_a_pack_left_without_its_index_is_ignored_then_removed_by_gc(big):
    repo, info, w = big
    orphan = repo.store.root / "packs" / ("e" * 64 + ".pack")
    orphan.write_bytes(b"half a pack")
    assert np.array_equal(repo.load(info.id, "w"), w)
    assert maintenance.gc(repo).objects_kept and orphan.exists()  # young: a write may be in flight
    os.utime(orphan, (1, 1))
    maintenance.gc(repo, grace_seconds=0)
    assert not orphan.exists()
    assert np.array_equal(repo.load(info.id, "w"), w)

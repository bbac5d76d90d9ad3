"""The chunk store against a crafted store or manifest: declared sizes are checked against
the files on disk before a byte is allocated, links and FIFOs are never read, and gc
removes only names the store makes, never through a symbolic link."""

from __future__ import annotations

import os
import struct

import numpy as np
import pytest

from jupyter_mvc.errors import CorruptObjectError
from jupyter_mvc.objects import Stream
from jupyter_mvc.store import ObjectStore
from jupyter_mvc.store import chunks as chunks_module
from jupyter_mvc.store import deltas as deltas_format


@pytest.fixture
def store(tmp_path):
    s = ObjectStore(tmp_path / "mvc", chunk_size=4096)
    yield s
    s.close()


@pytest.fixture
def allocations(monkeypatch):
    """Sizes of every buffer the store allocates for a stream."""
    seen: list[int] = []
    real = chunks_module._allocate

    def spy(size):
        seen.append(size)
        return real(size)

    monkeypatch.setattr(chunks_module, "_allocate", spy)
    return seen


def test_a_2_gib_chunk_declared_for_a_10_byte_file_is_refused_before_allocating(store, allocations):
    oid = store.put(b"0123456789").chunks[0]
    crafted = Stream(2 << 30, (oid,), 2 << 30)
    with pytest.raises(CorruptObjectError, match="expected 2147483648 bytes, found 10") as err:
        store.read_stream(crafted)
    assert err.value.oid == oid and allocations == []
    assert "expected 2147483648" in store.verify(oid, 2 << 30)  # fsck's path: no 2 GiB bytearray either


def test_inconsistent_stream_shapes_are_refused(store, allocations):
    oid = store.put(b"x" * 100).chunks[0]
    for size, chunk_size, chunks in [(100, 0, (oid,)), (-1, 10, ()), (100, 10, (oid,)), (10**15, 10**15, ())]:
        with pytest.raises(CorruptObjectError, match="damaged manifest|expected"):
            store.read_stream(Stream(size, chunks, chunk_size))
    assert allocations == []
    assert bytes(store.read_stream(Stream(100, (oid,), 4096))) == b"x" * 100


def test_a_delta_declaring_a_size_its_base_does_not_have_is_refused(store, allocations):
    old = np.random.default_rng(0).random(512).tobytes()  # 4096 bytes: one chunk
    base = store.put(old)
    new = bytearray(old)
    new[5] ^= 1
    (stream,), _ = store.put_many([bytes(new)], [base])
    oid = stream.chunks[0]
    assert store.drop_full_copies([oid])[0] == 1  # its tip copy: reads go through the delta
    assert store.is_delta(oid)
    path = store.delta_path(oid)
    raw = bytearray(path.read_bytes())
    os.chmod(path, 0o644)
    struct.pack_into("<Q", raw, 40, 2 << 30)  # the header's content size
    path.write_bytes(bytes(raw))
    # Whether the manifest says 4096 bytes or agrees with the delta's 2 GiB: the base holds 4096.
    for declared in (stream, Stream(2 << 30, (oid,), 2 << 30)):
        with pytest.raises(CorruptObjectError, match="delta base .*expected 2147483648 bytes, found 4096"):
            store.read_stream(declared)
    assert allocations == []
    assert store.verify(oid) is not None


def test_an_oversized_delta_file_is_refused(store):
    old = bytes(4096)
    base = store.put(old)
    oid = "e" * 64
    header = struct.pack("<8s32sQI", deltas_format.MAGIC, bytes.fromhex(base.chunks[0]), 4096, 1)
    store.delta_path(oid).parent.mkdir(parents=True)
    store.delta_path(oid).write_bytes(header + b"\0" * (3 << 20))
    with pytest.raises(CorruptObjectError, match="a delta of"):
        store.read_stream(Stream(4096, (oid,), 4096))


def test_symlinked_and_fifo_objects_are_not_read(store, tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(b"s" * 10)
    oid = "ab" + "0" * 62
    store.path(oid).parent.mkdir(parents=True)
    store.path(oid).symlink_to(secret)
    with pytest.raises(CorruptObjectError, match="not a regular file"):
        store.read_stream(Stream(10, (oid,), 4096))
    with pytest.raises(CorruptObjectError, match="not a regular file|unreadable"):
        store.read_into(oid, memoryview(bytearray(10)))
    fifo_oid = "ab" + "1" * 62
    os.mkfifo(store.path(fifo_oid))
    with pytest.raises(CorruptObjectError, match="not a regular file"):  # and does not block
        store.read_into(fifo_oid, memoryview(bytearray(10)))
    assert store.verify(fifo_oid) is not None


def test_gc_helpers_never_follow_symlinks(store, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    kept_obj = outside / ("d" * 62)
    kept_tmp = outside / (".%s.1.deadbeef.tmp" % ("a" * 40))
    for f in (kept_obj, kept_tmp):
        f.write_text("keep")
        os.utime(f, (1, 1))
    real = store.put(b"real object").chunks[0]
    os.utime(store.path(real), (1, 1))
    (store.objects_dir / "dd").symlink_to(outside, target_is_directory=True)
    (store.objects_dir / "ee").mkdir()
    (store.objects_dir / "ee" / ("d" * 62)).symlink_to(kept_obj)
    assert list(store.iter_oids()) == [real]  # links are not listed
    assert store.remove(["dd" + "d" * 62, "ee" + "d" * 62], older_than=float("inf")) == (0, 0)
    assert kept_obj.read_text() == "keep" and (store.objects_dir / "ee" / ("d" * 62)).is_symlink()
    assert store.remove([real], older_than=float("inf"))[0] == 1  # its own objects still go
    for leftover in store.tmp_dir.iterdir():
        leftover.unlink()
    store.tmp_dir.rmdir()
    store.tmp_dir.symlink_to(outside, target_is_directory=True)
    assert store.remove_stale_temp_files(older_than=float("inf")) == 0 and kept_tmp.exists()


def test_gc_removes_only_temp_names_the_store_makes(store):
    store.tmp_dir.mkdir(parents=True)
    ours = store.tmp_dir / (".%s.42.0123abcd.tmp" % ("f" * 40))
    foreign = [store.tmp_dir / "notes.txt", store.tmp_dir / "x.tmp", store.tmp_dir / "sub"]
    ours.write_bytes(b"half")
    foreign[0].write_text("user file")
    foreign[1].write_text("not our pattern")
    foreign[2].mkdir()
    for p in [ours, *foreign]:
        os.utime(p, (1, 1))
    assert store.remove_stale_temp_files(older_than=1000) == 1
    assert not ours.exists() and all(p.exists() for p in foreign)

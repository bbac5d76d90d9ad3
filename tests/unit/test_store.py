"""The content-addressed object store on its own (no Git)."""

import os

import pytest

from jupyter_mvc.errors import CorruptObjectError, InvalidObjectIdError
from jupyter_mvc.store import ObjectStore, digest


@pytest.fixture
def store(tmp_path):
    return ObjectStore(tmp_path / "mvc", chunk_size=1024)


def test_round_trip_across_chunks(store):
    data = os.urandom(5000)
    stream = store.put(data)
    assert stream.size == 5000
    assert len(stream.chunks) == 5  # 1024-byte chunks
    assert stream.chunks[0] == digest(data[:1024])
    assert bytes(store.read_stream(stream)) == data


def test_empty_stream(store):
    stream = store.put(b"")
    assert stream.chunks == () and bytes(store.read_stream(stream)) == b""


def test_identical_chunks_are_written_once(store):
    data = b"a" * 4096  # four identical chunks
    streams, written = store.put_many([data, data])
    assert streams[0] == streams[1]
    assert len(set(streams[0].chunks)) == 1
    assert written == 1024
    assert list(store.iter_oids()) == [streams[0].chunks[0]]
    _, again = store.put_many([data])
    assert again == 0


def test_plan_matches_put_without_writing(store):
    data = os.urandom(3000)
    planned = store.plan(data)
    assert list(store.iter_oids()) == []
    assert store.put(data) == planned


def test_flipped_byte_is_detected(store):
    stream = store.put(os.urandom(2048))
    path = store.path(stream.chunks[1])
    raw = bytearray(path.read_bytes())
    raw[10] ^= 0x01
    os.chmod(path, 0o644)
    path.write_bytes(bytes(raw))
    with pytest.raises(CorruptObjectError, match="do not match"):
        store.read_stream(stream)
    assert store.verify(stream.chunks[1]) is not None
    assert store.verify(stream.chunks[0]) is None


def test_truncated_and_missing_objects_are_detected(store):
    stream = store.put(os.urandom(2048))
    p0, p1 = store.path(stream.chunks[0]), store.path(stream.chunks[1])
    os.chmod(p0, 0o644)
    p0.write_bytes(p0.read_bytes()[:100])
    with pytest.raises(CorruptObjectError, match="truncated"):
        store.read_stream(stream)
    p1.unlink()
    assert store.verify(stream.chunks[1]) == "missing from the object store"


@pytest.mark.parametrize("bad", ["../../etc/passwd", "ab", "A" * 64, "/abs/" + "a" * 59, 12, None, "a" * 63 + "/"])
def test_ids_are_validated_before_becoming_paths(store, bad):
    with pytest.raises(InvalidObjectIdError):
        store.path(bad)


def test_stale_temp_files_are_removed(store):
    store.tmp_dir.mkdir(parents=True)
    stale = store.tmp_dir / "deadbeef.123.tmp"
    stale.write_bytes(b"half")
    os.utime(stale, (1, 1))
    fresh = store.tmp_dir / "cafe.456.tmp"
    fresh.write_bytes(b"in flight")
    assert store.remove_stale_temp_files(older_than=1000) == 1
    assert not stale.exists() and fresh.exists()

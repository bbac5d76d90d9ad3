"""Delta objects in the object store on its own (no Git): a chunk kept as zstd(new ^ base)."""

import os

import numpy as np
import pytest

from jupyter_mvc.errors import CorruptObjectError
from jupyter_mvc.store import MAX_DELTA_DEPTH, ObjectStore, digest
from jupyter_mvc.store import deltas as deltas_store


@pytest.fixture
def store(tmp_path):
    return ObjectStore(tmp_path / "mvc", chunk_size=64 * 1024)


def _scatter(data: bytes, n: int, seed: int) -> bytes:
    arr = np.frombuffer(data, dtype=np.float64).copy()
    idx = np.random.default_rng(seed).choice(arr.size, n, replace=False)
    arr[idx] += 0.5
    return arr.tobytes()


def _deltas(store):
    """Every id with a delta file (a newly written one has its full tip copy beside it)."""
    return [o for o in store.iter_oids() if store.has_delta(o)]


def _drop_copies(store, oids) -> None:
    """Keep these chunks as deltas only, as once no tip uses them."""
    store.drop_full_copies(oids)
    assert all(store.is_delta(o) for o in oids)


def test_round_trip_is_bit_identical(store):
    old = np.random.default_rng(0).random(40_000).tobytes()  # 5 chunks
    base = store.put(old)
    new = _scatter(old, 50, 1)
    stream = store.put_many([new], [base])[0][0]
    assert stream.chunks == store.plan(new).chunks  # ids are the full content's digests
    deltas = _deltas(store)
    assert deltas and set(deltas) <= set(stream.chunks)
    sizes = dict(stream.sized_chunks())
    for oid in deltas:  # each with its full tip copy: the newest version rebuilds nothing
        assert store.delta_path(oid).exists() and store.path(oid).exists()
        assert store.delta_base(oid) in base.chunks and store.depth(oid) == 1
    assert bytes(store.read_stream(stream)) == new
    _drop_copies(store, deltas)
    for oid in deltas:
        assert store.verify(oid, sizes[oid]) is None
        assert "resized" in store.verify(oid, sizes[oid] + 1)
    assert bytes(store.read_stream(stream)) == new
    assert bytes(store.read_stream(base)) == old


def test_header_names_magic_base_size_and_depth():
    new = bytearray(4096)
    new[100] = 7
    raw = deltas_store.encode(memoryview(new), bytes(4096), "ab" * 32, 3)
    assert raw[:8] == deltas_store.MAGIC and len(raw) < 2048
    assert deltas_store.parse_header(raw) == ("ab" * 32, 4096, 3)
    out = memoryview(bytearray(4096))
    deltas_store.apply(raw, out)
    assert bytes(out) == bytes(new)
    with pytest.raises(deltas_store.DeltaFormatError, match="magic"):
        deltas_store.parse_header(b"X" * deltas_store.HEADER_SIZE)


def test_dense_change_is_stored_full(store):
    old = np.random.default_rng(0).random(40_000)
    base = store.put(old.tobytes())
    new = (old + 1.0).tobytes()  # every value changes
    stream, written = store.put_many([new], [base])
    assert _deltas(store) == []
    assert written == len(new)
    assert bytes(store.read_stream(stream[0])) == new


def test_base_with_other_shape_is_not_used(store):
    old = np.random.default_rng(0).random(40_000).tobytes()
    base = store.put(old)
    new = _scatter(old, 50, 1) + b"\0" * 8  # one value longer: chunks no longer line up
    store.put_many([new], [base])
    assert _deltas(store) == []


def test_chain_depth_is_capped(store):
    data = np.random.default_rng(0).random(8192).tobytes()  # exactly one chunk
    versions = [data]
    stream = store.put(data)
    streams = [stream]
    for i in range(2 * MAX_DELTA_DEPTH + 3):
        data = _scatter(data, 5, i)
        stream = store.put_many([data], [stream])[0][0]
        streams.append(stream)
        versions.append(data)
    depths = [store.depth(s.chunks[0]) for s in streams]
    assert max(depths) == MAX_DELTA_DEPTH
    assert depths[: MAX_DELTA_DEPTH + 2] == list(range(MAX_DELTA_DEPTH + 1)) + [0]  # full again after the cap
    for s, v in zip(streams, versions):
        assert bytes(store.read_stream(s)) == v
    _drop_copies(store, [s.chunks[0] for s in streams if store.has_delta(s.chunks[0])])
    for s, v in zip(streams, versions):  # through the chains now, none deeper than the cap
        assert bytes(store.read_stream(s)) == v


def _flip(path, at):
    os.chmod(path, 0o644)
    raw = bytearray(path.read_bytes())
    raw[at] ^= 0x20
    path.write_bytes(bytes(raw))


def test_damaged_delta_or_base_is_detected(store):
    old = np.random.default_rng(0).random(8192).tobytes()
    base = store.put(old)
    new = _scatter(old, 5, 1)
    (stream,), _ = store.put_many([new], [base])
    oid, base_oid = stream.chunks[0], base.chunks[0]
    _drop_copies(store, [oid])
    _flip(store.delta_path(oid), -1)  # inside the zstd payload
    with pytest.raises(CorruptObjectError) as err:
        store.read_stream(stream)
    assert err.value.oid == oid and "corrupt" in str(err.value)
    assert store.verify(oid) is not None
    _flip(store.delta_path(oid), -1)  # repaired
    assert store.verify(oid) is None
    _flip(store.path(base_oid), 1234)  # the base
    with pytest.raises(CorruptObjectError) as err:
        store.read_stream(stream)
    assert err.value.oid == oid and base_oid[:16] in str(err.value)
    assert "delta base" in store.verify(oid)
    store.path(base_oid).unlink()
    assert "missing" in store.verify(oid)


def test_remove_and_iter_cover_deltas(store):
    old = np.random.default_rng(0).random(8192).tobytes()
    base = store.put(old)
    (stream,), _ = store.put_many([_scatter(old, 5, 1)], [base])
    oid = stream.chunks[0]
    assert sorted(store.iter_oids()) == sorted({oid, base.chunks[0]})
    _drop_copies(store, [oid])
    assert store.has(oid) and store.stored_size(oid) < 1024
    size = store.stored_size(oid)
    assert store.remove([oid], older_than=0) == (0, 0)  # too young
    assert store.remove([oid], older_than=float("inf")) == (1, size)
    assert not store.has(oid) and list(store.iter_oids()) == [base.chunks[0]]
    assert digest(old) == base.chunks[0]


def test_truncated_delta_and_crafted_cycle_are_reported_not_looped(store):
    old = np.random.default_rng(0).random(8192).tobytes()
    base = store.put(old)
    (stream,), _ = store.put_many([_scatter(old, 5, 1)], [base])
    oid = stream.chunks[0]
    _drop_copies(store, [oid])
    path = store.delta_path(oid)
    raw = path.read_bytes()
    os.chmod(path, 0o644)
    path.write_bytes(raw[:20])  # shorter than the header
    assert "truncated" in store.verify(oid)
    with pytest.raises(CorruptObjectError, match="truncated"):
        store.read_stream(stream)
    # A hostile store: a delta whose base is itself.
    path.write_bytes(raw[:8] + bytes.fromhex(oid) + raw[40:])
    assert deltas_store.parse_header(path.read_bytes())[0] == oid
    with pytest.raises(CorruptObjectError, match="deeper than"):
        store.read_stream(stream)
    assert store.verify(oid) is not None

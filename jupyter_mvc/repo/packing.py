"""Variables -> streams in the object store, and back: how one encoded variable (a pickle
skeleton plus out-of-band buffers) is laid out as streams, and its manifest entry.

Small buffers share one packed stream so a random forest is not 800 tiny files; large
buffers get a stream each, so an in-place edit re-stores only the chunks it touched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .. import codecs
from ..errors import CorruptObjectError, ManifestError
from ..objects import Manifest, Stream, VariableEntry
from ..store import ObjectStore, digest

PACK_BELOW = 64 << 10  # buffers smaller than this share one packed stream
Location = tuple[int, int, int]  # (stream after the skeleton, offset, length) of a buffer


def layout(enc: codecs.Encoded) -> tuple[list[Any], tuple[Location, ...]]:
    """Stream contents [skeleton, pack?, large...] and where each pickle buffer lies."""
    datas: list[Any] = [enc.skeleton]
    small = [i for i, b in enumerate(enc.buffers) if b.nbytes < PACK_BELOW]
    locations: list[Location] = [(0, 0, 0)] * len(enc.buffers)
    if small:
        datas.append(b"".join(enc.buffers[i] for i in small))
        offset = 0
        for i in small:
            n = enc.buffers[i].nbytes
            locations[i] = (0, offset, n)
            offset += n
    for i, b in enumerate(enc.buffers):
        if b.nbytes >= PACK_BELOW:
            locations[i] = (len(datas) - 1, 0, b.nbytes)
            datas.append(b)
    return datas, tuple(locations)


def entry(
    name: str, enc: codecs.Encoded, skeleton: Stream, streams: tuple[Stream, ...], locations: tuple[Location, ...]
) -> VariableEntry:
    # Locations count streams after the skeleton from 0, as VariableEntry.buffers does.
    content_id = digest(
        json.dumps([skeleton.chunks, [s.chunks for s in streams], [list(loc) for loc in locations]]).encode()
    )
    return VariableEntry(
        name=name,
        type=enc.type_name,
        codec=codecs.CODEC,
        size=enc.size,
        summary=enc.summary,
        content_id=content_id,
        skeleton=skeleton,
        streams=streams,
        buffers=locations,
    )


def store_variables(
    store: ObjectStore, encoded: Mapping[str, codecs.Encoded], parent: Mapping[str, Sequence[Stream]]
) -> Manifest:
    """Write every variable's streams (chunks the store lacks only) and build the manifest.
    `parent`: name -> [skeleton, streams...] of the previous version, offered position by
    position as delta bases."""
    plans = {name: layout(enc) for name, enc in encoded.items()}
    all_buffers = [buf for datas, _ in plans.values() for buf in datas]
    bases: list[Stream | None] = []
    for name, (datas, _locations) in plans.items():
        old = parent.get(name, ())
        bases += [old[k] if k < len(old) else None for k in range(len(datas))]
    streams, _written = store.put_many(all_buffers, bases)
    entries, i = {}, 0
    for name, enc in encoded.items():
        datas, locations = plans[name]
        mine = streams[i : i + len(datas)]
        i += len(datas)
        entries[name] = entry(name, enc, mine[0], tuple(mine[1:]), locations)
    return Manifest(entries)


def fingerprint(store: ObjectStore, obj: Any, name: str = "obj") -> str:
    """The content id `obj` would get if committed now (hashes, writes nothing)."""
    enc = codecs.encode(name, obj)
    datas, locations = layout(enc)
    streams = [store.plan(d) for d in datas]
    return entry(name, enc, streams[0], tuple(streams[1:]), locations).content_id


def load_entry(store: ObjectStore, sha: str, item: VariableEntry, *, trust: bool, allow: set[str]) -> Any:
    """Read a variable's streams (verified) and decode it with the safe loader."""
    try:
        skeleton = store.read_stream(item.skeleton)
        datas = [store.read_stream(s) for s in item.streams]
    except CorruptObjectError as exc:
        raise CorruptObjectError(exc.oid, exc.why, item.name, sha[:8]) from None
    views = [memoryview(d) for d in datas]
    try:
        buffers = [views[s][off : off + n] for s, off, n in item.buffers]
    except IndexError:
        raise ManifestError(sha[:8], f"variable {item.name!r} points at a missing stream") from None
    return codecs.decode(skeleton, buffers, trust=trust, allow=allow, variable=item.name, version=sha[:8])

"""Variables -> streams in the object store, and back: how one encoded variable (a pickle
skeleton plus out-of-band buffers) is laid out as streams, and its manifest entry.

Small buffers share one packed stream so a random forest is not 800 tiny files; large
buffers get a stream each, so an in-place edit re-stores only the chunks it touched.
"""

from __future__ import annotations

import dataclasses
import json
import keyword
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .. import codecs
from ..errors import CorruptObjectError, InvalidObjectIdError, ManifestError, MvcError, VariableLoadError
from ..objects import SCHEMA, Manifest, Progress, Stream, VariableEntry
from ..present import fmt
from ..store import ObjectStore, digest, validate_oid

PACK_BELOW = 64 << 10  # buffers smaller than this share one packed stream
Location = tuple[int, int, int]  # (stream after the skeleton, offset, length) of a buffer


class Meter:
    """Bytes done against a total, for a `Progress` callback: `add` per chunk (what the
    store reports), `finish` once the work is over, so the last call says done == total
    (also when some of it was skipped, e.g. a variable that failed to load)."""

    def __init__(self, progress: Progress | None, what: str, total: int):
        self.progress, self.what, self.total, self.done = progress, what, total, 0
        if progress is not None:
            progress(what, 0, total)

    def add(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(self.what, min(self.done, self.total), self.total)

    def finish(self) -> None:
        if self.progress is not None and self.done != self.total:
            self.progress(self.what, self.total, self.total)

    @property
    def on_bytes(self) -> Callable[[int], None] | None:
        """What to hand the store (None without a callback: the store skips the calls)."""
        return self.add if self.progress is not None else None


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
        codec=enc.codec,
        size=enc.size,
        summary=enc.summary,
        content_id=content_id,
        skeleton=skeleton,
        streams=streams,
        buffers=locations,
    )


def store_variables(
    store: ObjectStore,
    encoded: Mapping[str, codecs.Encoded],
    parent: Mapping[str, Sequence[Stream]],
    groups: Sequence[tuple[codecs.Encoded, Mapping[str, VariableEntry]]] = (),
    progress: Progress | None = None,
) -> tuple[Manifest, int]:
    """Write every variable's streams (chunks the store lacks only) and build the manifest;
    returns it and the bytes newly written (what this version added to the store).
    `progress("storing", done, total)` per chunk, in bytes of the variables' streams.
    `parent`: name -> [skeleton, streams...] of the previous version, offered position by
    position as delta bases. `groups`: (the pickle of {name: obj}, each member's own
    planned entry) of co-variables: the group's streams are written once and every member's
    entry points at them."""
    units: list[tuple[str, codecs.Encoded]] = list(encoded.items())
    units += [(next(iter(members)), enc) for enc, members in groups]
    plans = [layout(enc) for _, enc in units]
    all_buffers = [buf for datas, _ in plans for buf in datas]
    bases: list[Stream | None] = []
    for (name, _enc), (datas, _locations) in zip(units, plans):
        old = parent.get(name, ())
        bases += [old[k] if k < len(old) else None for k in range(len(datas))]
    meter = Meter(progress, "storing", sum(memoryview(b).nbytes for b in all_buffers))
    streams, written = store.put_many(all_buffers, bases, meter.on_bytes)
    meter.finish()
    entries, i = {}, 0
    for k, ((name, enc), (datas, locations)) in enumerate(zip(units, plans)):
        mine = streams[i : i + len(datas)]
        i += len(datas)
        unit = entry(name, enc, mine[0], tuple(mine[1:]), locations)
        if k < len(encoded):
            entries[name] = unit
            continue
        members = groups[k - len(encoded)][1]
        for member, own in members.items():
            entries[member] = dataclasses.replace(
                own,
                skeleton=unit.skeleton,
                streams=unit.streams,
                buffers=unit.buffers,
                group=unit.content_id,
                members=tuple(members),
            )
    return Manifest(entries), written


def planned_entry(store: ObjectStore, name: str, enc: codecs.Encoded) -> VariableEntry:
    """The entry `enc` would get if stored alone (hashes, writes nothing)."""
    datas, locations = layout(enc)
    streams = [store.plan(d) for d in datas]
    return entry(name, enc, streams[0], tuple(streams[1:]), locations)


def fingerprint(store: ObjectStore, obj: Any, name: str = "obj", codec: str | None = None) -> str:
    """The content id `obj` would get if committed now (hashes, writes nothing); with
    `codec`, as that codec would store it, so a value compares equal to a version written
    with another codec (a 0.1.0 version holds pickle5 ids)."""
    return planned_entry(store, name, codecs.encode(name, obj, codec=codec)).content_id


# Exceptions that are a person or the interpreter stopping the process, never data.
_NOT_DATA = (KeyboardInterrupt, SystemExit, GeneratorExit)
_REASON_LIMIT = 300


def entry_bytes(item: VariableEntry) -> int:
    """The bytes `load_entry` reads for `item` (a group's streams once per group)."""
    return item.skeleton.size + sum(s.size for s in item.streams)


def load_entry(
    store: ObjectStore,
    sha: str,
    item: VariableEntry,
    *,
    trust: bool,
    allow: set[str],
    whole_group: bool = False,
    on_bytes: Callable[[int], None] | None = None,
    lazy: bool = False,
) -> Any:
    """Read and decode one variable: the one place every load path (load, checkout, diff,
    every face above them) goes through. Whatever reading or decoding raises, a damaged
    stream or any exception hostile data provokes (a `BaseException` too, other than a
    person or the interpreter stopping the process), becomes an `MvcError` that names
    the variable and the version, so the other variables still load and nothing from
    the data reaches a kernel's or a server's loop. A co-variable (`item.group`) is its
    group's {name: obj} pickle: its own value, or with `whole_group` that dict.
    `on_bytes(n)`: each chunk's bytes as it is read (`entry_bytes` in all). `lazy`: its
    data streams are mapped, paged in on first touch (`ObjectStore.map_stream`)."""
    if not is_variable_name(item.name):
        raise ManifestError(sha[:8], f"variable {item.name!r} has a name that is not a Python identifier")
    try:
        value = _read_and_decode(store, sha, item, trust=trust, allow=allow, on_bytes=on_bytes, lazy=lazy)
        if item.group is None:
            return value
        if not isinstance(value, dict) or item.name not in value:
            raise VariableLoadError(item.name, sha[:8], f"its group {item.group[:8]} does not hold it")
        return value if whole_group else value[item.name]
    except _NOT_DATA:
        raise
    except MvcError as exc:
        if getattr(exc, "variable", None) == item.name:
            raise  # it already names the variable (corrupt object, untrusted global...)
        raise VariableLoadError(item.name, sha[:8], reason(exc)) from exc
    except BaseException as exc:  # noqa: B036 - hostile data may raise anything; see the docstring
        raise VariableLoadError(item.name, sha[:8], reason(exc)) from exc


def reason(exc: BaseException) -> str:
    """One printable line saying what went wrong (the data's own text is escaped)."""
    text = str(exc) if isinstance(exc, MvcError) else f"{type(exc).__name__}: {exc}"
    text = fmt.printable(text)
    return text if len(text) <= _REASON_LIMIT else text[: _REASON_LIMIT - 1] + "…"


def _read_and_decode(
    store: ObjectStore,
    sha: str,
    item: VariableEntry,
    *,
    trust: bool,
    allow: set[str],
    on_bytes: Callable[[int], None] | None = None,
    lazy: bool = False,
) -> Any:
    """Read a variable's streams (sizes checked, then verified; `lazy`: data streams
    mapped instead) and decode it with the safe loader."""
    try:
        skeleton = store.read_stream(item.skeleton, progress=on_bytes)
        if lazy:
            datas = [store.map_stream(s) for s in item.streams]
        else:
            datas = [store.read_stream(s, progress=on_bytes) for s in item.streams]
    except CorruptObjectError as exc:
        raise CorruptObjectError(exc.oid, exc.why, item.name, sha[:8]) from None
    views = [memoryview(d) for d in datas]
    for s, off, n in item.buffers:
        if not (0 <= s < len(views) and off >= 0 and n >= 0 and off + n <= len(views[s])):
            raise VariableLoadError(
                item.name, sha[:8], f"its manifest entry points at bytes {off}+{n} of stream {s}, which do not exist"
            )
    buffers = [views[s][off : off + n] for s, off, n in item.buffers]
    return codecs.decode(
        skeleton, buffers, codec=item.codec, trust=trust, allow=allow, variable=item.name, version=sha[:8]
    )


# -- the manifest, read strictly -----------------------------------------------------------
def is_variable_name(name: object) -> bool:
    """A name a version may restore: a Python identifier that is not a keyword."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def parse_manifest(data: Any, version: str) -> tuple[Manifest, dict[str, str]]:
    """(the manifest's readable entries, name -> why for its damaged ones). A manifest
    that is not one at all raises ManifestError; an entry with wrong types, impossible
    sizes or out-of-range buffers is damaged alone, so the other variables still load.
    Object ids are validated here, before any becomes a path (InvalidObjectIdError: a
    manifest with path tricks in it is crafted, and refused whole)."""
    if not isinstance(data, dict):
        raise ManifestError(version, f"manifest.json holds a {type(data).__name__}, not an object")
    schema = data.get("schema", SCHEMA)
    if not _is_int(schema):
        raise ManifestError(version, f"its schema {fmt.printable(repr(schema))[:40]} is not a number")
    raw = data.get("variables", [])
    if not isinstance(raw, list):
        raise ManifestError(version, "its 'variables' is not a list")
    entries: dict[str, VariableEntry] = {}
    damaged: dict[str, str] = {}
    for i, d in enumerate(raw):
        name = d.get("name") if isinstance(d, dict) else None
        key = name if isinstance(name, str) and name else f"<entry {i}>"
        try:
            entry = _entry(d)
        except InvalidObjectIdError:
            raise
        except (ValueError, TypeError, KeyError) as exc:
            damaged[key] = fmt.printable(str(exc.args[0]) if exc.args else str(exc))[:_REASON_LIMIT]
            continue
        if key in entries or key in damaged:
            damaged[key] = "the manifest lists it more than once"
            entries.pop(key, None)
            continue
        entries[key] = entry
    return Manifest(entries, schema), damaged


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _field(d: dict, key: str, kind: type, default: Any = ...) -> Any:
    value = d.get(key, default)
    if value is ...:
        raise KeyError(f"its entry has no {key!r}")
    if kind is int and not _is_int(value) or not isinstance(value, kind):
        raise TypeError(f"its {key!r} is of type {type(value).__name__}, not {kind.__name__}")
    return value


def _stream(d: Any) -> Stream:
    if not isinstance(d, dict):
        raise TypeError(f"a stream is a {type(d).__name__}, not an object")
    size, chunk_size, chunks = _field(d, "size", int), _field(d, "chunk_size", int), _field(d, "chunks", list)
    if size < 0 or chunk_size <= 0 or len(chunks) != -(-size // chunk_size):
        raise ValueError(f"a stream of {size} bytes cannot have {len(chunks)} chunks of {chunk_size}")
    return Stream(size, tuple(validate_oid(c) for c in chunks), chunk_size)


def _entry(d: Any) -> VariableEntry:
    if not isinstance(d, dict):
        raise TypeError(f"the entry is a {type(d).__name__}, not an object")
    size = _field(d, "size", int)
    if size < 0:
        raise ValueError(f"its size {size} is negative")
    summary = d.get("summary", {})
    streams = tuple(_stream(s) for s in _field(d, "streams", list, []))
    buffers = []
    for b in _field(d, "buffers", list, []):
        if not (isinstance(b, list) and len(b) == 3 and all(_is_int(x) for x in b)):
            raise TypeError("a buffer location is not [stream, offset, length]")
        s, off, n = b
        if not (0 <= s < len(streams) and off >= 0 and n >= 0 and off + n <= streams[s].size):
            raise ValueError(f"a buffer at bytes {off}+{n} of stream {s} lies outside its streams")
        buffers.append((s, off, n))
    name = _field(d, "name", str)
    if not name:
        raise ValueError("its name is empty")
    carried_from = _field(d, "carried_from", str) if d.get("carried_from") is not None else None
    group: str | None = None
    members: tuple[str, ...] = ()
    if d.get("group") is not None:
        g = _field(d, "group", dict)
        group, members = _field(g, "id", str), tuple(_field(g, "members", list))
        if name not in members or not all(isinstance(m, str) for m in members):
            raise ValueError(f"its group {fmt.printable(group)[:16]} does not list it among its members")
    return VariableEntry(
        name=name,
        type=_field(d, "type", str),
        codec=_field(d, "codec", str),
        size=size,
        summary=summary if isinstance(summary, dict) else {},  # display only: a bad one shows nothing
        content_id=_field(d, "content_id", str),
        skeleton=_stream(d.get("skeleton")),
        streams=streams,
        buffers=tuple(buffers),
        carried_from=carried_from,
        group=group,
        members=members,
    )

"""Plain data that crosses layers: what a version holds and what views of history return.

No I/O and no third-party imports here, so every layer (and every face) can use these.
The JSON forms are the on-disk manifest format; `SCHEMA` versions it: schema 2 added the
optional entry fields `carried_from` and `group` (schema 1 manifests read as before).
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 2

# A long operation's progress: (what is being done, bytes done, bytes in all; 0: not known
# yet). Called per chunk or per stage, never per byte, on the thread that runs the operation.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Stream:
    """A byte string stored as chunks of `chunk_size` bytes (the last may be shorter).

    The chunk size travels with the stream so that changing the default later never
    breaks reading old versions.
    """

    size: int
    chunks: tuple[str, ...]
    chunk_size: int

    def sized_chunks(self) -> list[tuple[str, int]]:
        """(oid, byte size) of each chunk."""
        return [(oid, min(self.chunk_size, self.size - i * self.chunk_size)) for i, oid in enumerate(self.chunks)]

    def to_json(self) -> dict:
        return {"size": self.size, "chunk_size": self.chunk_size, "chunks": list(self.chunks)}

    @classmethod
    def from_json(cls, d: dict) -> Stream:
        size, chunk_size, chunks = int(d["size"]), int(d["chunk_size"]), tuple(d["chunks"])
        if size < 0 or chunk_size <= 0 or len(chunks) != -(-size // chunk_size):
            raise ValueError(f"a stream of {size} bytes cannot have {len(chunks)} chunks of {chunk_size}")
        return cls(size, chunks, chunk_size)


@dataclass(frozen=True)
class VariableEntry:
    """One variable of a version: enough to list, summarise and diff it without loading.

    `buffers[i] = (stream, offset, length)` locates the i-th out-of-band pickle buffer:
    large buffers own a stream, small ones share a packed stream.
    """

    name: str
    type: str
    codec: str
    size: int
    summary: dict
    content_id: str
    skeleton: Stream
    streams: tuple[Stream, ...] = ()
    buffers: tuple[tuple[int, int, int], ...] = ()
    # The version whose commit wrote these streams, when this one carried the entry forward
    # unchanged (its bytes cost nothing here). None: written by this version.
    carried_from: str | None = None
    # Co-variables (sharing referents) are stored as ONE pickle of {name: obj}; each member's
    # entry points at the group's streams. `group` is the group's content id, `members`
    # every name in that pickle. A member's own `content_id`/`size` are those it would have
    # alone (pickle5), so status compares it like any other variable.
    group: str | None = None
    members: tuple[str, ...] = ()

    def sized_chunks(self) -> list[tuple[str, int]]:
        """(oid, byte size) of every chunk this variable needs."""
        out = self.skeleton.sized_chunks()
        for s in self.streams:
            out.extend(s.sized_chunks())
        return out

    def object_ids(self) -> list[str]:
        return [oid for oid, _ in self.sized_chunks()]

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "codec": self.codec,
            "size": self.size,
            "summary": self.summary,
            "content_id": self.content_id,
            "skeleton": self.skeleton.to_json(),
            "streams": [s.to_json() for s in self.streams],
            "buffers": [list(b) for b in self.buffers],
            **({"carried_from": self.carried_from} if self.carried_from else {}),
            **({"group": {"id": self.group, "members": list(self.members)}} if self.group else {}),
        }

    @classmethod
    def from_json(cls, d: dict) -> VariableEntry:
        group = d.get("group") or {}
        return cls(
            name=str(d["name"]),
            type=str(d["type"]),
            codec=str(d["codec"]),
            size=int(d["size"]),
            summary=dict(d.get("summary", {})),
            content_id=str(d["content_id"]),
            skeleton=Stream.from_json(d["skeleton"]),
            streams=tuple(Stream.from_json(s) for s in d.get("streams", [])),
            buffers=tuple((int(b[0]), int(b[1]), int(b[2])) for b in d.get("buffers", [])),
            carried_from=d.get("carried_from"),
            group=group.get("id"),
            members=tuple(group.get("members", ())),
        )


@dataclass(frozen=True)
class Manifest:
    variables: dict[str, VariableEntry]
    schema: int = SCHEMA

    def to_json(self) -> dict:
        return {
            "schema": self.schema,
            "variables": [v.to_json() for v in self.variables.values()],
        }

    @classmethod
    def from_json(cls, d: dict) -> Manifest:
        entries = [VariableEntry.from_json(v) for v in d.get("variables", [])]
        return cls({e.name: e for e in entries}, int(d.get("schema", SCHEMA)))


def subject_of(message: str) -> str:
    """A commit message's first line as git cuts it: at "\n" only (str.splitlines also
    cuts at \x1c-\x1e, \x85 and \u2028, which a message may hold as text)."""
    return message.split("\n", 1)[0].removesuffix("\r")


@dataclass(frozen=True)
class VersionInfo:
    """One entry of the log: everything a history view shows, read from the commit alone."""

    id: str
    parents: tuple[str, ...]
    message: str
    author: str
    time: int
    variables: tuple[str, ...] = ()
    metrics: dict = field(default_factory=dict)
    branches: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    is_head: bool = False

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def subject(self) -> str:
        return subject_of(self.message)


@dataclass(frozen=True)
class CommitInfo(VersionInfo):
    """The version a commit just wrote, and what writing it cost: `added`, the bytes the
    object store grew by (chunks it did not hold yet, deltas and full tip copies, less the
    tip copies of the replaced version it dropped; 0: every chunk was already there;
    negative: it shrank)."""

    added: int = 0

    @classmethod
    def of(cls, info: VersionInfo, added: int) -> CommitInfo:
        return cls(**{f.name: getattr(info, f.name) for f in dataclasses.fields(VersionInfo)}, added=added)


@dataclass(frozen=True)
class Version:
    """A version in full (but with no data loaded): what `show` returns."""

    info: VersionInfo
    manifest: Manifest
    metrics: dict
    params: dict
    env: dict
    files: tuple[str, ...]


@dataclass(frozen=True)
class TensorDelta:
    """How one array (or one tensor of a model) differs between two versions."""

    path: str
    old_shape: tuple | None
    new_shape: tuple | None
    changed: int | None  # elements that differ (None when shapes differ)
    total: int | None
    max_abs_delta: float | None


@dataclass(frozen=True)
class VariableChange:
    name: str
    status: str  # "added" | "removed" | "changed" | "unchanged"
    old: dict | None  # summary in the old version
    new: dict | None
    tensors: tuple[TensorDelta, ...] = ()


@dataclass(frozen=True)
class VersionDiff:
    old: VersionInfo
    new: VersionInfo
    variables: tuple[VariableChange, ...]
    params: dict  # name -> (old, new), only those that differ
    metrics: dict  # name -> (old, new), scalars, only those that differ

    def changed(self) -> list[VariableChange]:
        return [v for v in self.variables if v.status != "unchanged"]


@dataclass(frozen=True)
class Problem:
    oid: str
    why: str
    version: str = ""
    variable: str = ""

    def __str__(self) -> str:
        where = f"version {self.version[:8]} variable {self.variable!r}: " if self.version else ""
        return f"{where}object {self.oid[:16]}… {self.why}"


@dataclass(frozen=True)
class FsckReport:
    versions: int
    objects: int
    problems: tuple[Problem, ...]
    not_fetched: int = 0  # chunks a remote holds that were not fetched yet (a lazy clone): not checked here

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class GcReport:
    objects_removed: int
    bytes_freed: int  # of the objects removed and the tip copies dropped
    temp_files_removed: int
    objects_kept: int
    tip_copies_dropped: int = 0  # full copies of delta-backed chunks no tip uses
    chunks_packed: int = 0  # loose chunks moved into packs


def summary_line(summary: dict[str, Any]) -> str:
    """A one-line human form of a variable summary (shape/dtype, params, repr head). A repr
    that says nothing (`<x.Y object at 0x...>`) or is a table flattened onto one line (a
    DataFrame's or Series', in summaries written before they stopped storing one) is left out."""
    parts = []
    for key in ("shape", "dtype", "parameters", "length", "columns", "name", "repr"):
        if key in summary and not (key == "repr" and _unhelpful_repr(summary)):
            parts.append(f"{key}={summary[key]}")
    return " ".join(parts)


def _unhelpful_repr(summary: dict[str, Any]) -> bool:
    text = str(summary.get("repr", ""))
    table = "columns" in summary or ("length" in summary and "dtype" in summary)
    return table or bool(re.fullmatch(r"<[\w.]+ object at 0x[0-9a-fA-F]+>", text))


def jsonable(value: Any) -> Any:
    """A JSON-safe copy: dataclasses unfold, tuples and sets become lists, NaN/inf (invalid
    JSON) become null, numpy/torch scalars their Python value, anything else its repr."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "size", None) == 1:
        return jsonable(item())  # numpy / torch scalars
    return repr(value)


@dataclass(frozen=True)
class MergeResult:
    """What a merge did (repo/merge.py)."""

    outcome: str  # "merged", "fast-forward", "up to date"
    version: VersionInfo | None  # the merge version (or the tip fast-forwarded to)
    ours: str | None
    theirs: str
    base: str | None
    taken: dict[str, str]  # variable -> "ours", "theirs", "both", "ours (--take)", "average"...
    notes: tuple[str, ...] = ()  # e.g. the notebook merge, integer leaves kept from ours

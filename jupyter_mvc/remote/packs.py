"""Chunks travel to a remote in packs: `packs/<id>.pack` (the chunks' full contents, one
after another) and `packs/<id>.idx` (JSON: which chunk lies where). One listing of
`packs/` plus the indexes not yet cached tells a push everything the remote holds, so no
request is ever made per chunk to find out; a lazy load reads just its chunks' byte
ranges of a pack.

A pack's id is the digest of its sorted chunk ids, so a push interrupted and run again
builds the same packs and skips those whose index is already there (an index is written
after its pack: an index present means its pack is whole). Indexes come from other
people's machines: every field is checked before it is used."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import blake3

from ..errors import RemoteError
from ..store import ObjectStore, packfiles
from .crypto import Cipher

PACK_TARGET = 64 << 20  # bytes per pack: few requests per GiB, and a resumed push re-sends at most this
INDEX_FORMAT = "jupyter_mvc pack index 1"
_ID = re.compile(r"\A[0-9a-f]{64}\Z")


@dataclass(frozen=True)
class PackIndex:
    pack_id: str
    objects: dict[str, tuple[int, int]]  # chunk id -> (offset, length) in the pack

    @property
    def pack_key(self) -> str:
        return pack_key(self.pack_id)


def pack_key(pack_id: str) -> str:
    return f"packs/{pack_id}.pack"


def index_key(pack_id: str) -> str:
    return f"packs/{pack_id}.idx"


def index_ids(keys: Iterable[str]) -> set[str]:
    """Pack ids whose index is listed (only well-formed names count)."""
    out = set()
    for key in keys:
        name = key[len("packs/") :] if key.startswith("packs/") else ""
        if name.endswith(".idx") and _ID.match(name[:-4]):
            out.add(name[:-4])
    return out


def plan(sizes: dict[str, int], target: int | None = None) -> list[list[str]]:
    """Chunks (sorted, so the same set always packs the same way) cut into packs of about
    `target` bytes (default PACK_TARGET)."""
    target = target or PACK_TARGET
    packs: list[list[str]] = []
    current: list[str] = []
    filled = 0
    for oid in sorted(sizes):
        if current and filled + sizes[oid] > target:
            packs.append(current)
            current, filled = [], 0
        current.append(oid)
        filled += sizes[oid]
    if current:
        packs.append(current)
    return packs


def pack_id(oids: list[str], cipher: Cipher | None = None) -> str:
    """The digest of the sorted chunk ids; keyed on a private remote, so the name says
    nothing about which chunks (and so which contents) a pack holds."""
    text = "\n".join(sorted(oids))
    return cipher.name(text) if cipher is not None else blake3.blake3(text.encode()).hexdigest()


def write_pack(store: ObjectStore, oids: list[str], path: Path, cipher: Cipher | None = None) -> PackIndex:
    """The chunks' full contents into `path` (a delta object is rebuilt: a pack never
    depends on another pack), each sealed on its own on a private remote, and their index."""
    objects: dict[str, tuple[int, int]] = {}
    offset = 0
    with open(path, "wb") as out:
        for oid in oids:
            size = store.content_size(oid)
            buf = bytearray(size)
            store.read_into(oid, memoryview(buf))  # verified: a damaged chunk never leaves
            data = cipher.seal_chunk(oid, memoryview(buf)) if cipher is not None else buf
            out.write(data)
            objects[oid] = (offset, len(data))
            offset += len(data)
    return PackIndex(pack_id(oids, cipher), objects)


def encode_index(index: PackIndex) -> bytes:
    rows = [[oid, off, n] for oid, (off, n) in sorted(index.objects.items(), key=lambda kv: kv[1][0])]
    return json.dumps({"format": INDEX_FORMAT, "pack": index.pack_id, "objects": rows}).encode()


def parse_index(data: bytes, expected_id: str, url: str, check_id: bool = True) -> PackIndex:
    """An index as another machine wrote it: refused, naming what is wrong, unless every
    field is what `encode_index` writes. `check_id=False` on a private remote, whose
    indexes are authenticated by their seal instead (and named with keyed digests)."""

    def bad(why: str) -> RemoteError:
        return RemoteError(url, f"the pack index {index_key(expected_id)} is damaged ({why})", "Run mvc fsck --remote.")

    try:
        objects = packfiles.parse_index(data, expected_id, INDEX_FORMAT, contiguous=True)
    except packfiles.PackError as exc:
        raise bad(str(exc)) from None
    if check_id and objects and pack_id(list(objects)) != expected_id:
        raise bad("its chunks are not the ones its id names")
    return PackIndex(expected_id, objects)


def cached_indexes(folder: Path, check_id: bool = True) -> dict[str, PackIndex]:
    """The indexes already fetched into a remote's cache (written there only after parsing)."""
    out = {}
    for path in sorted(folder.glob("*.idx")) if folder.is_dir() else []:
        pid = path.name[:-4]
        if _ID.match(pid):
            try:
                out[pid] = parse_index(path.read_bytes(), pid, str(folder), check_id)
            except (OSError, RemoteError):
                continue  # refetched on the next refresh
    return out

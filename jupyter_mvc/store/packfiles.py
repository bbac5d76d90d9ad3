"""Local pack files: many chunks in one append-only file, so a checkout opens a handful of
files rather than one per chunk (512 per GiB), and a big store is thousands of files, not
millions.

`<root>/packs/<id>.pack` holds full chunks one after another; `<id>.idx` (JSON, format
`INDEX_FORMAT`) says where each lies. A chunk of `ALIGN_FROM` bytes or more starts on a
page boundary, so a lazy load maps it in place (`mapping.py`); smaller ones are packed
tight. The id is the digest of the sorted chunk ids, as a remote's packs are named.

A pack is written to a temp file, fsynced and renamed into place, and only then its index:
an index present means its pack is whole. Packs never change; `repack` writes new ones and
deletes old ones, index first. A reader that finds a pack gone re-reads the indexes.

Indexes may come from a copied or crafted store: every field is checked before use; an
index that fails is listed in `damaged` and its chunks count as absent (fsck says so).
"""

from __future__ import annotations

import json
import mmap
import os
import re
import stat
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import blake3

from ..atomic import fsync_dir, write_atomic

INDEX_FORMAT = "jupyter_mvc local pack index 1"
PACK_TARGET = 64 << 20  # bytes per pack: 16 files per GiB; gc rewrites at most this to drop one chunk
ALIGN_FROM = 64 << 10  # chunks this big start on a page (mappable); smaller ones are not padded
_PAGE = mmap.ALLOCATIONGRANULARITY
_MAX_INDEX = 64 << 20  # a 1 GiB pack of 2 MiB chunks indexes in ~60 KiB: this is hostile
_MAX_CHUNK = 1 << 30
_ID = re.compile(r"\A[0-9a-f]{64}\Z")
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class PackError(Exception):
    """A pack or its index is not what this module writes (damaged or crafted)."""


class NotRegularFileError(OSError):
    """A store file that is a FIFO, device or folder where a regular file belongs."""


@dataclass(frozen=True)
class Location:
    """Where a chunk's full bytes lie: `length` bytes at `offset` of the file `path`."""

    path: Path
    offset: int
    length: int


def pack_id(oids: Sequence[str]) -> str:
    return blake3.blake3("\n".join(sorted(oids)).encode()).hexdigest()


def layout(sizes: Sequence[int]) -> tuple[list[int], int]:
    """Offsets of chunks of these sizes, one after another (big ones page-aligned), and
    the pack's length."""
    offsets, end = [], 0
    for n in sizes:
        if n >= ALIGN_FROM:
            end = -(-end // _PAGE) * _PAGE
        offsets.append(end)
        end += n
    return offsets, end


def plan(sizes: Sequence[int], target: int | None = None) -> list[range]:
    """Consecutive runs of chunks (in the order given: a stream's chunks stay together and
    in order, so a checkout reads each pack front to back) of about `target` bytes each
    (default PACK_TARGET)."""
    target = target or PACK_TARGET
    runs, start, filled = [], 0, 0
    for i, n in enumerate(sizes):
        if i > start and filled + n > target:
            runs.append(range(start, i))
            start, filled = i, 0
        filled += n
    if start < len(sizes):
        runs.append(range(start, len(sizes)))
    return runs


def encode_index(pid: str, oids: Sequence[str], offsets: Sequence[int], sizes: Sequence[int]) -> bytes:
    rows = [[oid, off, n] for oid, off, n in zip(oids, offsets, sizes)]
    return json.dumps({"format": INDEX_FORMAT, "pack": pid, "objects": rows}).encode()


def parse_index(
    data: bytes, expected_id: str, fmt: str = INDEX_FORMAT, contiguous: bool = False
) -> dict[str, tuple[int, int]]:
    """chunk id -> (offset, length), refused with PackError (naming what is wrong) unless
    every field is what `encode_index` writes: the format `fmt`, this pack's id, well-formed
    chunk ids, offsets ascending without overlap (`contiguous`: each where the last ended,
    as a remote's packs are written; the remote's parser shares this), lengths in bounds."""
    if len(data) > _MAX_INDEX:
        raise PackError(f"{len(data)} bytes")
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise PackError(f"not JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != fmt:
        raise PackError("unknown format; a newer jupyter_mvc may have written it")
    rows = raw.get("objects")
    if raw.get("pack") != expected_id or not isinstance(rows, list):
        raise PackError("it names another pack")
    objects: dict[str, tuple[int, int]] = {}
    end = 0
    for row in rows:
        if not (isinstance(row, list) and len(row) == 3 and isinstance(row[0], str) and _ID.match(row[0])):
            raise PackError(f"bad entry {str(row)[:80]!r}")
        oid, off, n = row
        if not (
            type(off) is int and type(n) is int and (off == end if contiguous else off >= end) and 0 < n <= _MAX_CHUNK
        ):
            raise PackError(f"entry {oid[:12]} has a bad offset or length")
        objects[oid] = (off, n)
        end = off + n
    return objects


def open_regular(path: str | Path) -> int:
    """A read-only descriptor of a regular file of the store, never through a symbolic
    link, and never waiting on a FIFO (opened non-blocking, then refused): OSError
    otherwise, NotRegularFileError for a FIFO or device, FileNotFoundError if absent."""
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise NotRegularFileError(f"{os.path.basename(path)} is not a regular file (crafted store?)")
    return fd


def read_at(loc: Location, out: memoryview) -> None:
    """Fill `out` (`loc.length` bytes) from the pack; PackError if the pack is shorter
    than its index says, FileNotFoundError if it is gone."""
    fd = open_regular(loc.path)
    try:
        size = os.fstat(fd).st_size
        if size < loc.offset + loc.length:
            raise PackError(
                f"its pack {loc.path.name[:16]}… is truncated ({size} bytes, the chunk ends at {loc.offset + loc.length})"
            )
        n = 0
        while n < loc.length:
            got = os.preadv(fd, [out[n:]], loc.offset + n)
            if not got:
                raise PackError(f"its pack {loc.path.name[:16]}… ended early")
            n += got
    finally:
        os.close(fd)


class PackSet:
    """The packs of one store's `packs/` folder: which chunk lies where. The indexes are
    read on first use and again whenever the folder changed (a pack added or removed), or
    when a caller asks (`reload`), e.g. after a pack it was reading vanished."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._where: dict[str, Location] = {}
        self._packs: dict[str, tuple[str, ...]] = {}
        self.damaged: dict[str, str] = {}  # pack id -> what is wrong with its index
        self._stamp: tuple[int, int] | None = None

    def _folder_stamp(self) -> tuple[int, int] | None:
        try:
            st = os.lstat(self.folder)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns) if stat.S_ISDIR(st.st_mode) else None

    def find(self, oid: str) -> Location | None:
        loc = self._where.get(oid)
        if loc is None and self._folder_stamp() != self._stamp:
            self.reload()
            loc = self._where.get(oid)
        return loc

    def cached(self, oid: str) -> Location | None:
        """Where the indexes as last read place the chunk (no look at the folder)."""
        return self._where.get(oid)

    def packs(self) -> dict[str, tuple[str, ...]]:
        """pack id -> the chunk ids its index lists (current as of this call)."""
        if self._folder_stamp() != self._stamp:
            self.reload()
        return dict(self._packs)

    def oids(self) -> Iterator[str]:
        for oids in self.packs().values():
            yield from oids

    def unindexed(self) -> list[str]:
        """Ids of pack files with no index (a write cut short between the two renames, or
        a damaged index): nothing reads them."""
        if self._folder_stamp() is None:
            return []
        names = {e.name for e in os.scandir(self.folder)}
        return sorted(
            n[:-5] for n in names if n.endswith(".pack") and _ID.match(n[:-5]) and f"{n[:-5]}.idx" not in names
        )

    def pack_path(self, pid: str) -> Path:
        return self.folder / f"{pid}.pack"

    def reload(self) -> None:
        stamp = self._folder_stamp()  # before listing: a change meanwhile is seen next time
        where: dict[str, Location] = {}
        packs: dict[str, tuple[str, ...]] = {}
        damaged: dict[str, str] = {}
        names = sorted(e.name for e in os.scandir(self.folder)) if stamp is not None else []
        for name in names:
            pid = name[:-4]
            if not (name.endswith(".idx") and _ID.match(pid)):
                continue
            try:
                fd = open_regular(self.folder / name)
                try:
                    data = os.read(fd, _MAX_INDEX + 1)
                finally:
                    os.close(fd)
                objects = parse_index(data, pid)
            except FileNotFoundError:
                continue  # removed by a repack meanwhile
            except (OSError, PackError) as exc:
                damaged[pid] = f"its index is damaged ({exc})"
                continue
            path = self.pack_path(pid)
            for oid, (off, n) in objects.items():
                where.setdefault(oid, Location(path, off, n))
            packs[pid] = tuple(objects)
        self._where, self._packs, self.damaged, self._stamp = where, packs, damaged, stamp

    def write(
        self,
        items: Sequence[tuple[str, memoryview]],
        tmp_dir: Path,
        run: Callable[[Callable, list, int | None], Iterator],
        done: Callable[[str], None] | None = None,
    ) -> tuple[int, list[str]]:
        """Store these (id, bytes) chunks in new packs of about PACK_TARGET; returns the
        bytes written and the packs' ids. `run(fn, jobs, nbytes)` maps `fn` over jobs (the
        store's threads, or inline for small jobs);
        `done(oid)` is called on the calling thread as each chunk is written. Durable when
        this returns: each pack is fsynced and renamed, the folder fsynced, then its index
        written and the folder fsynced again."""
        if not items:
            return 0, []
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp_dir.mkdir(parents=True, exist_ok=True)
        runs = plan([len(v) for _oid, v in items])
        written = 0
        staged: list[tuple[int, Path, str, list[str], list[int], list[int]]] = []
        try:
            jobs: list[tuple[int, int, memoryview, str]] = []
            for run_ in runs:
                oids = [items[i][0] for i in run_]
                sizes = [len(items[i][1]) for i in run_]
                offsets, end = layout(sizes)
                pid = pack_id(oids)
                tmp = tmp_dir / f".{pid[:40]}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
                fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o444)
                staged.append((fd, tmp, pid, oids, offsets, sizes))
                os.ftruncate(fd, end)
                jobs.extend((fd, off, items[i][1], items[i][0]) for i, off in zip(run_, offsets))
                written += end
            for oid in run(_pwrite_job, jobs, sum(len(v) for _oid, v in items)):
                if done is not None:
                    done(oid)
            list(run(os.fsync, [s[0] for s in staged], None))
            for fd, tmp, pid, *_ in staged:
                os.close(fd)
                os.replace(tmp, self.pack_path(pid))
            staged_done = [(pid, oids, offsets, sizes) for _fd, _tmp, pid, oids, offsets, sizes in staged]
            staged = []
        except BaseException:
            for fd, tmp, *_ in staged:
                try:
                    os.close(fd)
                except OSError:
                    pass
                tmp.unlink(missing_ok=True)
            raise
        fsync_dir(self.folder)  # the packs are in place before any index names them
        for pid, oids, offsets, sizes in staged_done:
            index = encode_index(pid, oids, offsets, sizes)
            written += write_atomic(self.folder / f"{pid}.idx", index, tmp_dir=tmp_dir, mode=0o444, sync_dir=False)
        fsync_dir(self.folder)
        return written, [pid for pid, *_ in staged_done]

    def delete(self, pid: str) -> int:
        """Remove a pack (its index first, so no reader is sent to a missing pack by a
        fresh listing); bytes freed. Only names this module makes, never a link."""
        freed = 0
        for path in (self.folder / f"{pid}.idx", self.pack_path(pid)):
            try:
                st = os.lstat(path)
            except FileNotFoundError:
                continue
            if stat.S_ISREG(st.st_mode):
                path.unlink(missing_ok=True)
                freed += st.st_size
        return freed


def _pwrite_job(job: tuple[int, int, memoryview, str]) -> str:
    fd, offset, data, oid = job
    n = 0
    while n < len(data):
        n += os.pwrite(fd, data[n:], offset + n)
    return oid

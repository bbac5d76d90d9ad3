"""Content-addressed object store for the bytes of versioned variables.

An object is a chunk of at most `chunk_size` bytes, named by the BLAKE3 hex digest of its
contents and kept at `<root>/objects/ab/cdef…`. Fixed-size chunks make a commit after an
in-place edit store only the chunks that changed, and cost nothing to find.

Writes are atomic (temp file, fsync, rename, fsync of the directory), so a crash leaves
either a whole object or a stray temp file that `remove_stale_temp_files` cleans.
Every read verifies the digest. An id is validated before it becomes a path.

A chunk that differs from the same chunk of the parent version in scattered bytes may be
kept instead as a *delta object* at `<root>/deltas/ab/cdef…` under the same id: the base's
id plus zstd(new ^ base) (format in `store/deltas.py`). Ids and manifests do not change; a
read rebuilds the chunk from its base and verifies the digest of the result. Chains are
at most `MAX_DELTA_DEPTH` deep, so a read touches at most that many objects plus one.

Newest is fastest ("tip copies"): a chunk written as a delta is also written full under
the same id (its bytes are in memory: nothing is rebuilt), so the version just committed
reads as plainly as one stored full; a read prefers the full file. A chunk may thus have
both files. The repository drops the full copy once no branch or tag tip uses the chunk
(`drop_full_copies`, which keeps it unless the chunk's delta chain reaches a full object),
so only old versions rebuild chains. Deltas are forward (the base is the older chunk and
never changes), so a delta's recorded depth stays exact whichever full copies come and go:
`depth` is the delta's depth whenever one exists, and chains stay within the cap.

Packs (`store/packfiles.py`): the fresh full chunks of one big write (a first commit of a
model, a model of a new shape: `PACK_FROM` bytes or more) go into pack files of ~64 MiB
under `<root>/packs/` rather than a file each; `repack` (gc) moves loose full chunks into packs and rewrites packs that hold
chunks nothing reaches. A read looks for a loose file, then a pack, then a delta; stores
written before packs existed (loose files only) read as they always did. Tip copies stay
loose files, so they can be dropped one by one.
"""

from __future__ import annotations

import mmap
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import blake3

from ..atomic import fsync_dir, write_atomic
from ..errors import CorruptObjectError, InvalidObjectIdError
from ..objects import Stream
from . import deltas as deltas_format
from . import mapping
from .housekeeping import Housekeeping
from .packfiles import Location, NotRegularFileError, PackError, PackSet, open_regular, read_at

DEFAULT_CHUNK_SIZE = 2 << 20  # 2 MiB: a 1 % edit of 1 GiB adds ~12 MiB (4 MiB: up to 16); 512 files per GiB
_OID = re.compile(r"\A[0-9a-f]{64}\Z")
_WORKERS = max(2, min(8, os.cpu_count() or 2))
_THREAD_FROM = 256 << 10  # jobs smaller than this on average run inline: a thread hand-off costs more
_MMAP_ABOVE = 1 << 20
MAX_DELTA_DEPTH = 8  # a chunk whose base is this deep is stored full: reads stay bounded
_DELTA_SLACK = 1 << 10  # a delta is stored only when under half its chunk; this is room for zstd framing
# A write of this many bytes of fresh full chunks goes into packs; a smaller one (a few
# small variables) stays loose files, which gc packs later, as Git does with its objects.
PACK_FROM = 8 << 20


def digest(data) -> str:
    return blake3.blake3(data).hexdigest()


def validate_oid(oid: object) -> str:
    if not isinstance(oid, str) or not _OID.match(oid):
        raise InvalidObjectIdError(oid)
    return oid


def _allocate(size: int) -> bytearray | mmap.mmap:
    """A writable buffer for a stream about to be read in full. Large ones are anonymous
    memory: its pages arrive zeroed on first touch, inside the reader threads, where
    bytearray(size) first zero-fills the whole buffer on one core (0.4 s of a 1 GiB
    checkout on the benchmark machine)."""
    return mmap.mmap(-1, size) if size >= _MMAP_ABOVE else bytearray(size)


def _chunks(view: memoryview, size: int) -> list[memoryview]:
    return [view[i : i + size] for i in range(0, len(view), size)]


def _memory_bytes() -> int | None:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


class ObjectStore(Housekeeping):
    def __init__(self, root: str | os.PathLike, chunk_size: int = DEFAULT_CHUNK_SIZE):
        self.root = Path(root)
        self.objects_dir = self.root / "objects"
        self.deltas_dir = self.root / "deltas"
        self._objects_prefix = str(self.objects_dir) + os.sep
        self._deltas_prefix = str(self.deltas_dir) + os.sep
        self.tmp_dir = self.root / "tmp"
        self.packs = PackSet(self.root / "packs")
        self.chunk_size = chunk_size
        self._pool: ThreadPoolExecutor | None = None
        # Where chunks this store lacks come from (a remote's lazy fetch): called with the
        # missing ids before a stream is read; it `add`s them. None: missing is an error.
        self.fetch_missing: Callable[[list[str]], None] | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    # -- paths -------------------------------------------------------------------------
    # One Path built from a string: two `/` joins per call were most of fsck's time at scale.
    def path(self, oid: str) -> Path:
        return Path(self._loose(oid))

    def delta_path(self, oid: str) -> Path:
        return Path(self._delta(oid))

    # The same as strings, for the per-chunk checks: building a Path costs ~20 us, which
    # was a third of gc's time over a million chunks.
    def _loose(self, oid: str) -> str:
        validate_oid(oid)
        return f"{self._objects_prefix}{oid[:2]}{os.sep}{oid[2:]}"

    def _delta(self, oid: str) -> str:
        validate_oid(oid)
        return f"{self._deltas_prefix}{oid[:2]}{os.sep}{oid[2:]}"

    def has(self, oid: str) -> bool:
        return self.has_full(oid) or self.has_delta(oid)

    def has_full(self, oid: str) -> bool:
        """The object's full bytes are stored: a loose file (alone, or as a tip copy beside
        its delta) or in a pack."""
        return os.path.exists(self._loose(oid)) or self.packs.find(oid) is not None

    def has_loose(self, oid: str) -> bool:
        """A loose full file of the object exists (what `drop_full_copies` can delete)."""
        return os.path.exists(self._loose(oid))

    def full_location(self, oid: str) -> Location | None:
        """Where the object's full bytes lie (a loose file or a pack), None if stored only as
        a delta or absent. A loose file that is not a regular file is CorruptObjectError."""
        path = self._loose(oid)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return self.packs.find(oid)
        if not stat.S_ISREG(st.st_mode):
            raise CorruptObjectError(oid, "not a regular file (crafted store?)")
        return Location(Path(path), 0, st.st_size)

    def has_delta(self, oid: str) -> bool:
        """A delta file of the object exists (alone, or with a full tip copy beside it)."""
        return os.path.exists(self._delta(oid))

    def is_delta(self, oid: str) -> bool:
        """True if the object is kept only as a delta (a read rebuilds its chain)."""
        return not self.has_full(oid) and self.has_delta(oid)

    def _delta_header(self, oid: str) -> tuple[str, int, int]:
        """(base id, content size, chain depth) of the object's delta; FileNotFoundError
        if it has none, DeltaFormatError if the header is damaged."""
        with _open_object(self._delta(oid)) as f:
            return deltas_format.parse_header(f.read(deltas_format.HEADER_SIZE))

    def delta_base(self, oid: str) -> str | None:
        """The base id of the object's delta, if one exists and its header reads."""
        try:
            return self._delta_header(oid)[0]
        except (FileNotFoundError, deltas_format.DeltaFormatError):
            return None

    def depth(self, oid: str) -> int | None:
        """The chain depth of the object's delta whenever it has one (a full tip copy beside
        it does not count: the copy may be dropped, the delta stays), 0 for an object kept
        only full, None if absent or its delta's header is unreadable."""
        try:
            return self._delta_header(oid)[2]
        except FileNotFoundError:
            return 0 if self.has_full(oid) else None
        except (deltas_format.DeltaFormatError, CorruptObjectError):
            return None

    def stored_size(self, oid: str) -> int:
        """Bytes the object takes on disk (its full file and its delta, either or both; 0 if
        absent)."""
        total = 0
        for p in (self.path(oid), self.delta_path(oid)):
            try:
                total += p.stat().st_size
            except FileNotFoundError:
                pass
        packed = self.packs.find(oid)
        return total + (packed.length if packed is not None else 0)

    def _executor(self) -> ThreadPoolExecutor:
        # BLAKE3 and file I/O release the GIL, so threads overlap hashing with writing.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="mvc-store")
        return self._pool

    def _map(self, fn: Callable, jobs: list, nbytes: int | None = None) -> Iterator:
        """`fn` over `jobs` on the store's threads, or inline where the jobs are few or
        (with `nbytes`, their total size) small: a million 1 KiB chunks hashed through the
        pool spent most of their time handing jobs to threads."""
        if len(jobs) < 2 or nbytes is not None and nbytes < _THREAD_FROM * len(jobs):
            return map(fn, jobs)
        return self._executor().map(fn, jobs)

    # -- writing -------------------------------------------------------------------------
    def plan(self, data) -> Stream:
        """The stream `data` would be stored as, without writing anything."""
        view = memoryview(data).cast("B")
        parts = _chunks(view, self.chunk_size)
        oids = list(self._map(digest, parts, len(view)))
        return Stream(len(view), tuple(oids), self.chunk_size)

    def put_many(
        self,
        buffers: Sequence,
        bases: Sequence[Stream | None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[list[Stream], int]:
        """Store each buffer as a stream; returns the streams and the bytes newly written.
        `progress(n)`, on the calling thread as each distinct chunk is stored (or found
        already there): the `n` bytes of the buffers it covers; the calls add up to the
        buffers' total size.

        Chunks already present are not rewritten (that is the dedup). `bases[i]`, if given,
        is the same data's stream in the parent version: when it has the same size and
        chunk size, a new chunk may be written as a delta against the chunk at the same
        position; it is then written full too (its tip copy), and so is a chunk found only
        as a delta, so every chunk of these buffers has a full file afterwards. The bytes
        written count both files. All chunks are durable on disk before this returns, so
        a ref may then point at them.
        """
        views = [memoryview(b).cast("B") for b in buffers]
        bases = list(bases) if bases is not None else [None] * len(views)
        if len(bases) != len(views):
            raise ValueError(f"{len(bases)} bases for {len(views)} buffers")
        parts: list[tuple[int, memoryview, str | None]] = []
        for i, v in enumerate(views):
            stream = bases[i]
            usable = stream is not None and stream.size == len(v) and stream.chunk_size == self.chunk_size
            for j, part in enumerate(_chunks(v, self.chunk_size)):
                parts.append((i, part, stream.chunks[j] if usable and stream is not None else None))
        total = sum(len(v) for v in views)
        oids_flat = list(self._map(lambda job: digest(job[1]), parts, total))
        unique: dict[str, tuple[memoryview, str | None]] = {}
        covers: dict[str, int] = {}  # bytes of the buffers each distinct chunk stands for
        for (_i, part, base), oid in zip(parts, oids_flat):
            unique.setdefault(oid, (part, base))  # identical chunks are written once
            covers[oid] = covers.get(oid, 0) + len(part)
        # First what is present, or stored as a delta with its tip copy (both loose files);
        # then the plain full chunks left over: into packs when there are enough of them.
        jobs = list(unique.items())
        results: list[tuple[int, list[Path]]] = []
        plain: list[tuple[str, memoryview]] = []
        put = self._map(lambda job: self._put_chunk(job[0], *job[1]), jobs, sum(len(p) for _o, (p, _b) in jobs))
        for (oid, (part, _base)), result in zip(jobs, put):
            if result is None:
                plain.append((oid, part))
                continue
            results.append(result)
            if progress is not None:
                progress(covers[oid])
        written = 0
        if sum(len(part) for _oid, part in plain) >= PACK_FROM:
            on_packed = (lambda oid: progress(covers[oid])) if progress is not None else None
            written, _packs = self.packs.write(plain, self.tmp_dir, self._map, on_packed)
        else:
            put = self._map(lambda job: self._write_file(job[0], self.path(job[0]), job[1]), plain)
            for (oid, _part), (n, folder) in zip(plain, put):
                results.append((n, [folder]))
                if progress is not None:
                    progress(covers[oid])
        written += sum(n for n, _ in results)
        dirs = {d for _n, folders in results for d in folders}
        for d in dirs:
            fsync_dir(d)
        for top in {d.parent for d in dirs}:
            fsync_dir(top)
        oids: list[list[str]] = [[] for _ in views]
        for (i, _part, _base), oid in zip(parts, oids_flat):
            oids[i].append(oid)
        return [Stream(len(v), tuple(o), self.chunk_size) for v, o in zip(views, oids)], written

    def put(self, data) -> Stream:
        return self.put_many([data])[0][0]

    def _put_chunk(self, oid: str, part: memoryview, base: str | None = None) -> tuple[int, list[Path]] | None:
        """Bytes written for one chunk and the folders written to, or None for a plain full
        chunk, which the caller stores (in a pack or a loose file). A chunk stored as a
        delta gets its full tip copy too, loose (delta first: a crash between the two
        leaves a chunk that reads through its chain); a chunk present only as a delta (an
        old version's, committed again) gets its loose full copy, so the newest version
        never rebuilds a chain."""
        if self.has_full(oid):
            return 0, []
        if self.has_delta(oid):
            n, folder = self._write_file(oid, self.path(oid), part)
            return n, [folder]
        delta = self._try_delta(part, base) if base is not None and base != oid else None
        if delta is None:
            return None
        n, folder = self._write_file(oid, self.delta_path(oid), memoryview(delta))
        m, full_folder = self._write_file(oid, self.path(oid), part)
        return n + m, [folder, full_folder]

    def _try_delta(self, part: memoryview, base: str) -> bytes | None:
        """The delta object for `part` against `base`, or None to store `part` full."""
        depth = self.depth(base)
        if depth is None or depth >= MAX_DELTA_DEPTH:
            return None
        if not self._sample_promising(part, base):
            return None  # judged from a few KiB of the base's full file before reading all of it
        buf = bytearray(len(part))
        try:
            self.read_into(base, memoryview(buf))
        except CorruptObjectError:
            return None  # a damaged base: store the chunk whole rather than depend on it
        delta = deltas_format.encode(part, buf, base, depth + 1)
        if delta is not None:
            # Refresh the base's age so a concurrent gc's grace period covers it too.
            for p in (self.path(base), self.delta_path(base)):
                try:
                    os.utime(p)
                except OSError:
                    pass
        return delta

    def _sample_promising(self, part: memoryview, base: str) -> bool:
        ranges = deltas_format.sample_ranges(len(part))
        if not ranges:
            return True
        try:
            where = self.full_location(base)
            if where is None or where.length != len(part):
                return True  # a delta base, or a size the full read will refuse
            fd = open_regular(where.path)
        except (OSError, CorruptObjectError):
            return True  # the full read will tell
        try:
            sample = b"".join(os.pread(fd, n, where.offset + off) for off, n in ranges)
        finally:
            os.close(fd)
        mine = b"".join(part[off : off + n] for off, n in ranges)
        if len(sample) != len(mine):
            return True
        xor = bytearray(mine)
        deltas_format.xor_into(memoryview(xor), sample)
        return deltas_format.promising(xor)

    def add(self, oid: str, data: bytes | memoryview, synced: set[Path] | None = None) -> int:
        """Store a chunk that arrived from elsewhere (a remote) under its id, after checking
        that its contents are that id. Returns the bytes written (0: already here). With
        `synced`, the folder is added to it for the caller to fsync once per batch
        (`sync_folders`) instead of now."""
        if digest(data) != validate_oid(oid):
            raise CorruptObjectError(oid, "corrupt as received (its contents do not match its id)")
        if self.has(oid):
            return 0
        return self._add_loose(oid, memoryview(data).cast("B"), synced)

    def _add_loose(self, oid: str, view: memoryview, synced: set[Path] | None) -> int:
        n, folder = self._write_file(oid, self.path(oid), view)
        if synced is None:
            fsync_dir(folder)
        else:
            synced.add(folder)
        return n

    def add_many(self, items: Sequence[tuple[str, bytes | memoryview]], synced: set[Path] | None = None) -> int:
        """`add` for a batch (the chunks one remote pack delivered): each is checked against
        its id; the good ones are stored, `PACK_FROM` bytes or more of them as a pack (a
        clone's checkout then opens a few files, as after a local commit), fewer as loose
        files; then a bad one, if any, is raised (CorruptObjectError). Bytes written."""
        good: list[tuple[str, memoryview]] = []
        bad: CorruptObjectError | None = None
        for oid, data in items:
            view = memoryview(data).cast("B")
            if digest(view) != validate_oid(oid):
                bad = bad or CorruptObjectError(oid, "corrupt as received (its contents do not match its id)")
            elif not self.has(oid):
                good.append((oid, view))
        if sum(len(v) for _oid, v in good) >= PACK_FROM:
            written = self.packs.write(good, self.tmp_dir, self._map)[0]
        else:
            written = sum(self._add_loose(oid, view, synced) for oid, view in good)
        if bad is not None:
            raise bad
        return written

    @staticmethod
    def sync_folders(folders: set[Path]) -> None:
        for folder in sorted(folders):
            fsync_dir(folder)

    def _write_file(self, oid: str, final: Path, data: memoryview) -> tuple[int, Path]:
        # Objects are read-only; the caller fsyncs each touched folder once per batch.
        # Same content under the same name: a race between two writers is harmless.
        n = write_atomic(final, data, tmp_dir=self.tmp_dir, mode=0o444, sync_dir=False)
        return n, final.parent

    # -- reading -------------------------------------------------------------------------
    def read_into(self, oid: str, out: memoryview) -> None:
        """Fill `out` (exactly the object's size) with the object, verifying its digest."""
        self._read(oid, out, MAX_DELTA_DEPTH, verify=True)

    def _read(self, oid: str, out: memoryview, budget: int, verify: bool) -> None:
        """Fill `out` from the first copy of the object that reads whole. A chunk can have
        two full copies for a while (a repack stopped before it removed the loose files it
        packed) and a delta besides: a damaged copy sends the read on to the next one, and
        the first damage is what is reported when none reads."""
        failure: CorruptObjectError | None = None
        # A chunk the loaded indexes place in a pack is read from there without first
        # failing to open a loose file (most of fsck's time per chunk otherwise).
        for source in (self._read_cached_pack, self._read_loose, self._read_new_pack):
            try:
                if not source(oid, out):
                    continue
            except CorruptObjectError as exc:
                failure = failure or exc
                continue
            if not verify or digest(out) == oid:
                return
            failure = failure or CorruptObjectError(oid, "corrupt (its contents do not match its id)")
        if failure is None:
            self._read_delta(oid, out, budget, verify)  # says why the object is missing if it has no delta
            return
        if self.has_delta(oid):
            try:
                self._read_delta(oid, out, budget, verify)
                return
            except CorruptObjectError:
                pass
        raise failure

    def _read_cached_pack(self, oid: str, out: memoryview) -> bool:
        return self.packs.cached(oid) is not None and self._read_packed(oid, out)

    def _read_new_pack(self, oid: str, out: memoryview) -> bool:
        """A pack written since the indexes were read (the cached ones were tried first)."""
        return self.packs.cached(oid) is None and self._read_packed(oid, out)

    def _read_loose(self, oid: str, out: memoryview) -> bool:
        """Fill `out` from the object's loose full file (unverified); False if it has none."""
        try:
            with _open_object(self._loose(oid)) as f:
                found = os.fstat(f.fileno()).st_size
                n = 0
                while found == len(out) and n < found:  # readinto may return short
                    got = f.readinto(out[n:])
                    if not got:
                        break
                    n += got
        except FileNotFoundError:
            return False
        if found != len(out) or n != found:
            raise CorruptObjectError(oid, f"truncated or resized (expected {len(out)} bytes, found {found})")
        return True

    def _read_packed(self, oid: str, out: memoryview) -> bool:
        """Fill `out` from the object's pack (unverified); False if no pack holds it. A pack
        that a repack removed meanwhile sends the read to the indexes again, once."""
        for attempt in range(2):
            where = self.packs.find(oid)
            if where is None:
                return False
            if where.length != len(out):
                raise CorruptObjectError(
                    oid, f"truncated or resized (expected {len(out)} bytes, its pack says {where.length})"
                )
            try:
                read_at(where, out)
                return True
            except FileNotFoundError:
                if attempt:
                    return False
                self.packs.reload()
            except PackError as exc:
                raise CorruptObjectError(oid, f"unreadable: {exc}") from None
            except OSError as exc:
                raise CorruptObjectError(oid, f"unreadable ({exc.strerror or exc})") from None
        return False

    def _read_delta(self, oid: str, out: memoryview, budget: int, verify: bool) -> None:
        """Rebuild a delta object: its base into `out`, then XOR the payload in place.
        Bases are not verified one by one; the digest of the result covers the chain."""
        try:
            with _open_object(self._delta(oid)) as f:
                raw = f.read()
        except FileNotFoundError:
            raise CorruptObjectError(oid, self._why_missing(oid)) from None
        try:
            base, size, _depth = deltas_format.parse_header(raw)
            if size != len(out):
                raise deltas_format.DeltaFormatError(
                    f"truncated or resized (expected {len(out)} bytes, its delta says {size})"
                )
            if budget <= 0:
                raise deltas_format.DeltaFormatError(f"corrupt (its delta chain is deeper than {MAX_DELTA_DEPTH})")
            try:
                self._read(base, out, budget - 1, verify=False)
            except CorruptObjectError as exc:
                raise deltas_format.DeltaFormatError(
                    f"unreadable: its delta base {exc.oid[:16]}… is {exc.why}"
                ) from None
            deltas_format.apply(raw, out)
        except deltas_format.DeltaFormatError as exc:
            raise CorruptObjectError(oid, str(exc)) from None
        if verify and digest(out) != oid:
            raise CorruptObjectError(oid, self._why_chain_broken(base, len(out)))

    def _delta_chain_backs(self, oid: str, size: int) -> bool:
        """Whether the object's delta chain stands for `size` bytes without its full copy:
        a delta, each link's declared size `size`, down to an object with no delta whose
        full file is `size` bytes, within the depth cap (headers and sizes only: the bytes
        were checked when the delta was written, `fsck` rebuilds it)."""
        current = oid
        for _ in range(MAX_DELTA_DEPTH + 1):
            try:
                base, declared, _depth = self._delta_header(current)
            except FileNotFoundError:
                if current == oid:
                    return False  # no delta: the full file is its only copy
                try:
                    where = self.full_location(current)
                except CorruptObjectError:
                    return False
                return where is not None and where.length == size
            except (deltas_format.DeltaFormatError, CorruptObjectError, OSError):
                return False
            if declared != size:
                return False
            current = base
        return False

    def _why_chain_broken(self, base: str, size: int) -> str:
        """Which link of a chain that rebuilt the wrong bytes is damaged (the slow path)."""
        try:
            self.read_into(base, memoryview(bytearray(size)))
        except CorruptObjectError as exc:
            return f"unreadable: its delta base {exc.oid[:16]}… is {exc.why}"
        return "corrupt (its delta does not rebuild its contents: the contents do not match its id)"

    def check_stream(self, stream: Stream) -> None:
        """Before a byte is allocated for it: the stream's declared sizes agree with each
        other and with the chunk files on disk (a full object's file size; a delta's
        declared size, which must match its base's, down to a full object). A manifest
        that declares 2 GiB for a 10-byte file is refused as damaged, unread."""
        size, chunk_size, chunks = stream.size, stream.chunk_size, stream.chunks
        if (
            not isinstance(size, int)
            or not isinstance(chunk_size, int)
            or size < 0
            or chunk_size <= 0
            or len(chunks) != -(-size // chunk_size)
        ):
            raise CorruptObjectError(
                next(iter(chunks), "?" * 64),
                f"declared by a damaged manifest (a stream of {size} bytes cannot have {len(chunks)} chunks of {chunk_size})",
            )
        memory = _memory_bytes()
        if memory is not None and size > memory:
            raise MemoryError(f"a stream of {size} bytes is larger than this machine's memory ({memory} bytes)")
        if self.fetch_missing is not None:  # before sizes are read from disk: bring what is absent
            missing = [oid for oid in dict.fromkeys(chunks) if not self.has(oid)]
            if missing:
                self.fetch_missing(missing)
        for oid, expected in stream.sized_chunks():
            found = self.content_size(oid)
            if found != expected:
                raise CorruptObjectError(oid, f"truncated or resized (expected {expected} bytes, found {found})")

    def content_size(self, oid: str) -> int:
        """Bytes the object rebuilds to, from what is on disk and without reading it: a full
        object's file size, or a delta's declared size checked link by link against its
        base down to a full object (CorruptObjectError if absent, a link, or inconsistent)."""
        current, expected = oid, None
        for _ in range(MAX_DELTA_DEPTH + 1):
            try:
                found = self._one_size(current, expected)
            except CorruptObjectError as exc:
                if current == oid:
                    raise
                raise CorruptObjectError(oid, f"unreadable: its delta base {current[:16]}… is {exc.why}") from None
            if isinstance(found, int):
                return found
            current, expected = found
        raise CorruptObjectError(oid, f"corrupt (its delta chain is deeper than {MAX_DELTA_DEPTH})")

    def _one_size(self, oid: str, expected: int | None) -> int | tuple[str, int]:
        """A full object's size, or (base, declared size) of a delta; `expected` is what the
        delta above it declared."""
        packed = self.packs.cached(oid)
        if packed is not None and (expected is None or packed.length == expected):
            return packed.length
        try:
            st = os.lstat(self._loose(oid))
        except FileNotFoundError:
            st = None
        if st is not None:
            if not stat.S_ISREG(st.st_mode):
                raise CorruptObjectError(oid, "not a regular file (crafted store?)")
            if expected is not None and st.st_size != expected:
                raise CorruptObjectError(oid, f"truncated or resized (expected {expected} bytes, found {st.st_size})")
            return st.st_size
        packed = self.packs.find(oid)
        if packed is not None:
            if expected is not None and packed.length != expected:
                raise CorruptObjectError(
                    oid, f"truncated or resized (expected {expected} bytes, its pack says {packed.length})"
                )
            return packed.length
        try:
            st = os.lstat(self._delta(oid))
        except FileNotFoundError:
            raise CorruptObjectError(oid, self._why_missing(oid)) from None
        if not stat.S_ISREG(st.st_mode):
            raise CorruptObjectError(oid, "not a regular file (crafted store?)")
        try:
            base, size, _depth = self._delta_header(oid)
        except deltas_format.DeltaFormatError as exc:
            raise CorruptObjectError(oid, str(exc)) from None
        except OSError as exc:
            raise CorruptObjectError(oid, f"unreadable ({exc.strerror or exc})") from None
        if expected is not None and size != expected:
            raise CorruptObjectError(oid, f"truncated or resized (expected {expected} bytes, its delta says {size})")
        if st.st_size > deltas_format.HEADER_SIZE + size + _DELTA_SLACK:
            raise CorruptObjectError(oid, f"corrupt (a delta of {st.st_size} bytes for {size} bytes of contents)")
        return base, size

    def _why_missing(self, oid: str) -> str:
        self.packs.reload()  # a pack written within the folder's last timestamp tick
        if self.packs.find(oid) is not None:
            return "moved into a pack while being read (read it again)"
        if self.packs.damaged:
            pid, why = next(iter(self.packs.damaged.items()))
            return f"missing from the object store (and the pack {pid[:16]}… cannot be read: {why})"
        return "missing from the object store"

    def read_stream(
        self, stream: Stream, out: memoryview | None = None, progress: Callable[[int], None] | None = None
    ) -> bytearray | mmap.mmap | memoryview:
        """The stream's bytes in one writable buffer (allocated unless `out` is given).
        Its sizes are checked against the store first (`check_stream`). `progress(n)`, on
        the calling thread after each chunk is read and verified: its `n` bytes."""
        self.check_stream(stream)
        buf = _allocate(stream.size) if out is None else out
        view = memoryview(buf).cast("B")
        if len(view) != stream.size:
            raise ValueError(f"buffer of {len(view)} bytes for a stream of {stream.size}")
        parts = _chunks(view, stream.chunk_size)
        jobs = list(zip(stream.chunks, parts))
        if len(jobs) > 1:
            for n in self._map(self._read_part, jobs, stream.size):
                if progress is not None:
                    progress(n)
        else:
            for oid, part in jobs:
                self.read_into(oid, part)
                if progress is not None:
                    progress(len(part))
        return buf

    def map_stream(self, stream: Stream) -> bytearray | mmap.mmap | memoryview:
        """The stream's bytes, paged in from the chunk files on first touch
        (`store/mapping.py`): a full chunk is neither read nor hashed again here (each was
        verified when this store wrote or received it; `mvc fsck` re-checks them at rest),
        a chunk kept as a delta is rebuilt and verified now, as any read. The buffer is
        private: writing to it changes nothing stored. Where mapping is unavailable, the
        stream is read as `read_stream` does."""
        if stream.size == 0 or not mapping.available(stream.chunk_size):
            return self.read_stream(stream)  # it checks the stream itself
        self.check_stream(stream)
        full = [self._mappable(oid) for oid in stream.chunks]
        try:
            return mapping.map_chunks(
                stream.size, stream.chunk_size, full, lambda i, view: self.read_into(stream.chunks[i], view)
            )
        except OSError:  # a chunk turned into a delta meanwhile, or the system refused: read it
            return self.read_stream(stream)

    def _mappable(self, oid: str) -> tuple[Path, int] | None:
        """(file, offset) of a full chunk that can be mapped in place (page-aligned), else
        None: the chunk is read (a delta rebuilt, a small packed chunk copied)."""
        try:
            where = self.full_location(oid)
        except CorruptObjectError:
            return None
        if where is None or not mapping.aligned(where.offset):
            return None
        return where.path, where.offset

    def _read_part(self, job: tuple[str, memoryview]) -> int:
        self.read_into(*job)
        return len(job[1])

    def verify(self, oid: str, size: int | None = None) -> str | None:
        """None if the object is whole (and `size` bytes long, if given), else what is wrong.
        The same path as a read: a delta is rebuilt through its chain and checked. An
        object with both files (a full tip copy beside its delta) has both checked: the
        delta is what stays once the copy is dropped."""
        try:
            found = self.content_size(oid)  # checked against the disk before allocating
            if size is not None and found != size:
                raise CorruptObjectError(oid, f"truncated or resized (expected {size} bytes, found {found})")
            buf = memoryview(bytearray(found))
            self.read_into(oid, buf)
            if self.has_delta(oid) and self.has_full(oid):
                self._verify_delta_beside_copy(oid, buf)
        except CorruptObjectError as exc:
            return exc.why
        return None

    def _verify_delta_beside_copy(self, oid: str, out: memoryview) -> None:
        """Rebuild the delta of an object that also has a full copy (`out`: its size)."""
        try:
            st = os.lstat(self.delta_path(oid))
        except FileNotFoundError:
            return  # dropped meanwhile: nothing more to check
        if st.st_size > deltas_format.HEADER_SIZE + len(out) + _DELTA_SLACK:
            raise CorruptObjectError(oid, f"corrupt (its delta of {st.st_size} bytes for {len(out)} bytes of contents)")
        try:
            self._read_delta(oid, out, MAX_DELTA_DEPTH, verify=True)
        except CorruptObjectError as exc:
            raise CorruptObjectError(oid, f"{exc.why} (in its delta; its full copy reads)") from None


def _open_object(path: str):  # -> a raw binary file
    """Open an object file for reading: a regular file, never a symbolic link or a FIFO
    (which could point out of the store or block the reader forever). `path` is
    `<folder>/ab/cdef…`, so its last two parts spell the object's id."""
    oid = "".join(path.rsplit(os.sep, 2)[-2:])
    try:
        fd = open_regular(path)
    except FileNotFoundError:
        raise
    except NotRegularFileError:
        raise CorruptObjectError(oid, "not a regular file (crafted store?)") from None
    except OSError as exc:
        raise CorruptObjectError(oid, f"unreadable ({exc.strerror or exc})") from None
    return open(fd, "rb", buffering=0)

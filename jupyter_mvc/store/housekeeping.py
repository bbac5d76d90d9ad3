"""Housekeeping of the chunk store (gc's side): list every stored id, remove objects and
stale temp files, drop the full tip copies of chunks their deltas stand for, repack. Nothing here
follows a symbolic link or removes a name the store did not make, so a crafted or copied
store cannot lead it outside `<gitdir>/mvc`."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from ..errors import CorruptObjectError
from . import packfiles
from .packfiles import PackSet

_OID = re.compile(r"\A[0-9a-f]{64}\Z")
# Temp files of object writes: write_atomic's ".<40 hex of the name>.<pid>.<8 hex>.tmp"
# (older releases: "<hex>.<pid>.tmp"). gc removes nothing else from tmp/.
_TEMP = re.compile(r"\A\.?[0-9a-f]{1,64}\.[0-9]+(?:\.[0-9a-f]{8})?\.tmp\Z")


class Housekeeping:
    """Mixed into ObjectStore, whose folders (objects_dir, deltas_dir, tmp_dir),
    `path`/`delta_path` and `_delta_chain_backs` it uses."""

    objects_dir: Path
    deltas_dir: Path
    tmp_dir: Path
    packs: PackSet

    def read_into(self, oid: str, out: memoryview) -> None:
        raise NotImplementedError

    def content_size(self, oid: str) -> int:
        raise NotImplementedError

    def _map(self, fn: Callable, jobs: list, nbytes: int | None = None) -> Iterator:
        raise NotImplementedError

    def has_delta(self, oid: str) -> bool:
        raise NotImplementedError

    def path(self, oid: str) -> Path:
        raise NotImplementedError

    def delta_path(self, oid: str) -> Path:
        raise NotImplementedError

    def iter_oids(self) -> Iterator[str]:
        """Every stored id, loose, packed or delta (each once). Symbolic links (to folders or
        files) are never ours: they are not followed and not listed."""
        seen: set[str] = set()
        for oid in self.packs.oids():
            if oid not in seen:
                seen.add(oid)
                yield oid
        for top in (self.objects_dir, self.deltas_dir):
            for oid in _ids_in(top):
                if oid not in seen:
                    seen.add(oid)
                    yield oid

    def remove(self, oids: Iterable[str], older_than: float) -> tuple[int, int]:
        """Delete the given objects' loose files (full and delta) if last modified before
        `older_than` (epoch seconds); packed copies go in `repack`.

        The age check keeps objects that a commit in flight has written but not yet
        referenced from a ref.
        """
        count = freed = 0
        for oid in oids:
            gone = False
            for p in (self.path(oid), self.delta_path(oid)):
                if not (_real_dir(p.parent.parent) and _real_dir(p.parent)):
                    continue  # a symlinked objects/ or objects/ab/ leads out of the store
                try:
                    st = os.lstat(p)
                except FileNotFoundError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue  # not a file we wrote (a link, a folder)
                if st.st_mtime < older_than:
                    p.unlink(missing_ok=True)
                    gone = True
                    freed += st.st_size
            count += gone
        return count, freed

    def drop_full_copies(self, oids: Iterable[str], older_than: float | None = None) -> tuple[int, int]:
        """Delete the full tip copies of the given objects: only of a valid id, only where
        the object's delta chain reaches a full object (`_delta_chain_backs`: a chunk
        without a delta is its chain's anchor, and its full file is its only copy), and,
        with `older_than`, only copies last modified before it. Returns (copies dropped,
        bytes freed). A reader that finds the copy gone reads the delta; one that opened it
        reads on."""
        count = freed = 0
        for oid in dict.fromkeys(oids):
            if not isinstance(oid, str) or not _OID.match(oid):
                continue
            p = self.path(oid)
            if not (_real_dir(p.parent.parent) and _real_dir(p.parent)):
                continue
            try:
                st = os.lstat(p)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(st.st_mode) or older_than is not None and st.st_mtime >= older_than:
                continue
            if not self._delta_chain_backs(oid, st.st_size):
                continue
            try:
                p.unlink()
            except OSError:  # gone meanwhile, or not ours to remove: the copy only costs space
                continue
            count += 1
            freed += st.st_size
        return count, freed

    def _delta_chain_backs(self, oid: str, size: int) -> bool:
        raise NotImplementedError

    def repack(self, reachable: set[str], older_than: float) -> tuple[int, int, int]:
        """Pack what is loose and drop from packs what nothing reaches: loose full chunks in
        `reachable` with no delta (tip copies stay loose, to be dropped one by one) move into
        packs, and packs last modified before `older_than` are rewritten with only their
        reachable chunks when they hold others, or merged when small (under a quarter of
        PACK_TARGET, two or more). Each chunk is read and verified on its way; a damaged
        one is left where it was, and so is its pack (fsck names it). Returns (chunks
        dropped from packs, bytes freed, loose chunks packed); the new packs are durable
        before anything old is removed."""
        packs = self.packs.packs()
        freed = sum(self.packs.delete(pid) for pid in self.packs.unindexed() if self._older(pid, older_than))
        rewrite: dict[str, tuple[str, ...]] = {}
        small: dict[str, tuple[str, ...]] = {}
        for pid, oids in packs.items():
            try:
                st = os.lstat(self.packs.pack_path(pid))
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or st.st_mtime >= older_than:
                continue  # young: a commit in flight may be about to name its chunks (or not ours)
            if any(oid not in reachable for oid in oids):
                rewrite[pid] = oids
            elif st.st_size < packfiles.PACK_TARGET // 4:
                small[pid] = oids
        loose = [oid for oid in _ids_in(self.objects_dir) if oid in reachable and not self.has_delta(oid)]
        if len(small) > 1 or small and (rewrite or loose):
            rewrite.update(small)
        if not rewrite and not loose:
            return 0, freed, 0
        wanted = list(dict.fromkeys([*loose, *(oid for oids in rewrite.values() for oid in oids if oid in reachable)]))
        damaged: set[str] = set()
        new_ids: set[str] = set()
        batch: list[tuple[str, memoryview]] = []
        filled = 0
        for oid in [*wanted, None]:
            if oid is not None:
                try:
                    size = self.content_size(oid)
                    buf = memoryview(bytearray(size))
                    self.read_into(oid, buf)
                except (CorruptObjectError, OSError):
                    damaged.add(oid)
                    continue
                batch.append((oid, buf))
                filled += size
            if batch and (oid is None or filled >= packfiles.PACK_TARGET):
                written, ids = self.packs.write(batch, self.tmp_dir, self._map)
                freed -= written
                new_ids.update(ids)
                batch, filled = [], 0
        dropped = 0
        for pid, oids in rewrite.items():
            if pid in new_ids or any(oid in damaged for oid in oids):
                continue  # rewritten to itself (same chunks), or holding a chunk that did not read
            dropped += sum(oid not in reachable for oid in oids)
            freed += self.packs.delete(pid)
        packed = 0
        for oid in loose:
            if oid in damaged:
                continue
            p = self.path(oid)
            try:
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode) and _real_dir(p.parent):
                    p.unlink()
                    freed += st.st_size
                    packed += 1
            except OSError:
                continue
        self.packs.reload()
        return dropped, freed, packed

    def _older(self, pid: str, than: float) -> bool:
        try:
            return os.lstat(self.packs.pack_path(pid)).st_mtime < than
        except OSError:
            return False

    def remove_stale_temp_files(self, older_than: float) -> int:
        """Delete temp files a crashed write left in `tmp/` (only names `write_atomic`
        makes, only regular files, never through a symbolic link)."""
        if not _real_dir(self.tmp_dir):
            return 0
        n = 0
        for f in os.scandir(self.tmp_dir):
            if not _TEMP.match(f.name):
                continue
            try:
                st = f.stat(follow_symlinks=False)
                if stat.S_ISREG(st.st_mode) and st.st_mtime < older_than:
                    os.unlink(os.path.join(self.tmp_dir, f.name))
                    n += 1
            except FileNotFoundError:
                pass
        return n


def _real_dir(path: Path) -> bool:
    """A folder that is not a symbolic link (gc never follows one out of the store)."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _ids_in(top: Path) -> Iterator[str]:
    """Ids of the object files under `top` (objects/ or deltas/, fanned out as ab/cdef...):
    regular files only, never through a symbolic link."""
    if not _real_dir(top):
        return
    for fan in sorted(top.iterdir()):
        if len(fan.name) != 2 or not _real_dir(fan):
            continue
        for f in os.scandir(fan):
            oid = fan.name + f.name
            if _OID.match(oid) and f.is_file(follow_symlinks=False):
                yield oid

"""Housekeeping of the chunk store (gc's side): list every stored id, remove objects and
stale temp files, drop the full tip copies of chunks their deltas stand for. Nothing here
follows a symbolic link or removes a name the store did not make, so a crafted or copied
store cannot lead it outside `<gitdir>/mvc`."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

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

    def path(self, oid: str) -> Path:
        raise NotImplementedError

    def delta_path(self, oid: str) -> Path:
        raise NotImplementedError

    def iter_oids(self) -> Iterator[str]:
        """Every stored id, full or delta (each once). Symbolic links (to folders or files)
        are never ours: they are not followed and not listed."""
        seen: set[str] = set()
        for top in (self.objects_dir, self.deltas_dir):
            if not _real_dir(top):
                continue
            for fan in sorted(top.iterdir()):
                if len(fan.name) != 2 or not _real_dir(fan):
                    continue
                for f in os.scandir(fan):
                    oid = fan.name + f.name
                    if _OID.match(oid) and oid not in seen and f.is_file(follow_symlinks=False):
                        seen.add(oid)
                        yield oid

    def remove(self, oids: Iterable[str], older_than: float) -> tuple[int, int]:
        """Delete the given objects if last modified before `older_than` (epoch seconds).

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

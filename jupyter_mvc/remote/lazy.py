"""Lazy fetch: a repository with remotes reads a chunk it lacks from the pack that holds
it (a ranged read of just that chunk, verified against its id before it is stored), so
loading one variable of a large version downloads that variable only."""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import CorruptObjectError
from ..repo import Repo
from . import crypto, packs, remotes
from .packs import PackIndex
from .sealed import cipher_of
from .transport import Transport

_PARALLEL = 4  # packs fetched at once


class RemoteChunks:
    """The object store's `fetch_missing` for a repository with remotes."""

    def __init__(self, repo: Repo):
        self.repo = repo
        self.fetched_bytes = 0  # what lazy reads brought in, this process
        self._where: dict[str, tuple[str, PackIndex]] | None = None  # chunk -> (remote, pack)
        self._transports: dict[str, Transport] = {}

    def _transport(self, name: str) -> Transport:
        if name not in self._transports:
            self._transports[name] = remotes.get(self.repo, name).transport()
        return self._transports[name]

    def _locate(self, refresh: bool) -> dict[str, tuple[str, PackIndex]]:
        if self._where is None or refresh:
            where: dict[str, tuple[str, PackIndex]] = {}
            for name, remote in remotes.read(self.repo).items():
                if refresh:
                    refresh_indexes(self.repo, name, self._transport(name))
                folder = remotes.cache_dir(self.repo, name) / "packs"
                for index in packs.cached_indexes(folder, check_id=not remote.encrypted).values():
                    for oid in index.objects:
                        where.setdefault(oid, (name, index))
            self._where = where
        return self._where

    def has(self, oid: str) -> bool:
        """Whether a remote's cached index lists the chunk (nothing is downloaded)."""
        return oid in self._locate(refresh=False)

    def __call__(self, missing: list[str]) -> None:
        where = self._locate(refresh=False)
        if any(oid not in where for oid in missing):
            where = self._locate(refresh=True)  # pushed since our last fetch
        wanted: dict[tuple[str, str], list[str]] = defaultdict(list)
        for oid in missing:
            if oid in where:
                name, index = where[oid]
                wanted[(name, index.pack_id)].append(oid)
        folders: set[Path] = set()
        lock = threading.Lock()

        def fetch_pack(job: tuple[tuple[str, str], list[str]]) -> None:
            (name, pid), oids = job
            index = where[oids[0]][1]
            t = self._transport(name)
            cipher = cipher_of(t)
            got = t.get_ranges(packs.pack_key(pid), [index.objects[oid] for oid in oids])
            opened: list[tuple[str, bytes]] = []
            for oid, data in zip(oids, got):
                if cipher is not None:
                    try:
                        data = cipher.open_chunk(oid, data)
                    except crypto.DecryptError as exc:
                        self._add(opened, folders, lock)  # what arrived whole is kept
                        raise CorruptObjectError(oid, f"unreadable from remote {name}: {exc}") from None
                opened.append((oid, data))
            self._add(opened, folders, lock)

        jobs = list(wanted.items())
        for name, _pid in wanted:
            self._transport(name)  # opened (and unlocked) once, before the threads share it
        if len(jobs) > 1:  # packs in parallel: one's download overlaps another's writes
            with ThreadPoolExecutor(min(_PARALLEL, len(jobs))) as pool:
                list(pool.map(fetch_pack, jobs))
        elif jobs:
            fetch_pack(jobs[0])
        self.repo.store.sync_folders(folders)  # one fsync per folder, not per chunk
        # Chunks no remote has stay missing: the read that asked says which, as for any store.

    def _add(self, chunks: list[tuple[str, bytes]], folders: set[Path], lock: threading.Lock) -> None:
        n = self.repo.store.add_many(chunks, folders)  # a whole pack's worth lands as a local pack
        with lock:
            self.fetched_bytes += n


def refresh_indexes(repo: Repo, name: str, t: Transport) -> dict[str, PackIndex]:
    """The remote's pack indexes: one listing, then only the indexes not cached yet."""
    folder = remotes.cache_dir(repo, name) / "packs"
    private = cipher_of(t) is not None
    cached = packs.cached_indexes(folder, check_id=not private)
    listed = t.list("packs/")
    sizes = {item.key: item.size for item in listed}
    present = packs.index_ids(sizes)
    for pid in set(cached) - present:  # removed by a gc (perhaps another member's): forget it
        del cached[pid]
        (folder / f"{pid}.idx").unlink(missing_ok=True)
    for pid in present - set(cached):
        data = t.get(packs.index_key(pid))
        index = packs.parse_index(data, pid, t.url, check_id=not private)
        end = max((off + n for off, n in index.objects.values()), default=0)
        if sizes.get(packs.pack_key(pid), -1) < end:
            continue  # its pack is missing or shorter: unusable, and not cached
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{pid}.idx").write_bytes(data)
        cached[pid] = index
    return cached


def attach(repo: Repo) -> Repo:
    """Give the repository's store a lazy source when it has remotes (else leave it)."""
    if repo.store.fetch_missing is None and remotes.read(repo):
        repo.store.fetch_missing = RemoteChunks(repo)
    return repo

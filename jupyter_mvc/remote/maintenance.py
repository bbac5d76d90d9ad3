"""fsck and gc of a remote. Both start from a fetch (the remote's refs and history), so
"reachable" means: a chunk some version on a remote branch or tag needs.

fsck checks that every index parses (and, on a private remote, authenticates), that each
pack is as long as its index says, and that every reachable chunk is in some pack; with
`data`, it also downloads every reachable chunk and checks it against its id.

gc removes packs none of whose chunks is reachable, if older than the grace period (a
push in flight uploads packs before it moves a ref). The index goes first, then the pack,
so a listing never shows an index whose pack is gone. Packs partly reachable are kept
whole (nothing is repacked)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import CorruptObjectError, RemoteError
from ..repo import Repo
from ..store import digest
from . import crypto, history, lazy, packs, remotes, sync
from .sealed import cipher_of


@dataclass(frozen=True)
class RemoteFsckReport:
    remote: str
    packs: int
    chunks_reachable: int
    chunks_checked: int  # downloaded and verified (with data=True)
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class RemoteGcReport:
    remote: str
    packs_removed: int
    bytes_freed: int
    packs_kept: int
    packs_too_young: int


def _reachable(repo: Repo, name: str) -> dict[str, int]:
    t = remotes.get(repo, name).transport()
    tips = [r.sha for r in history.read_refs(repo, t).values()]
    needed: dict[str, int] = {}
    for sha in repo.git.rev_list(tips):
        for entry in repo.manifest(sha).variables.values():
            needed.update(entry.sized_chunks())
    return needed


def fsck(repo: Repo, name: str = "origin", data: bool = False) -> RemoteFsckReport:
    sync.fetch(repo, name)
    t = remotes.get(repo, name).transport()
    cipher = cipher_of(t)
    listed = {item.key: item.size for item in t.list("packs/")}
    problems: list[str] = []
    where: dict[str, tuple[str, tuple[int, int]]] = {}
    for pid in sorted(packs.index_ids(listed)):
        try:
            index = packs.parse_index(t.get(packs.index_key(pid)), pid, t.url, check_id=cipher is None)
        except RemoteError as exc:
            problems.append(str(exc))
            continue
        end = max((off + n for off, n in index.objects.values()), default=0)
        size = listed.get(packs.pack_key(pid))
        if size is None or size < end:
            problems.append(
                f"{packs.pack_key(pid)}: {'missing' if size is None else f'{size} bytes, its index needs {end}'}"
            )
            continue
        for oid, span in index.objects.items():
            where.setdefault(oid, (pid, span))
    needed = _reachable(repo, name)
    missing = [oid for oid in needed if oid not in where]
    problems += [f"chunk {oid[:16]}… is needed by a version on the remote but in no pack" for oid in missing[:20]]
    checked = 0
    if data:
        by_pack: dict[str, list[str]] = {}
        for oid in needed:
            if oid in where:
                by_pack.setdefault(where[oid][0], []).append(oid)
        for pid, oids in by_pack.items():
            for oid, blob in zip(oids, t.get_ranges(packs.pack_key(pid), [where[o][1] for o in oids])):
                try:
                    plain = cipher.open_chunk(oid, blob) if cipher is not None else blob
                    if digest(plain) != oid:
                        raise CorruptObjectError(oid, "its contents do not match its id")
                except (crypto.DecryptError, CorruptObjectError) as exc:
                    problems.append(f"{packs.pack_key(pid)}: chunk {oid[:16]}…: {exc}")
                checked += 1
    return RemoteFsckReport(name, len(packs.index_ids(listed)), len(needed), checked, tuple(problems))


def gc(repo: Repo, name: str = "origin", grace_seconds: float = 3600.0) -> RemoteGcReport:
    sync.fetch(repo, name)
    t = remotes.get(repo, name).transport()
    needed = _reachable(repo, name)
    indexes = lazy.refresh_indexes(repo, name, t)
    listed = {item.key: item for item in t.list("packs/")}
    cutoff = time.time() - grace_seconds
    removed = freed = kept = young = 0
    for pid, index in sorted(indexes.items()):
        if any(oid in needed for oid in index.objects):
            kept += 1
            continue
        pack = listed.get(packs.pack_key(pid))
        idx = listed.get(packs.index_key(pid))
        if any(item is not None and item.modified > cutoff for item in (pack, idx)):
            young += 1
            continue
        t.delete(packs.index_key(pid))  # first: an index never outlives its pack
        t.delete(packs.pack_key(pid))
        (remotes.cache_dir(repo, name) / "packs" / f"{pid}.idx").unlink(missing_ok=True)
        removed += 1
        freed += pack.size if pack is not None else 0
    return RemoteGcReport(name, removed, freed, kept, young)

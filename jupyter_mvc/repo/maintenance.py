"""Integrity and housekeeping as functions over a `Repo`: `fsck` verifies every object
every reachable version needs (a chunk with both a full tip copy and a delta: both);
`gc` removes what no version reaches and the tip copies no tip needs, and repacks."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ..errors import MvcError
from ..objects import FsckReport, GcReport, Problem
from . import tipcopies
from .packing import is_variable_name

if TYPE_CHECKING:
    from .repository import Repo


def fsck(repo: Repo) -> FsckReport:
    """Verify every object every reachable version needs; report what each problem hurts."""
    problems: list[Problem] = []
    verdicts: dict[str, str | None] = {}
    not_fetched: set[str] = set()
    # A lazy clone lacks chunks its remotes hold: those are not damage (`mvc fsck --remote` checks them there).
    remote_has = getattr(repo.store.fetch_missing, "has", lambda oid: False)
    versions = repo.versions()
    for sha in versions:
        try:
            manifest = repo.manifest(sha)
        except MvcError as exc:
            problems.append(Problem("manifest.json", str(exc), sha))
            continue
        for name, damage in repo.damaged(sha).items():
            problems.append(Problem("manifest.json", f"its entry cannot be read: {damage}", sha, name))
        for entry in manifest.variables.values():
            if not is_variable_name(entry.name):
                problems.append(Problem("manifest.json", "its name is not a Python identifier", sha, entry.name))
            for oid, size in entry.sized_chunks():
                if oid not in verdicts:
                    if not repo.store.has(oid) and remote_has(oid):
                        verdicts[oid] = None
                        not_fetched.add(oid)
                        continue
                    verdicts[oid] = repo.store.verify(oid, size)
                why = verdicts[oid]
                if why:
                    problems.append(Problem(oid, why, sha, entry.name))
    # A pack whose index does not read hides its chunks, needed or not: say so by name.
    repo.store.packs.packs()  # current as of now
    for pid, why in sorted(repo.store.packs.damaged.items()):
        problems.append(Problem(f"packs/{pid}.idx", why))
    return FsckReport(len(versions), len(verdicts) - len(not_fetched), tuple(problems), len(not_fetched))


def gc(repo: Repo, grace_seconds: float = 3600.0) -> GcReport:
    """Remove objects no version reaches and stale temp files, if older than the grace
    period (which protects commits in flight in other processes). Only names the store
    makes are removed (64-hex objects, its temp files), never through a symbolic link,
    so nothing outside `<gitdir>/mvc` can be deleted; a manifest that does not read
    stops gc (what it reaches is unknown)."""
    cutoff = time.time() - grace_seconds
    temp = repo.store.remove_stale_temp_files(cutoff)
    reachable: set[str] = set()
    for sha in repo.versions():
        for entry in repo.manifest(sha).variables.values():
            reachable.update(entry.object_ids())
    # A reachable delta needs its base, and that base's base, whatever refers to them.
    frontier = list(reachable)
    while frontier:
        base = repo.store.delta_base(frontier.pop())
        if base is not None and base not in reachable:
            reachable.add(base)
            frontier.append(base)
    unreachable = [oid for oid in repo.store.iter_oids() if oid not in reachable]
    removed, freed = repo.store.remove(unreachable, cutoff)
    # Full tip copies of reachable chunks that no tip uses (tipcopies.py): their deltas stay.
    copies, copies_freed = tipcopies.drop_old_tip_copies(repo, reachable, cutoff)
    # Then loose chunks into packs, and packs rid of what nothing reaches (after the copies
    # went: a tip copy is never packed).
    unpacked, repack_freed, packed = repo.store.repack(reachable, cutoff)
    return GcReport(removed + unpacked, freed + copies_freed + repack_freed, temp, len(reachable), copies, packed)

"""Newest is fastest: which full tip copies of delta-backed chunks the store keeps.

The store writes a chunk it keeps as a delta full as well (its tip copy), so the version
just committed never rebuilds a delta chain. Here is the policy for dropping those copies:
a copy stays while any tip uses its chunk, a tip being what a ref under refs/mvc/ points at
(every branch, every tag such as `prod` that serving loads, remote-tracking names, a
detached HEAD); once none does, only the delta stays and old versions rebuild their chains.
After a commit the candidates are the chunks of the version it replaced as the tip; `gc`
weighs every reachable chunk. The store drops a copy only where a delta chain backs it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import MvcError
from .refs import ALL

if TYPE_CHECKING:
    from .repository import Repo


def tip_chunks(repo: Repo) -> set[str]:
    """Every chunk id of every version a ref under refs/mvc/ points at (a version whose
    manifest does not read keeps nothing: its chunks are unknown)."""
    return set(chunks_of(repo, set(repo.git.refs(ALL).values())))


def drop_old_tip_copies(repo: Repo, previous: Iterable[str], older_than: float | None = None) -> tuple[int, int]:
    """Drop the full copies of `previous` chunks that have a delta and that no tip uses;
    (copies dropped, bytes freed). The refs are read only when there is something to drop."""
    store = repo.store
    candidates = [oid for oid in dict.fromkeys(previous) if store.has_delta(oid) and store.has_full(oid)]
    if not candidates:
        return 0, 0
    keep = tip_chunks(repo)
    return store.drop_full_copies([oid for oid in candidates if oid not in keep], older_than)


def chunks_of(repo: Repo, shas: Iterable[str | None]) -> list[str]:
    """The chunk ids of these versions (None and unreadable manifests: none)."""
    out: list[str] = []
    for sha in shas:
        if sha is None:
            continue
        try:
            manifest = repo.manifest(sha)
        except MvcError:
            continue
        for entry in manifest.variables.values():
            out.extend(entry.object_ids())
    return out

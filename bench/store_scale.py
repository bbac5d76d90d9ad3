"""A store of many chunks: `fsck` (reads and verifies every reachable chunk) and `gc`
(lists the store, finds what every version reaches, removes the rest) over N chunks.

The N chunks are real: 20 versions, each a fresh random array of N/20 chunks of 1 KiB
(the store's chunk size is lowered for this store only, so a million chunks take 1 GiB
instead of 2 TiB; a stream records its own chunk size, so every read is the real path).
Each version is committed as any big write is, into packs (`store/packfiles.py`): the
store is ~40 files, not a million. One extra version's chunks are made unreachable for gc
to remove (it rewrites the packs that hold them)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np

from jupyter_mvc import api
from jupyter_mvc.repo import Repo

from .floor import GIT_ENV
from .measure import git, measure

CHUNK = 1024
VERSIONS = 20


def build(path: Path, chunks: int) -> tuple[Repo, float]:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q")
    repo = Repo.open(path, create=False)
    repo.store.chunk_size = CHUNK
    rng = np.random.default_rng(0)
    per_version = per_version_chunks(chunks)
    started = time.perf_counter()
    for i in range(VERSIONS + 1):  # the last one is garbage: its branch moves back below
        data = rng.integers(0, 255, per_version * CHUNK, dtype=np.uint8)
        if i == VERSIONS:
            tip = repo.refs.head()
        repo.commit({"x": data}, f"version {i}" if i < VERSIONS else "garbage")
    git(path, "update-ref", f"refs/mvc/heads/{repo.refs.current_branch()}", tip)
    return repo, time.perf_counter() - started


def per_version_chunks(chunks: int) -> int:
    return max(1, chunks // VERSIONS)


def run(chunks: int, work: Path, repeats: int) -> dict[str, dict]:
    os.environ.update(GIT_ENV)
    path = work / "store-scale"
    repo, seconds = build(path, chunks)
    repo.close()
    out: dict[str, dict] = {"store.build": {"chunks": chunks, "seconds": round(seconds, 1)}}
    report = {}

    def fsck():
        report["fsck"] = api.fsck(path=path)

    out["store.fsck"] = measure(fsck, max(1, repeats // 2), chunks=chunks)
    if not report["fsck"].ok or report["fsck"].objects < chunks:
        raise RuntimeError(f"fsck of the scale store: {report['fsck']}")

    def gc():
        report["gc"] = api.gc(grace_seconds=0, path=path)

    out["store.gc"] = measure(gc, 1, chunks=chunks)
    out["store.gc"]["removed"] = report["gc"].objects_removed
    if report["gc"].objects_removed < per_version_chunks(chunks):
        raise RuntimeError(f"gc of the scale store removed too little: {report['gc']}")
    shutil.rmtree(path)
    return out

"""Delta chains (issue #16 item 2, "newest is fastest"): one float64 array committed, then
`commits` commits of 1 % scattered edits (each chunk a delta against its parent). The tip
must load as fast as a version stored full; old versions may rebuild their chains, and
the slowest of them (the deepest chain) is measured too, so its cost is known and bounded.

The full version is the first one (every chunk a full object, no delta anywhere): the
same array, the same size, read the plain way."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from jupyter_mvc.repo import Repo
from jupyter_mvc.store import MAX_DELTA_DEPTH

from .floor import GIT_ENV
from .measure import drop_page_cache, git, measure, run_once, summarize
from .ours import stored_bytes
from .workloads import change_values


def _chain_cost(repo: Repo, sha: str) -> int:
    """The delta files a load of `sha` opens: per chunk, the links above the first full
    file (0 for a chunk with a full copy)."""
    store, links = repo.store, 0
    for oid in repo.manifest(sha).variables["a"].object_ids():
        current = oid
        for _ in range(MAX_DELTA_DEPTH + 1):
            if store.path(current).exists():
                break
            links += 1
            base = store.delta_base(current)
            if base is None:
                break
            current = base
    return links


def run(array_bytes: int, commits: int, work: Path, repeats: int, cold: bool) -> dict[str, dict]:
    os.environ.update(GIT_ENV)
    path = work / "chains"
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q")
    repo = Repo.open(path, create=False)
    out: dict[str, dict] = {}
    a = np.random.default_rng(0).standard_normal(array_bytes // 8)
    shas = [repo.commit({"a": a}, "full").id]
    runs = []
    for i in range(commits):
        change_values(a, a.size // 100, scattered=True, step=i)  # untimed: the user's own edit
        before = stored_bytes(repo)
        holder: dict = {}

        def op(i=i):
            return repo.commit({"a": a}, f"1% scattered {i}")

        def after(info, before=before, holder=holder):
            holder["id"] = info.id
            return {"bytes_added": stored_bytes(repo) - before, "reported_added": info.added}

        runs.append(run_once(op, after=after))
        shas.append(holder["id"])
    out["chain.recommit_1pct_scattered"] = summarize(runs, commits=commits)
    tip, full = shas[-1], shas[0]
    costs = {sha: _chain_cost(repo, sha) for sha in shas}
    deepest = max(shas[:-1], key=lambda s: (costs[s], shas.index(s)))
    targets = {"full": full, "tip": tip, "deepest_old": deepest}

    def load(sha):
        return lambda: repo.load(sha, "a")

    def check(value):
        return {"array_bytes": value.nbytes}

    for label, sha in targets.items():
        extra = {"delta_files_opened": costs[sha], "version": shas.index(sha)}
        if cold:
            out[f"chain.{label}_cold"] = measure(load(sha), repeats, setup=drop_page_cache, after=check, **extra)
        out[f"chain.{label}_warm"] = measure(load(sha), repeats, setup=load(sha), after=check, **extra)
    assert np.array_equal(repo.load(tip, "a"), a)  # the tip is the array as last committed
    out["chain.store"] = {
        "bytes": stored_bytes(repo),
        "array_bytes": a.nbytes,
        "versions": len(shas),
        "delta_files_opened_per_version": [costs[s] for s in shas],
    }
    repo.close()
    shutil.rmtree(path)
    return out

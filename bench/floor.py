"""The same bytes through the physical floor and through the plain alternatives a user has.

Floor: raw write + fsync of the weights to one file, raw read of it into a preallocated
buffer (cold and warm page cache), BLAKE3 hashing. Alternatives: pickle.dump / torch.save
to a file (+ fsync, so they are as durable as a commit), loading those back, and
`git add` + `git commit` of the pickle.
"""

from __future__ import annotations

import mmap
import os
import pickle
from pathlib import Path

import blake3
import numpy as np

from .measure import drop_page_cache, git, measure
from .workloads import Model

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _write_fsync(path: Path, buffers) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for buf in buffers:
            view = memoryview(buf)
            while view:
                view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _read_into(path: Path, out: memoryview) -> int:
    with open(path, "rb", buffering=0) as f:
        n = 0
        while n < len(out):
            got = f.readinto(out[n:])
            if not got:
                break
            n += got
    return n


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _touch_all(state: dict) -> dict:
    for t in state.values():
        float(t.sum())  # reads every page
    return state


def _safetensors(model: Model, work: Path, repeats: int, cold: bool) -> dict[str, dict]:
    """safetensors' `load_file` (reads into memory) and `safe_open` (mmap, lazy)."""
    try:
        from safetensors.torch import load_file, safe_open, save_file
    except ImportError:
        return {"alt.safetensors_load_cold": {"skipped": "safetensors is not installed"}}
    path = work / "model.safetensors"
    save_file({k: v.contiguous() for k, v in model.obj.state_dict().items()}, str(path))
    out = {}

    def lazy():
        with safe_open(str(path), framework="pt") as f:
            return {k: f.get_tensor(k) for k in f.keys()}

    if cold:
        out["alt.safetensors_load_cold"] = measure(lambda: load_file(str(path)), repeats, setup=drop_page_cache)
    out["alt.safetensors_load_warm"] = measure(
        lambda: load_file(str(path)), repeats, setup=lambda: path.read_bytes() and None
    )
    out["alt.safetensors_open_warm"] = measure(lazy, repeats, setup=lambda: path.read_bytes() and None)
    path.unlink()
    return out


def run(model: Model, work: Path, repeats: int, git_repeats: int, cold: bool) -> dict[str, dict]:
    out: dict[str, dict] = {}
    buffers = model.buffers()
    raw = work / "raw.bin"

    def write():
        raw.unlink(missing_ok=True)
        _write_fsync(raw, buffers)

    out["floor.write_fsync"] = measure(write, repeats)
    target_array = np.empty(model.nbytes, dtype=np.uint8)
    target_array.fill(0)  # "preallocated" means its pages are already faulted in
    target = memoryview(target_array).cast("B")
    if cold:
        out["floor.read_cold"] = measure(lambda: _read_into(raw, target), repeats, setup=drop_page_cache)
    # A checkout must also fault in new memory for what it loads (0.3 s per GiB here):
    # the same read into a fresh buffer each time is the floor for that.
    fresh = lambda: _read_into(raw, memoryview(mmap.mmap(-1, model.nbytes)))  # noqa: E731
    if cold:
        out["floor.read_cold_fresh_memory"] = measure(fresh, repeats, setup=drop_page_cache)
    out["floor.read_warm_fresh_memory"] = measure(fresh, repeats)
    out["floor.read_warm"] = measure(lambda: _read_into(raw, target), repeats, setup=lambda: _read_into(raw, target))
    target = target_array = None  # free the 1 GiB before the hash measurements
    out["floor.blake3_1thread"] = measure(lambda: [blake3.blake3(b).digest() for b in buffers], repeats)
    out["floor.blake3_threads"] = measure(
        lambda: [blake3.blake3(b, max_threads=blake3.blake3.AUTO).digest() for b in buffers], repeats
    )
    raw.unlink()

    # -- what a user would do without us ----------------------------------------------------
    pkl = work / "model.pkl"

    def dump():
        with open(pkl, "wb") as f:
            pickle.dump(model.obj, f, protocol=pickle.HIGHEST_PROTOCOL)
        _fsync_file(pkl)

    out["alt.pickle_dump"] = measure(dump, repeats, after=lambda _: {"file_bytes": pkl.stat().st_size})
    load_pickle = lambda: pickle.load(open(pkl, "rb"))  # noqa: E731 - trusted: we wrote it
    if cold:
        out["alt.pickle_load_cold"] = measure(load_pickle, repeats, setup=drop_page_cache)
    out["alt.pickle_load_warm"] = measure(load_pickle, repeats, setup=lambda: pkl.read_bytes() and None)
    if model.kind == "torch":
        import torch

        pt = work / "model.pt"

        def save():
            torch.save(model.obj.state_dict(), pt)
            _fsync_file(pt)

        out["alt.torch_save"] = measure(save, repeats, after=lambda _: {"file_bytes": pt.stat().st_size})
        if cold:
            out["alt.torch_load_cold"] = measure(lambda: torch.load(pt), repeats, setup=drop_page_cache)
        out["alt.torch_load_warm"] = measure(lambda: torch.load(pt), repeats, setup=lambda: pt.read_bytes() and None)
        if cold:  # mmap: returns before reading; the touch is measured with it
            out["alt.torch_load_mmap_cold_touch_all"] = measure(
                lambda: _touch_all(torch.load(pt, mmap=True)), repeats, setup=drop_page_cache
            )
        pt.unlink()
        out.update(_safetensors(model, work, repeats, cold))

    # git add + commit of the pickle, in a fresh repository each time
    env = {**os.environ, **GIT_ENV, "HOME": str(work)}

    def setup_git():
        repo = work / "plain-git"
        if repo.exists():
            import shutil

            shutil.rmtree(repo)
        repo.mkdir()
        git(repo, "init", "-q", env=env)
        os.link(pkl, repo / "model.pkl")

    def git_commit():
        repo = work / "plain-git"
        git(repo, "add", "model.pkl", env=env)
        git(repo, "commit", "-q", "-m", "model", env=env)

    def git_after(_):
        from .measure import tree_bytes

        return {"bytes_added": tree_bytes(work / "plain-git" / ".git" / "objects")}

    out["alt.git_add_commit"] = measure(git_commit, git_repeats, setup=setup_git, after=git_after)
    import shutil

    shutil.rmtree(work / "plain-git")
    pkl.unlink()
    return out

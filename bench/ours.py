"""jupyter_mvc itself, through the public Repo contract: first commit, recommit unchanged,
recommit after a 1 % edit, checkout (cold and warm); and the notebook-sized state."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from jupyter_mvc.repo import Repo

from .floor import GIT_ENV
from .measure import drop_page_cache, git, measure, run_once, summarize, tree_bytes
from .workloads import Model, change_values, edit_one_percent, notebook_state


def _fresh_repo(path: Path) -> Repo:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q")
    return Repo.open(path, create=False)


def stored_bytes(repo: Repo) -> int:
    """Everything a version adds on disk: our chunks (loose and packed) and delta objects
    plus Git's objects."""
    return (
        tree_bytes(repo.mvc_dir / "objects")
        + tree_bytes(repo.mvc_dir / "packs")
        + tree_bytes(repo.mvc_dir / "deltas")
        + tree_bytes(repo.git.git_dir / "objects")
    )


def _commit_op(repo: Repo, objects: dict, message: str):
    before = stored_bytes(repo)

    def op():
        return repo.commit(objects, message)

    def after(_info):
        return {"bytes_added": stored_bytes(repo) - before}

    return op, after


def run_model(model: Model, work: Path, repeats: int, first_repeats: int, cold: bool) -> dict[str, dict]:
    os.environ.update(GIT_ENV)
    out: dict[str, dict] = {}
    objects = {"model": model.obj}

    # first commit: an empty repository each time
    runs = []
    for _ in range(first_repeats):
        repo = _fresh_repo(work / "first")
        op, after = _commit_op(repo, objects, "first")
        runs.append(run_once(op, after=after))
        repo.close()
    out["ours.commit_first"] = summarize(runs)

    # the last repository stays: recommits go on top of it
    repo = Repo.open(work / "first", create=False)
    runs = []
    for i in range(repeats):
        op, after = _commit_op(repo, objects, f"unchanged {i}")
        runs.append(run_once(op, after=after))
    out["ours.recommit_unchanged"] = summarize(runs)

    runs = []
    for i in range(repeats):
        changed = edit_one_percent(model, i)  # untimed: the user's own edit
        op, after = _commit_op(repo, objects, f"edit {i}")
        runs.append(run_once(op, after=after))
    out["ours.recommit_edit_1pct"] = summarize(runs, elements_changed=changed)

    out.update(_checkouts(repo, "ours", repeats, cold))
    for key in ("ours.checkout_cold", "ours.checkout_warm"):
        if key in out:
            # the loaded model is the result, not overhead: report the extra beyond it
            peak = out[key]["peak_extra_bytes"]
            out[key]["peak_beyond_result_bytes"] = None if peak is None else max(0, peak - model.nbytes)
    out["ours.versions_bytes_total"] = {"bytes": stored_bytes(repo), "versions": len(repo.log())}
    repo.close()
    shutil.rmtree(work / "first")
    return out


def _checkouts(repo, prefix: str, repeats: int, cold: bool) -> dict[str, dict]:
    """Checkout of HEAD into memory, cold (page cache dropped first) where allowed, and warm."""
    head = repo.refs.head()
    load = lambda: repo.checkout(head, move_head=False)  # noqa: E731
    check = lambda result: {"failed": len(result.failed)}  # noqa: E731
    out = {}
    if cold:
        out[f"{prefix}.checkout_cold"] = measure(load, repeats, setup=drop_page_cache, after=check)
    out[f"{prefix}.checkout_warm"] = measure(load, repeats, setup=load, after=check)
    # Lazy: the time until the values are there (nothing read yet), and with every page read.
    lazy = lambda: repo.checkout(head, move_head=False, lazy=True)  # noqa: E731
    if cold:
        out[f"{prefix}.checkout_lazy_cold"] = measure(lazy, repeats, setup=drop_page_cache, after=check)
        out[f"{prefix}.checkout_lazy_cold_touch_all"] = measure(
            lambda: _touch(lazy()), repeats, setup=drop_page_cache, after=check
        )
    out[f"{prefix}.checkout_lazy_warm"] = measure(lazy, repeats, setup=load, after=check)
    return out


def _touch(result):
    """Read every page of every array or tensor a checkout returned."""
    import numpy as np

    def walk(obj):
        if isinstance(obj, np.ndarray):
            obj.sum()
        elif hasattr(obj, "state_dict"):
            for t in obj.state_dict().values():
                float(t.sum())
        elif isinstance(obj, dict):
            for v in obj.values():
                walk(v)

    for value in result.objects.values():
        walk(value)
    return result


def run_notebook(array_bytes: int, trees: int, changes: int, work: Path, repeats: int, cold: bool) -> dict[str, dict]:
    os.environ.update(GIT_ENV)
    out: dict[str, dict] = {}
    state = notebook_state(array_bytes, trees)
    repo = _fresh_repo(work / "notebook")
    op, after = _commit_op(repo, state, "notebook state")
    out["notebook.commit_first"] = summarize([run_once(op, after=after)])
    for scattered in (False, True):
        runs = []
        for i in range(repeats):
            change_values(state["data"], changes, scattered, step=i + (100 if scattered else 0))
            op, after = _commit_op(repo, state, f"changed {changes} values")
            runs.append(run_once(op, after=after))
        out[f"notebook.commit_changed_{'scattered' if scattered else 'contiguous'}"] = summarize(
            runs, values_changed=changes
        )
    out.update(_checkouts(repo, "notebook", repeats, cold))
    out["notebook.state"] = {"array_bytes": state["data"].nbytes, "trees": trees}
    repo.close()
    shutil.rmtree(work / "notebook")
    return out

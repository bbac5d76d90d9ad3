"""A DataFrame at buffer speed: the issue's 5M-row frame (three numeric columns and one
string column) committed, loaded and recommitted after a 10-row edit, beside an Arrow
IPC write of the same frame to a file with fsync, the Arrow read + `to_pandas`, and
`pickle.dumps`."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

from jupyter_mvc.repo import Repo

from .floor import GIT_ENV
from .measure import drop_page_cache, git, measure, run_once, summarize


def build_frame(rows: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "x": rng.standard_normal(rows),
            "n": rng.integers(0, 1000, rows),
            "y": rng.standard_normal(rows).astype("float32"),
            "label": pd.Series(rng.integers(0, 100_000, rows)).map("item-{}".format),
        }
    )


def run(rows: int, work: Path, repeats: int, cold: bool) -> dict[str, dict]:
    try:
        import pyarrow as pa
        import pyarrow.ipc  # noqa: F401
    except ImportError:
        return {"frame.commit_first": {"skipped": "pyarrow is not installed (pip install 'jupyter_mvc[data]')"}}
    os.environ.update(GIT_ENV)
    frame = build_frame(rows)
    out: dict[str, dict] = {"frame.shape": {"rows": rows, "memory_bytes": int(frame.memory_usage(deep=True).sum())}}
    path = work / "frame.arrow"

    def arrow_write():
        table = pa.Table.from_pandas(frame, preserve_index=None)
        with open(path, "wb") as f:
            with pa.ipc.new_stream(f, table.schema) as writer:
                writer.write_table(table)
            f.flush()
            os.fsync(f.fileno())

    def arrow_read():
        with pa.memory_map(str(path)) as source:
            return pa.ipc.open_stream(source).read_all().to_pandas()

    out["frame.arrow_write_fsync"] = measure(arrow_write, repeats)
    out["frame.arrow_read"] = measure(arrow_read, repeats)
    out["frame.pickle_dumps"] = measure(lambda: pickle.dumps(frame, protocol=5), repeats)

    folder = work / "frame-repo"
    runs = []
    for _ in range(repeats):
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        git(folder, "init", "-q")
        repo = Repo.open(folder, create=False)
        runs.append(run_once(lambda r=repo: r.commit({"frame": frame}, "frame")))
        repo.close()
    out["frame.commit_first"] = summarize(runs)
    repo = Repo.open(folder, create=False)
    runs = []
    for i in range(repeats):
        frame.iloc[1000 + 10 * i : 1010 + 10 * i, 0] = float(i)  # untimed: the user's edit
        runs.append(run_once(lambda m=f"edit {i}": repo.commit({"frame": frame}, m)))
    out["frame.recommit_10_rows"] = summarize(runs)
    head = repo.refs.head()
    out["frame.load_warm"] = measure(lambda: repo.load(head, "frame"), repeats)
    if cold:
        out["frame.load_cold"] = measure(lambda: repo.load(head, "frame"), repeats, setup=drop_page_cache)
    repo.close()
    shutil.rmtree(folder)
    path.unlink(missing_ok=True)
    return out

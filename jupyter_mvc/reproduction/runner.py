"""Run a version's cells in a fresh kernel, in a temporary copy of the notebook's folder,
and compare: the orchestration behind `api.reproduce`.

Nothing of the user's is touched: the kernel is a new one (this Python's ipykernel, with
its own IPython dir, so not even the user's IPython history is written); the folder is a
copy (without `.git`) that is a Git repository of its own, so the replayed jupyter_mvc
magics (and code that calls the API) write there, never to the user's history.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ..errors import MvcError
from ..repo import Repo
from . import cells as cellmod
from . import compare, probe
from .report import CellFailure, ReproduceReport, VariableResult

KERNEL_NAME = "mvc-reproduce"
_FINISH = "__import__('jupyter_mvc.reproduction.probe', fromlist=['probe']).finish(get_ipython())"


def reproduce(repo: Repo, rev: str, folder: Path, *, tolerance: float = 0.0, timeout: float = 600.0) -> ReproduceReport:
    """Re-run `rev`'s history.py with `folder` (the notebook's folder, inside `repo`'s work
    tree) as the working directory of a copy of the work tree, then compare."""
    start = time.perf_counter()
    sha = repo.resolve(rev)
    version = repo.show(sha)
    recorded = cellmod.parse_history(repo.read_file(sha, "history.py").decode("utf-8", "replace"))
    runnable, magics = cellmod.strip_own_magics(recorded)
    entries = version.manifest.variables
    tmp = Path(tempfile.mkdtemp(prefix="mvc-reproduce-"))
    try:
        work, cwd = _copy_work_tree(repo, folder, tmp / "work")
        io_dir = tmp / "io"
        io_dir.mkdir()
        request = {
            "variables": {n: {"codec": e.codec, "content_id": e.content_id} for n, e in entries.items()},
            "message": version.info.message,
            "magics": magics,
            "scratch_repo": str(work),
            "source_repo": str(repo.root),
        }
        (io_dir / probe.REQUEST).write_text(json.dumps(request))
        failures, died = _run(runnable, cwd, tmp, io_dir, timeout)
        result_file = io_dir / probe.RESULT
        result = json.loads(result_file.read_text()) if result_file.is_file() else {"variables": {}, "metrics": None}
        if (io_dir / "errors.txt").is_file():
            failures += [CellFailure(0, f"probe: {e}") for e in (io_dir / "errors.txt").read_text().splitlines()]
        if died:
            failures.append(CellFailure(0, died))
        warnings_file = io_dir / "warnings.txt"
        warnings = tuple(warnings_file.read_text().splitlines()) if warnings_file.is_file() else ()
        variables = tuple(
            _verdict(repo, sha, name, result["variables"].get(name, {"present": False}), io_dir, tolerance)
            for name in entries
        )
        metrics = compare.compare_metrics(version.metrics.get("scalars", {}), result.get("metrics"), tolerance)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ReproduceReport(
        version=version.info,
        variables=variables,
        metrics=metrics,
        failed_cells=tuple(failures),
        cells_run=len(runnable),
        replayed_magics=tuple(m for m in magics if m[1:].partition(" ")[0] not in probe.NOT_REPLAYED),
        warnings=warnings,
        tolerance=tolerance,
        seconds=time.perf_counter() - start,
    )


def _copy_work_tree(repo: Repo, folder: Path, target: Path) -> tuple[Path, Path]:
    """Copy the work tree holding the notebook (no `.git`, symlinks kept as links) to
    `target`, make it a Git repository of its own; returns (target, the notebook's folder in it)."""
    root = Path(repo.root).resolve()
    folder = folder.resolve()
    if folder.is_file():
        folder = folder.parent
    try:
        relative = folder.relative_to(root)
    except ValueError:
        root, relative = folder, Path()
    if root.name == ".git" or not root.is_dir():  # a bare repository: nothing to copy
        target.mkdir(parents=True)
    else:
        shutil.copytree(root, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
    Repo.open(target, create=True).close()  # discovery stops here, never at the user's repository
    cwd = target / relative
    cwd.mkdir(parents=True, exist_ok=True)
    return target, cwd


def _kernel_manager(tmp: Path) -> Any:
    """A kernel of this Python's ipykernel, whatever kernelspecs the user has installed."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    spec_dir = tmp / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "jupyter_mvc reproduce",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    return KernelManager(
        kernel_name=KERNEL_NAME, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir.parent)])
    )


def _run(
    cells: list[cellmod.Cell], cwd: Path, tmp: Path, io_dir: Path, timeout: float
) -> tuple[list[CellFailure], str | None]:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c.source) for c in cells])
    nb.cells.append(nbformat.v4.new_code_cell(_FINISH))
    numbers = [c.number for c in cells] + [0]
    ipython_dir = tmp / "ipython"
    ipython_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME", "JPY_PARENT_PID")}
    env.update({probe.DIR_ENV: str(io_dir), "IPYTHONDIR": str(ipython_dir), "MPLBACKEND": "agg"})
    km = _kernel_manager(tmp)
    client = NotebookClient(
        nb,
        km=km,
        timeout=int(timeout),
        allow_errors=True,
        interrupt_on_timeout=True,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    died = None
    log = tmp / "kernel.log"  # the kernel's own stderr: not into the caller's cell output
    with open(log, "wb") as stderr:
        try:
            client.execute(env=env, stderr=stderr)
        except DeadKernelError as exc:
            died = f"the kernel died: {exc} {_tail(log)}"
        except Exception as exc:  # a kernel that does not start (no ipykernel...): say why, compare nothing
            died = f"the run stopped: {type(exc).__name__}: {exc} {_tail(log)}"
        finally:
            # nbclient leaves a kernel it did not create running: stop ours, every time.
            if km.has_kernel:
                km.shutdown_kernel(now=True)
    failures = []
    for number, cell in zip(numbers, nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                failures.append(CellFailure(number, f"{out.get('ename')}: {out.get('evalue')}"))
    return failures, died


def _tail(log: Path) -> str:
    text = log.read_text(errors="replace").strip().splitlines() if log.is_file() else []
    return f"(kernel stderr: {' | '.join(text[-3:])})" if text else ""


def _verdict(repo: Repo, sha: str, name: str, obs: dict, io_dir: Path, tolerance: float) -> VariableResult:
    entry = repo.manifest(sha).variables[name]
    if not obs.get("present"):
        return compare.judge(name, present=False, same_id=False, tolerance=tolerance)
    if obs.get("content_id") == entry.content_id:
        return compare.judge(name, present=True, same_id=True, tolerance=tolerance)
    try:
        stored = repo.load(sha, name)  # the safe loader: nothing off the allow-list runs
    except MvcError as exc:
        return VariableResult(name, "differs", f"content differs (the stored value did not load: {exc})")
    frame = obs.get("frame")
    if frame and type(stored).__name__ in ("DataFrame", "Series"):
        produced_frame = probe.read_frame(io_dir / probe.FRAMES / frame)
        return compare.judge(
            name,
            present=True,
            same_id=False,
            tolerance=tolerance,
            frame_difference=compare.compare_frames(stored, produced_frame, tolerance),
        )
    produced = (_produced_leaves(obs.get("leaves", {}), io_dir), bool(obs.get("complete")))
    return compare.judge(
        name, present=True, same_id=False, tolerance=tolerance, stored=probe.leaves(stored), produced=produced
    )


def _produced_leaves(keys: dict[str, str], io_dir: Path) -> dict[str, Any]:
    import numpy as np

    with np.load(io_dir / probe.LEAVES, allow_pickle=False) as arrays:
        return {path: (key if key.startswith(("plain:", "set:")) else arrays[key]) for path, key in keys.items()}

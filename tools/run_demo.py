#!/usr/bin/env python3
"""Run a notebook headless through a real kernel, in a temporary folder, and fail on any error.

    python tools/run_demo.py demo.ipynb [--timeout 600] [--keep] [--output executed.ipynb]

The notebook is copied alone into a fresh temporary folder (no Git repo there, so
jupyter_mvc creates one next to the notebook, as it would for a user): the source tree is
never written to. The kernel is told the notebook's path (JPY_SESSION_NAME, as Jupyter's
server does). Exit status 1 on a cell error or timeout; a short summary is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@dataclass
class DemoRun:
    notebook: object  # the executed nbformat notebook
    workdir: Path
    seconds: float
    error: str | None

    def summary(self) -> dict:
        cells = [c for c in self.notebook.cells if c.cell_type == "code"]
        outputs = [o for c in cells for o in c.get("outputs", [])]
        data = [o.get("data", {}) for o in outputs]
        state = self.notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
        return {
            "code cells": len(cells),
            "executed": sum(1 for c in cells if c.get("execution_count")),
            "widget views": sum(1 for d in data if WIDGET_VIEW in d),
            "widget models": len(state),
            "figures": sum(1 for d in data if "image/png" in d),
            "errors": sum(1 for o in outputs if o.get("output_type") == "error"),
            "seconds": round(self.seconds, 1),
        }


def _git_identity_env() -> dict:
    """Commits need an author; on a machine with no Git identity, lend the demo one."""
    probe = subprocess.run(["git", "var", "GIT_COMMITTER_IDENT"], capture_output=True, text=True)
    if probe.returncode == 0:
        return {}
    who = {"NAME": "jupyter_mvc demo", "EMAIL": "demo@jupyter-mvc.invalid"}
    return {f"GIT_{role}_{k}": v for role in ("AUTHOR", "COMMITTER") for k, v in who.items()}


def run(notebook: str | os.PathLike, timeout: int = 600, workdir: str | os.PathLike | None = None) -> DemoRun:
    """Execute a copy of `notebook` in `workdir` (default: a new temporary folder, which
    the caller removes). Never raises for a failing cell: `DemoRun.error` says what failed."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    source = Path(notebook).resolve()
    if not source.is_file():
        raise SystemExit(f"no notebook at {source}: pass the path of an .ipynb file")
    work = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="mvc-demo-"))
    target = work / source.name
    shutil.copyfile(source, target)
    nb = nbformat.read(target, as_version=4)
    env = {"JPY_SESSION_NAME": str(target), **_git_identity_env()}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits this process's environment
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(work)}})
    start, error = time.perf_counter(), None
    try:
        client.execute()
    except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
        error = str(exc)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    seconds = time.perf_counter() - start
    nbformat.write(nb, work / f"{source.stem}.executed.ipynb")
    return DemoRun(nb, work, seconds, error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", nargs="?", default="demo.ipynb")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    parser.add_argument("--output", help="also save the executed notebook here")
    args = parser.parse_args(argv)
    result = run(args.notebook, timeout=args.timeout)
    try:
        if args.output:
            shutil.copyfile(result.workdir / f"{Path(args.notebook).stem}.executed.ipynb", args.output)
        summary = result.summary()
        print(f"{args.notebook}: " + ", ".join(f"{k} {v}" for k, v in summary.items()))
        if result.error:
            print(f"FAILED:\n{result.error}", file=sys.stderr)
            return 1
        print("OK" + (f" (kept in {result.workdir})" if args.keep else ""))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(result.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

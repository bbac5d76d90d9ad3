"""What a tracked model costs every cell: a real IPython shell with the model committed,
then a cell that does not touch it run with autocommit off and on, and `%mv_status`
(witnesses: only what may have changed is hashed) beside `%mv_status --verify` (hashes
everything, as every status did before). Runs in its own process so the shell's
singleton and the model do not linger in the bench's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from .floor import GIT_ENV
from .measure import git

_SCRIPT = textwrap.dedent("""
    import json, os, statistics, sys, time
    sys.path.insert(0, sys.argv[3])
    from IPython.core.interactiveshell import InteractiveShell
    from bench.workloads import build_model
    os.chdir(sys.argv[1])
    model = build_model(int(sys.argv[2]))
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mvc")
    shell.user_ns["model"] = model.obj
    shell.run_cell('%mv_commit model -m "model"')
    session = shell._jupyter_mvc[0]

    def timed(fn, n=int(sys.argv[4])):
        times = []
        for _ in range(n):
            t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
        return {"median_s": statistics.median(times), "runs_s": [round(x, 6) for x in times], "n": n}

    cell = lambda: shell.run_cell("x = 1 + 1")
    out = {"kernel.cell_plain": timed(cell)}
    shell.run_line_magic("mv_autocommit", "on")
    out["kernel.cell_autocommit"] = timed(cell)
    shell.run_line_magic("mv_autocommit", "off")
    out["kernel.status"] = timed(lambda: session.status())
    out["kernel.status_verify"] = timed(lambda: session.status(verify=True))
    out["kernel.model"] = {"bytes": model.nbytes, "kind": model.kind}
    print(json.dumps(out))
""")


def run(model_bytes: int, work: Path, repeats: int) -> dict[str, dict]:
    folder = work / "kernel"
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q")
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(folder), str(model_bytes), str(root), str(max(repeats, 5))],
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    )
    if proc.returncode != 0:
        return {"kernel.cell_autocommit": {"skipped": proc.stderr.strip().splitlines()[-1][:200]}}
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    plain, auto = out["kernel.cell_plain"]["median_s"], out["kernel.cell_autocommit"]["median_s"]
    out["kernel.cell_autocommit"]["added_by_autocommit_s"] = auto - plain
    return out

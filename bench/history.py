"""History at scale (log and `%mv_log` over N versions) and the cost of `%load_ext`.

The N versions are real jupyter_mvc versions: one committed through Repo, then N-1 more on
top of it written by `git fast-import`, each reusing that version's tree (a commit that
changes no file keeps its parent's tree) with its own message and summary trailer. That
takes about a second instead of N full commits, and `log` cannot tell the difference.
"""

from __future__ import annotations

import compileall
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

from jupyter_mvc.repo import Repo
from jupyter_mvc.repo.trailer import PREFIX as SUMMARY_TRAILER

from .floor import GIT_ENV
from .measure import git, measure

ROOT = Path(__file__).resolve().parent.parent


def build_history(path: Path, versions: int) -> Repo:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    git(path, "init", "-q")
    repo = Repo.open(path, create=False)
    base = repo.commit({"lr": 0.1, "step": 0}, "version 0", metrics={"loss": 1.0})
    branch_ref = "refs/mvc/heads/" + repo.refs.current_branch()
    lines = []
    for i in range(1, versions):
        summary = json.dumps(
            {"variables": ["lr", "step"], "metrics": {"loss": round(1.0 / (i + 1), 6)}}, separators=(",", ":")
        )
        msg = f"version {i}: lr=0.1 step={i}\n\n{SUMMARY_TRAILER}{summary}\n".encode()
        lines.append(f"commit {branch_ref}\ncommitter bench <bench@example.com> {1700000000 + i} +0000\n".encode())
        lines.append(b"data %d\n" % len(msg) + msg)
        if i == 1:
            lines.append(f"from {base.id}\n".encode())
        lines.append(b"\n")
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=b"".join(lines), check=True, env=env)
    return repo


_MV_LOG = textwrap.dedent("""
    import contextlib, io, json, os, sys, time
    from IPython.core.interactiveshell import InteractiveShell
    os.chdir(sys.argv[1])
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mvc")
    times, lines = [], 0
    for _ in range(int(sys.argv[2])):
        buf = io.StringIO()
        t = time.perf_counter()
        with contextlib.redirect_stdout(buf):
            shell.run_line_magic("mv_log", sys.argv[3])
        times.append(time.perf_counter() - t)
        lines = buf.getvalue().count("\\n")
    print(json.dumps({"times": times, "lines": lines}))
""")

_LOAD = textwrap.dedent("""
    import json, sys, time
    t0 = time.perf_counter()
    from IPython.core.interactiveshell import InteractiveShell
    shell = InteractiveShell.instance()
    t1 = time.perf_counter()
    if sys.argv[1] == "load_ext":
        shell.run_line_magic("load_ext", "jupyter_mvc")
    elif sys.argv[1] == "import":
        import jupyter_mvc
    t2 = time.perf_counter()
    print(json.dumps({"shell_s": t1 - t0, "ext_s": t2 - t1}))
""")


def _python(script: str, *args: str) -> dict:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
    }
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def magics_missing() -> str | None:
    """Why `%load_ext jupyter_mvc` cannot work in this tree yet (the magics are written in
    parallel), or None. Once they import, any failure of the measurement is an error."""
    if importlib.util.find_spec("jupyter_mvc.magics") is None:
        return "jupyter_mvc.magics is not in this tree"
    try:
        from jupyter_mvc.magics import register  # noqa: F401
    except ImportError as exc:
        return f"jupyter_mvc.magics does not import yet ({exc})"
    return None


def run(versions: int, work: Path, repeats: int, mv_log_args: str, scale_versions: int) -> dict[str, dict]:
    out: dict[str, dict] = {}
    repo = build_history(work / "history", versions)
    count = {}
    out["history.log"] = measure(
        lambda: repo.log(), repeats, after=lambda result: count.update(n=len(result)) or {"versions": len(result)}
    )
    if count.get("n") != versions:
        raise RuntimeError(f"history has {count.get('n')} versions, expected {versions}")
    missing = magics_missing()
    if missing is None:
        # the default view (the newest 30) and every version as text
        for key, magic_args in (("history.mv_log", mv_log_args), ("history.mv_log_all", f"-n {versions} --text")):
            res = _python(_MV_LOG, str(work / "history"), str(repeats), magic_args)
            out[key] = {**_times(res["times"]), "output_lines": res["lines"], "args": magic_args}
    else:
        for key in ("history.mv_log", "history.mv_log_all"):
            out[key] = {"skipped": f"{missing}; measured repo.log only"}
    repo.close()
    shutil.rmtree(work / "history")

    # history at scale: log of `scale_versions` (the 100,000), 3 runs
    big = build_history(work / "history-scale", scale_versions)
    out["history.log_scale"] = measure(
        lambda: big.log(), min(repeats, 3), after=lambda result: {"versions": len(result)}
    )
    big.close()
    shutil.rmtree(work / "history-scale")

    # Processes start with the package's bytecode compiled, as an installed package has it
    # (pip compiles at install): with PYTHONDONTWRITEBYTECODE set, or sources newer than
    # their .pyc, every start-up would compile the package again (~50 ms here).
    compileall.compile_dir(str(ROOT / "jupyter_mvc"), quiet=1)

    # `mvc log` as a whole process (start-up included) over 1,000 versions, beside `git log`
    cli_repo = build_history(work / "history-1000", 1000)
    cli_repo.close()
    mvc = Path(sys.executable).with_name("mvc")
    env = {**os.environ, **GIT_ENV}
    command = [str(mvc), "log"] if mvc.exists() else [sys.executable, "-m", "jupyter_mvc.cli", "log"]
    cwd = work / "history-1000"
    out["history.cli_log_1000"] = measure(
        lambda: subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True), repeats
    )
    out["history.git_log_1000"] = measure(
        lambda: subprocess.run(["git", "log", "--oneline", "refs/mvc/HEAD"], cwd=cwd, check=True, capture_output=True),
        repeats,
    )
    shutil.rmtree(cwd)

    # the cost of the extension, each run in a fresh process
    def fresh(mode: str) -> list[dict]:
        return [_python(_LOAD, mode) for _ in range(repeats)]

    plain = fresh("none")
    imported = fresh("import")
    out["startup.ipython_shell"] = _times([r["shell_s"] for r in plain])
    out["startup.import_jupyter_mvc"] = _times([r["ext_s"] for r in imported])
    if missing is None:
        out["startup.load_ext"] = _times([r["ext_s"] for r in fresh("load_ext")])
    else:
        out["startup.load_ext"] = {"skipped": f"{missing}; see startup.import_jupyter_mvc"}
    return out


def _times(times: list[float]) -> dict:
    return {
        "median_s": statistics.median(times),
        "runs_s": [round(t, 6) for t in times],
        "n": len(times),
        "peak_extra_bytes": None,
    }

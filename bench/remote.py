"""`python -m bench.remote [--size-mib N] [--rounds N] [--json PATH] [--dvc PATH]`: push,
clone and lazy load of one float32 model (1 GiB by default, random, seeded) through an S3
server on loopback (moto's), against the floor: obstore's own multipart upload and plain
GET of the same bytes to and from the same server. Then a 1 % edit (one contiguous block,
and scattered: every 100th element) committed and pushed, and DVC's push / pull of the
same array saved as .npy, where a `dvc` executable is found (`--dvc`, else next to this
Python, else on PATH).

The server runs in a child process (tests/support/s3.py's MotoServer), so its Python
request handling does not share this process's GIL with the client; `--server-in-process`
runs it in this process instead. Either way the server and the client share this
machine's cores: on loopback the floor is moto's own throughput, not a network's. Every
operation runs once a round (`--rounds`, default 1; medians over rounds), each round in a
fresh project pushed to a fresh prefix of one bucket."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from .floor import GIT_ENV
from .measure import run_once, tree_bytes

ROOT = Path(__file__).resolve().parents[1]
MiB = 1 << 20
BUCKET = "mvc-bench"

# The child that serves S3: tests/support/s3.py's MotoServer with one bucket; it prints
# its endpoint and serves until its stdin closes (so it also ends if this process dies).
_SERVER = f"""
import sys
from tests.support.s3 import MotoServer
with MotoServer() as server:
    server.create_bucket({BUCKET!r})
    print(server.endpoint, flush=True)
    sys.stdin.read()
"""


@contextmanager
def s3_server(in_process: bool, log: Path) -> Iterator[dict[str, str]]:
    """The AWS_* variables that point obstore (and dvc) at a fresh moto server with the
    bucket BUCKET; the server stops on exit."""
    sys.path.insert(0, str(ROOT))
    from tests.support.s3 import MotoServer, s3_env

    if in_process:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line a request otherwise
        with MotoServer() as server:
            server.create_bucket(BUCKET)
            yield s3_env(server.endpoint)
        return
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    with open(log, "wb") as err:
        child = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
        )
    try:
        assert child.stdout is not None and child.stdin is not None
        endpoint = child.stdout.readline().decode().strip()
        if not endpoint.startswith("http://"):
            child.wait(timeout=30)
            raise RuntimeError(f"the moto server did not start (exit {child.returncode}): {log.read_text()[-2000:]}")
        yield s3_env(endpoint)
    finally:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _store(prefix: str):
    """An obstore S3Store on s3://BUCKET/prefix, configured as jupyter_mvc's transport is."""
    from obstore.store import S3Store

    return S3Store.from_url(f"s3://{BUCKET}/{prefix}", client_options={"allow_http": True})


def _delete_prefix(prefix: str) -> None:
    """Free the server's storage for the next round (moto keeps large objects in temp files)."""
    import obstore

    store = _store(prefix)
    keys = [m["path"] for batch in obstore.list(store) for m in batch]
    for i in range(0, len(keys), 500):
        obstore.delete(store, keys[i : i + 500])


def _timed(op: Callable[[], Any], after: Callable[[Any], dict] | None = None) -> dict:
    run = run_once(op, after=after)
    return {"seconds": run.seconds, "peak_extra_bytes": run.peak_extra_bytes, **run.info}


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Bit-identical, compared in 64 MiB blocks (no 1 GiB temporary)."""
    x, y = a.reshape(-1).view(np.uint8), np.asarray(b).reshape(-1).view(np.uint8)
    if x.size != y.size:
        return False
    step = 64 * MiB
    return all(np.array_equal(x[i : i + step], y[i : i + step]) for i in range(0, x.size, step))


# -- the floor: obstore alone, same server, same bytes ------------------------------------------
def floor_round(data: np.ndarray, prefix: str) -> dict[str, dict]:
    import obstore

    from jupyter_mvc.remote.packs import PACK_TARGET
    from jupyter_mvc.remote.sync import _UPLOADS
    from jupyter_mvc.remote.transport import PART_SIZE, PARTS_IN_FLIGHT

    store = _store(prefix)
    raw = data.reshape(-1).view(np.uint8)  # obstore takes 1-D uint8 buffers
    out: dict[str, dict] = {}
    # the part size and parallelism jupyter_mvc's transport uses, then obstore's defaults
    out["floor.upload"] = _timed(
        lambda: obstore.put(store, "raw.bin", raw, chunk_size=PART_SIZE, max_concurrency=PARTS_IN_FLIGHT)
    )
    out["floor.upload"]["bytes"] = raw.nbytes
    out["floor.upload_obstore_defaults"] = _timed(lambda: obstore.put(store, "raw2.bin", raw))
    out["floor.upload_obstore_defaults"]["bytes"] = raw.nbytes
    obstore.delete(store, "raw2.bin")

    def download():
        return obstore.get(store, "raw.bin").bytes()

    def check(got) -> dict:
        return {"bytes": len(got), "identical": _same_bytes(raw, np.frombuffer(got, dtype=np.uint8))}

    out["floor.download"] = _timed(download, after=check)
    obstore.delete(store, "raw.bin")

    # The same bytes in jupyter_mvc's layout: objects of PACK_TARGET bytes, _UPLOADS at a
    # time, each in parts as above; then read back one after another, as a lazy load does.
    # (moto joins a multipart upload's parts in Python: one 1 GiB object costs it more.)
    pieces = [(f"pack-{i:04d}", raw[i : i + PACK_TARGET]) for i in range(0, raw.nbytes, PACK_TARGET)]

    def upload_packs():
        with ThreadPoolExecutor(_UPLOADS) as pool:
            put = partial(obstore.put, store, chunk_size=PART_SIZE, max_concurrency=PARTS_IN_FLIGHT)
            list(pool.map(lambda kv: put(kv[0], kv[1]), pieces))

    out["floor.upload_packs"] = _timed(upload_packs)
    out["floor.upload_packs"]["bytes"] = raw.nbytes

    def download_packs():
        got = np.empty_like(raw)
        for i, (key, _piece) in zip(range(0, raw.nbytes, PACK_TARGET), pieces):
            part = obstore.get(store, key).bytes()
            got[i : i + len(part)] = np.frombuffer(part, dtype=np.uint8)
        return got

    out["floor.download_packs"] = _timed(
        download_packs, after=lambda got: {"bytes": got.nbytes, "identical": _same_bytes(raw, got)}
    )
    obstore.delete(store, [key for key, _ in pieces])
    return out


# -- jupyter_mvc: commit, push, clone + lazy load, 1 % edits -------------------------------------
def ours_round(data: np.ndarray, work: Path, url: str) -> dict[str, dict]:
    import jupyter_mvc as mvc

    project, clone_dir = work / "project", work / "clone"
    project.mkdir()
    out: dict[str, dict] = {}
    out["ours.commit"] = _timed(lambda: mvc.commit({"model": data}, "model", path=project))
    mvc.remote_add("origin", url, path=project)

    def push_after(report) -> dict:
        return {
            "bytes": report.bytes_uploaded,
            "history_bytes": report.history_bytes,
            "packs": report.packs,
            "chunks": report.chunks,
            "chunks_already_there": report.chunks_already_there,
        }

    out["ours.push"] = _timed(lambda: mvc.push(path=project), after=push_after)

    out["ours.clone"] = _timed(lambda: mvc.clone(url, clone_dir))
    repo = mvc.open_repo(clone_dir, create=False)  # chunks come in through its lazy source
    try:

        def check(got) -> dict:
            source = repo.store.fetch_missing
            return {
                "bytes": getattr(source, "fetched_bytes", None),
                "identical": isinstance(got, np.ndarray) and got.dtype == data.dtype and _same_bytes(data, got),
            }

        out["ours.load_lazy"] = _timed(lambda: mvc.load("HEAD", "model", path=repo), after=check)
    finally:
        repo.close()
    out["ours.clone_and_load"] = {
        "seconds": out["ours.clone"]["seconds"] + out["ours.load_lazy"]["seconds"],
        "bytes": out["ours.load_lazy"]["bytes"],
        "identical": out["ours.load_lazy"]["identical"],
        "local_store_bytes": tree_bytes(clone_dir / ".mvc"),
    }
    shutil.rmtree(clone_dir)

    flat = data.reshape(-1)
    n = max(1, flat.size // 100)
    block = flat[(flat.size - n) // 2 :][:n]  # 1 % of the elements, one block in the middle
    spread = flat[::100]  # 1 % too, but in every chunk
    edits = {"contiguous": block, "scattered": spread}
    for kind, view in edits.items():
        np.add(view, 1, out=view)  # in place: views of `data`
        out[f"ours.commit_edit_{kind}"] = _timed(partial(mvc.commit, {"model": data}, f"1 % {kind}", path=project))
        out[f"ours.push_edit_{kind}"] = _timed(lambda: mvc.push(path=project), after=push_after)
        out[f"ours.push_edit_{kind}"]["elements_changed"] = view.size
    shutil.rmtree(project)
    return out


def private_round(data: np.ndarray, work: Path, url: str) -> dict[str, dict]:
    """The same push and clone + load through a private (--encrypt) remote: chunks sealed
    with AES-256-GCM, names keyed; the member's identity in a throwaway config folder."""
    import jupyter_mvc as mvc

    project, clone_dir, config = work / "private-project", work / "private-clone", work / "private-config"
    for folder in (project, config):
        folder.mkdir()
    saved = os.environ.get("XDG_CONFIG_HOME")
    os.environ["XDG_CONFIG_HOME"] = str(config)
    out: dict[str, dict] = {}
    try:
        mvc.commit({"model": data}, "model", path=project)
        mvc.remote_add("origin", url, encrypt=True, path=project)
        out["private.push"] = _timed(lambda: mvc.push(path=project), after=lambda r: {"bytes": r.bytes_uploaded})
        out["private.clone"] = _timed(lambda: mvc.clone(url, clone_dir))
        repo = mvc.open_repo(clone_dir, create=False)
        try:

            def check(got) -> dict:
                return {
                    "bytes": getattr(repo.store.fetch_missing, "fetched_bytes", None),
                    "identical": isinstance(got, np.ndarray) and _same_bytes(data, got),
                }

            out["private.load_lazy"] = _timed(lambda: mvc.load("HEAD", "model", path=repo), after=check)
        finally:
            repo.close()
        out["private.clone_and_load"] = {
            "seconds": out["private.clone"]["seconds"] + out["private.load_lazy"]["seconds"],
            "bytes": out["private.load_lazy"]["bytes"],
            "identical": out["private.load_lazy"]["identical"],
        }
    finally:
        if saved is None:
            os.environ.pop("XDG_CONFIG_HOME", None)
        else:
            os.environ["XDG_CONFIG_HOME"] = saved
        for folder in (project, clone_dir, config):
            shutil.rmtree(folder, ignore_errors=True)
    return out


# -- DVC: the same array as .npy, dvc push / dvc pull through the same server ---------------------
def find_dvc(given: str | None) -> str | None:
    if given:
        return given
    beside = Path(sys.executable).parent / "dvc"
    return str(beside) if beside.exists() else shutil.which("dvc")


def dvc_round(data: np.ndarray, work: Path, dvc: str, s3: dict[str, str], prefix: str) -> dict[str, dict]:
    repo = work / "dvc"
    repo.mkdir()
    env = {**os.environ, **s3, **GIT_ENV, "DVC_NO_ANALYTICS": "1", "HOME": str(work)}

    def run(*args: str) -> float:
        t0 = time.perf_counter()
        done = subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, timeout=1800)
        seconds = time.perf_counter() - t0
        if done.returncode:
            raise RuntimeError(
                f"{' '.join(args[:2])} failed ({done.returncode}): {(done.stderr or done.stdout)[-600:]}"
            )
        return seconds

    npy = repo / "model.npy"
    np.save(npy, data)
    size = npy.stat().st_size
    run("git", "init", "-q")
    run(dvc, "init", "-q")
    run(dvc, "config", "core.analytics", "false")
    run(dvc, "remote", "add", "-d", "bench", f"s3://{BUCKET}/{prefix}")
    run(dvc, "remote", "modify", "bench", "endpointurl", s3["AWS_ENDPOINT_URL"])
    run(dvc, "remote", "modify", "bench", "region", s3["AWS_REGION"])
    out: dict[str, dict] = {}
    out["dvc.add"] = {"seconds": run(dvc, "add", "-q", "model.npy"), "bytes": size}
    out["dvc.push"] = {"seconds": run(dvc, "push", "-q"), "bytes": size}
    npy.unlink()
    shutil.rmtree(repo / ".dvc" / "cache")
    out["dvc.pull"] = {"seconds": run(dvc, "pull", "-q"), "bytes": size}
    loaded = np.load(npy, mmap_mode="r")
    out["dvc.pull"]["identical"] = _same_bytes(data, loaded)
    del loaded
    shutil.rmtree(repo)
    return out


# -- the table ----------------------------------------------------------------------------------
# (key, label, floor key for the ratio)
ROWS = [
    ("floor.upload", "floor: obstore put, 5 MiB parts x4", None),
    ("floor.upload_obstore_defaults", "floor: obstore put, its defaults (x12)", None),
    ("floor.download", "floor: obstore get", None),
    ("floor.upload_packs", "floor: put as 64 MiB objects, 4 at a time", None),
    ("floor.download_packs", "floor: get the 64 MiB objects in turn", None),
    ("ours.commit", "mvc commit (local, for scale)", None),
    ("ours.push", "mvc push, first", "floor.upload"),
    ("ours.clone", "mvc clone (history only)", None),
    ("ours.load_lazy", "mvc load HEAD (lazy fetch)", "floor.download"),
    ("ours.clone_and_load", "mvc clone + load", "floor.download"),
    ("ours.commit_edit_contiguous", "mvc commit, 1 % contiguous edit", None),
    ("ours.push_edit_contiguous", "mvc push, 1 % contiguous edit", "floor.upload"),
    ("ours.commit_edit_scattered", "mvc commit, 1 % scattered edit", None),
    ("ours.push_edit_scattered", "mvc push, 1 % scattered edit", "floor.upload"),
    ("private.push", "mvc push, private remote", "ours.push"),
    ("private.clone_and_load", "mvc clone + load, private remote", "ours.clone_and_load"),
    ("dvc.add", "dvc add (local, for scale)", None),
    ("dvc.push", "dvc push", "floor.upload"),
    ("dvc.pull", "dvc pull", "floor.download"),
]


RATIOS = [
    ("push / obstore put (one object)", "ours.push", "floor.upload"),
    ("push / obstore put (pack-sized objects)", "ours.push", "floor.upload_packs"),
    ("clone + load / obstore get (one object)", "ours.clone_and_load", "floor.download"),
    ("clone + load / obstore get (pack-sized objects)", "ours.clone_and_load", "floor.download_packs"),
    ("push 1 % contiguous edit / obstore put", "ours.push_edit_contiguous", "floor.upload"),
    ("push 1 % scattered edit / obstore put", "ours.push_edit_scattered", "floor.upload"),
    ("dvc push / obstore put (one object)", "dvc.push", "floor.upload"),
    ("dvc pull / obstore get (one object)", "dvc.pull", "floor.download"),
    ("private push / plain push", "private.push", "ours.push"),
    ("private clone + load / plain clone + load", "private.clone_and_load", "ours.clone_and_load"),
    ("mvc push / dvc push", "ours.push", "dvc.push"),
    ("mvc clone + load / dvc pull", "ours.clone_and_load", "dvc.pull"),
]


def _merge(rounds: list[dict[str, dict]]) -> dict[str, dict]:
    """Medians over rounds of every number; the last round's other values."""
    out: dict[str, dict] = {}
    for key in dict.fromkeys(k for r in rounds for k in r):
        entries = [r[key] for r in rounds if key in r]
        merged: dict[str, Any] = {"n": len(entries)}
        for field in dict.fromkeys(f for e in entries for f in e):
            values = [e[field] for e in entries if field in e]
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            if numeric:
                ints = all(isinstance(v, int) for v in values)
                merged[field] = statistics.median_low(values) if ints else statistics.median(values)
            else:
                merged[field] = values[-1]
            if field == "identical":
                merged[field] = all(values)
        if len(entries) > 1:
            merged["runs_s"] = [round(e["seconds"], 4) for e in entries if "seconds" in e]
        out[key] = merged
    return out


def _fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    return f"{n / MiB:,.1f} MiB" if abs(n) >= MiB / 10 else f"{n / 1024:,.1f} KiB"


def table(result: dict) -> str:
    m = result["measurements"]
    cfg = result["config"]
    lines = [
        f"jupyter_mvc remote benchmark: model {_fmt_bytes(cfg['model_bytes'])} float32, moto S3 on loopback "
        f"({'this process' if cfg['server_in_process'] else 'child process'}), {result['machine']['cores']} cores, "
        f"{cfg['rounds']} round(s), load average {result['machine'].get('load_average_at_start')} -> "
        f"{result['machine'].get('load_average_at_end')}",
        "",
        f"{'operation':42} {'seconds':>9} {'MiB/s':>8} {'ratio vs floor':>15} {'bytes moved':>12}  note",
    ]
    model_bytes = cfg["model_bytes"]
    for key, label, floor in ROWS:
        e = m.get(key)
        if e is None:
            continue
        if "skipped" in e:
            lines.append(f"{label:42} not measured: {e['skipped']}")
            continue
        secs, moved = e["seconds"], e.get("bytes")
        # bytes moved per second; a local commit's rate is the model's bytes per second
        through = model_bytes if key.startswith("ours.commit") else moved
        rate = "" if through is None or not secs else f"{through / MiB / secs:.1f}"
        ratio = f"{secs / m[floor]['seconds']:.2f}x" if floor and floor in m and "seconds" in m[floor] else ""
        note = []
        if "identical" in e:
            note.append("bit-identical" if e["identical"] else "DIFFERENT BYTES")
        if e.get("history_bytes"):
            note.append(f"+{_fmt_bytes(e['history_bytes'])} history, {e['packs']} pack(s)")
        if e.get("chunks_already_there"):
            note.append(f"{e['chunks_already_there']} chunks already there")
        if "elements_changed" in e:
            note.append(f"{e['elements_changed']:,} elements changed")
        if e.get("peak_extra_bytes") is not None and key.startswith("ours.") and not key.startswith("ours.load"):
            note.append(f"peak extra memory {_fmt_bytes(e['peak_extra_bytes'])}")
        if "runs_s" in e:
            note.append(f"runs {e['runs_s']}")
        lines.append(f"{label:42} {secs:>9.3f} {rate:>8} {ratio:>15} {_fmt_bytes(moved):>12}  {'; '.join(note)}")
    lines += ["", "ratios (seconds / seconds, same run):"]
    for label, a, b in RATIOS:
        if "seconds" in m.get(a, {}) and "seconds" in m.get(b, {}):
            lines.append(f"  {label:48} {m[a]['seconds'] / m[b]['seconds']:7.2f}x")
    lines += ["", "targets:"]
    for t in result["targets"]:
        state = "not judged below 1 GiB" if t["met"] is None else ("met" if t["met"] else "MISSED")
        value = "-" if t["value"] is None else f"{t['value']:.3f}{t['unit']}"
        lines.append(f"  {t['target']:46} {value:>12}  limit {t['limit']:.3g}{t['unit']:4} {state}")
    return "\n".join(lines)


def targets(m: dict, model_bytes: int) -> list[dict]:
    judged = model_bytes >= 1 << 30

    def ratio(a: str, b: str) -> float | None:
        if "seconds" in m.get(a, {}) and "seconds" in m.get(b, {}):
            return m[a]["seconds"] / m[b]["seconds"]
        return None

    edit = m.get("ours.push_edit_contiguous", {}).get("bytes")
    rows = [
        ("push / raw upload", ratio("ours.push", "floor.upload"), 1.5, "x"),
        ("private push / plain push", ratio("private.push", "ours.push"), 1.2, "x"),
        ("private clone + load / plain", ratio("private.clone_and_load", "ours.clone_and_load"), 1.2, "x"),
        (
            "bytes pushed after a 1 % contiguous edit",
            None if edit is None else edit / MiB,
            16 * model_bytes / (1 << 30),
            "MiB",
        ),
    ]
    return [
        {"target": t, "value": v, "limit": lim, "unit": u, "met": (v <= lim) if judged and v is not None else None}
        for t, v, lim, u in rows
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.remote", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=1024, help="model size in MiB (default 1024)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of every measurement; medians (default 1)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument("--dvc", default=None, help="the dvc executable (default: next to this Python, else PATH)")
    parser.add_argument("--no-dvc", action="store_true", help="skip the DVC rows")
    parser.add_argument("--server-in-process", action="store_true", help="run moto in this process")
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="where projects are written (default: a temp folder)"
    )
    args = parser.parse_args(argv)
    if args.size_mib < 1 or args.rounds < 1:
        parser.error("--size-mib and --rounds must be at least 1")

    from .__main__ import machine

    os.environ.update(GIT_ENV)
    started = time.perf_counter()
    load_at_start = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    data = np.random.default_rng(0).standard_normal((args.size_mib * MiB) // 4, dtype=np.float32)
    dvc = None if args.no_dvc else find_dvc(args.dvc)
    work = Path(tempfile.mkdtemp(prefix="mvc-bench-remote-", dir=args.work_dir)).resolve()
    rounds: list[dict[str, dict]] = []
    saved_env = {
        k: os.environ.get(k)
        for k in (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
            "AWS_ALLOW_HTTP",
        )
    }
    try:
        with s3_server(args.server_in_process, work / "server.log") as s3:
            os.environ.update(s3)  # obstore reads its credentials and endpoint from here
            for i in range(args.rounds):
                out: dict[str, dict] = {}
                steps: list[tuple[str, Callable[[], dict[str, dict]]]] = [
                    ("floor (obstore alone)", partial(floor_round, data, f"floor-{i}")),
                    ("jupyter_mvc push / clone / edits", partial(ours_round, data, work, f"s3://{BUCKET}/mvc-{i}")),
                    ("private remote push / clone", partial(private_round, data, work, f"s3://{BUCKET}/private-{i}")),
                ]
                if dvc is not None:
                    steps.append(("dvc push / pull", partial(dvc_round, data, work, dvc, s3, f"dvc-{i}")))
                for label, step in steps:
                    t = time.perf_counter()
                    print(f"[bench.remote] round {i + 1}: {label}...", file=sys.stderr, flush=True)
                    try:
                        out.update(step())
                    except Exception as e:
                        if not label.startswith("dvc"):
                            raise
                        reason = f"{type(e).__name__}: {str(e).strip().splitlines()[-1] if str(e).strip() else ''}"
                        out.update({k: {"skipped": reason[:300]} for k in ("dvc.push", "dvc.pull")})
                        shutil.rmtree(work / "dvc", ignore_errors=True)
                    print(f"[bench.remote] {label}: {time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
                for prefix in (f"floor-{i}", f"mvc-{i}", f"private-{i}", f"dvc-{i}"):
                    _delete_prefix(prefix)
                rounds.append(out)
        measurements = _merge(rounds)
        if dvc is None:
            why = "--no-dvc" if args.no_dvc else "no dvc executable (pip install 'dvc[s3]', or pass --dvc)"
            measurements.update({k: {"skipped": why} for k in ("dvc.push", "dvc.pull")})
        result = {
            "command": "python -m bench.remote " + " ".join(argv if argv is not None else sys.argv[1:]),
            "machine": {**machine(work, False), "load_average_at_start": load_at_start},
            "config": {
                "model_bytes": data.nbytes,
                "rounds": args.rounds,
                "server_in_process": args.server_in_process,
                "dvc": dvc,
            },
            "measurements": measurements,
        }
        result["targets"] = targets(measurements, data.nbytes)
        result["elapsed_s"] = time.perf_counter() - started
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(work, ignore_errors=True)
    print(table(result))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1) + "\n")
        print(f"\nwrote {args.json} ({result['elapsed_s']:.0f}s)")
    failed = [k for k, e in measurements.items() if e.get("identical") is False]
    if failed:
        print(f"\nDIFFERENT BYTES after: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

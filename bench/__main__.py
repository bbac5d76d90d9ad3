"""`python -m bench [--smoke] [--out FILE]`: run every measurement in one process, print
the table and write the JSON (default bench/results/latest.json)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import chains, floor, frames, history, kernel, ours, report, store_scale
from .measure import drop_page_cache
from .workloads import build_model

SIZES = {
    # 5 runs where cheap; 3 for first commits (each needs a fresh 1 GiB store); 1 for
    # git add + commit of the 1 GiB pickle (~50 s each with zlib).
    "full": dict(
        model_bytes=1 << 30,
        repeats=5,
        first_repeats=3,
        git_repeats=1,
        notebook_array_bytes=200_000_000,
        trees=100,
        changes=1000,
        versions=10_000,
        scale_versions=100_000,
        frame_rows=5_000_000,
        chain_array_bytes=128 << 20,
        chain_commits=20,
        store_chunks=1_000_000,
    ),
    "smoke": dict(
        model_bytes=8 << 20,
        repeats=2,
        first_repeats=2,
        git_repeats=1,
        notebook_array_bytes=2_000_000,
        trees=5,
        changes=1000,
        versions=200,
        scale_versions=1_000,
        frame_rows=50_000,
        chain_array_bytes=4 << 20,
        chain_commits=20,
        store_chunks=2_000,
    ),
}
DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "latest.json"


def machine(work: Path, cold: bool) -> dict:
    def version(mod: str) -> str | None:
        try:
            return __import__(mod).__version__
        except Exception:
            return None

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (int(line.split()[1]) * 1024 for line in _read("/proc/meminfo").splitlines() if line.startswith("MemTotal:")),
        None,
    )
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": mem,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": version("numpy"),
        "torch": version("torch"),
        "git": git_version,
        "filesystem": _fs_type(work),
        "drop_caches": cold,
        # other work on the machine skews every number; the load says how much there was
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _fs_type(path: Path) -> str | None:
    best, fs = "", None
    for line in _read("/proc/mounts").splitlines():
        parts = line.split()
        if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
            best, fs = parts[1], parts[2]
    return fs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI (seconds)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"JSON file (default {DEFAULT_OUT})")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="where the stores are written (default: a temp folder; it needs ~4x the model size)",
    )
    parser.add_argument("--numpy", action="store_true", help="a dict of numpy tensors even if torch is installed")
    parser.add_argument(
        "--store-chunks", type=int, default=None, help="chunks in the fsck/gc store (default: 1,000,000; smoke 2,000)"
    )
    parser.add_argument("--mv-log-args", default="", help="arguments for the %%mv_log measurement")
    args = parser.parse_args(argv)

    if args.work_dir is not None and not args.work_dir.is_dir():
        parser.error(f"--work-dir {args.work_dir} is not a directory; create it or leave the option out")
    mode = "smoke" if args.smoke else "full"
    cfg = dict(SIZES[mode])
    if args.store_chunks is not None:
        cfg["store_chunks"] = args.store_chunks
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="mvc-bench-", dir=args.work_dir)).resolve()
    load_at_start = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    try:
        cold = drop_page_cache()
        if not cold:
            print(
                "note: cannot drop the page cache here (needs root on Linux); cold reads are skipped", file=sys.stderr
            )
        model = build_model(cfg["model_bytes"], use_torch=False if args.numpy else None)
        measurements: dict[str, dict] = {}
        steps = [
            ("floor and alternatives", lambda: floor.run(model, work, cfg["repeats"], cfg["git_repeats"], cold)),
            ("model commit/checkout", lambda: ours.run_model(model, work, cfg["repeats"], cfg["first_repeats"], cold)),
            (
                "notebook state",
                lambda: ours.run_notebook(
                    cfg["notebook_array_bytes"], cfg["trees"], cfg["changes"], work, cfg["repeats"], cold
                ),
            ),
            (
                "history and startup",
                lambda: history.run(cfg["versions"], work, cfg["repeats"], args.mv_log_args, cfg["scale_versions"]),
            ),
            ("a tracked model per cell", lambda: kernel.run(cfg["model_bytes"], work, cfg["repeats"])),
            ("a 5M-row DataFrame", lambda: frames.run(cfg["frame_rows"], work, cfg["repeats"], cold)),
            (
                "a chain of 1% scattered edits",
                lambda: chains.run(cfg["chain_array_bytes"], cfg["chain_commits"], work, cfg["repeats"], cold),
            ),
            ("fsck and gc of a large store", lambda: store_scale.run(cfg["store_chunks"], work, cfg["repeats"])),
        ]
        for label, step in steps:
            t = time.perf_counter()
            print(f"[bench] {label}...", file=sys.stderr, flush=True)
            measurements.update(step())
            print(f"[bench] {label}: {time.perf_counter() - t:.1f}s", file=sys.stderr, flush=True)
        result = {
            "mode": mode,
            "command": "python -m bench" + (" --smoke" if args.smoke else ""),
            "machine": {**machine(work, cold), "load_average_at_start": load_at_start},
            "config": {
                **cfg,
                "model_bytes": model.nbytes,
                "model_kind": model.kind,
                "model_tensors": len(model.tensors),
            },
            "measurements": measurements,
        }
        result["ratios"] = report.ratios(measurements)
        result["targets"] = report.targets(measurements, model.nbytes, judged=mode == "full")
        result["elapsed_s"] = time.perf_counter() - started
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report.table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"\nwrote {args.out} ({result['elapsed_s']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

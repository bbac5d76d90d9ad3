"""Timing, peak memory and page-cache control for one measurement.

Peak memory is the kernel's own high-water mark of this process: writing "5" to
/proc/self/clear_refs resets VmHWM to the current RSS, so after an operation
VmHWM - RSS(before) is exactly the extra memory it touched (no sampling thread to miss a
spike). Where /proc is absent, peak memory is reported as None.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kib(key: str) -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_bytes() -> int | None:
    kib = _status_kib("VmRSS")
    return None if kib is None else kib * 1024


def _reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def drop_page_cache() -> bool:
    """Flush dirty pages and drop the page cache (root on Linux); False where not allowed."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3")
        return True
    except OSError:
        return False


@dataclass
class Run:
    seconds: float
    peak_extra_bytes: int | None
    info: dict = field(default_factory=dict)


def run_once(
    op: Callable[[], Any], setup: Callable[[], Any] | None = None, after: Callable[[Any], dict] | None = None
) -> Run:
    """Time `op()` alone; `setup` runs untimed first (e.g. drop the page cache) and
    `after(result)` untimed after (e.g. count bytes stored) before the result is freed."""
    if setup is not None:
        setup()
    gc.collect()
    before = rss_bytes()
    tracked = before is not None and _reset_peak()
    t0 = time.perf_counter()
    result = op()
    seconds = time.perf_counter() - t0
    peak = None
    if tracked:
        hwm = _status_kib("VmHWM")
        peak = None if hwm is None else max(0, hwm * 1024 - before)
    info = after(result) if after is not None else {}
    del result
    gc.collect()
    return Run(seconds, peak, info)


def summarize(runs: list[Run], **extra) -> dict:
    secs = [r.seconds for r in runs]
    peaks = [r.peak_extra_bytes for r in runs if r.peak_extra_bytes is not None]
    out = {
        "median_s": statistics.median(secs),
        "runs_s": [round(s, 6) for s in secs],
        "n": len(secs),
        "peak_extra_bytes": max(peaks) if peaks else None,
    }
    infos = [r.info for r in runs if r.info]
    for key in sorted({k for i in infos for k in i}):
        values = [i[key] for i in infos if key in i]
        out[key] = statistics.median(values) if all(isinstance(v, (int, float)) for v in values) else values[-1]
    out.update(extra)
    return out


def measure(
    op: Callable[[], Any],
    repeats: int,
    setup: Callable[[], Any] | None = None,
    after: Callable[[Any], dict] | None = None,
    **extra,
) -> dict:
    return summarize([run_once(op, setup, after) for _ in range(repeats)], **extra)


def tree_bytes(path: Path) -> int:
    """Bytes in the regular files under `path` (what a store occupies)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total


def git(cwd: Path, *args: str, env: dict | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout

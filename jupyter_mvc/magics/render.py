"""Text forms of history, diffs and curves: what the magics print outside a notebook
front-end (and with --text). Plain data in, strings out."""
from __future__ import annotations

import time
from typing import Iterable, Sequence

from ..objects import VersionDiff, VersionInfo, summary_line

_SPARK = "▁▂▃▄▅▆▇█"


def log_lines(infos: Sequence[VersionInfo], current_branch: str | None, kernel_version: str | None = None,
              now: float | None = None) -> list[str]:
    """One line per version, newest first, with a lane graph when branches diverge:
    `* 1a2b3c4d (HEAD -> main, tag: v1) message  (5 min ago)  [acc=0.93]`."""
    now = time.time() if now is None else now
    lanes: list[str] = []  # the version id each column waits for
    out = []
    for info in infos:
        if info.id not in lanes:
            lanes.append(info.id)
        col = lanes.index(info.id)
        merging = [i for i, sha in enumerate(lanes) if sha == info.id and i != col]
        graph = " ".join("*" if i == col else ("/" if i in merging else "|") for i in range(len(lanes)))
        out.append(f"{graph} {info.short_id}{_decorations(info, current_branch, kernel_version)} "
                   f"{info.subject}  ({_age(now - info.time)}){_metrics(info.metrics)}")
        for i in reversed(merging):
            del lanes[i]
        col = lanes.index(info.id)
        if info.parents:
            lanes[col] = info.parents[0]
            lanes.extend(p for p in info.parents[1:] if p not in lanes)
        else:
            del lanes[col]
    return out


def _decorations(info: VersionInfo, current_branch: str | None, kernel_version: str | None) -> str:
    marks = []
    for b in info.branches:
        marks.append(f"HEAD -> {b}" if info.is_head and b == current_branch else b)
    if info.is_head and not any(m.startswith("HEAD") for m in marks):
        marks.insert(0, "HEAD")
    marks.extend(f"tag: {t}" for t in info.tags)
    if kernel_version == info.id and not info.is_head:
        marks.append("this kernel")
    return f" ({', '.join(marks)})" if marks else ""


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return "just now"


def _metrics(metrics: dict, limit: int = 4) -> str:
    if not metrics:
        return ""
    parts = [f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in list(metrics.items())[:limit]]
    return "  [" + " ".join(parts) + (" …" if len(metrics) > limit else "") + "]"


def diff_lines(d: VersionDiff) -> list[str]:
    out = [f"{d.old.short_id} {d.old.subject!r} -> {d.new.short_id} {d.new.subject!r}"]
    symbol = {"added": "+", "removed": "-", "changed": "~"}
    for change in d.changed():
        summary = summary_line(change.new if change.new is not None else change.old or {})
        out.append(f"  {symbol[change.status]} {change.name:<16} {change.status:<8} {summary[:80]}")
        for t in change.tensors:
            if t.changed == 0:
                continue
            if t.changed is None:
                out.append(f"      {t.path}: shape {t.old_shape} -> {t.new_shape}")
            else:
                delta = f", max |Δ| {t.max_abs_delta:.3g}" if t.max_abs_delta is not None else ""
                out.append(f"      {t.path}: {t.changed}/{t.total} elements changed{delta}")
    unchanged = [c.name for c in d.variables if c.status == "unchanged"]
    if unchanged:
        out.append(f"  = unchanged: {', '.join(unchanged)}")
    for label, pairs in (("params", d.params), ("metrics", d.metrics)):
        for k, (a, b) in pairs.items():
            out.append(f"  {label}: {k}: {a} -> {b}")
    if len(out) == 1:
        out.append("  no differences")
    return out


def series_lines(label: str, series: dict, metric: str | None = None) -> list[str]:
    """`label  name: n points, first -> last (min m)  ▇▅▃▂▁` per matching series."""
    out = []
    for name, points in sorted(series.items()):
        if metric and not (name == metric or name.endswith("." + metric)):
            continue
        values = [v for _, v in points if v is not None]
        if not values:
            continue
        out.append(f"{label}  {name}: {len(points)} points, {values[0]:.4g} -> {values[-1]:.4g} "
                   f"(min {min(values):.4g}, max {max(values):.4g})  {sparkline(values)}")
    return out


def sparkline(values: Iterable[float], width: int = 40) -> str:
    values = list(values)
    if len(values) > width:  # sample evenly, keeping the last point
        step = (len(values) - 1) / (width - 1)
        values = [values[round(i * step)] for i in range(width)]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(_SPARK[min(len(_SPARK) - 1, int((v - lo) / span * len(_SPARK)))] for v in values)

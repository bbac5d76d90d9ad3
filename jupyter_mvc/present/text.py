"""Text forms for terminals (magics outside a notebook, `--text`, the CLI): diffs,
version details, series with sparklines. One wording for each."""

from __future__ import annotations

import time
from collections.abc import Iterable

from ..objects import Version, VersionDiff, summary_line
from . import fmt

_SPARK = "▁▂▃▄▅▆▇█"
_MARK = {"added": "+", "removed": "-", "changed": "~"}


def diff_lines(d: VersionDiff) -> list[str]:
    out = [f"{d.old.short_id} {d.old.subject!r} -> {d.new.short_id} {d.new.subject!r}"]
    for change in d.changed():
        summary = summary_line(change.new if change.new is not None else change.old or {})
        out.append(f"  {_MARK[change.status]} {change.name:<16} {change.status:<8} {summary[:80]}")
        for t in change.tensors:
            if t.changed == 0:
                continue
            if t.changed is None:
                out.append(f"      {t.path or change.name}: shape {t.old_shape} -> {t.new_shape}")
            else:
                delta = f", max |Δ| {t.max_abs_delta:.3g}" if t.max_abs_delta is not None else ""
                out.append(f"      {t.path or change.name}: {t.changed}/{t.total} elements changed{delta}")
    unchanged = [c.name for c in d.variables if c.status == "unchanged"]
    if unchanged:
        out.append(f"  = unchanged: {fmt.names(unchanged)}")
    for label, pairs in (("params", d.params), ("metrics", d.metrics)):
        for k, (a, b) in pairs.items():
            out.append(f"  {label}: {k}: {a} -> {b}")  # as stored: 1.0 stays 1.0
    if len(out) == 1:
        out.append("  no differences")
    return out


def version_lines(version: Version) -> list[str]:
    """`mvc show`: id, author, date, message, variables, params, metrics, series, files."""
    info = version.info
    out = [
        f"version {info.id}",
        f"author  {info.author}",
        f"date    {time.ctime(info.time)}",
        "",
        "    " + info.message.replace("\n", "\n    "),
        "",
        "variables:",
    ]
    for e in version.manifest.variables.values():
        brief = summary_line({k: v for k, v in e.summary.items() if k != "repr"})
        out.append(f"  {e.name:<16} {e.type:<40} {fmt.size(e.size):>10}  {brief}")
    for title, values in (("params", version.params), ("metrics", version.metrics.get("scalars", {}))):
        if values:
            out.append(f"{title}:")
            out.extend(f"  {k} = {fmt.number(v)}" for k, v in values.items())
    series = version.metrics.get("series", {})
    if series:
        out.append("series: " + ", ".join(f"{k} ({len(v)} points)" for k, v in series.items()))
    out.append("files: " + ", ".join(version.files))
    return out


def series_lines(label: str, series: dict, metric: str | None = None) -> list[str]:
    """`label  name: n points, first -> last (min m, max M)  ▇▅▃▂▁` per matching series."""
    out = []
    for name, points in sorted(series.items()):
        if metric and not (name == metric or name.endswith("." + metric)):
            continue
        values = [v for _, v in points if v is not None]
        if not values:
            continue
        out.append(
            f"{label}  {name}: {len(points)} points, {fmt.number(values[0])} -> {fmt.number(values[-1])} "
            f"(min {fmt.number(min(values))}, max {fmt.number(max(values))})  {sparkline(values)}"
        )
    return out


def sparkline(values: Iterable[float], width: int = 40) -> str:
    values = list(values)
    if len(values) > width:  # sample evenly, keeping the last point
        step = (len(values) - 1) / (width - 1)
        values = [values[round(i * step)] for i in range(width)]
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(_SPARK[min(len(_SPARK) - 1, int((v - lo) / span * len(_SPARK)))] for v in values)

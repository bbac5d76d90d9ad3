"""Text forms for terminals (magics outside a notebook, `--text`, the CLI): diffs,
version details, series with sparklines. One wording for each.

Everything that came from a version (messages, names, summaries, params) goes through
`fmt.printable`, so no escape sequence in it reaches the terminal; a value of the wrong
type (a damaged or crafted file) is shown as what it is, never raised on."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..objects import MergeResult, Version, VersionDiff, summary_line
from . import fmt

_SPARK = "▁▂▃▄▅▆▇█"
_MARK = {"added": "+", "removed": "-", "changed": "~"}
_VALUE_LIMIT = 120
_p = fmt.printable


def _summary(summary: Any) -> str:
    return _p(summary_line(summary) if isinstance(summary, dict) else "")


def _value(value: Any) -> str:
    text = _p(fmt.number(value) if isinstance(value, float) else value)
    return text if len(text) <= _VALUE_LIMIT else text[: _VALUE_LIMIT - 1] + "…"


def _mapping(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def diff_lines(d: VersionDiff) -> list[str]:
    out = [f"{d.old.short_id} {_p(repr(d.old.subject))} -> {d.new.short_id} {_p(repr(d.new.subject))}"]
    for change in d.changed():
        summary = _summary(change.new if change.new is not None else change.old or {})
        name = _p(change.name)
        out.append(f"  {_MARK.get(change.status, '?')} {name:<16} {change.status:<8} {summary[:80]}")
        for t in change.tensors:
            if t.changed == 0:
                continue
            where = _p(t.path or change.name)
            if t.changed is None:
                out.append(f"      {where}: shape {_p(t.old_shape)} -> {_p(t.new_shape)}")
            else:
                delta = f", max |Δ| {t.max_abs_delta:.3g}" if isinstance(t.max_abs_delta, (int, float)) else ""
                out.append(f"      {where}: {t.changed}/{t.total} elements changed{delta}")
    unchanged = [_p(c.name) for c in d.variables if c.status == "unchanged"]
    if unchanged:
        out.append(f"  = unchanged: {fmt.names(unchanged)}")
    for label, pairs in (("params", d.params), ("metrics", d.metrics)):
        for k, pair in _mapping(pairs).items():
            a, b = pair if isinstance(pair, (tuple, list)) and len(pair) == 2 else (None, pair)
            out.append(f"  {label}: {_p(k)}: {_value(a)} -> {_value(b)}")  # as stored: 1.0 stays 1.0
    if len(out) == 1:
        out.append("  no differences")
    return out


def version_lines(version: Version) -> list[str]:
    """`mvc show`: id, author, date, message, variables, params, metrics, series, files."""
    info = version.info
    out = [
        f"version {info.id}",
        f"author  {_p(info.author)}",
        f"date    {_date(info.time)}",
        "",
        "    " + _p(info.message, multiline=True).replace("\n", "\n    "),
        "",
        "variables:",
    ]
    for e in version.manifest.variables.values():
        summary = e.summary if isinstance(e.summary, dict) else {}
        brief = _summary({k: v for k, v in summary.items() if k != "repr"})
        size = fmt.size(e.size) if isinstance(e.size, int) else "?"
        out.append(f"  {_p(e.name):<16} {_p(e.type):<40} {size:>10}  {brief[:_VALUE_LIMIT]}")
    metrics = _mapping(version.metrics)
    for title, values in (("params", _mapping(version.params)), ("metrics", _mapping(metrics.get("scalars")))):
        if values:
            out.append(f"{title}:")
            out.extend(f"  {_p(k)} = {_value(v)}" for k, v in values.items())
    series = _mapping(metrics.get("series"))
    if series:
        out.append(
            "series: "
            + ", ".join(f"{_p(k)} ({len(v) if isinstance(v, list) else 0} points)" for k, v in series.items())
        )
    out.append("files: " + ", ".join(_p(f) for f in version.files))
    return out


def _date(seconds: Any) -> str:
    try:
        return time.ctime(seconds)
    except (TypeError, ValueError, OverflowError, OSError):
        return "?"


def series_lines(label: str, series: dict, metric: str | None = None) -> list[str]:
    """`label  name: n points, first -> last (min m, max M)  ▇▅▃▂▁` per matching series."""
    out = []
    for name, points in sorted(_mapping(series).items(), key=lambda kv: str(kv[0])):
        name = str(name)
        if metric and not (name == metric or name.endswith("." + metric)):
            continue
        points = points if isinstance(points, list) else []
        values = [
            p[1]
            for p in points
            if isinstance(p, (list, tuple))
            and len(p) == 2
            and isinstance(p[1], (int, float))
            and not isinstance(p[1], bool)
        ]
        if not values:
            continue
        out.append(
            f"{_p(label)}  {_p(name)}: {len(points)} points, {fmt.number(values[0])} -> {fmt.number(values[-1])} "
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


def merge_lines(r: MergeResult) -> list[str]:
    """What a merge did, and what to do next."""
    if r.outcome == "up to date":
        return [f"Already up to date with {r.theirs[:8]}."]
    if r.outcome == "fast-forward":
        return [f"Fast-forward to {r.theirs[:8]} {_p(repr(r.version.subject if r.version else ''))}."]
    v = r.version
    out = [
        f"Merged {r.theirs[:8]} into {r.ours[:8] if r.ours else '(none)'}: version {v.short_id if v else '?'} has two parents."
    ]
    by_how: dict[str, list[str]] = {}
    for name, how in r.taken.items():
        by_how.setdefault(how, []).append(name)
    for how, names in sorted(by_how.items()):
        out.append(f"  {how:<16} {fmt.names(_p(n) for n in names)}")
    out += [f"  note: {_p(n)}" for n in r.notes]
    return out

"""Loss curves and the compare table as plain data, read from versions (`api.show`).

Kept apart from matplotlib and ipywidgets so the choices (which series, which value is
best) are unit tested without a figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..objects import Version, VersionInfo
from ..present.fmt import lower_is_better


def label(info: VersionInfo, rev: str = "") -> str:
    """`1a2b3c4d HEAD~1` or `1a2b3c4d baseline lr=0.1`: the id, plus the rev the user
    typed when it says more than the id, else the message's start."""
    short = info.short_id
    extra = rev if rev and not info.id.startswith(rev) else info.subject[:30]
    return f"{short} {extra}".strip()


def series_names(versions: Sequence[Version]) -> list[str]:
    """Series names across versions, those most versions share first."""
    counts: dict[str, int] = {}
    for v in versions:
        for name in v.metrics.get("series", {}):
            counts[name] = counts.get(name, 0) + 1
    return sorted(counts, key=lambda n: (-counts[n], n))


def pick_metric(versions: Sequence[Version], metric: str | None) -> str | None:
    """`metric` if given, else `loss` when present, else the most shared series."""
    names = series_names(versions)
    if metric is not None:
        return metric
    for preferred in ("loss", "train_loss"):
        if preferred in names:
            return preferred
    return names[0] if names else None


def curves(versions: Sequence[Version], revs: Sequence[str], metric: str) -> list[dict]:
    """[{label, id, steps, values}] for each version that has the series; missing values
    (non-finite when logged) are dropped."""
    out = []
    for version, rev in zip(versions, revs):
        points = version.metrics.get("series", {}).get(metric)
        if not points:
            continue
        kept = [(s, v) for s, v in points if v is not None]
        out.append(
            {
                "label": label(version.info, rev),
                "id": version.info.id,
                "steps": [p[0] for p in kept],
                "values": [p[1] for p in kept],
            }
        )
    return out


def compare_table(versions: Sequence[Version], revs: Sequence[str], goals: Mapping[str, str] | None = None) -> dict:
    """{columns: [{name, kind: param|metric|final, lower_is_better}], rows: [{label, id,
    values: {column: value}}], best: {column: [row indexes]}}.

    Metric columns: scalar metrics, plus each series' last value ("loss (last)"). The
    best value per metric column is marked (lower for loss/error-like names, higher
    otherwise, unless `goals`, the repository's metric goals, say which); params have no
    "best".
    """
    rows: list[dict[str, Any]] = []
    params: dict[str, None] = {}
    metrics: dict[str, None] = {}
    for version, rev in zip(versions, revs):
        values = {}
        for k, v in version.params.items():
            params[k] = None
            values[k] = v
        for k, v in version.metrics.get("scalars", {}).items():
            metrics[k] = None
            values[k] = v
        for k, pts in version.metrics.get("series", {}).items():
            finite = [p[1] for p in pts if p[1] is not None]
            if finite:
                last = f"{k} (last)"
                metrics[last] = None
                values[last] = finite[-1]
        rows.append({"label": label(version.info, rev), "id": version.info.id, "values": values})
    columns: list[dict[str, Any]] = [{"name": k, "kind": "param", "lower_is_better": None} for k in params]
    columns += [
        {"name": k, "kind": "metric", "lower_is_better": lower_is_better(k, goals)} for k in metrics if k not in params
    ]
    best: dict[str, list[int]] = {}
    for col in columns:
        if col["kind"] != "metric":
            continue
        scored = [(r["values"].get(col["name"]), i) for i, r in enumerate(rows)]
        scored = [(v, i) for v, i in scored if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(scored) < 2:
            continue  # one value is not a comparison
        target = (min if col["lower_is_better"] else max)(v for v, _ in scored)
        best[col["name"]] = [i for v, i in scored if v == target]
    return {"columns": columns, "rows": rows, "best": best}

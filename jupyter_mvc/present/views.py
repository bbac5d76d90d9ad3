"""JSON-ready views of history, one shape each, for the server's REST replies and the
timeline widget (the JupyterLab extension's wire types mirror these)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..objects import Version, VersionDiff, VersionInfo, jsonable, summary_line
from . import fmt
from .graph import layout


def info_view(info: VersionInfo) -> dict:
    return {**jsonable(info), "short_id": info.short_id, "subject": info.subject}


def log_view(versions: Sequence[VersionInfo], head: str | None, branch: str | None) -> dict:
    """{head, branch, lanes, versions: [info + lane]} in graph order (children first)."""
    rows, _edges, width = layout(versions)
    by_id = {v.id: v for v in versions}
    return {
        "head": head,
        "branch": branch,
        "lanes": width,
        "versions": [{**info_view(by_id[r["id"]]), "lane": r["lane"]} for r in rows],
    }


def version_view(version: Version, goals: Mapping[str, str] | None = None) -> dict:
    """One version: info, variables (summary and its one-line form), metrics with a
    digest of each series (its best value by the metric's goal: `goals`, the
    repository's metric goals, else the name), params, env, files."""
    metrics = version.metrics if isinstance(version.metrics, dict) else {}
    series = metrics.get("series", {})
    return {
        "info": info_view(version.info),
        "variables": [
            {
                "name": e.name,
                "type": e.type,
                "size": e.size,
                "summary": jsonable(e.summary),
                "summary_line": summary_line(e.summary) if isinstance(e.summary, dict) else "",
            }
            for e in version.manifest.variables.values()
        ],
        "metrics": jsonable(metrics),
        "series": {k: _series_digest(k, v, goals) for k, v in series.items()} if isinstance(series, dict) else {},
        "params": jsonable(version.params),
        "env": jsonable(version.env),
        "files": list(version.files),
    }


def _series_digest(name: str, points: Any, goals: Mapping[str, str] | None = None) -> dict:
    values = [p[1] for p in points if isinstance(p, (list, tuple)) and len(p) == 2] if isinstance(points, list) else []
    return {
        "points": len(values),
        "last": jsonable(values[-1]) if values else None,
        "best": jsonable(fmt.best(name, values, goals)),
    }


def diff_view(diff: VersionDiff) -> dict:
    """{old, new (infos), variables (changed only: status, both summaries and their
    one-line forms, per-array changes), unchanged (names), params, metrics ({k: [a, b]})}."""
    return {
        "old": info_view(diff.old),
        "new": info_view(diff.new),
        "variables": [
            {
                "name": v.name,
                "status": v.status,
                "old": jsonable(v.old),
                "new": jsonable(v.new),
                "old_line": summary_line(v.old) if isinstance(v.old, dict) else "",
                "new_line": summary_line(v.new) if isinstance(v.new, dict) else "",
                "tensors": [jsonable(t) for t in v.tensors],
            }
            for v in diff.changed()
        ],
        "unchanged": [v.name for v in diff.variables if v.status == "unchanged"],
        "params": {str(k): jsonable(list(pair)) for k, pair in diff.params.items()},
        "metrics": {str(k): jsonable(list(pair)) for k, pair in diff.metrics.items()},
    }

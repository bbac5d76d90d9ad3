"""JSON forms of the API's results (log, version, diff) for the HTTP handlers."""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from ..objects import Version, VersionDiff, VersionInfo, summary_line
from ..graph import layout


def plain(value: Any) -> Any:
    """JSON-safe: dataclasses and tuples unfold; NaN/inf (invalid JSON) become null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return str(value)


def info_json(info: VersionInfo) -> dict:
    return {**plain(info), "short_id": info.short_id, "subject": info.subject}


def log_json(versions: list[VersionInfo], head: str | None, branch: str | None) -> dict:
    rows, _edges, width = layout(versions)
    by_id = {v.id: v for v in versions}
    return {
        "head": head,
        "branch": branch,
        "lanes": width,
        "versions": [{**info_json(by_id[r["id"]]), "lane": r["lane"]} for r in rows],
    }


def version_json(version: Version) -> dict:
    return {
        "info": info_json(version.info),
        "variables": [
            {"name": e.name, "type": e.type, "size": e.size, "summary": plain(e.summary),
             "summary_line": summary_line(e.summary)}
            for e in version.manifest.variables.values()
        ],
        "metrics": plain(version.metrics),
        "params": plain(version.params),
        "env": plain(version.env),
        "files": list(version.files),
    }


def diff_json(diff: VersionDiff) -> dict:
    out = plain(diff)
    out["old"], out["new"] = info_json(diff.old), info_json(diff.new)
    return out

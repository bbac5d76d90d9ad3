"""JSON forms of the API's results (log, version, diff) for the HTTP handlers."""
from __future__ import annotations


from ..objects import Version, VersionDiff, VersionInfo, jsonable, summary_line
from ..graph import layout


def info_json(info: VersionInfo) -> dict:
    return {**jsonable(info), "short_id": info.short_id, "subject": info.subject}


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
            {"name": e.name, "type": e.type, "size": e.size, "summary": jsonable(e.summary),
             "summary_line": summary_line(e.summary)}
            for e in version.manifest.variables.values()
        ],
        "metrics": jsonable(version.metrics),
        "params": jsonable(version.params),
        "env": jsonable(version.env),
        "files": list(version.files),
    }


def diff_json(diff: VersionDiff) -> dict:
    out = jsonable(diff)
    out["old"], out["new"] = info_json(diff.old), info_json(diff.new)
    return out

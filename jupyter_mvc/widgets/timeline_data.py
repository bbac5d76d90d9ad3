"""The timeline as plain data: one page of rows, lanes and edge polylines from
`api.log(all=True)`, and the details pane's data.

No widgets and no I/O beyond the API calls in `version_details`, so paging is unit
tested from fixed `VersionInfo`s and the front-end only draws what it is given.
Layout (present/graph.py) is linear in the number of versions; only one page is sent.
"""

from __future__ import annotations

import html
import time
from collections.abc import Mapping, Sequence

from .. import api
from ..objects import VersionInfo
from ..present import fmt, views
from ..present.graph import layout

PAGE_SIZE = 40


def key_metrics(metrics: dict, limit: int = 3) -> dict:
    """The few numbers a row has room for, rounded for display."""
    out = {}
    for name, value in list(metrics.items())[:limit]:
        out[name] = round(value, 4) if isinstance(value, float) else value
    return out


def timeline_state(
    infos: Sequence[VersionInfo],
    *,
    page: int = 0,
    page_size: int = PAGE_SIZE,
    current_branch: str | None = None,
    now: float | None = None,
    goals: Mapping[str, str] | None = None,
) -> dict:
    """What the front-end draws for one page: {rows, edges, lanes, page, pages, total}.
    Edges are those touching the page, with rows relative to its first row. A row's
    `best` names its metrics that hold the best value among all `infos` (by each
    metric's goal: `goals`, the repository's, else the name)."""
    now = time.time() if now is None else now
    best = best_values(infos, goals)
    rows, edges, width = layout(infos)
    by_id = {i.id: i for i in infos}
    pages = max(1, -(-len(rows) // page_size))
    page = min(max(0, page), pages - 1)
    first, last = page * page_size, min(len(rows), (page + 1) * page_size)
    shown = []
    for r in rows[first:last]:
        info = by_id[r["id"]]
        shown.append(
            {
                "id": info.id,
                "short": info.short_id,
                "row": r["row"] - first,
                "lane": r["lane"],
                "subject": info.subject,
                "author": info.author,
                "time": info.time,
                "age": fmt.age(now - info.time),
                "branches": list(info.branches),
                "tags": list(info.tags),
                "head": info.is_head,
                "current": info.is_head or (current_branch in info.branches),
                "metrics": key_metrics(info.metrics),
                "best": [k for k in key_metrics(info.metrics) if k in best and info.metrics[k] == best[k]],
            }
        )
    page_edges = []
    for e in edges:
        rows_of = [p[1] for p in e["points"]]
        if max(rows_of) >= first and min(rows_of) < last:
            page_edges.append({"lane": e["lane"], "points": [[lane, r - first] for lane, r in e["points"]]})
    lanes_here = max([r["lane"] + 1 for r in shown] + [p[0] + 1 for e in page_edges for p in e["points"]] + [1])
    return {
        "rows": shown,
        "edges": page_edges,
        "lanes": min(width, lanes_here),
        "page": page,
        "pages": pages,
        "total": len(rows),
        "first": first,
    }


def best_values(infos: Sequence[VersionInfo], goals: Mapping[str, str] | None = None) -> dict[str, float]:
    """metric -> its best value among `infos`, for the metrics two or more versions have."""
    seen: dict[str, list] = {}
    for info in infos:
        for name, value in info.metrics.items() if isinstance(info.metrics, dict) else ():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                seen.setdefault(name, []).append(value)
    out = {}
    for name, values in seen.items():
        value = fmt.best(name, values, goals)
        if value is not None and len(values) > 1:
            out[name] = value
    return out


def page_of(infos: Sequence[VersionInfo], sha: str, page_size: int = PAGE_SIZE) -> int:
    rows, _, _ = layout(infos)
    for r in rows:
        if r["id"] == sha:
            return r["row"] // page_size
    return 0


# -- details of one version ---------------------------------------------------------------
def version_details(repo: api.Where, rev: str) -> dict:
    """Everything the details pane shows: the version's view (variables, params,
    metrics and series digests) and the diff to its first parent (None for a root)."""
    version = api.show(rev, path=repo)
    parent = version.info.parents[0] if version.info.parents else None
    diff = views.diff_view(api.diff(parent, version.info.id, path=repo)) if parent else None
    goals = api.metric_goals(path=repo)
    view = views.version_view(version, goals)
    for name, digest in view["series"].items():
        digest["goal"] = fmt.goal(name, goals)  # for the pane's "best 0.21 (lowest)"
    return {**view, "diff": diff}


# -- text/HTML forms (static renderers: nbconvert, GitHub, a kernel without a widget manager) --
def details_html(d: dict) -> str:
    e = html.escape
    info = d["info"]
    parts = [f"<b>{e(info['short_id'])}</b> {e(info['message'])}"]
    marks = (
        [f"branch {b}" for b in info["branches"]]
        + [f"tag {t}" for t in info["tags"]]
        + (["HEAD"] if info["is_head"] else [])
    )
    if marks:
        parts.append(f"<div>{e(', '.join(marks))}</div>")
    if d["variables"]:
        parts.append(
            _table(
                ["variable", "type", "bytes", "summary"],
                [[v["name"], v["type"].rsplit(".", 1)[-1], v["size"], v["summary_line"]] for v in d["variables"]],
            )
        )
    if d["params"]:
        parts.append(_table(["param", "value"], [[k, v] for k, v in d["params"].items()]))
    scalars = d["metrics"].get("scalars", {})
    if scalars or d["series"]:
        rows = [[k, _fmt(v), ""] for k, v in scalars.items()]
        rows += [
            [k, _fmt(s["last"]), f"{s['points']} points, best {_fmt(s['best'])}{_way(s.get('goal'))}"]
            for k, s in d["series"].items()
        ]
        parts.append(_table(["metric", "value", "series"], rows))
    parts.append(diff_html(d["diff"]) if d["diff"] else "<div><i>first version: no parent to compare with</i></div>")
    return "<div class='mvc-details'>" + "".join(parts) + "</div>"


def diff_html(d: dict) -> str:
    e = html.escape
    rows = []
    for v in d["variables"]:
        what = {"added": f"added: {v['new_line']}", "removed": f"removed (was {v['old_line']})"}.get(v["status"])
        if what is None:
            changed = [
                f"{t['path'] or v['name']}: {t['changed']}/{t['total']} changed, max |Δ| {_fmt(t['max_abs_delta'])}"
                if t["changed"] is not None
                else f"{t['path']}: shape changed"
                for t in v["tensors"]
            ]
            what = "; ".join(changed) or f"{v['old_line']} → {v['new_line']}"
        rows.append([v["name"], v["status"], what])
    rows += [[k, "param", f"{_fmt(a)} → {_fmt(b)}"] for k, (a, b) in d["params"].items()]
    rows += [[k, "metric", f"{_fmt(a)} → {_fmt(b)}"] for k, (a, b) in d["metrics"].items()]
    head = f"<div><b>diff {e(d['old']['short_id'])} → {e(d['new']['short_id'])}</b>"
    if d["unchanged"]:
        head += f" ({len(d['unchanged'])} unchanged: {e(', '.join(d['unchanged'][:8]))})"
    return head + "</div>" + (_table(["name", "change", "detail"], rows) if rows else "<div>no changes</div>")


# The root class our lab extension looks for to show a saved widget's static form
# (labextension/src/fallback.ts); curves.py and runs.py use it too.
STATIC = "mvc-static"


def static_html(state: dict, details: dict | None = None) -> str:
    """The saved form of a timeline: the page of versions, and the selected one's details."""
    body = rows_html(state) + (details_html(details) if details else "")
    return f"<div class='{STATIC} mvc-timeline-static'>{body}</div>"


def rows_html(state: dict) -> str:
    """A static table of one page of the timeline."""
    rows = []
    for r in state["rows"]:
        marks = r["branches"] + [f"tag: {t}" for t in r["tags"]] + (["HEAD"] if r["head"] else [])
        rows.append(
            [
                r["short"],
                ", ".join(marks),
                r["subject"],
                r["age"],
                " ".join(f"{k}={_fmt(v)}{'★' if k in r.get('best', ()) else ''}" for k, v in r["metrics"].items()),
            ]
        )
    caption = f"{state['total']} versions, page {state['page'] + 1}/{state['pages']}"
    return f"<div><i>{caption}</i></div>" + _table(["version", "refs", "message", "age", "metrics"], rows)


_fmt = fmt.number


def _way(goal: str | None) -> str:
    return {"min": " (lowest)", "max": " (highest)"}.get(goal or "", "")


def _table(header: list[str], rows: list[list]) -> str:
    e = html.escape
    th = "".join(f"<th style='text-align:left;padding:0 8px'>{e(h)}</th>" for h in header)
    body = "".join(
        "<tr>"
        + "".join(f"<td style='padding:0 8px'>{e(_fmt(c) if not isinstance(c, str) else c)}</td>" for c in row)
        + "</tr>"
        for row in rows
    )
    return f"<table class='mvc-table'><tr>{th}</tr>{body}</table>"

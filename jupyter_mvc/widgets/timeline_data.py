"""The timeline as plain data: rows, lanes and edge polylines from `repo.log(all=True)`.

No widgets and no I/O beyond the `Repo` calls in `version_details`, so layout is unit
tested from fixed `VersionInfo`s and the front-end only draws what it is given.
Layout is linear in the number of versions; only one page of rows is ever sent.
"""
from __future__ import annotations

import html
import time
from typing import Iterable, Sequence

from ..graph import layout
from ..objects import VersionDiff, VersionInfo, summary_line

PAGE_SIZE = 40


def age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def key_metrics(metrics: dict, limit: int = 3) -> dict:
    """The few numbers a row has room for, rounded for display."""
    out = {}
    for name, value in list(metrics.items())[:limit]:
        out[name] = round(value, 4) if isinstance(value, float) else value
    return out


def timeline_state(infos: Sequence[VersionInfo], *, page: int = 0, page_size: int = PAGE_SIZE,
                   current_branch: str | None = None, now: float | None = None) -> dict:
    """What the front-end draws for one page: {rows, edges, lanes, page, pages, total}.
    Edges are those touching the page, with rows relative to its first row."""
    now = time.time() if now is None else now
    rows, edges, width = layout(infos)
    by_id = {i.id: i for i in infos}
    pages = max(1, -(-len(rows) // page_size))
    page = min(max(0, page), pages - 1)
    first, last = page * page_size, min(len(rows), (page + 1) * page_size)
    shown = []
    for r in rows[first:last]:
        info = by_id[r["id"]]
        shown.append({
            "id": info.id, "short": info.short_id, "row": r["row"] - first, "lane": r["lane"],
            "subject": info.subject, "author": info.author, "time": info.time,
            "age": age(now - info.time), "branches": list(info.branches), "tags": list(info.tags),
            "head": info.is_head, "current": info.is_head or (current_branch in info.branches),
            "metrics": key_metrics(info.metrics),
        })
    page_edges = []
    for e in edges:
        rows_of = [p[1] for p in e["points"]]
        if max(rows_of) >= first and min(rows_of) < last:
            page_edges.append({"lane": e["lane"], "points": [[l, r - first] for l, r in e["points"]]})
    lanes_here = max([r["lane"] + 1 for r in shown] + [p[0] + 1 for e in page_edges for p in e["points"]] + [1])
    return {"rows": shown, "edges": page_edges, "lanes": min(width, lanes_here), "page": page,
            "pages": pages, "total": len(rows), "first": first}


def page_of(infos: Sequence[VersionInfo], sha: str, page_size: int = PAGE_SIZE) -> int:
    rows, _, _ = layout(infos)
    for r in rows:
        if r["id"] == sha:
            return r["row"] // page_size
    return 0


# -- details of one version ---------------------------------------------------------------
def version_details(repo, rev: str) -> dict:
    """Everything the details pane shows, as plain data: variables with summaries,
    params, metrics, and the diff to the first parent (None for a root version)."""
    version = repo.show(rev)
    info = version.info
    variables = [{"name": e.name, "type": e.type, "size": e.size, "summary": summary_line(e.summary)}
                 for e in version.manifest.variables.values()]
    series = {k: {"points": len(v), "last": v[-1][1] if v else None, "best": _best(k, [p[1] for p in v])}
              for k, v in version.metrics.get("series", {}).items()}
    parent = info.parents[0] if info.parents else None
    return {
        "id": info.id, "short": info.short_id, "message": info.message, "author": info.author,
        "time": info.time, "branches": list(info.branches), "tags": list(info.tags), "head": info.is_head,
        "variables": variables, "params": dict(version.params),
        "scalars": dict(version.metrics.get("scalars", {})), "series": series,
        "diff": diff_data(repo.diff(parent, info.id)) if parent else None,
    }


def diff_data(d: VersionDiff) -> dict:
    return {
        "old": d.old.short_id, "new": d.new.short_id,
        "variables": [{"name": v.name, "status": v.status,
                       "old": summary_line(v.old or {}), "new": summary_line(v.new or {}),
                       "tensors": [{"path": t.path, "changed": t.changed, "total": t.total,
                                    "max_abs_delta": t.max_abs_delta} for t in v.tensors]}
                      for v in d.variables if v.status != "unchanged"],
        "unchanged": [v.name for v in d.variables if v.status == "unchanged"],
        "params": {k: list(v) for k, v in d.params.items()},
        "metrics": {k: list(v) for k, v in d.metrics.items()},
    }


LOWER_IS_BETTER = ("loss", "error", "err", "mse", "rmse", "mae", "perplexity", "time", "nll", "brier")


def lower_is_better(metric: str) -> bool:
    name = metric.lower().rsplit(".", 1)[-1]
    return any(word in name.replace("-", "_").split("_") or name.endswith(word) for word in LOWER_IS_BETTER)


def _best(name: str, values: Iterable) -> float | None:
    vals = [v for v in values if isinstance(v, (int, float))]
    if not vals:
        return None
    return min(vals) if lower_is_better(name) else max(vals)


# -- text/HTML forms (static renderers: nbconvert, GitHub, a kernel without a widget manager) --
def details_html(d: dict) -> str:
    e = html.escape
    parts = [f"<b>{e(d['short'])}</b> {e(d['message'])}"]
    marks = [f"branch {b}" for b in d["branches"]] + [f"tag {t}" for t in d["tags"]] + (["HEAD"] if d["head"] else [])
    if marks:
        parts.append(f"<div>{e(', '.join(marks))}</div>")
    if d["variables"]:
        parts.append(_table(["variable", "type", "bytes", "summary"],
                            [[v["name"], v["type"], v["size"], v["summary"]] for v in d["variables"]]))
    if d["params"]:
        parts.append(_table(["param", "value"], [[k, v] for k, v in d["params"].items()]))
    if d["scalars"] or d["series"]:
        rows = [[k, _fmt(v), ""] for k, v in d["scalars"].items()]
        rows += [[k, _fmt(s["last"]), f"{s['points']} points, best {_fmt(s['best'])}"] for k, s in d["series"].items()]
        parts.append(_table(["metric", "value", "series"], rows))
    parts.append(diff_html(d["diff"]) if d["diff"] else "<div><i>first version: no parent to compare with</i></div>")
    return "<div class='mvc-details'>" + "".join(parts) + "</div>"


def diff_html(d: dict) -> str:
    e = html.escape
    rows = []
    for v in d["variables"]:
        what = {"added": f"added: {v['new']}", "removed": f"removed (was {v['old']})"}.get(v["status"])
        if what is None:
            changed = [f"{t['path'] or v['name']}: {t['changed']}/{t['total']} changed, max |Δ| {_fmt(t['max_abs_delta'])}"
                       if t["changed"] is not None else f"{t['path']}: shape changed" for t in v["tensors"]]
            what = "; ".join(changed) or f"{v['old']} → {v['new']}"
        rows.append([v["name"], v["status"], what])
    rows += [[k, "param", f"{_fmt(a)} → {_fmt(b)}"] for k, (a, b) in d["params"].items()]
    rows += [[k, "metric", f"{_fmt(a)} → {_fmt(b)}"] for k, (a, b) in d["metrics"].items()]
    head = f"<div><b>diff {e(d['old'])} → {e(d['new'])}</b>"
    if d["unchanged"]:
        head += f" ({len(d['unchanged'])} unchanged: {e(', '.join(d['unchanged'][:8]))})"
    return head + "</div>" + (_table(["name", "change", "detail"], rows) if rows else "<div>no changes</div>")


def rows_html(state: dict) -> str:
    """A static table of one page of the timeline."""
    rows = []
    for r in state["rows"]:
        marks = r["branches"] + [f"tag: {t}" for t in r["tags"]] + (["HEAD"] if r["head"] else [])
        rows.append([r["short"], ", ".join(marks), r["subject"], r["age"],
                     " ".join(f"{k}={_fmt(v)}" for k, v in r["metrics"].items())])
    caption = f"{state['total']} versions, page {state['page'] + 1}/{state['pages']}"
    return f"<div><i>{caption}</i></div>" + _table(["version", "refs", "message", "age", "metrics"], rows)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return "" if v is None else str(v)


def _table(header: list[str], rows: list[list]) -> str:
    e = html.escape
    th = "".join(f"<th style='text-align:left;padding:0 8px'>{e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td style='padding:0 8px'>{e(_fmt(c) if not isinstance(c, str) else c)}</td>"
                                    for c in row) + "</tr>" for row in rows)
    return f"<table class='mvc-table'><tr>{th}</tr>{body}</table>"

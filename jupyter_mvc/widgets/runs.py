"""The runs table as a widget (`%mv_runs` in a notebook): one row per version, a column per
metric and param that differs, headers that sort (best first for a metric), a toggle for
the columns that are the same everywhere, and the best value of each metric marked.

Python builds the table (present/runs.py) and keeps the sort canonical: a header click in
the front-end sorts at once and sets `sort` / `descending`, and Python re-sorts `rows` to
match, so what a test sets is what a browser would send.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Sequence
from pathlib import Path

import anywidget
import traitlets

from .. import api
from ..errors import MvcError
from ..present.runs import RunsTable, header_text, resort, runs_view
from . import live
from .timeline_data import STATIC

_HERE = Path(__file__).parent


class Runs(anywidget.AnyWidget):
    _esm = _HERE / "runs.js"
    _css = _HERE / "runs.css"
    columns: traitlets.List = traitlets.List().tag(sync=True)
    rows: traitlets.List = traitlets.List().tag(sync=True)
    best: traitlets.Dict = traitlets.Dict().tag(sync=True)
    sort = traitlets.Unicode("").tag(sync=True)
    descending = traitlets.Bool(False).tag(sync=True)
    all_columns = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        repo,
        revs: Sequence[str] = (),
        *,
        limit: int | None = 20,
        all: bool = False,
        sort: str | None = None,
        descending: bool | None = None,
        all_columns: bool = False,
    ):
        super().__init__()
        self.repo = repo
        self.revs = [revs] if isinstance(revs, str) else list(revs)
        self.limit = limit
        self.all = all
        self.table: RunsTable | None = None
        self._busy = False
        self.all_columns = all_columns
        # the first build raises (a bad revision or sort column is the caller's mistake)
        self._build(api.runs(self.revs, limit=limit, all=all, sort=sort, descending=descending, path=repo))
        self.observe(self._on_sort, ["sort", "descending"])
        self.observe(self._on_all_columns, "all_columns")
        live.register(self)

    def refresh(self) -> None:
        """Re-read the versions (after a commit, a new tag, a changed metric goal)."""
        try:
            table = api.runs(self.revs, limit=self.limit, all=self.all, path=self.repo)
            self._build(resort(table, self.sort or None, self.descending if self.sort else None))
        except Exception as exc:  # MvcError, or what a damaged version makes the view raise
            self._error(exc)

    def _build(self, table: RunsTable) -> None:
        self.table = table = dataclasses.replace(table, all_columns=self.all_columns)
        view = runs_view(table, api.head(path=self.repo).branch)
        self._busy = True
        try:
            with self.hold_sync():
                self.columns, self.rows, self.best = view["columns"], view["rows"], view["best"]
                self.sort, self.descending, self.error = view["sort"], view["descending"], ""
        finally:
            self._busy = False

    def _on_sort(self, change) -> None:
        if self._busy or self.table is None:
            return
        try:  # the front-end sends both (a click picks the direction): take them as they are
            self._build(resort(self.table, self.sort or None, self.descending))
        except Exception as exc:  # a widget callback has no caller: show it
            self._error(exc)

    def _on_all_columns(self, change) -> None:
        if self.table is not None:  # the front-end shows them itself; keep the static form in step
            self.table = dataclasses.replace(self.table, all_columns=bool(change["new"]))

    def sort_by(self, column: str | None, descending: bool | None = None) -> None:
        """Sort by `column` (None: history order); `descending` None: best first."""
        if self.table is not None:
            self._build(resort(self.table, column, descending))

    def _error(self, exc: Exception) -> None:
        self.error = str(exc) if isinstance(exc, MvcError) else f"{type(exc).__name__}: {exc}"

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle  # anywidget: (data, metadata)
        if self.table is not None and isinstance(data, dict):
            table = runs_html(self.table, {r["id"]: r["marks"] for r in self.rows})
            data["text/html"] = f"<div class='{STATIC} mvc-runs-static'>{table}</div>"
        return bundle


def runs_html(table: RunsTable, marks: dict[str, list[str]] | None = None) -> str:
    """A static table (nbconvert, GitHub): the shown columns, ★ on the best values."""
    e = html.escape
    shown = table.shown
    head = "".join(f"<th style='padding:0 8px;text-align:right'>{e(header_text(c))}</th>" for c in shown)
    body = []
    for info in table.versions:
        label = info.short_id + (
            f" ({', '.join((marks or {}).get(info.id, []))})" if (marks or {}).get(info.id) else ""
        )
        cells = []
        for c in shown:
            value = table.values[info.id].get(c.name)
            text = "" if value is None else (f"{value:.4g}" if isinstance(value, float) else str(value))
            star = info.id in table.best.get(c.name, ())
            cells.append(
                f"<td style='padding:0 8px;text-align:right{';font-weight:bold' if star else ''}'>"
                f"{'★ ' if star else ''}{e(text)}</td>"
            )
        body.append(f"<tr><td><code>{e(label)}</code></td><td>{e(info.subject)}</td>{''.join(cells)}</tr>")
    hidden = f"<div><i>same in every version: {e(', '.join(table.hidden))}</i></div>" if table.hidden else ""
    return (
        f"<table class='mvc-runs'><tr><th style='text-align:left'>version</th><th style='text-align:left'>message</th>"
        f"{head}</tr>{''.join(body)}</table>{hidden}"
    )

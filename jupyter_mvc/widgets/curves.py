"""Loss curves of several versions overlaid (matplotlib), with a metric picker, a version
picker and a compare table marking the best value per metric column.

The figure is a plain `matplotlib.figure.Figure` (no pyplot state, no backend needed),
shown as PNG in an `ipywidgets.Image`; static renderers get the PNG and an HTML table.
"""

from __future__ import annotations

import base64
import html
import io

import ipywidgets as widgets
from matplotlib.figure import Figure

from .. import api
from ..errors import MvcError
from . import curves_data, live
from .timeline_data import STATIC

MAX_OPTIONS = 200  # versions offered in the picker (the newest across all branches)


def figure(lines: list[dict], metric: str | None) -> Figure:
    """One axis, one line per version (label = version), steps on x."""
    fig = Figure(figsize=(6.4, 3.4), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    for line in lines:
        ax.plot(line["steps"], line["values"], label=line["label"], linewidth=1.6)
    ax.set_xlabel("step")
    ax.set_ylabel(metric or "")
    ax.grid(alpha=0.3)
    if lines:
        ax.legend(fontsize="small", loc="best")
        ax.set_title(f"{metric} of {len(lines)} version{'s' if len(lines) > 1 else ''}", fontsize="medium")
    else:
        ax.set_title(
            f"no series {metric!r} in the chosen versions" if metric else "no series in the chosen versions",
            fontsize="medium",
        )
    return fig


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def table_html(table: dict) -> str:
    """The compare table; the best value of each metric column in bold with a ★."""
    e = html.escape
    cols = table["columns"]
    head = "".join(
        f"<th style='padding:0 8px;text-align:right' title='{'param' if c['kind'] == 'param' else ('lower is better' if c['lower_is_better'] else 'higher is better')}'>"
        f"{e(c['name'])}{'' if c['kind'] == 'param' else (' ↓' if c['lower_is_better'] else ' ↑')}</th>"
        for c in cols
    )
    body = []
    for i, row in enumerate(table["rows"]):
        cells = []
        for c in cols:
            v = row["values"].get(c["name"])
            text = "" if v is None else (f"{v:.4g}" if isinstance(v, float) else str(v))
            if i in table["best"].get(c["name"], ()):
                cells.append(
                    f"<td class='mvc-best' style='padding:0 8px;text-align:right;font-weight:bold'>★ {e(text)}</td>"
                )
            else:
                cells.append(f"<td style='padding:0 8px;text-align:right'>{e(text)}</td>")
        body.append(f"<tr><td style='padding:0 8px'><code>{e(row['label'])}</code></td>{''.join(cells)}</tr>")
    return (
        f"<table class='mvc-compare'><tr><th style='text-align:left;padding:0 8px'>version</th>{head}</tr>"
        f"{''.join(body)}</table>"
    )


class Curves(widgets.VBox):
    """Pick a metric and versions; the figure and the compare table follow."""

    def __init__(self, repo, revs, metric=None):
        super().__init__()
        self.repo = repo
        self.revs = list(revs) or ["HEAD"]
        resolved = [(api.resolve(r, path=repo), r) for r in self.revs]  # a bad rev fails here, with a clear error
        self.ids = list(dict.fromkeys(sha for sha, _ in resolved))
        self.rev_for = {sha: rev for sha, rev in reversed(resolved)}  # what the user typed, for labels
        self.labels = {}
        self.versions = {}
        self.figure: Figure | None = None
        self.table: dict = {}
        self.metric_picker = widgets.Dropdown(
            description="metric", layout=widgets.Layout(width="260px", max_width="100%")
        )
        self.version_picker = widgets.SelectMultiple(
            description="versions", rows=5, layout=widgets.Layout(width="420px", max_width="100%")
        )
        # As wide as the figure where there is room, narrower (same proportions) where not.
        self.image = widgets.Image(format="png", layout=widgets.Layout(width="640px", max_width="100%", height="auto"))
        self.table_html = widgets.HTML()
        self.message = widgets.HTML()
        self.children = [
            widgets.HBox([self.metric_picker, self.version_picker], layout=widgets.Layout(flex_flow="row wrap")),
            self.message,
            self.image,
            self.table_html,
        ]
        self.add_class("mvc-curves")
        self._metric = metric
        self._busy = False
        self.refresh()
        self.metric_picker.observe(self._on_pick, "value")
        self.version_picker.observe(self._on_pick, "value")
        live.register(self)

    def _version(self, sha):
        if sha not in self.versions:
            self.versions[sha] = api.show(sha, path=self.repo)
        return self.versions[sha]

    def refresh(self) -> None:
        """Offer the newest versions (new commits included) and redraw."""
        try:
            recent = api.log(path=self.repo, all=True, limit=MAX_OPTIONS)
            for info in recent:
                self.labels.setdefault(info.id, curves_data.label(info, self._rev_of(info.id)))
            for sha in self.ids:
                self.labels.setdefault(sha, curves_data.label(self._version(sha).info, self._rev_of(sha)))
            options = list(dict.fromkeys(self.ids + [i.id for i in recent]))
            self._busy = True
            try:
                self.version_picker.options = [(self.labels[s], s) for s in options]
                self.version_picker.value = tuple(self.ids)
            finally:
                self._busy = False
            self.draw()
        except Exception as exc:  # MvcError, or what a damaged or crafted version makes drawing raise
            self._error(exc)

    def _on_pick(self, change) -> None:
        if self._busy:
            return
        if change["owner"] is self.version_picker:
            self.ids = list(change["new"])
        else:
            self._metric = change["new"]
        try:
            self.draw()
        except Exception as exc:  # a widget callback has no caller: show the error, never raise
            self._error(exc)

    def _error(self, exc: Exception) -> None:
        text = (
            str(exc) if isinstance(exc, MvcError) else f"{type(exc).__name__}: {exc} (is a version damaged? `mvc fsck`)"
        )
        self.message.value = f"<span class='mvc-error' style='color:#b00'>{html.escape(text)}</span>"

    def draw(self) -> None:
        versions = [self._version(s) for s in self.ids]
        names = curves_data.series_names(versions)
        metric = curves_data.pick_metric(versions, self._metric)
        self._busy = True
        try:
            self.metric_picker.options = names if metric in names or metric is None else names + [metric]
            self.metric_picker.value = metric
        finally:
            self._busy = False
        self.lines = curves_data.curves(versions, [self._rev_of(s) for s in self.ids], metric) if metric else []
        self.figure = figure(self.lines, metric)
        self.image.value = png(self.figure)
        self.table = curves_data.compare_table(
            versions, [self._rev_of(s) for s in self.ids], api.metric_goals(path=self.repo)
        )
        self.table_html.value = table_html(self.table)
        missing = [
            self.labels[s] for s in self.ids if metric and metric not in self._version(s).metrics.get("series", {})
        ]
        self.message.value = (
            f"<i>no series {html.escape(metric or '')} in: {html.escape(', '.join(missing))}</i>" if missing else ""
        )

    def _rev_of(self, sha: str) -> str:
        return self.rev_for.get(sha, sha)

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs)
        if self.figure is not None:
            bundle["image/png"] = base64.b64encode(self.image.value).decode()
            bundle["text/html"] = (
                f"<div class='{STATIC} mvc-curves-static'>"
                f"<img style='max-width:100%' src='data:image/png;base64,{bundle['image/png']}'/>"
                f"{self.table_html.value}</div>"
            )
        return bundle

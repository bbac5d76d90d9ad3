"""The version timeline: a commit graph (anywidget, plain DOM/SVG) with stock ipywidgets
controls around it: paging, a details pane (variables, params, metrics, diff to parent),
check out, compare with another version, and the loss curves of the selection.

Only one page of rows is ever sent to the front-end, so thousands of versions stay
usable; older history loads on demand ("Load more").
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

import anywidget
import ipywidgets as widgets
import traitlets

from .. import api
from ..errors import MvcError
from ..present import views
from . import live, timeline_data
from .curves import Curves

_HERE = Path(__file__).parent
# What a view shows as its error state instead of raising: our errors, and whatever a
# damaged or crafted version makes the view code raise (a widget callback has no caller).
_SHOWN = Exception


class TimelineGraph(anywidget.AnyWidget):
    """The drawn part. The front-end sets `selected` on click and `compare` on shift-click."""

    _esm = _HERE / "timeline.js"
    _css = _HERE / "timeline.css"
    rows: traitlets.List = traitlets.List().tag(sync=True)
    edges: traitlets.List = traitlets.List().tag(sync=True)
    lanes = traitlets.Int(1).tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    compare = traitlets.Unicode("").tag(sync=True)


class Timeline(widgets.VBox):
    def __init__(
        self,
        repo,
        *,
        limit: int = 200,
        on_checkout: Callable[[str], str] | None = None,
        page_size: int = timeline_data.PAGE_SIZE,
        rev: str | None = None,
    ):
        super().__init__()
        if limit < 1 or page_size < 1:
            raise ValueError(f"limit ({limit}) and page_size ({page_size}) must be at least 1")
        self.repo = repo
        self.rev = rev  # None: every branch and tag; else the history of this revision
        self.limit = self._step = limit
        self.page_size = page_size
        self.on_checkout = on_checkout
        self.page = 0
        self.infos: list = []
        self.details: dict | None = None
        self.curves: Curves | None = None
        self.graph = TimelineGraph()
        self.header = widgets.HTML()
        # Buttons as wide as their labels (never cut in a narrow column; timeline.css), rows
        # of controls that wrap, and arrows every default font has.
        self.newer = widgets.Button(description="‹ Newer", layout=_fit())
        self.older = widgets.Button(description="Older ›", layout=_fit())
        self.more = widgets.Button(description=f"Load {limit} more", layout=_fit())
        self.checkout_button = widgets.Button(
            description="Check out",
            icon="download",
            button_style="primary",
            tooltip="load this version's variables into the kernel"
            if on_checkout
            else "not available here: use %mv_log in a notebook, or pass on_checkout",
            layout=_fit(),
        )
        self.compare_picker = widgets.Dropdown(
            description="compare with",
            layout=widgets.Layout(width="24em", max_width="100%"),
            style={"description_width": "initial"},
        )
        self.compare_button = widgets.Button(description="Compare", icon="columns", layout=_fit())
        self.plot_button = widgets.Button(
            description="Curves",
            icon="line-chart",
            tooltip="loss curves of the selection (and the compared version)",
            layout=_fit(),
        )
        self.status = widgets.HTML()
        self.details_html = widgets.HTML()
        self.extra = widgets.VBox()
        # The curves (extra) come before the details, so "Curves" shows them in view and a
        # long diff never pushes them off the screen.
        self.children = [
            widgets.HBox([self.header, self.newer, self.older, self.more], layout=_wrap()),
            self.graph,
            widgets.HBox(
                [self.checkout_button, self.compare_picker, self.compare_button, self.plot_button], layout=_wrap()
            ),
            self.status,
            self.extra,
            self.details_html,
        ]
        self.add_class("mvc-timeline-widget")
        self.newer.on_click(lambda _: self.show_page(self.page - 1))
        self.older.on_click(lambda _: self.show_page(self.page + 1))
        self.more.on_click(lambda _: self.load_more())
        self.checkout_button.on_click(lambda _: self.checkout())
        self.compare_button.on_click(lambda _: self.compare())
        self.plot_button.on_click(lambda _: self.plot())
        self.graph.observe(self._on_select, "selected")
        self.graph.observe(self._on_compare, "compare")
        self.refresh()
        live.register(self)

    # -- history ------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read history (after a commit, checkout, new branch or tag) and redraw."""
        try:
            self.infos = api.log(self.rev, path=self.repo, all=self.rev is None, limit=self.limit)
            self.current_branch = api.head(path=self.repo).branch
        except _SHOWN as exc:
            self._error(exc)
            return
        ids = {i.id for i in self.infos}
        self.compare_picker.options = [("", "")] + [(f"{i.short_id} {i.subject[:40]}", i.id) for i in self.infos]
        selected = self.graph.selected
        self._draw()
        if selected not in ids:  # nothing chosen yet (or it fell out): the current version
            head = next(
                (i.id for i in self.infos if i.is_head and self.rev is None), self.infos[0].id if self.infos else ""
            )
            self.graph.selected = head
            self.show_page(timeline_data.page_of(self.infos, head, self.page_size))
        else:
            self._show_details(selected)

    def show_page(self, page: int) -> None:
        self.page = page
        self._draw()

    def load_more(self) -> None:
        self.limit += self._step
        self.refresh()

    def _draw(self) -> None:
        state = timeline_data.timeline_state(
            self.infos,
            page=self.page,
            page_size=self.page_size,
            current_branch=self.current_branch,
            goals=api.metric_goals(path=self.repo),
        )
        self.state = state
        self.page = state["page"]
        with self.graph.hold_sync():
            self.graph.rows, self.graph.edges, self.graph.lanes = state["rows"], state["edges"], state["lanes"]
        capped = state["total"] >= self.limit
        branch = f"on branch <b>{html.escape(self.current_branch)}</b>" if self.current_branch else "detached HEAD"
        self.header.value = (
            f"<b>{state['total']}{'+' if capped else ''}</b> versions · {branch} · "
            f"page {state['page'] + 1}/{state['pages']}"
        )
        self.newer.disabled = state["page"] == 0
        self.older.disabled = state["page"] >= state["pages"] - 1
        self.more.layout.display = None if capped else "none"
        self.checkout_button.disabled = self.on_checkout is None or not state["rows"]

    # -- selection and actions ----------------------------------------------------------------
    def select(self, rev: str) -> None:
        """Select a version (as a click in the graph does), turning to its page."""
        sha = api.resolve(rev, path=self.repo)
        if sha not in {i.id for i in self.infos}:
            raise MvcError(
                f"version {sha[:8]} is older than the {len(self.infos)} loaded here; "
                "press 'Load more' or call load_more() first."
            )
        self.show_page(timeline_data.page_of(self.infos, sha, self.page_size))
        self.graph.selected = sha

    def _on_select(self, change) -> None:
        if change["new"]:
            self._show_details(change["new"])

    def _on_compare(self, change) -> None:
        if change["new"]:
            self.compare_picker.value = (
                change["new"] if change["new"] in dict((v, k) for k, v in self.compare_picker.options) else ""
            )
            self.compare()

    def _show_details(self, sha: str) -> None:
        try:
            self.details = timeline_data.version_details(self.repo, sha)
            self.details_html.value = timeline_data.details_html(self.details)
        except _SHOWN as exc:
            self._error(exc)

    def checkout(self) -> str:
        """Check the selected version out through `on_checkout` (the kernel's %mv_checkout)."""
        sha = self.graph.selected
        if self.on_checkout is None or not sha:
            message = "Check out needs a kernel: run %mv_log in the notebook, or %mv_checkout " + sha[:8]
        else:
            try:
                message = self.on_checkout(sha)
            except MvcError as exc:
                message = f"Not checked out: {exc}"
        self.status.value = html.escape(str(message))
        self.refresh()
        return message

    def compare(self, other: str | None = None) -> dict | None:
        """Diff the compared version (picker, shift-click, or `other`) against the selection,
        and overlay both versions' curves."""
        other = other or self.compare_picker.value or self.graph.compare
        sha = self.graph.selected
        if not other or not sha:
            self.status.value = "Pick a version to compare with (shift-click a row, or the list)."
            return None
        try:
            diff = views.diff_view(api.diff(other, sha, path=self.repo))
            self.graph.compare = api.resolve(other, path=self.repo)
            self.details_html.value = f"<div class='mvc-details'>{timeline_data.diff_html(diff)}</div>"
        except _SHOWN as exc:
            self._error(exc)
            return None
        self.plot([other, sha])
        return diff

    def plot(self, revs: list[str] | None = None) -> Curves | None:
        revs = revs or [r for r in (self.graph.compare, self.graph.selected) if r]
        try:
            self.curves = Curves(self.repo, revs)
        except _SHOWN as exc:
            self._error(exc)
            return None
        self.extra.children = [self.curves]
        return self.curves

    def _error(self, exc: Exception) -> None:
        text = (
            str(exc)
            if isinstance(exc, MvcError)
            else f"{type(exc).__name__}: {exc} (is this version damaged? `mvc fsck`)"
        )
        self.status.value = f"<span class='mvc-error' style='color:#b00'>{html.escape(text)}</span>"

    def _repr_mimebundle_(self, **kwargs):
        # The static form travels with the widget in the saved notebook: nbconvert and GitHub
        # show it, and so does our lab extension where the live widget is gone (fallback.ts).
        bundle = super()._repr_mimebundle_(**kwargs)
        bundle["text/html"] = timeline_data.static_html(self.state, self.details)
        return bundle


def _fit() -> widgets.Layout:
    return widgets.Layout(width="auto", min_width="max-content", flex="0 0 auto")


def _wrap() -> widgets.Layout:
    return widgets.Layout(flex_flow="row wrap", align_items="center", max_width="100%")

"""Notebook widgets: the version timeline, loss curves and the runs table. ipywidgets and
anywidget are imported here and nowhere else; `import jupyter_mvc` never loads this package.

Open timelines and curves refresh by themselves after commits and checkouts made through
`jupyter_mvc.api` (and so the magics), which notifies `refresh_all()`; call it after
changing history some other way (e.g. another process).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .live import refresh_all

__all__ = ["timeline_widget", "curves_widget", "runs_widget", "refresh_all"]


def _repo(repo):
    if isinstance(repo, (str, bytes)) or hasattr(repo, "__fspath__"):
        from ..api import open_repo

        return open_repo(repo, create=False)
    return repo


def timeline_widget(repo, *, limit: int = 200, on_checkout: Callable[[str], str] | None = None, rev: str | None = None):
    """The commit graph of every branch and tag (newest `limit` versions, more on demand),
    with details, check out (through `on_checkout(rev) -> message`) and compare; with
    `rev`, only that version and its history (`%mv_log REV`), that version selected.
    `repo`: a `Repo` or a path inside one."""
    from .timeline import Timeline

    return Timeline(_repo(repo), limit=limit, on_checkout=on_checkout, rev=rev)


def curves_widget(repo, revs: Sequence[str] = ("HEAD",), metric: str | None = None):
    """The series `metric` (default: loss, else the most common) of `revs` overlaid, and a
    table of their params and metrics with the best value per metric column marked."""
    from .curves import Curves

    if isinstance(revs, str):
        revs = [revs]
    return Curves(_repo(repo), list(revs), metric=metric)


def runs_widget(
    repo,
    revs: Sequence[str] = (),
    *,
    limit: int | None = 20,
    all: bool = False,
    sort: str | None = None,
    descending: bool | None = None,
    all_columns: bool = False,
):
    """The runs table (`%mv_runs`): a row per version (`revs`, else HEAD's newest `limit`,
    or every branch's with `all`), a column per metric and param that differs (a toggle
    shows all), headers that sort (best first), the best value per metric marked."""
    from .runs import Runs

    return Runs(_repo(repo), revs, limit=limit, all=all, sort=sort, descending=descending, all_columns=all_columns)

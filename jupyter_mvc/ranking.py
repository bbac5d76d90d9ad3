"""The public API's ranking verbs (re-exported by `jupyter_mvc.api`): which way is better
for a metric, the runs table, and tags on the best version. Each takes `path=` like the
rest of the API (a folder inside the project, or an open Repo)."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .present import fmt
from .present.runs import RunsTable, runs_table
from .repo import Repo, goals
from .repo.goals import BestTag

Where = str | os.PathLike | Repo


@contextmanager
def _opened(where: Where) -> Iterator[Repo]:
    if isinstance(where, Repo):
        yield where
        return
    with Repo.open(where, create=False) as repo:
        yield repo


def metric_goal(name: str, goal: str | None = None, *, path: Where = ".") -> str:
    """Which way is better for metric `name`: "min" (a loss) or "max" (an accuracy).
    With `goal` ("min", "max", or "auto" to judge by the name again), set it for this
    repository (kept in `<gitdir>/mvc/config.json`); the best marks of the timeline,
    compare table, curves and runs table, and the best tags, follow it. Returns the goal
    in force. By name: loss, *_loss, mse, mae, rmse, *error*, deviance, perplexity and
    `oob_scores` (GradientBoosting's out-of-bag losses) are "min"; the rest is "max"."""
    with _opened(path) as repo:
        if goal is None:
            goals.check_metric(name)
            return fmt.goal(name, goals.goals(repo))
        return goals.set_goal(repo, name, goal)


def metric_goals(*, path: Where = ".") -> dict[str, str]:
    """The goals this repository sets (metric -> "min" | "max"); other metrics go by name."""
    with _opened(path) as repo:
        return goals.goals(repo)


def runs(
    revs: Sequence[str] = (),
    *,
    limit: int | None = None,
    all: bool = False,
    sort: str | None = None,
    descending: bool | None = None,
    all_columns: bool = False,
    path: Where = ".",
) -> RunsTable:
    """The runs table: one row per version (`revs`, else HEAD's history, or every branch
    and tag with `all`; newest `limit`), a column per metric and param. Columns equal in
    every row are hidden unless `all_columns` (`table.hidden` names them). `sort`: a
    column, best first by the metric's goal unless `descending` says otherwise. Reads
    each version's params.json and nothing else beyond the log."""
    if isinstance(revs, str):
        revs = [revs]
    with _opened(path) as repo:
        infos = goals.run_versions(repo, list(revs), limit=limit, all=all)
        params = {info.id: goals.params_of(repo, info.id) for info in infos}
        return runs_table(
            infos, params, goals=goals.goals(repo), sort=sort, descending=descending, all_columns=all_columns
        )


def tag_best(metric: str, name: str | None = None, *, path: Where = ".") -> BestTag:
    """Tag the version with the best `metric` (lowest for a loss, highest for an
    accuracy: `metric_goal`) across every branch and tag as `name` (default
    `best-<metric>`), creating the tag or moving it there."""
    with _opened(path) as repo:
        return goals.tag_best(repo, metric, name)


def follow_best(metric: str, name: str | None = None, *, path: Where = ".") -> BestTag:
    """Keep tag `name` (default `best-<metric>`) on the best version: it goes there now
    (if any version has the metric), and each later commit whose `metric` is better moves
    it (a tie does not). Kept in `<gitdir>/mvc/config.json`; `unfollow_best` stops it."""
    with _opened(path) as repo:
        return goals.follow(repo, metric, name)


def unfollow_best(metric: str, *, path: Where = ".") -> str | None:
    """Stop moving the tag that follows `metric` (it stays where it is): its name, or
    None when none did."""
    with _opened(path) as repo:
        return goals.unfollow(repo, metric)


def followed_best(*, path: Where = ".") -> dict[str, str]:
    """metric -> the tag commits move when they improve it."""
    with _opened(path) as repo:
        return goals.followed(repo)

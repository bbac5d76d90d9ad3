"""Which way is better for each metric, the tags that mark the best version, and what the
runs table reads.

Settings, in `<gitdir>/mvc/config.json` (Config.read / Config.write):
  "metric_goals": {"val_score": "min"}   a repository's own choice, over the name rule (fmt.goal)
  "follow_best":  {"loss": "best-loss"}   tags that `after_commit` moves to a better version

Versions are ranked by their headline metrics (`VersionInfo.metrics`: scalars and the last
value of each series, read from the commit message), so ranking reads no trees. Tags move
with compare-and-swap like every ref, so two kernels committing at once cannot leave a
followed tag on the worse version.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConcurrentUpdateError, InvalidNameError, InvalidValueError, MvcError
from ..objects import VersionInfo
from ..present import fmt
from .refs import TAGS

if TYPE_CHECKING:
    from .repository import Repo

GOALS_KEY = "metric_goals"
FOLLOW_KEY = "follow_best"
TAG_PREFIX = "best-"  # `best-loss`: a plain tag name (tags hold no `/`, and a `best` tag may exist)
_CAS_ATTEMPTS = 50
_NAME_MAX = 200
_NOT_IN_TAG = re.compile(r"[^A-Za-z0-9._-]+")
_PLAIN_TAG = re.compile(r"\A[A-Za-z0-9_][A-Za-z0-9._-]*\Z")


@dataclass(frozen=True)
class BestTag:
    """Where a best-version tag is after `tag_best` / `follow`."""

    tag: str
    metric: str
    goal: str  # "min" | "max"
    version: VersionInfo | None  # the version it is on (None: no version has the metric yet)
    value: float | None
    previous: str | None  # the version it was on before (None: it did not exist)
    candidates: int  # versions that have the metric
    following: bool = False  # commits move it on improvement

    @property
    def moved(self) -> bool:
        return self.version is not None and self.previous != self.version.id


# -- goals ------------------------------------------------------------------------------------
def goals(repo: Repo) -> dict[str, str]:
    """The repository's metric goals (name -> "min" | "max"); damaged entries read as none."""
    raw = repo.config.read().get(GOALS_KEY, {})
    return {k: v for k, v in raw.items() if isinstance(k, str) and v in fmt.GOALS} if isinstance(raw, dict) else {}


def set_goal(repo: Repo, metric: str, goal: str) -> str:
    """Rank `metric` by `goal`: "min" (lower is better), "max", or "auto" (by its name
    again). Returns the goal in force."""
    check_metric(metric)
    if goal not in (*fmt.GOALS, "auto"):
        raise InvalidValueError(
            f"goal for metric {metric!r}",
            goal,
            "it is neither min nor max",
            "Use min, max, or auto (judge by the name).",
        )
    chosen = goals(repo)
    if goal == "auto":
        chosen.pop(metric, None)
    else:
        chosen[metric] = goal
    repo.config.write(GOALS_KEY, dict(sorted(chosen.items())) or None)
    return fmt.goal(metric, chosen)


def check_metric(metric: str) -> str:
    if not isinstance(metric, str) or not metric.strip() or len(metric) > _NAME_MAX or fmt.printable(metric) != metric:
        raise InvalidNameError(
            "metric", str(metric)[:60], "it is empty, too long or holds control characters", "Give the metric's name."
        )
    return metric


# -- best versions ----------------------------------------------------------------------------
def value_of(info: VersionInfo, metric: str) -> float | None:
    """The version's headline value of `metric`, a finite number or None."""
    value = info.metrics.get(metric) if isinstance(info.metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def better(new: float, old: float, goal: str) -> bool:
    return new < old if goal == "min" else new > old


def best_version(infos: Iterable[VersionInfo], metric: str, goal: str) -> tuple[VersionInfo | None, float | None, int]:
    """(the version with the best value, that value, how many versions have the metric).
    `infos` newest first: a tie goes to the oldest, the first to reach the value."""
    best: tuple[VersionInfo, float] | None = None
    count = 0
    for info in infos:
        value = value_of(info, metric)
        if value is None:
            continue
        count += 1
        if best is None or not better(best[1], value, goal):
            best = (info, value)
    return (best[0], best[1], count) if best else (None, None, count)


def default_tag(metric: str) -> str:
    """`best-loss`, `best-model.loss_curve`, `best-val_loss` for `val/loss`."""
    name = _NOT_IN_TAG.sub("_", metric).replace("..", "_").strip("._") or "metric"
    name = name.removesuffix(".lock")
    return TAG_PREFIX + name


def tag_best(repo: Repo, metric: str, name: str | None = None) -> BestTag:
    """Put tag `name` (default `best-<metric>`) on the version with the best `metric`
    among every branch and tag, creating it or moving it there."""
    check_metric(metric)
    tag = repo.git.check_ref_name("tag", name or default_tag(metric))
    goal = fmt.goal(metric, goals(repo))
    infos = repo.log(all=True)
    version, value, count = best_version(infos, metric, goal)
    if version is None:
        raise InvalidNameError("metric", metric, "no version has it", _known_metrics(infos))
    previous = _point(repo, tag, version.id, f"tag --best {metric}")
    return BestTag(tag, metric, goal, repo.info(version.id), value, previous, count, metric in followed(repo))


def _point(repo: Repo, tag: str, sha: str, reason: str) -> str | None:
    """Create or move `tag` to `sha` (compare-and-swap); the version it was on before."""
    for _ in range(_CAS_ATTEMPTS):
        old = repo.refs.tags().get(tag)
        if old == sha or repo.git.update_ref(TAGS + tag, sha, old, reason):
            return old
    raise ConcurrentUpdateError(TAGS + tag, _CAS_ATTEMPTS)


def _known_metrics(infos: Sequence[VersionInfo]) -> str:
    names = list(dict.fromkeys(k for i in infos for k in (i.metrics if isinstance(i.metrics, dict) else {})))
    if not names:
        return "No version has metrics yet: commit with --metric NAME=VALUE or log them with log_metric."
    return f"Metrics in this repository: {fmt.printable(fmt.names(names))}."


# -- following the best -----------------------------------------------------------------------
def followed(repo: Repo) -> dict[str, str]:
    """metric -> the tag commits move when they improve it."""
    raw = repo.config.read().get(FOLLOW_KEY, {})
    if not isinstance(raw, dict):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str) and _plain_tag(v)}


def _plain_tag(name: str) -> bool:
    return bool(_PLAIN_TAG.match(name)) and ".." not in name and not name.endswith(".lock")


def follow(repo: Repo, metric: str, name: str | None = None) -> BestTag:
    """From now on, after each commit, move tag `name` (default `best-<metric>`) to the new
    version when its `metric` is better than the tagged one's. The tag goes to the best
    version now, if any has the metric."""
    check_metric(metric)
    tag = repo.git.check_ref_name("tag", name or default_tag(metric))
    if not _plain_tag(tag):
        raise InvalidNameError(
            "tag", tag, "a followed tag's name is letters, digits, '.', '_' and '-'", "e.g. best-loss."
        )
    chosen = followed(repo)
    chosen[metric] = tag
    repo.config.write(FOLLOW_KEY, dict(sorted(chosen.items())))
    try:
        return tag_best(repo, metric, tag)
    except InvalidNameError:  # no version has it yet: the first commit that does gets the tag
        return BestTag(tag, metric, fmt.goal(metric, goals(repo)), None, None, repo.refs.tags().get(tag), 0, True)


def unfollow(repo: Repo, metric: str) -> str | None:
    """Stop moving the tag that follows `metric` (it stays where it is); its name, or None."""
    chosen = followed(repo)
    tag = chosen.pop(metric, None)
    repo.config.write(FOLLOW_KEY, dict(sorted(chosen.items())) or None)
    return tag


def after_commit(repo: Repo, info: VersionInfo) -> VersionInfo:
    """The commit hook: move each followed tag to `info` when it improves the tag's metric
    (strictly: a tie leaves the tag on the first version to reach it). Returns `info`
    with its tags re-read when one moved. Never fails the commit that already landed: a
    problem is reported on stderr."""
    try:
        following = followed(repo)
        if not following:
            return info
        chosen = goals(repo)
        moved = False
        for metric, tag in following.items():
            moved |= _follow_one(repo, info, metric, tag, fmt.goal(metric, chosen))
        return repo.info(info.id) if moved else info
    except (MvcError, OSError) as exc:
        print(f"jupyter_mvc: the followed best tags were not updated: {exc}", file=sys.stderr)
        return info


def _follow_one(repo: Repo, info: VersionInfo, metric: str, tag: str, goal: str) -> bool:
    new = value_of(info, metric)
    if new is None:
        return False
    for _ in range(_CAS_ATTEMPTS):
        old_sha = repo.refs.tags().get(tag)
        if old_sha == info.id:
            return False
        old = value_of(repo.info(old_sha), metric) if old_sha else None
        if old is not None and not better(new, old, goal):
            return False
        if repo.git.update_ref(TAGS + tag, info.id, old_sha, f"follow-best {metric}"):
            return True
    raise ConcurrentUpdateError(TAGS + tag, _CAS_ATTEMPTS)


# -- what the runs table reads ------------------------------------------------------------------
def run_versions(
    repo: Repo, revs: Sequence[str] = (), limit: int | None = None, all: bool = False
) -> list[VersionInfo]:
    """The versions named by `revs` (in that order, each once), else the log of HEAD (or of
    every branch and tag with `all`), newest first, at most `limit`."""
    if not revs:
        return repo.log(None, limit=limit, all=all)
    out: dict[str, VersionInfo] = {}
    for rev in revs:
        sha = repo.resolve(rev)
        if sha not in out:
            out[sha] = repo.info(sha)
    return list(out.values())[:limit] if limit is not None else list(out.values())


def params_of(repo: Repo, sha: str) -> dict[str, Any]:
    """A version's params.json alone (one blob read; damaged reads as {})."""
    return repo._json_file(sha, "params.json")

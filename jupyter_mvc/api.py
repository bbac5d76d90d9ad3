"""The Python API: module functions over a `Repo`, for scripts, CI and serving processes.

Faces (magics, widgets, server, CLI) call these or `Repo` directly. Namespaces are plain
dicts; nothing here knows about IPython.
"""
from __future__ import annotations

import math
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, MutableMapping

from .errors import InvalidNameError
from .objects import VersionDiff, VersionInfo, Version
from .repo import CheckoutResult, Repo

PathLike = str | os.PathLike


# -- change notification: faces that show history (widgets) subscribe; api stays below them
_listeners: list[Callable[[], object]] = []


def on_change(callback: Callable[[], object]) -> None:
    """Call `callback()` after every commit, checkout, branch or tag made through this API
    in this process (the widgets use it to refresh)."""
    if callback not in _listeners:
        _listeners.append(callback)


def notify_change() -> None:
    """Tell subscribers that history or HEAD changed. A failing subscriber never fails the
    operation that already succeeded."""
    for callback in list(_listeners):
        try:
            callback()
        except Exception as exc:  # noqa: BLE001 - e.g. a widget whose front-end is gone
            print(f"jupyter_mvc: a history view could not refresh: {exc}", file=sys.stderr)


def open_repo(path: PathLike = ".", create: bool = True) -> Repo:
    """The version repository of the Git repo holding `path`. With `create` (default), a
    Git repo is initialised at `path` when there is none; `repo.created` tells."""
    return Repo.open(path, create=create)


def commit(objects: Mapping[str, Any], message: str, *, path: PathLike = ".",
           metrics: Mapping | None = None, params: Mapping | None = None,
           files: Mapping[str, bytes | str] | None = None, env: Mapping | None = None,
           allow_secrets: bool = False) -> VersionInfo:
    """Snapshot `objects` (name -> object). Metrics logged with `log_metric` since the last
    commit are included (explicit `metrics` win) and then cleared."""
    merged = {**pending_metrics(), **(metrics or {})}
    with open_repo(path) as repo:
        info = repo.commit(objects, message, metrics=merged, params=params, files=files,
                           env=env, allow_secrets=allow_secrets)
    clear_metrics()
    notify_change()
    return info


def log(rev: str | None = None, *, path: PathLike = ".", limit: int | None = None,
        all: bool = False) -> list[VersionInfo]:
    with open_repo(path, create=False) as repo:
        return repo.log(rev, limit=limit, all=all)


def show(rev: str = "HEAD", *, path: PathLike = ".") -> Version:
    with open_repo(path, create=False) as repo:
        return repo.show(rev)


def diff(old: str, new: str = "HEAD", *, path: PathLike = ".") -> VersionDiff:
    with open_repo(path, create=False) as repo:
        return repo.diff(old, new)


def checkout(rev: str = "HEAD", names: Iterable[str] | None = None, *, path: PathLike = ".",
             namespace: MutableMapping[str, Any] | None = None, new_branch: str | None = None,
             trust: bool = False, allow: Iterable[str] = ()) -> CheckoutResult:
    """Load a version's variables; with `namespace`, also assign them into it."""
    with open_repo(path, create=False) as repo:
        result = repo.checkout(rev, names, new_branch=new_branch, trust=trust, allow=allow)
    if namespace is not None:
        namespace.update(result.objects)
    if result.moved_head:
        notify_change()
    return result


def load(rev: str, name: str, *, path: PathLike = ".", trust: bool = False,
         allow: Iterable[str] = ()) -> Any:
    """One variable of one version, e.g. `load("prod", "model")` in a serving process.
    Untrusted code never runs: only allow-listed classes load unless `trust=True`."""
    with open_repo(path, create=False) as repo:
        return repo.load(rev, name, trust=trust, allow=allow)


@dataclass(frozen=True)
class Status:
    version: VersionInfo | None
    branch: str | None
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    new: tuple[str, ...]  # in the namespace, not in the version
    missing: tuple[str, ...]  # in the version, gone from the namespace


def status(namespace: Mapping[str, Any], names: Iterable[str] | None = None, *,
           path: PathLike = ".", rev: str | None = None) -> Status:
    """Compare variables in `namespace` with the checked-out version (or `rev`, e.g. the
    version one kernel last committed) by content id (pickles out-of-band and hashes;
    writes nothing). `names`: the candidates for `new`."""
    with open_repo(path, create=False) as repo:
        head = repo.head() if rev is None else repo.resolve(rev)
        if head is None:
            candidates = tuple(sorted(names or ()))
            return Status(None, repo.current_branch(), (), (), candidates, ())
        entries = repo.manifest(head).variables
        changed, unchanged, missing = [], [], []
        for name, entry in entries.items():
            if name not in namespace:
                missing.append(name)
            elif repo.fingerprint(namespace[name], name) == entry.content_id:
                unchanged.append(name)
            else:
                changed.append(name)
        new = sorted(n for n in (names or ()) if n not in entries and n in namespace)
        return Status(repo.info(head), repo.current_branch(), tuple(changed), tuple(unchanged),
                      tuple(new), tuple(missing))


# -- metrics logged during training, picked up by the next commit ---------------------------
_metrics: dict[str, list[list]] = {}
_metrics_lock = threading.Lock()


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Append `value` to the series `name` (step defaults to the next index); the next
    commit stores the series as a loss curve."""
    if not isinstance(name, str) or not name:
        raise InvalidNameError("metric", str(name), "it must be a non-empty string",
                               "Call log_metric('loss', value).")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidNameError("metric", name, f"its value {value!r} is not a number",
                               "Log numbers; put other values in params.") from None
    with _metrics_lock:
        points = _metrics.setdefault(name, [])
        points.append([len(points) if step is None else int(step), number if math.isfinite(number) else None])


def pending_metrics() -> dict[str, list[list]]:
    """Series logged with `log_metric` since the last commit (a copy)."""
    with _metrics_lock:
        return {"series": {k: [list(p) for p in v] for k, v in _metrics.items()}} if _metrics else {}


def clear_metrics() -> None:
    with _metrics_lock:
        _metrics.clear()

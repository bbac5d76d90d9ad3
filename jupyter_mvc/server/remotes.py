"""Remotes in the Versions sidebar: where the current branch stands against each remote,
and push / pull / fetch, each run off the event loop.

GET  remotes?path=NB            the remotes; per remote, the current branch's versions only
                                here (ahead) and only there (behind), as last fetched; the
                                operation running or run last
GET  progress?path=NB           just that operation (polled while one runs): bytes done/total
POST push  {path, remote}       push the current branch; the report and its text
POST pull  {path, remote}       fetch, then fast-forward the current branch
POST fetch {path, remote}       the remote's history (its branches become REMOTE/BRANCH)

Ahead / behind compare the local branch with the remote-tracking ref
`refs/mvc/remotes/<remote>/<branch>`: what the remote said at the last fetch, pull or push,
so no request here touches the network except the three POSTs. One push / pull / fetch
at a time per repository: a second is refused (409) while one runs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import tornado

from .. import api
from ..errors import MvcError
from ..objects import jsonable
from ..remote import remotes as remote_refs
from ..remote import text as remote_text
from .handlers import BadRequest, MvcHandler

OPS = ("push", "pull", "fetch")


@dataclass
class Operation:
    """A push, pull or fetch run from this server: its progress while it runs (fed by the
    API's `progress` callback), its outcome after."""

    op: str
    remote: str
    started: float
    lock: threading.Lock = field(repr=False)
    what: str = ""
    done: int = 0
    total: int = 0
    finished: float | None = None
    error: str | None = None

    def progress(self, what: str, done: int, total: int) -> None:
        with self.lock:
            self.what, self.done, self.total = what, int(done), int(total)

    def view(self) -> dict:
        with self.lock:
            return {
                "op": self.op,
                "remote": self.remote,
                "running": self.finished is None,
                "what": self.what,
                "done": self.done,
                "total": self.total,
                "started": self.started,
                "finished": self.finished,
                "error": self.error,
            }


class Syncs:
    """Per repository (its root): the operation running or run last from this server; per
    (repository, remote): when it was last heard from (a push, pull or fetch that worked).
    Kept in memory: a restarted server says 'not since the server started' (null)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ops: dict[str, Operation] = {}
        self._heard: dict[tuple[str, str], float] = {}

    def start(self, root: str, op: str, remote: str) -> Operation:
        with self._lock:
            now = self._ops.get(root)
            if now is not None and now.finished is None:
                raise BadRequest(
                    409,
                    f"a {now.op} with {now.remote} is already running in this repository "
                    f"(for {time.time() - now.started:.0f} s): wait for it to finish, then try again.",
                )
            started = Operation(op, remote, time.time(), self._lock)
            self._ops[root] = started
            return started

    def finish(self, root: str, op: Operation, error: str | None) -> None:
        with self._lock:
            op.finished, op.error = time.time(), error
            if error is None:
                self._heard[(root, op.remote)] = op.finished

    def operation(self, root: str) -> dict | None:
        op = self._ops.get(root)
        return op.view() if op is not None else None

    def heard(self, root: str, remote: str) -> float | None:
        with self._lock:
            return self._heard.get((root, remote))


def counts(repo: Any, ours: str | None, theirs: str | None) -> tuple[int, int]:
    """(versions only in `ours`, versions only in `theirs`); a missing side has none, so a
    branch the remote never had is ahead by all of its versions."""
    if theirs is not None and not repo.git.has_commit(theirs):
        theirs = None  # a tracking ref naming a version not here: as if never fetched
    ahead = len(repo.git.rev_list([ours, *([f"^{theirs}"] if theirs else [])])) if ours else 0
    behind = len(repo.git.rev_list([theirs, *([f"^{ours}"] if ours else [])])) if theirs else 0
    return ahead, behind


def remotes_view(repo: Any, syncs: Syncs) -> dict:
    """{branch, remotes: [{name, url, unsafe, branches, tracking, ahead, behind,
    heard_at}], operation}; 'origin' first, then by name."""
    branch = repo.refs.current_branch()
    ours = repo.refs.branches().get(branch) if branch else None
    root = str(repo.root)
    items = []
    for r in sorted(api.remotes(path=repo), key=lambda r: (r.name != "origin", r.name)):
        seen = remote_refs.tracking(repo, r.name)
        theirs = seen.get(branch) if branch else None
        ahead, behind = counts(repo, ours, theirs)
        items.append(
            {
                "name": r.name,
                "url": r.url,
                "unsafe": r.unsafe,
                "branches": seen,
                "tracking": theirs,
                "ahead": ahead,
                "behind": behind,
                "heard_at": syncs.heard(root, r.name),
            }
        )
    return {"branch": branch, "remotes": items, "operation": syncs.operation(root)}


class SyncsHandler(MvcHandler):
    def initialize(self, root_dir: str, syncs: Syncs) -> None:  # type: ignore[override]
        super().initialize(root_dir)
        self.syncs = syncs


class RemotesHandler(SyncsHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path = self.target(self.arg("path"))

        def work():
            with api.open_repo(path, create=False) as repo:
                return remotes_view(repo, self.syncs)

        self.reply(await self.run(work))


class ProgressHandler(SyncsHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path = self.target(self.arg("path"))

        def work():
            with api.open_repo(path, create=False) as repo:
                return {"operation": self.syncs.operation(str(repo.root))}

        self.reply(await self.run(work))


# op -> (run it on an open repository, the lines of text its magic prints)
_RUN: dict[str, tuple[Callable[..., Any], Callable[[Any], list[str]]]] = {
    "push": (lambda repo, name, progress: api.push(name, progress=progress, path=repo), remote_text.push_lines),
    "pull": (lambda repo, name, progress: api.pull(name, progress=progress, path=repo), remote_text.pull_lines),
    "fetch": (lambda repo, name, progress: api.fetch(name, progress=progress, path=repo), remote_text.fetch_lines),
}


class SyncFailedError(MvcError):
    def __init__(self, op: str, remote: str, cause: BaseException):
        super().__init__(
            f"{op} with {remote} failed ({type(cause).__name__}: {str(cause)[:300]}). The Jupyter server's log "
            f"has the details; try again, or run `mvc {op} {remote}` in a terminal to see more."
        )


class SyncHandler(SyncsHandler):
    """POST push / pull / fetch {path, remote='origin'}: 200 with {op, remote, message,
    report}; a refusal (diverged, rejected, unknown remote, unreachable) is the usual
    JSON error whose message says what to do."""

    op = "push"

    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        path = self.target(self.arg("path", body=body))
        name = self.arg("remote", "origin", body=body)
        run, lines = _RUN[self.op]

        def work():
            with api.open_repo(path, create=False) as repo:
                root = str(repo.root)
                op = self.syncs.start(root, self.op, name)
                try:
                    report = run(repo, name, op.progress)
                except MvcError as exc:  # refused or unreachable: its message says what to do
                    self.syncs.finish(root, op, str(exc))
                    raise
                except Exception as exc:  # anything else: still an answer, and the server keeps serving
                    self.syncs.finish(root, op, f"{type(exc).__name__}: {exc}")
                    self.log.warning("jupyter_mvc: %s with %s failed", self.op, name, exc_info=exc)
                    raise SyncFailedError(self.op, name, exc) from None
                except BaseException:
                    self.syncs.finish(root, op, "interrupted")
                    raise
                self.syncs.finish(root, op, None)
                return {"op": self.op, "remote": name, "message": "\n".join(lines(report)), "report": jsonable(report)}

        self.reply(await self.run(work))


class PushHandler(SyncHandler):
    op = "push"


class PullHandler(SyncHandler):
    op = "pull"


class FetchHandler(SyncHandler):
    op = "fetch"


def handlers() -> list[tuple[str, type[SyncsHandler]]]:
    return [
        ("remotes", RemotesHandler),
        ("progress", ProgressHandler),
        ("push", PushHandler),
        ("pull", PullHandler),
        ("fetch", FetchHandler),
    ]

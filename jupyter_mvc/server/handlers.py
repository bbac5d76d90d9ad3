"""Authenticated JSON handlers under `<base_url>/jupyter-mvc/`.

GET  log?path=NB[&all=1][&limit=N]      versions with lanes for a graph, metrics, tags
GET  version?path=NB&rev=REV            one version: variables, metrics, params, env
GET  diff?path=NB&old=REV[&new=REV]     what changed between two versions
POST tag {path, name, rev}              tag a version (XSRF-checked like every POST)
remotes, progress, push, pull, fetch    remotes and moving versions: see remotes.py
POST merge {path, rev, take?, strategy?}  merge a branch into the current one: see merge.py

`path` is the notebook (or folder) relative to the server root; the repository is the
Git repo holding it. Commit and check-out run in the notebook's kernel (only it holds the
variables): the front-end sends those over the kernel comm, see magics/comm.py.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from .. import api
from ..errors import (
    ConcurrentUpdateError,
    DivergedError,
    FileNotInVersionError,
    InvalidNameError,
    MergeConflictError,
    MvcError,
    NotARepositoryError,
    PushRejectedError,
    RefExistsError,
    RemoteError,
    RevisionError,
    UnknownRemoteError,
    VariableNotFoundError,
)
from ..present.views import diff_view, info_view, log_view, version_view
from ..repo.merging import STRATEGIES

# The one kind of conflict a weight strategy resolves: a single variable present in the
# base and changed on both sides (repo/merging.py plans it; other kinds are taken by side).
BOTH_CHANGED = "changed on both sides"

# Our errors -> HTTP status: what the client asked for is missing (404), conflicts (409),
# or is malformed (400); a remote that cannot be reached or read is a 502. Anything else
# of ours is a 400 with its own message. A MergeConflictError's reply also lists its
# conflicts (see _details), so the sidebar can offer a choice per conflict.
_STATUS = (
    (NotARepositoryError, 404),
    (RevisionError, 404),
    (VariableNotFoundError, 404),
    (FileNotInVersionError, 404),
    (UnknownRemoteError, 404),
    (RefExistsError, 409),
    (DivergedError, 409),
    (PushRejectedError, 409),
    (MergeConflictError, 409),
    (ConcurrentUpdateError, 409),
    (InvalidNameError, 400),
    (RemoteError, 502),
)


class BadRequest(tornado.web.HTTPError):
    """A JSON error reply: {error, message} and any `extra` keys; `error` defaults to the
    status's name (_error_name)."""

    def __init__(self, status: int, message: str, error: str | None = None, **extra: object):
        super().__init__(status, reason=None)
        self.message = message
        self.error = error
        self.extra = extra


class MvcHandler(APIHandler):
    def initialize(self, root_dir: str) -> None:
        self.root = Path(root_dir).resolve()

    def write_error(self, status_code: int, **kwargs) -> None:
        """A 4xx from us carries a clear message; never an HTML or traceback page."""
        exc = kwargs.get("exc_info", (None, None))[1]
        if isinstance(exc, BadRequest):
            self.set_header("Content-Type", "application/json")
            reply = {"error": exc.error or _error_name(status_code), "message": exc.message, **exc.extra}
            self.finish(json.dumps(reply))
            return
        super().write_error(status_code, **kwargs)

    # -- input ---------------------------------------------------------------------------
    def arg(self, name: str, default: str | None = None, body: dict | None = None) -> str:
        value = (body or {}).get(name) if body is not None else self.get_query_argument(name, None)
        if value is None:
            value = default
        if not isinstance(value, str) or not value.strip():
            raise BadRequest(
                400,
                f"missing parameter {name!r}: pass it as " + ("a JSON field." if body is not None else f"?{name}=..."),
            )
        return value

    def json_body(self) -> dict:
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, RecursionError):  # RecursionError: nested too deep to parse
            raise BadRequest(400, "the request body is not JSON; send a JSON object.") from None
        if not isinstance(body, dict):
            raise BadRequest(400, "the request body must be a JSON object.")
        return body

    def target(self, rel: str) -> Path:
        """The notebook/folder `rel` names, which must lie inside the server root."""
        if "\0" in rel or Path(rel).is_absolute():
            raise BadRequest(400, f"path {rel!r} must be relative to the server root.")
        path = (self.root / rel).resolve()
        if path != self.root and not path.is_relative_to(self.root):
            raise BadRequest(
                403,
                f"path {rel!r} points outside the server root; use a path inside the folder Jupyter was started in.",
            )
        if not path.exists():
            raise BadRequest(404, f"no file or folder {rel!r} under the server root.")
        return path

    async def run(self, fn, *args):
        """Run repository work off the event loop; our errors become clear 4xx replies.
        Anything else a damaged or crafted version makes the work raise (a BaseException
        too) is a 422 naming what went wrong: the server answers and keeps serving. A
        BadRequest the work raises is the reply as it stands."""
        try:
            return await tornado.ioloop.IOLoop.current().run_in_executor(None, fn, *args)
        except BadRequest:
            raise
        except MvcError as exc:
            status = next((code for cls, code in _STATUS if isinstance(exc, cls)), 400)
            raise BadRequest(status, str(exc), **_details(exc)) from None
        except (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError):
            raise
        except BaseException as exc:  # noqa: B036 - from the repository's data, never a reason to die
            self.log.warning("jupyter_mvc: %s failed on the repository's data", self.request.path, exc_info=exc)
            raise BadRequest(
                422,
                f"the version's data could not be read ({type(exc).__name__}: {str(exc)[:300]}). It may be "
                "damaged or crafted: run `mvc fsck` in the repository, and look at another version.",
            ) from None

    def reply(self, data: dict) -> None:
        try:
            text = json.dumps(data, allow_nan=False)
        except (TypeError, ValueError, RecursionError) as exc:  # views are JSON-safe; a crafted value may not be
            raise BadRequest(422, f"the version holds a value that is not JSON ({exc}).") from None
        self.set_header("Content-Type", "application/json")
        self.finish(text)


class LogHandler(MvcHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path = self.target(self.arg("path"))
        all_ = self.get_query_argument("all", "0") in ("1", "true")
        limit = self.get_query_argument("limit", None)
        if limit is not None and not limit.isdigit():
            raise BadRequest(400, f"limit {limit!r} is not a whole number.")

        def work():
            with api.open_repo(path, create=False) as repo:
                versions = api.log(path=repo, limit=int(limit) if limit else None, all=all_)
                head = api.head(path=repo)
                return log_view(versions, head.version, head.branch) | {"root": str(repo.root)}

        self.reply(await self.run(work))


class VersionHandler(MvcHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path, rev = self.target(self.arg("path")), self.arg("rev", "HEAD")

        def work():
            return version_view(api.show(rev, path=path), api.metric_goals(path=path))

        self.reply(await self.run(work))


class DiffHandler(MvcHandler):
    @tornado.web.authenticated
    async def get(self) -> None:
        path = self.target(self.arg("path"))
        old, new = self.arg("old"), self.arg("new", "HEAD")

        def work():
            # trust=False: a diff never runs code from the versions it compares.
            return diff_view(api.diff(old, new, path=path))

        self.reply(await self.run(work))


class TagHandler(MvcHandler):
    @tornado.web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        path, name = self.target(self.arg("path", body=body)), self.arg("name", body=body)
        rev = self.arg("rev", "HEAD", body=body)

        def work():
            with api.open_repo(path, create=False) as repo:
                api.tag(name, rev, path=repo)
                return {"tag": name, "version": info_view(api.info(name, path=repo))}

        self.set_status(201)
        self.reply(await self.run(work))


def _details(exc: MvcError) -> dict:
    """What an error reply carries beyond {error, message}: for a MergeConflictError, its
    class name as `error` and the conflicts, each {names, kind, detail, strategies}
    (strategies: the weight strategies that can resolve it; none: resolve it by side)."""
    if isinstance(exc, MergeConflictError):
        return {
            "error": type(exc).__name__,
            "conflicts": [
                {
                    "names": [str(n) for n in names],
                    "kind": str(kind),
                    "detail": [str(line) for line in detail],
                    "strategies": list(STRATEGIES) if len(names) == 1 and kind == BOTH_CHANGED else [],
                }
                for names, kind, detail in exc.conflicts
            ],
        }
    return {}


def _error_name(status: int) -> str:
    return {
        400: "bad_request",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        422: "unprocessable",
        502: "remote_error",
    }.get(status, "error")


def setup_handlers(web_app, root_dir: str) -> None:
    from .merge import MergeHandler  # these build on MvcHandler, above
    from .remotes import Syncs, handlers

    base = url_path_join(web_app.settings["base_url"], "jupyter-mvc")
    kwargs = {"root_dir": root_dir}
    syncs = {"root_dir": root_dir, "syncs": Syncs()}  # one per server: what runs where
    web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, name), cls, kwargs)
            for name, cls in (
                ("log", LogHandler),
                ("version", VersionHandler),
                ("diff", DiffHandler),
                ("tag", TagHandler),
                ("merge", MergeHandler),
            )
        ]
        + [(url_path_join(base, name), cls, syncs) for name, cls in handlers()],
    )

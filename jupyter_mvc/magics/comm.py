"""The kernel end of the JupyterLab "Versions" sidebar: a comm target whose messages call
the kernel session. What the user typed (a commit message, a revision) arrives as comm
*data* and is passed as arguments, never spliced into code.

Request  {"id": n, "action": "checkout"|"commit"|"status"|"notebook", "rev", "message", "names", "force",
          "allow", "path", "content", "progress"}   ("notebook": the live document, sent before a cell runs)
Progress {"id": n, "progress": {"what": str, "done": bytes, "total": bytes (0: not known)}}
         (commit and checkout, only when the request says "progress": true: zero or more before the reply)
Reply    {"id": n, "ok": true, "result": {...}}
         {"id": n, "ok": false, "error": "<error class>", "message": str[, "names": [...]]}

The result keys per action are below (`_commit_json`...); the lab extension's
`src/wire.ts` mirrors them and tests/functional/test_wire_keys.py pins the two together.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ..errors import DirtyCheckoutError, MvcError
from ..objects import jsonable
from ..session import CheckoutReport, CommitReport, KernelSession
from . import messages

TARGET = "jupyter_mvc"
_LIVE_NOTEBOOK_LIMIT = 256 << 20


def register_comm_target(shell: Any, session: KernelSession) -> bool:
    """Register the target on the shell's kernel; False outside a kernel (plain IPython)."""
    kernel = getattr(shell, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False

    def on_open(comm: Any, open_msg: Any) -> None:
        comm.on_msg(lambda msg: comm.send(handle(session, msg["content"]["data"], send=comm.send)))

    manager.register_target(TARGET, on_open)
    return True


def handle(session: KernelSession, data: Any, send: Callable[[dict], object] | None = None) -> dict:
    """One request -> one reply dict (errors become replies, never tracebacks). `send`:
    how progress messages reach the front-end while a commit or checkout runs, for a
    request that asks for them."""
    request_id = data.get("id") if isinstance(data, dict) else None
    try:
        progress = _progress(send, request_id) if isinstance(data, dict) and data.get("progress") is True else None
        result = _dispatch(session, data, progress)
    except (MvcError, BadRequest) as exc:
        reply = {"id": request_id, "ok": False, "error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, DirtyCheckoutError):
            reply["names"] = list(exc.names)
        return reply
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: B036 - a version's data must not leave the sidebar without a reply
        return {
            "id": request_id,
            "ok": False,
            "error": type(exc).__name__,
            "message": f"{type(exc).__name__}: {str(exc)[:300]}. The version may be damaged or crafted: "
            "run `mvc fsck`, and check out another version.",
        }
    return {"id": request_id, "ok": True, "result": jsonable(result)}


class BadRequest(ValueError):
    """A comm message that does not follow the protocol above."""


class _Progress:
    """Progress messages for one request: each new stage at once (the sidebar says what
    runs), then at most one per `every` seconds, and the end of each stage (done == total)."""

    def __init__(self, send: Callable[[dict], object], request_id: Any, every: float = 0.25):
        self.send, self.request_id, self.every = send, request_id, every
        self._what: str | None = None
        self._last = 0.0

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        if what == self._what and now - self._last < self.every and not (total and done >= total):
            return
        self._what, self._last = what, now
        self.send({"id": self.request_id, "progress": {"what": what, "done": done, "total": total}})


def _progress(send: Callable[[dict], object] | None, request_id: Any) -> _Progress | None:
    return None if send is None else _Progress(send, request_id)


def _dispatch(session: KernelSession, data: Any, progress: _Progress | None = None) -> dict:
    if not isinstance(data, dict):
        raise BadRequest("a jupyter_mvc comm message is a JSON object with an 'action'.")
    action = data.get("action")
    names = data.get("names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise BadRequest("'names' must be a list of variable names.")
    if action == "status":
        st = session.status(names or None)
        return {
            "version": st.version.id if st.version else None,
            "branch": st.branch,
            "changed": st.changed,
            "unchanged": st.unchanged,
            "new": st.new,
            "missing": st.missing,
            "message": messages.status_text(st),
        }
    if action == "commit":
        return _commit_json(session.commit(_text(data, "message"), names, progress=progress))
    if action == "checkout":
        allow = data.get("allow") or []
        if not isinstance(allow, list) or not all(isinstance(a, str) for a in allow):
            raise BadRequest("'allow' must be a list of MODULE.NAME strings.")
        report = session.checkout(
            _text(data, "rev"), names, force=data.get("force") is True, allow=allow, progress=progress
        )
        return _checkout_json(report)
    if action == "notebook":
        return {"stored": _live_notebook(session, data)}
    raise BadRequest(f"unknown action {action!r}: use 'status', 'commit', 'checkout' or 'notebook'.")


def _live_notebook(session: KernelSession, data: dict) -> int:
    """Keep the notebook as the front-end shows it; the next commit stores it. Serialised
    the way nbformat writes files (indent 1, sorted keys)."""
    content = data.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise BadRequest("'content' must be a notebook (a JSON object with 'cells').")
    raw = (json.dumps(content, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode()
    if len(raw) > _LIVE_NOTEBOOK_LIMIT:
        raise BadRequest(f"the notebook is {len(raw)} bytes, more than {_LIVE_NOTEBOOK_LIMIT}; save it instead.")
    session.set_live_notebook(_text(data, "path"), raw)
    return len(raw)


def _commit_json(r: CommitReport) -> dict:
    return {
        "id": r.version.id,
        "short_id": r.version.short_id,
        "branch": r.branch,
        "variables": r.variables,
        "skipped": r.skipped,
        "secrets": r.secrets,
        "not_captured": r.not_captured,
        "metrics": r.version.metrics,
        "size": r.size,
        "added": r.added,
        "message": messages.commit_text(r),
    }


def _checkout_json(r: CheckoutReport) -> dict:
    return {
        "id": r.version.id,
        "short_id": r.version.short_id,
        "branch": r.branch,
        "restored": r.restored,
        "left_alone": r.left_alone,
        "failed": r.failed,
        "untrusted": r.untrusted,
        "left_behind": r.left_behind,
        "message": messages.checkout_text(r),
    }


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"the {key!r} field must be a non-empty string.")
    return value

"""The kernel end of the JupyterLab "Versions" sidebar: a comm target whose messages call
the magics' own operations. What the user typed (a commit message, a revision) arrives as
comm *data* and is passed as arguments, never spliced into code.

Request  {"id": n, "action": "checkout"|"commit"|"status", "rev", "message", "names", "force"}
Reply    {"id": n, "ok": true, "result": {...}}  or  {"id": n, "ok": false, "error": type, "message": str}
"""
from __future__ import annotations

from typing import Any

from IPython.core.error import UsageError

from ..errors import MvcError
from ..objects import jsonable

TARGET = "jupyter_mvc"
_RESULT_KEYS = ("id", "short_id", "branch", "variables", "restored", "skipped", "changed",
                "new", "missing", "unchanged", "version", "message", "metrics")


def register_comm_target(shell: Any, ops: Any) -> bool:
    """Register the target on the shell's kernel; False outside a kernel (plain IPython)."""
    kernel = getattr(shell, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False

    def on_open(comm, open_msg) -> None:
        comm.on_msg(lambda msg: comm.send(handle(ops, msg["content"]["data"])))

    manager.register_target(TARGET, on_open)
    return True


def handle(ops: Any, data: Any) -> dict:
    """One request -> one reply dict (errors become replies, never tracebacks)."""
    request_id = data.get("id") if isinstance(data, dict) else None
    try:
        result = _dispatch(ops, data)
    except (UsageError, MvcError, ValueError, TypeError) as exc:
        return {"id": request_id, "ok": False, "error": type(exc).__name__, "message": str(exc)}
    return {"id": request_id, "ok": True,
            "result": {k: jsonable(v) for k, v in result.items() if k in _RESULT_KEYS}}


def _dispatch(ops: Any, data: Any) -> dict:
    if not isinstance(data, dict):
        raise ValueError("a jupyter_mvc comm message is a JSON object with an 'action'.")
    action = data.get("action")
    names = data.get("names") or []
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError("'names' must be a list of variable names.")
    if action == "status":
        return ops.status(names or None)
    if action == "commit":
        return ops.commit(_text(data, "message"), names)
    if action == "checkout":
        return ops.checkout(_text(data, "rev"), names, force=data.get("force") is True)
    raise ValueError(f"unknown action {action!r}: use 'status', 'commit' or 'checkout'.")


def _text(data: dict, key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"the {key!r} field must be a non-empty string.")
    return value

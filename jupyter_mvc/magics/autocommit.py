"""%mv_autocommit: after each cell that changed tracked variables, commit them with a
generated message. Off by default; a failure warns and never breaks the cell."""
from __future__ import annotations

import sys
from typing import Any

from IPython.core.error import UsageError

from ..errors import MvcError


def enable(ops) -> str:
    state = ops.state
    if not state.tracked and not state.track_all:
        try:
            head = ops.log(limit=1)
        except MvcError:  # no repository yet: the first autocommit creates it
            head = []
        if head and head[0].variables:
            state.tracked = set(head[0].variables)
        else:
            state.track_all = True
    state.autocommit = True
    what = "every variable worth versioning" if state.track_all else ", ".join(sorted(state.tracked))
    return f"Autocommit on: after each cell that changes them, commits {what}. %mv_autocommit off stops it."


def disable(ops) -> str:
    ops.state.autocommit = False
    return "Autocommit off."


def after_cell(ops, result: Any) -> None:
    """post_run_cell handler."""
    if not ops.state.autocommit or not result.success:
        return
    source = (result.info.raw_cell or "") if result.info is not None else ""
    if "%mv_" in source or not source.strip():
        return  # our own magics already say what they did
    try:
        st = ops.status()
        if not (st["changed"] or st["new"] or st["missing"]):
            return
        names = () if ops.state.track_all else [n for n in sorted(ops.state.tracked) if n in ops.ns]
        if not ops.state.track_all and not names:
            return
        parts = [f"{label} {', '.join(st[label])}" for label in ("changed", "new", "missing") if st[label]]
        first = source.strip().splitlines()[0][:60]
        message = f"autocommit after In[{result.execution_count}]: {first}\n\n" + "; ".join(parts)
        print(ops.commit(message, names, auto=True)["message"].splitlines()[0])
    except (MvcError, UsageError) as exc:
        print(f"jupyter_mvc autocommit skipped: {exc}", file=sys.stderr)

"""The post_run_cell hook behind %mv_autocommit: the session decides and commits; this
prints the first line of what it did. A failure warns and never breaks the cell."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import MvcError
from ..session import KernelSession
from . import messages


def after_cell(session: KernelSession, result: Any) -> None:
    if not session.state.autocommit or not result.success:
        return
    source = (result.info.raw_cell or "") if result.info is not None else ""
    try:
        report = session.autocommit_after(source, result.execution_count)
    except MvcError as exc:
        print(f"jupyter_mvc autocommit skipped: {exc}", file=sys.stderr)
        return
    if report is not None:
        print(messages.commit_text(report).splitlines()[0])

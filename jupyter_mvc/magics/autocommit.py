"""The post_run_cell hook behind %mv_autocommit: the session decides and commits; this
prints the first line of what it did, and once per kernel each variable it left out
(one that cannot be serialised, or whose name looks like a secret). A failure warns and
never breaks the cell."""

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
    if report is None:
        return
    print(messages.commit_text(report).splitlines()[0])
    said = session.state.said
    skipped = {k: v for k, v in report.skipped.items() if f"autocommit skipped {k}" not in said}
    if skipped:
        print("Left out (cannot be serialised): " + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        said.update(f"autocommit skipped {k}" for k in skipped)
    secrets = [n for n in report.secrets if f"autocommit secret {n}" not in said]
    if secrets:
        print(f"Left out (names look like secrets): {', '.join(secrets)}")
        said.update(f"autocommit secret {n}" for n in secrets)

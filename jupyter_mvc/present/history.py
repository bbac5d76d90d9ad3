"""Log rows and lines: one HEAD -> branch rule and one text graph (drawn from the same
lane layout as the timeline widget and the sidebar)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..objects import VersionInfo
from . import fmt
from .graph import layout


def decorations(info: VersionInfo, current_branch: str | None, kernel_version: str | None = None) -> list[str]:
    """`HEAD -> main`, other branches, `tag: v1`, like `git log --decorate`; a detached
    HEAD shows as `HEAD`; `this kernel` marks the version a kernel last committed or
    checked out when HEAD has moved on."""
    p = fmt.printable
    marks = [f"HEAD -> {p(b)}" if info.is_head and b == current_branch else p(b) for b in info.branches]
    if info.is_head and not any(m.startswith("HEAD") for m in marks):
        marks.insert(0, "HEAD")
    marks.extend(f"tag: {p(t)}" for t in info.tags)
    if kernel_version == info.id and not info.is_head:
        marks.append("this kernel")
    return marks


def log_line(
    info: VersionInfo, current_branch: str | None, *, now: float, kernel_version: str | None = None, graph: str = "*"
) -> str:
    """`* 1a2b3c4d (HEAD -> main, tag: v1) message  (5 min ago)  [acc=0.93]`; text from the
    version (message, names) is escaped (`fmt.printable`)."""
    marks = decorations(info, current_branch, kernel_version)
    deco = f" ({', '.join(marks)})" if marks else ""
    metrics = fmt.printable(fmt.metric_pairs(info.metrics)) if isinstance(info.metrics, dict) else ""
    return f"{graph} {info.short_id}{deco} {fmt.printable(info.subject)}  ({fmt.age(now - info.time)})" + (
        f"  [{metrics}]" if metrics else ""
    )


def log_lines(
    infos: Sequence[VersionInfo],
    current_branch: str | None,
    kernel_version: str | None = None,
    now: float | None = None,
    suffix: dict[str, str] | None = None,
) -> list[str]:
    """One line per version, newest first, with a lane graph when branches diverge (and
    `|\\` / `|/` connector lines where a merge's second parent opens a lane or a lane joins
    its parent, like `git log --graph`). `suffix`: text to append per version id."""
    now = time.time() if now is None else now
    out = []
    for info, graph, connector in graph_columns(infos):
        line = log_line(info, current_branch, now=now, kernel_version=kernel_version, graph=graph)
        out.append(line + (suffix or {}).get(info.id, ""))
        if connector:
            out.append(connector)
    return out


def _one_chain(infos: Sequence[VersionInfo]) -> bool:
    """Whether each version's only parent is the next one (the last may have one not
    listed): a single lane."""
    for info, below in zip(infos, infos[1:]):
        if info.parents != (below.id,):
            return False
    return not infos or len(infos[-1].parents) <= 1


def graph_columns(infos: Sequence[VersionInfo]) -> list[tuple[VersionInfo, str, str]]:
    """Each version (child before parent) with its text-graph prefix (`*` in its lane, `|`
    in every lane an edge passes through) and the connector line to draw below it ("" when
    no edge changes lane there)."""
    if _one_chain(infos):  # the usual history: one lane, nothing to lay out
        return [(info, "*", "") for info in infos]
    rows, edges, width = layout(infos)
    busy: list[set[int]] = [set() for _ in range(len(rows) + 1)]
    down: list[set[int]] = [set() for _ in range(len(rows) + 1)]  # lanes running on below row y
    slants: list[dict[int, str]] = [{} for _ in range(len(rows) + 1)]  # below row y: column -> \ or /
    for edge in edges:
        points = edge["points"]
        for (l1, r1), (l2, r2) in zip(points, points[1:]):
            if l1 == l2:
                for y in range(r1, min(r2, len(rows)) + 1):
                    busy[y].add(l1)
                for y in range(r1, min(r2, len(rows))):
                    down[y].add(l1)
            elif r1 < len(rows):
                slants[r1][2 * min(l1, l2) + 1] = "\\" if l2 > l1 else "/"
    by_id = {i.id: i for i in infos}
    out: list[tuple[VersionInfo, str, str]] = []
    for r in rows:
        y = r["row"]
        cells = ["*" if lane == r["lane"] else ("|" if lane in busy[y] else " ") for lane in range(width)]
        connector = ""
        if slants[y]:
            chars = [" "] * (2 * width)
            for lane in down[y]:
                chars[2 * lane] = "|"
            for col, ch in slants[y].items():
                chars[col] = ch
            connector = "".join(chars).rstrip()
        out.append((by_id[r["id"]], " ".join(cells).rstrip(), connector))
    return out

"""Lane layout for a commit graph (newest first), so a front-end can draw branches as
columns without knowing Git: each version gets a `lane`; edges go to its parents."""
from __future__ import annotations

from typing import Sequence


def assign_lanes(versions: Sequence[tuple[str, Sequence[str]]]) -> tuple[dict[str, int], int]:
    """versions: (id, parent ids) newest first. Returns (id -> lane, number of lanes).

    A lane "expects" the next commit it leads to; a commit takes the first lane expecting
    it (or a free one), passes it to its first parent and opens lanes for merge parents.
    """
    expecting: list[str | None] = []
    lanes: dict[str, int] = {}
    width = 0
    for sha, parents in versions:
        mine = [i for i, e in enumerate(expecting) if e == sha]
        if mine:
            lane = mine[0]
            for i in mine[1:]:
                expecting[i] = None  # branches that join here end
        else:
            lane = _free(expecting)
        lanes[sha] = lane
        expecting[lane] = parents[0] if parents else None
        for parent in parents[1:]:
            if parent not in expecting:
                expecting[_free(expecting)] = parent
        width = max(width, len(expecting))
        while expecting and expecting[-1] is None:
            expecting.pop()
    return lanes, width


def _free(expecting: list[str | None]) -> int:
    for i, e in enumerate(expecting):
        if e is None:
            return i
    expecting.append(None)
    return len(expecting) - 1

"""Commit-graph layout for history views: versions in child-before-parent order, a lane
(column) for each, and edge polylines, so a front-end (the timeline widget, the JupyterLab
sidebar) only draws what it is given. Pure data over `VersionInfo`; linear in versions.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from ..objects import VersionInfo


def topo_order(infos: Sequence[VersionInfo]) -> list[VersionInfo]:
    """Children before parents, otherwise keeping the given (newest-first) order.

    `git log` over several tips orders by date only, so with same-second commits a
    parent can come before a child that another tip reaches; lanes need the guarantee.
    """
    by_id = {i.id: i for i in infos}
    waiting = {i.id: 0 for i in infos}  # children not yet placed
    for info in infos:
        for p in info.parents:
            if p in waiting:
                waiting[p] += 1
    position = {i.id: n for n, i in enumerate(infos)}
    ready = [(position[i.id], i.id) for i in infos if waiting[i.id] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        _, sha = heapq.heappop(ready)
        info = by_id[sha]
        out.append(info)
        for p in info.parents:
            if p in waiting:
                waiting[p] -= 1
                if waiting[p] == 0:
                    heapq.heappush(ready, (position[p], p))
    return out


def layout(infos: Sequence[VersionInfo]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """(rows, edges, lane count). Each row: {row, lane, id, parents}. Each edge: {points:
    [[lane, row], ...], lane}: from the child down the lane that waited for the parent,
    bending into the parent's lane one row above it. A parent that is not loaded gets an
    edge running off the bottom (row = len(infos)). Lanes are reused once free, so the
    width is the most branches alive at once, not the number of branches ever made."""
    ordered = topo_order(infos)
    lanes: list[str | None] = []  # the version each lane waits for
    pending: dict[str, list[tuple[int, int, int]]] = {}  # parent -> [(child row, child lane, wait lane)]
    rows: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    for n, info in enumerate(ordered):
        if info.id in lanes:
            col = lanes.index(info.id)
        else:
            col = lanes.index(None) if None in lanes else len(lanes)
            if col == len(lanes):
                lanes.append(None)
        lanes[:] = [None if sha == info.id else sha for sha in lanes]  # lanes waiting for it end here
        rows.append({"row": n, "lane": col, "id": info.id, "parents": list(info.parents)})
        for crow, clane, wait in pending.pop(info.id, ()):
            edges.append({"lane": wait, "points": _polyline(crow, clane, wait, n, col)})
        for k, parent in enumerate(info.parents):
            if k == 0:
                wait = col  # the first parent continues this lane (shared lanes merge later)
            elif parent in lanes:
                wait = lanes.index(parent)
            else:
                wait = lanes.index(None) if None in lanes else len(lanes)
                if wait == len(lanes):
                    lanes.append(None)
            lanes[wait] = parent
            pending.setdefault(parent, []).append((n, col, wait))
        while lanes and lanes[-1] is None:
            lanes.pop()
    end = len(ordered)
    for waits in pending.values():  # parents not loaded: run off the bottom
        for crow, clane, wait in waits:
            edges.append({"lane": wait, "points": _polyline(crow, clane, wait, end, wait)})
    width = max([r["lane"] + 1 for r in rows] + [p[0] + 1 for e in edges for p in e["points"]] + [0])
    return rows, edges, width


def _polyline(row: int, lane: int, wait: int, prow: int, plane: int) -> list[list[int]]:
    points = [[lane, row]]
    if wait != lane:  # a merge's other parent: step over into the lane that waits for it
        points.append([wait, row + 1])
    if wait != plane:  # the lane joins the parent's lane just above it
        points.append([wait, prow - 1])
    points.append([plane, prow])
    return [p for i, p in enumerate(points) if i == 0 or p != points[i - 1]]

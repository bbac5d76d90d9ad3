"""The runs table (`%mv_runs`, `mvc runs`, the runs widget), like `dvc exp show`: one row
per version, one column per metric and per param, sorted by a column (best first by the
metric's goal), the best value of each metric marked. Columns whose value is the same in
every shown version say nothing about the runs: they are left out unless asked for
(`all_columns`), and the table says which.

Pure data: versions in (`VersionInfo`s with their params, or whole `Version`s), a
`RunsTable` out; `runs_lines` is its text and `runs_view` its JSON (the widget's)."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import InvalidNameError
from ..objects import Version, VersionInfo, jsonable
from . import fmt
from .history import decorations

_PARAM_DEPTH = 4  # nested params flatten to `a.b.c` down to this depth; deeper stays one value
_TEXT_WIDTH = 24  # widest param text in a text cell
_SUBJECT_WIDTH = 36


@dataclass(frozen=True)
class RunColumn:
    name: str
    kind: str  # "metric" | "param"
    goal: str | None  # "min" | "max" for metrics; None for params (never ranked)
    constant: bool  # the same in every shown version: hidden unless all_columns


@dataclass(frozen=True)
class RunsTable:
    versions: tuple[VersionInfo, ...]  # the rows, in display order
    values: dict[str, dict[str, Any]]  # version id -> column name -> value
    columns: tuple[RunColumn, ...]  # every column: metrics, then params
    best: dict[str, tuple[str, ...]]  # metric column -> ids of the versions with its best value
    sort: str | None = None  # None: history order (newest first)
    descending: bool = False
    all_columns: bool = False

    @property
    def shown(self) -> tuple[RunColumn, ...]:
        """The columns to draw: those that differ (all with `all_columns`; the sort column always)."""
        return tuple(c for c in self.columns if self.all_columns or not c.constant or c.name == self.sort)

    @property
    def hidden(self) -> tuple[str, ...]:
        shown = {c.name for c in self.shown}
        return tuple(c.name for c in self.columns if c.name not in shown)

    def column(self, name: str) -> RunColumn | None:
        return next((c for c in self.columns if c.name == name), None)


def runs_table(
    versions: Sequence[VersionInfo | Version],
    params: Mapping[str, Mapping] | None = None,
    *,
    goals: Mapping[str, str] | None = None,
    sort: str | None = None,
    descending: bool | None = None,
    all_columns: bool = False,
) -> RunsTable:
    """The table of `versions` (newest first, as the log gives them). Metrics are each
    version's headline numbers (scalars, and the last value of each series); params come
    from `Version.params`, or `params[version id]` for a `VersionInfo`. `goals`: the
    repository's metric goals (fmt.goal). `sort`: a column name; `descending` defaults
    to best first (a param: ascending)."""
    infos: list[VersionInfo] = []
    metric_rows: dict[str, dict[str, Any]] = {}
    param_rows: dict[str, dict[str, Any]] = {}
    for v in versions:
        info = v.info if isinstance(v, Version) else v
        if info.id in metric_rows:
            continue
        metrics = _headline(v.metrics) if isinstance(v, Version) else dict(info.metrics)
        raw_params = v.params if isinstance(v, Version) else (params or {}).get(info.id, {})
        infos.append(info)
        metric_rows[info.id] = {str(k): m for k, m in metrics.items() if _number(m) is not None}
        param_rows[info.id] = _flatten(raw_params if isinstance(raw_params, Mapping) else {})
    metric_names = list(dict.fromkeys(k for row in metric_rows.values() for k in row))
    rename = {k: f"{k} (param)" for row in param_rows.values() for k in row if k in metric_names}
    param_names = list(dict.fromkeys(rename.get(k, k) for row in param_rows.values() for k in row))
    values = {
        sha: {**metric_rows[sha], **{rename.get(k, k): p for k, p in param_rows[sha].items()}} for sha in metric_rows
    }
    columns = [RunColumn(n, "metric", fmt.goal(n, goals), _constant(n, values)) for n in metric_names]
    columns += [RunColumn(n, "param", None, _constant(n, values)) for n in param_names]
    best = {c.name: _best(c, infos, values) for c in columns if c.kind == "metric"}
    table = RunsTable(
        tuple(infos), values, tuple(columns), {k: v for k, v in best.items() if v}, None, False, all_columns
    )
    return resort(table, sort, descending)


def resort(table: RunsTable, sort: str | None, descending: bool | None = None) -> RunsTable:
    """`table` sorted by column `sort` (None: history order): numbers by value, text after
    numbers, versions without a value last whichever the direction. `descending` None:
    best first for a metric, ascending for a param."""
    if not sort:
        position = {sha: n for n, sha in enumerate(table.values)}  # the order versions came in
        order = sorted(table.versions, key=lambda i: position[i.id])
        return dataclasses.replace(table, versions=tuple(order), sort=None, descending=False)
    column = table.column(sort)
    if column is None:
        names = ", ".join(c.name for c in table.columns) or "none"
        raise InvalidNameError(
            "column",
            sort,
            "no version shown has a metric or param by that name",
            f"Sort by one of: {fmt.printable(names)}.",
        )
    if descending is None:
        descending = column.goal == "max"
    having = [i for i in table.versions if _present(table.values[i.id].get(sort))]
    missing = [i for i in table.versions if not _present(table.values[i.id].get(sort))]
    having.sort(key=lambda i: _sort_key(table.values[i.id][sort]), reverse=descending)
    return dataclasses.replace(table, versions=tuple(having + missing), sort=sort, descending=descending)


# -- text -----------------------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """One value as a cell shows it: numbers to 4 significant digits, text shortened."""
    if value is None:
        return "-"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return fmt.number(value)
    text = value if isinstance(value, str) else json.dumps(jsonable(value), sort_keys=True, default=str)
    text = fmt.printable(text)
    return text if len(text) <= _TEXT_WIDTH else text[: _TEXT_WIDTH - 1] + "…"


def header_text(column: RunColumn) -> str:
    """`loss ↓` / `acc ↑` for metrics (which way is better); a param's bare name."""
    name = fmt.printable(column.name)
    return name if column.goal is None else f"{name} {'↓' if column.goal == 'min' else '↑'}"


def runs_lines(table: RunsTable, current_branch: str | None = None, kernel_version: str | None = None) -> list[str]:
    """The table as aligned text: version (id and marks), message, then the shown columns;
    the best value of each metric ends in ★. Closing lines say the sort and the hidden columns."""
    if not table.versions:
        return ["No versions yet: %mv_commit -m 'message' makes the first."]
    shown = table.shown
    header = ["version", "message", *(header_text(c) for c in shown)]
    body = []
    for info in table.versions:
        marks = decorations(info, current_branch, kernel_version)
        label = info.short_id + (f" ({', '.join(marks)})" if marks else "")
        subject = fmt.printable(info.subject)
        if len(subject) > _SUBJECT_WIDTH:
            subject = subject[: _SUBJECT_WIDTH - 1] + "…"
        cells = [label, subject]
        for c in shown:
            text = cell_text(table.values[info.id].get(c.name))
            cells.append(text + (" ★" if info.id in table.best.get(c.name, ()) else ""))
        body.append(cells)
    for i in range(2, len(header)):  # a column with a ★: the other numbers leave room for it
        if any(row[i].endswith(" ★") for row in body):
            for row in body:
                row[i] = row[i] if row[i].endswith(" ★") else row[i] + "  "
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        parts = [cells[0].ljust(widths[0]), cells[1].ljust(widths[1])]
        parts += [cell.rjust(widths[i]) for i, cell in enumerate(cells[2:], start=2)]
        return "  ".join(parts).rstrip()

    out = [line(header), *(line(row) for row in body)]
    notes = [f"{len(table.versions)} version{'s' if len(table.versions) != 1 else ''}"]
    if table.best:
        notes.append("★ best per metric (↓ lower is better, ↑ higher)")
    if table.sort:
        column = table.column(table.sort)
        way = "highest first" if table.descending else "lowest first"
        best_first = column is not None and column.goal is not None and table.descending == (column.goal == "max")
        notes.append(f"sorted by {fmt.printable(table.sort)}, {way}" + (" (best first)" if best_first else ""))
    out.append(" · ".join(notes))
    if table.hidden:
        out.append(
            f"Same in every version (hidden; --all-columns shows them): {fmt.printable(fmt.names(table.hidden))}"
        )
    return out


# -- JSON (the widget) ------------------------------------------------------------------------
def runs_view(table: RunsTable, current_branch: str | None = None) -> dict:
    """{columns: [{name, kind, goal, constant, header}], rows: [{id, short, subject, marks,
    head, values, text}], best: {column: [ids]}, sort, descending, hidden}: every column
    goes, each saying whether it is constant, so a front-end can show them all."""
    return {
        "columns": [{**dataclasses.asdict(c), "header": header_text(c)} for c in table.columns],
        "rows": [
            {
                "id": info.id,
                "short": info.short_id,
                "subject": info.subject,
                "marks": decorations(info, current_branch),
                "head": info.is_head,
                "time": info.time,
                "values": {k: jsonable(v) for k, v in table.values[info.id].items()},
                "text": {k: cell_text(v) for k, v in table.values[info.id].items()},
            }
            for info in table.versions
        ],
        "best": {k: list(v) for k, v in table.best.items()},
        "sort": table.sort or "",
        "descending": table.descending,
        "hidden": list(table.hidden),
    }


# -- helpers --------------------------------------------------------------------------------
def _headline(metrics: Any) -> dict:
    """A Version's metrics as the log shows them: scalars, then each series' last value."""
    if not isinstance(metrics, Mapping):
        return {}
    scalars, series = metrics.get("scalars", {}), metrics.get("series", {})
    out = dict(scalars) if isinstance(scalars, Mapping) else {}
    for name, points in series.items() if isinstance(series, Mapping) else ():
        if name not in out and isinstance(points, list) and points and isinstance(points[-1], (list, tuple)):
            out[name] = points[-1][-1]
    return out


def _flatten(params: Mapping, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value and depth < _PARAM_DEPTH:
            out.update(_flatten(value, name + ".", depth + 1))
        else:
            out[name] = value
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _sort_key(value: Any) -> tuple:
    number = _number(value)
    if number is not None:
        return (0, number, "")
    return (1, 0.0, cell_text(value))


def _same_key(value: Any) -> str:
    return json.dumps(jsonable(value), sort_keys=True, default=str)


_MISSING = "\0missing"


def _constant(name: str, values: Mapping[str, Mapping[str, Any]]) -> bool:
    """One value (or none) across every row; a single row shows everything."""
    if len(values) < 2:
        return False
    seen = {_same_key(row[name]) if name in row else _MISSING for row in values.values()}
    return len(seen) == 1


def _best(column: RunColumn, infos: Sequence[VersionInfo], values: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """Ids holding the column's best value; none unless two versions have one to compare."""
    scored = [(n, i.id) for i in infos if (n := _number(values[i.id].get(column.name))) is not None]
    if len(scored) < 2:
        return ()
    target = (min if column.goal == "min" else max)(n for n, _ in scored)
    return tuple(sha for n, sha in scored if n == target)


# -- best tags -------------------------------------------------------------------------------
class BestTagLike(Protocol):
    """What `best_tag_line` reads (repo.goals.BestTag)."""

    @property
    def tag(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def goal(self) -> str: ...
    @property
    def version(self) -> VersionInfo | None: ...
    @property
    def value(self) -> float | None: ...
    @property
    def previous(self) -> str | None: ...
    @property
    def candidates(self) -> int: ...
    @property
    def following(self) -> bool: ...


def best_tag_line(r: BestTagLike) -> str:
    """`Tagged 1a2b3c4d as best-loss: loss=0.3, the lowest of 3 versions.` and its
    variants (moved, already there, following, nothing to tag yet)."""
    way = "lowest" if r.goal == "min" else "highest"
    tag, metric = fmt.printable(r.tag), fmt.printable(r.metric)
    if r.version is None:
        return f"{tag} will follow the {way} {metric}: no version has it yet; the first commit that records it gets the tag."
    short, value = r.version.short_id, f"{metric}={fmt.number(r.value)}"
    of = f"the {way} of {r.candidates} version{'s' if r.candidates != 1 else ''}"
    if r.following:
        return f"{tag} follows the {way} {metric}: on {short} ({value}, {of}); each commit with a better {metric} moves it."
    if r.previous == r.version.id:
        return f"{tag} is already on {short}: {value}, {of}."
    moved = f" (moved from {r.previous[:8]})" if r.previous else ""
    return f"Tagged {short} as {tag}{moved}: {value}, {of}."

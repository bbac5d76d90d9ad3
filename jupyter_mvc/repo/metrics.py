"""The metrics of a version: the `metrics.json` format, the headline numbers a log line
shows, and the buffer that `log_metric` fills during training until the next commit.

    {"scalars": {name: number}, "series": {name: [[step, value], ...]}}

Non-finite values are stored as null (JSON has no NaN).
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidNameError, InvalidValueError
from ..objects import jsonable


def normalize(metrics: Mapping) -> dict:
    """The stored form, from a mapping of name -> number, list of numbers (steps 0..n-1),
    or list of (step, value) pairs (or an already structured {"scalars", "series"})."""
    scalars, series = {}, {}
    for name, value in metrics.items():
        if name == "scalars" and isinstance(value, Mapping):
            scalars.update({str(k): _number(k, v) for k, v in value.items()})
            continue
        if name == "series" and isinstance(value, Mapping):
            series.update({str(k): _series(k, v) for k, v in value.items()})
            continue
        if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1):
            series[str(name)] = _series(name, value)
        else:
            scalars[str(name)] = _number(name, value)
    return {"scalars": scalars, "series": series}


def headline(metrics_json: Mapping) -> dict:
    """Scalars, plus the last value of each series: what a log line shows."""
    scalars = metrics_json.get("scalars", {})
    out = dict(scalars) if isinstance(scalars, Mapping) else {}
    series = metrics_json.get("series", {})
    for name, points in series.items() if isinstance(series, Mapping) else ():
        if points and name not in out and isinstance(points[-1], (list, tuple)) and len(points[-1]) == 2:
            out[name] = points[-1][1]
    return out


def _number(name: object, value: Any) -> float | int | None:
    v = jsonable(value)
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
        raise InvalidValueError(
            f"metric {str(name)!r}",
            value,
            "it is not a number",
            "Metrics are numbers or lists of numbers; put other values in params.",
        )
    return v


def _series(name: object, values: Any) -> list[list]:
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    out = []
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple)) and len(v) == 2:
            out.append([_number(name, v[0]), _number(name, v[1])])
        else:
            out.append([i, _number(name, v)])
    return out


class MetricsBuffer:
    """Series logged during training (thread-safe), picked up and cleared by a commit.

    A step logged again (a training cell run twice before committing) replaces its value
    where it stood, and the first such step of a series warns once (`RepeatedStepWarning`)
    until the next commit. Without a step, values append (steps 0, 1, 2...)."""

    def __init__(self) -> None:
        self._series: dict[str, list[list]] = {}
        self._where: dict[str, dict[int, int]] = {}  # series -> step -> index in its points
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def log(self, name: str, value: float, step: int | None = None) -> None:
        if not isinstance(name, str) or not name:
            raise InvalidNameError(
                "metric", str(name), "it must be a non-empty string", "Call log_metric('loss', value)."
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidValueError(
                f"metric {name!r}", value, "it is not a number", "Log numbers; put other values in params."
            ) from None
        stored = number if math.isfinite(number) else None
        repeated: list[int] = []
        with self._lock:
            points = self._series.setdefault(name, [])
            where = self._where.setdefault(name, {})
            at = len(points) if step is None else int(step)
            if step is not None and at in where:
                points[where[at]][1] = stored
                if name not in self._warned:
                    self._warned.add(name)
                    repeated = sorted(where)
            else:
                where.setdefault(at, len(points))
                points.append([at, stored])
        if repeated:
            warnings.warn(
                f"{name}: step {at} logged again ({_span(repeated)} logged since the last commit: a "
                "training cell run twice?); keeping the last value of each step",
                RepeatedStepWarning,
                stacklevel=3,  # the caller of log_metric
            )

    def pending(self) -> dict:
        """{"series": ...} logged since the last clear (a copy; {} when none)."""
        with self._lock:
            if not self._series:
                return {}
            return {"series": {k: [list(p) for p in v] for k, v in self._series.items()}}

    def clear(self) -> None:
        with self._lock:
            self._series.clear()
            self._where.clear()
            self._warned.clear()


class RepeatedStepWarning(UserWarning):
    """log_metric got a step its series already holds; the new value replaced the old."""


def _span(steps: list[int]) -> str:
    """`steps 0-4` for consecutive steps, `steps 0, 10, 20` for a few others, `steps 0..90
    (10 steps)` for more, `step 3` for one."""
    if len(steps) == 1:
        return f"step {steps[0]}"
    if steps[-1] - steps[0] == len(steps) - 1:
        return f"steps {steps[0]}-{steps[-1]}"
    if len(steps) <= 3:
        return "steps " + ", ".join(map(str, steps))
    return f"steps {steps[0]}..{steps[-1]} ({len(steps)} steps)"


# -- reading: whatever a (damaged or crafted) metrics.json holds, in the format above --------
def no_constant(name: str) -> None:
    """NaN and Infinity are no JSON: read as null, so no view has to guard against them."""
    return None


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def clean(raw: Mapping) -> dict:
    """metrics.json in its format: scalars name -> number (or null), series name -> [[step,
    value]...] with numeric steps and numeric-or-null values; whatever else it holds
    (wrong types from a damaged or crafted file) is dropped."""
    out: dict[str, Any] = {}
    scalars, series = raw.get("scalars"), raw.get("series")
    if "scalars" in raw:
        out["scalars"] = (
            {str(k): v for k, v in scalars.items() if v is None or _finite(v)} if isinstance(scalars, dict) else {}
        )
    if "series" in raw:
        out["series"] = {}
        for name, points in series.items() if isinstance(series, dict) else ():
            if isinstance(points, list):
                out["series"][str(name)] = [
                    [p[0], p[1]]
                    for p in points
                    if isinstance(p, list) and len(p) == 2 and _finite(p[0]) and (p[1] is None or _finite(p[1]))
                ]
    return out

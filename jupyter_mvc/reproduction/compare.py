"""Comparing what a version stored with what the reproduction produced: pure functions
over plain values (numbers, numpy arrays, digests, DataFrames), no kernel, no repository."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..present import fmt
from .report import MetricResult, VariableResult


@dataclass(frozen=True)
class LeafComparison:
    max_delta: float  # over the numeric leaves compared (0.0 when none)
    mismatch: str | None  # why they cannot be equal whatever the tolerance (shape, dtype, text...)


def max_abs_delta(a: Any, b: Any) -> float:
    """max |a - b| over two numeric arrays of one shape; NaN where both are NaN counts as
    equal, NaN against a number as infinitely far."""
    import numpy as np

    a, b = np.asarray(a), np.asarray(b)
    if a.size == 0:
        return 0.0
    if a.dtype.kind == "b":
        a = a.astype(np.int8)
    if b.dtype.kind == "b":
        b = b.astype(np.int8)
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        if np.array_equal(a, b):
            return 0.0
        return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: handled just below
        diff = np.abs(a.astype(np.complex128 if "c" in (a.dtype.kind, b.dtype.kind) else np.float64) - b)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    diff = np.where(nan_a & nan_b, 0.0, np.where(nan_a | nan_b, np.inf, diff))
    same_inf = np.isinf(a) & np.isinf(b) & (a == b)
    diff = np.where(same_inf, 0.0, diff)
    return float(np.max(diff))


def compare_leaves(stored: Mapping[str, Any], produced: Mapping[str, Any]) -> LeafComparison:
    """Leaf by leaf (see probe.leaves): digests must be equal; arrays must agree in shape
    and dtype, and give max |Δ|."""
    if set(stored) != set(produced):
        gone = sorted(set(stored) - set(produced))[:3]
        new = sorted(set(produced) - set(stored))[:3]
        return LeafComparison(0.0, f"structure differs (stored only: {gone or '-'}; run only: {new or '-'})")
    worst = 0.0
    for path in stored:
        a, b = stored[path], produced[path]
        where = f" at {path}" if path else ""
        if isinstance(a, str) or isinstance(b, str):
            if a != b:
                return LeafComparison(worst, f"content differs{where}")
            continue
        if a.shape != b.shape:
            return LeafComparison(worst, f"shape {tuple(a.shape)} vs {tuple(b.shape)}{where}")
        if a.dtype != b.dtype:
            return LeafComparison(worst, f"dtype {a.dtype} vs {b.dtype}{where}")
        worst = max(worst, max_abs_delta(a, b))
    return LeafComparison(worst, None)


def compare_frames(stored: Any, produced: Any, tolerance: float) -> str | None:
    """None when equal (pandas.testing: exact at tolerance 0, else atol=tolerance), else
    the first line of what pandas says differs."""
    import pandas as pd
    import pandas.testing as pdt

    if isinstance(stored, pd.Series):
        stored = stored.to_frame()
    try:
        if tolerance > 0:
            pdt.assert_frame_equal(stored, produced, check_exact=False, atol=tolerance, rtol=0)
        else:
            pdt.assert_frame_equal(stored, produced, check_exact=True)
    except AssertionError as exc:
        lines = [s.strip() for s in str(exc).splitlines() if s.strip()]
        return " ".join(lines[:2]) or "content differs"
    return None


def judge(
    name: str,
    *,
    present: bool,
    same_id: bool,
    tolerance: float,
    stored: tuple[Mapping[str, Any], bool] | None = None,
    produced: tuple[Mapping[str, Any], bool] | None = None,
    frame_difference: str | None | bool = False,
) -> VariableResult:
    """One variable's verdict. `stored` / `produced`: (leaves, complete) of each side;
    `frame_difference`: False when no frame comparison ran, else compare_frames' answer."""
    if not present:
        return VariableResult(name, "missing", "not produced by the run")
    if same_id:
        return VariableResult(name, "reproduced", "bit-identical", 0.0)
    if frame_difference is None:
        return VariableResult(name, "reproduced", f"equal (pandas.testing, tolerance {fmt.number(tolerance)})")
    if isinstance(frame_difference, str):
        return VariableResult(name, "differs", frame_difference)
    if stored is None or produced is None or not (stored[0] or produced[0]):
        return VariableResult(name, "differs", "content differs")
    (stored_leaves, stored_complete), (produced_leaves, produced_complete) = stored, produced
    complete = stored_complete and produced_complete
    cmp = compare_leaves(stored_leaves, produced_leaves)
    delta = f"max |Δ| {fmt.number(cmp.max_delta)}"
    if cmp.mismatch is not None:
        return VariableResult(name, "differs", cmp.mismatch, cmp.max_delta if cmp.max_delta else None)
    if not math.isfinite(cmp.max_delta) or cmp.max_delta > tolerance:
        return VariableResult(name, "differs", delta if complete else f"{delta} (in its arrays)", cmp.max_delta)
    if complete:
        if cmp.max_delta == 0.0:
            return VariableResult(name, "reproduced", "equal by value (stored bytes differ, e.g. set order)", 0.0)
        return VariableResult(name, "reproduced", f"within tolerance: {delta}", cmp.max_delta)
    if cmp.max_delta == 0.0:
        return VariableResult(name, "differs", "content differs (its arrays are identical)", 0.0)
    return VariableResult(
        name, "reproduced", f"arrays within tolerance: {delta}; other state not compared", cmp.max_delta
    )


def compare_metrics(
    recorded: Mapping[str, Any], produced: Mapping[str, Any] | None, tolerance: float
) -> tuple[MetricResult, ...]:
    """The version's scalar metrics against those the run's own %mv_commit line gave."""
    out = []
    for name, value in recorded.items():
        rec = float(value) if isinstance(value, (int, float)) else None
        got = (produced or {}).get(name)
        got = float(got) if isinstance(got, (int, float)) else None
        if got is None:
            out.append(MetricResult(name, "missing", rec, None))
        elif rec is None or not (abs(got - rec) <= tolerance or (math.isnan(got) and math.isnan(rec))):
            out.append(MetricResult(name, "differs", rec, got))
        else:
            out.append(MetricResult(name, "reproduced", rec, got))
    return tuple(out)

"""How single values are written, everywhere: numbers, byte sizes, ages, name lists."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

# Metric direction by name (`goal`): a name is split into words at `_ - / space`, after its
# last `.` (`model.loss_curve` -> loss, curve). A name with one of LOWER_IS_BETTER as a word,
# or ending with one, is loss-like (lower is better); so are LightGBM's `l1`/`l2` and any
# name containing `error`, `deviance` or `perplexity`. Everything else (accuracy, score,
# r2, auc, f1, precision, recall...) is higher-is-better.
LOWER_IS_BETTER = tuple(
    "loss logloss error err mse rmse mae mape msle rmsle perplexity deviance time nll brier".split()
)
_LOWER_WORDS = ("l1", "l2", "huber")  # LightGBM's regression metrics (whole words only)
_LOWER_ANYWHERE = ("error", "deviance", "perplexity")
GOALS = ("min", "max")


# C0 controls (ESC included), DEL, C1 controls, and the Unicode marks that reorder or
# hide text on a terminal (bidi overrides and isolates, line/paragraph separators).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_CONTROL_BUT_NEWLINE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _escape(m: re.Match) -> str:
    c = m.group()
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


def printable(text: Any, multiline: bool = False) -> str:
    """`text` safe to print on a terminal: control characters (ESC, so no escape
    sequence from a version can move the cursor, retitle the window or hide output),
    C1 controls and bidi overrides are written as `\\x1b`-style escapes. `multiline`
    keeps newlines and tabs (a commit message body). Use it on every text that came
    from a version: messages, variable and metric names, summaries, branch and tag names."""
    return (_CONTROL_BUT_NEWLINE if multiline else _CONTROL).sub(_escape, str(text))


def number(value: Any) -> str:
    """4 significant digits for floats, '' for missing, str() for the rest."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def size(n: int | float) -> str:
    """Bytes in binary units: `512 B`, `3.8 KiB`, `1.0 GiB`."""
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


def age(seconds: float) -> str:
    """`just now`, `42 s ago`, `5 min ago`, `3 h ago`, `2 d ago`."""
    seconds = max(0, int(seconds))
    if seconds < 10:
        return "just now"
    for unit, span in (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        if seconds >= span:
            return f"{seconds // span} {unit} ago"
    return "just now"


def names(items: Iterable[str], limit: int = 12) -> str:
    """`a, b, c` with `and N more` past `limit`."""
    items = list(items)
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def metric_pairs(metrics: dict, limit: int = 4) -> str:
    """`acc=0.93 loss=0.1` (the first `limit`, then `…`)."""
    parts = [f"{k}={number(v)}" for k, v in list(metrics.items())[:limit]]
    return " ".join(parts) + (" …" if len(metrics) > limit else "")


def goal(metric: str, goals: Mapping[str, str] | None = None) -> str:
    """`"min"` when smaller is better for `metric`, else `"max"`. `goals`: the
    repository's own choices (`mvc metric-goal NAME min|max`), which win over the name;
    a compare column `"loss (last)"` follows the goal of `loss`. By name: losses and
    errors are lower-is-better (loss, val_loss, log_loss, mse, mae, rmse, *error*, deviance,
    perplexity...), and so are scikit-learn's `oob_scores_` (GradientBoosting's out-of-bag
    *losses*), while `oob_score_` (a forest's accuracy or R²) and sklearn's negated scorers
    (`neg_mean_squared_error`) are higher-is-better, like accuracy, scores, r2, auc, f1,
    precision and recall."""
    if goals:
        for key in (metric, metric.removesuffix(" (last)")):
            chosen = goals.get(key)
            if chosen in GOALS:
                return str(chosen)
    return "min" if _lower_by_name(metric.removesuffix(" (last)")) else "max"


def _lower_by_name(metric: str) -> bool:
    name = re.sub(r"[\s/-]+", "_", metric.lower().rsplit(".", 1)[-1])
    words = name.split("_")
    if words[0] == "neg":  # scikit-learn scorers negate losses so that greater is better
        return False
    if words[-2:] == ["oob", "scores"]:  # GradientBoosting.oob_scores_: losses (oob_score_: accuracy / R²)
        return True
    if any(word in name for word in _LOWER_ANYWHERE):
        return True
    if any(word in words for word in _LOWER_WORDS):
        return True
    return any(word in words or name.endswith(word) for word in LOWER_IS_BETTER)


def lower_is_better(metric: str, goals: Mapping[str, str] | None = None) -> bool:
    """Whether smaller is better for a metric (see `goal`)."""
    return goal(metric, goals) == "min"


def best(name: str, values: Iterable[Any], goals: Mapping[str, str] | None = None) -> float | None:
    """The best of `values` for metric `name` (min or max by `goal`); non-numbers skipped."""
    vals = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)]
    if not vals:
        return None
    return min(vals) if lower_is_better(name, goals) else max(vals)

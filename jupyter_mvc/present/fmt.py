"""How single values are written, everywhere: numbers, byte sizes, ages, name lists."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

LOWER_IS_BETTER = ("loss", "error", "err", "mse", "rmse", "mae", "perplexity", "time", "nll", "brier")


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


def lower_is_better(metric: str) -> bool:
    """Whether smaller is better for a metric, judged by its name (loss, error, mse...)."""
    name = metric.lower().rsplit(".", 1)[-1]
    return any(word in name.replace("-", "_").split("_") or name.endswith(word) for word in LOWER_IS_BETTER)


def best(name: str, values: Iterable[Any]) -> float | None:
    vals = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if not vals:
        return None
    return min(vals) if lower_is_better(name) else max(vals)

"""Find which attribute of an object graph cannot be pickled, e.g. `model.logger._lock`.

Runs only after a pickle failed, so it may be slow: it re-pickles children depth-first
and descends into the first that fails, until none of an object's children fails.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

_MAX_DEPTH = 40


def _children(obj: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"{path}[{k!r}]", v
        return
    if isinstance(obj, (list, tuple, set, frozenset)):
        for i, v in enumerate(obj):
            yield f"{path}[{i}]", v
        return
    state = getattr(obj, "__dict__", None)
    if isinstance(state, dict):
        for k, v in state.items():
            yield f"{path}.{k}", v
    for slot in getattr(type(obj), "__slots__", ()) or ():
        if isinstance(slot, str) and hasattr(obj, slot):
            yield f"{path}.{slot}", getattr(obj, slot)


def find_unpicklable(obj: Any, path: str, dumps: Callable[[Any], Any]) -> tuple[str, BaseException]:
    """The deepest failing path under `obj` and its error (`dumps` must raise on failure)."""
    seen: set[int] = set()
    error: BaseException | None = None
    for _ in range(_MAX_DEPTH):
        seen.add(id(obj))
        for child_path, child in _children(obj, path):
            if id(child) in seen:
                continue
            try:
                dumps(child)
            except Exception as exc:  # any failure marks the culprit branch
                obj, path, error = child, child_path, exc
                break
        else:
            break
    if error is None:
        try:
            dumps(obj)
        except Exception as exc:
            error = exc
        else:
            error = TypeError("unpicklable")
    return path, error


def null_sink() -> io.RawIOBase:
    class _Sink(io.RawIOBase):
        def writable(self):
            return True

        def write(self, b):
            return len(b)

    return _Sink()

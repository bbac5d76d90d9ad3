"""How arrays and tensors differ between two loaded objects: the numbers a diff shows.

Walks ndarrays, torch tensors, nn.Modules (their state_dict) and dicts/lists of those,
and compares leaves of equal shape blockwise so a 1 GiB pair needs no 1 GiB temporary.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

from .objects import TensorDelta

_BLOCK = 1 << 22  # elements compared at a time
_MAX_DEPTH = 4


def _as_numpy(obj: Any):
    np = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    if np is not None and isinstance(obj, np.ndarray):
        return obj
    if torch is not None and isinstance(obj, torch.Tensor):
        t = obj.detach().cpu()
        if t.dtype in (torch.bfloat16, torch.float16) or str(t.dtype).startswith("torch.float8"):
            t = t.float()
        return t.numpy()
    return None


def leaves(obj: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    arr = _as_numpy(obj)
    if arr is not None:
        yield path, arr
        return
    if depth >= _MAX_DEPTH:
        return
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from leaves(v, f"{path}.{k}" if path else str(k), depth + 1)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from leaves(v, f"{path}[{i}]", depth + 1)


def compare(old: Any, new: Any) -> list[TensorDelta]:
    a, b = dict(leaves(old)), dict(leaves(new))
    out = []
    for path in sorted(a.keys() | b.keys()):
        x, y = a.get(path), b.get(path)
        if x is None or y is None or x.shape != y.shape:
            out.append(TensorDelta(path, _shape(x), _shape(y), None, None, None))
            continue
        changed, max_delta = _count_changes(x, y)
        if changed:
            out.append(TensorDelta(path, x.shape, y.shape, changed, int(x.size), max_delta))
    return out


def _shape(x) -> tuple | None:
    return None if x is None else tuple(x.shape)


def _count_changes(x, y) -> tuple[int, float | None]:
    import numpy as np

    fx, fy = x.reshape(-1), y.reshape(-1)
    numeric = x.dtype.kind in "biufc" and y.dtype.kind in "biufc"
    changed, max_delta = 0, 0.0
    for i in range(0, fx.size, _BLOCK):
        bx, by = fx[i : i + _BLOCK], fy[i : i + _BLOCK]
        if numeric:
            with np.errstate(invalid="ignore", over="ignore"):
                diff = bx != by
                if x.dtype.kind in "fc":
                    diff &= ~(np.isnan(bx) & np.isnan(by))
                n = int(diff.sum())
                if n:
                    d = np.abs(
                        bx[diff].astype(np.complex128 if x.dtype.kind == "c" else np.float64)
                        - by[diff].astype(np.complex128 if y.dtype.kind == "c" else np.float64)
                    )
                    max_delta = max(max_delta, float(np.nanmax(d)) if d.size else 0.0)
        else:
            n = int(sum(1 for p, q in zip(bx.tolist(), by.tolist()) if p != q))
        changed += n
    return changed, (max_delta if numeric else None)

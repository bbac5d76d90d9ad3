"""Weight-merging strategies, applied only when asked and only where keys, shapes and
dtypes match: `average` (uniform averaging of two fine-tunes of one base, "model soups",
arXiv:2203.05482) and `task-arithmetic` (base + (ours - base) + (theirs - base)). For
numpy arrays, torch tensors, state_dicts (dicts of those) and torch modules (their
state_dicts; the result is a copy of ours holding the merged weights).

Floating-point leaves are combined in float64 and cast back to their dtype; other leaves
(integer counters such as BatchNorm's num_batches_tracked) must be equal on both sides,
else ours is kept and named in the returned notes."""

from __future__ import annotations

import copy
from typing import Any

from ..errors import InvalidValueError


class Mismatch(Exception):
    """Why two sides cannot be combined: a path and what differs there."""


def combine(strategy: str, base: Any, ours: Any, theirs: Any, name: str) -> tuple[Any, list[str]]:
    """The combined value and notes (leaves kept from ours); InvalidValueError naming the
    first mismatch (path, shapes, dtypes or keys) when the sides do not line up."""
    notes: list[str] = []
    try:
        return _value(strategy, base, ours, theirs, name, notes), notes
    except Mismatch as exc:
        raise InvalidValueError(
            f"--strategy {strategy} for",
            name,
            str(exc),
            f"Weights combine only where keys, shapes and dtypes match; resolve it by side: --take {name}=ours or --take {name}=theirs.",
        ) from None


def _is_torch(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def _value(strategy: str, b: Any, o: Any, t: Any, path: str, notes: list[str]) -> Any:
    import numpy as np

    kinds = {type(b), type(o), type(t)}
    if len(kinds) != 1:
        raise Mismatch(f"{path}: types differ ({', '.join(sorted(k.__name__ for k in kinds))})")
    if isinstance(o, np.ndarray):
        return _leaf(strategy, b, o, t, path, notes, np)
    if _is_torch(o):
        import torch

        if isinstance(o, torch.Tensor):
            return _tensor(strategy, b, o, t, path, notes, torch)
        if isinstance(o, torch.nn.Module):
            merged = _value(strategy, b.state_dict(), o.state_dict(), t.state_dict(), f"{path}.state_dict()", notes)
            out = copy.deepcopy(o)
            out.load_state_dict(merged)
            return out
    if isinstance(o, dict):
        if not (set(b) == set(o) == set(t)):
            extra = sorted(map(str, (set(o) ^ set(t)) | (set(b) ^ set(o))))[:5]
            raise Mismatch(f"{path}: keys differ ({', '.join(extra)})")
        combined: Any = copy.copy(o)  # keeps an OrderedDict (a state_dict) what it is
        for key in o:
            combined[key] = _value(strategy, b[key], o[key], t[key], f"{path}[{key!r}]", notes)
        return combined
    raise Mismatch(f"{path}: a {type(o).__name__} (strategies combine arrays, tensors, state_dicts and torch modules)")


def _formula(strategy: str, b: Any, o: Any, t: Any) -> Any:
    return (o + t) / 2 if strategy == "average" else b + (o - b) + (t - b)


def _same_shape(b: Any, o: Any, t: Any, path: str) -> None:
    if not (tuple(b.shape) == tuple(o.shape) == tuple(t.shape)):
        raise Mismatch(f"{path}: shapes {tuple(o.shape)} (ours), {tuple(t.shape)} (theirs), {tuple(b.shape)} (base)")
    if not (b.dtype == o.dtype == t.dtype):
        raise Mismatch(f"{path}: dtypes {o.dtype} (ours), {t.dtype} (theirs), {b.dtype} (base)")


def _leaf(strategy: str, b: Any, o: Any, t: Any, path: str, notes: list[str], np: Any) -> Any:
    _same_shape(b, o, t, path)
    if o.dtype.kind in "fc":
        wide = np.complex128 if o.dtype.kind == "c" else np.float64
        return _formula(strategy, b.astype(wide), o.astype(wide), t.astype(wide)).astype(o.dtype)
    if not np.array_equal(o, t):
        notes.append(f"{path or 'value'} ({o.dtype}) kept from ours")
    return o.copy()


def _tensor(strategy: str, b: Any, o: Any, t: Any, path: str, notes: list[str], torch: Any) -> Any:
    _same_shape(b, o, t, path)
    with torch.no_grad():
        if o.is_floating_point() or o.is_complex():
            wide = torch.complex128 if o.is_complex() else torch.float64
            out = _formula(strategy, b.detach().to(wide), o.detach().to(wide), t.detach().to(wide)).to(o.dtype)
        else:
            if not torch.equal(o, t):
                notes.append(f"{path or 'value'} ({o.dtype}) kept from ours")
            out = o.detach().clone()
    return out.requires_grad_(o.requires_grad) if out.is_floating_point() else out

"""Short descriptions of live objects for manifests: what log, diff and widgets show
without loading a byte of data. Never imports a library the object did not come from."""

from __future__ import annotations

import re
import sys
from typing import Any

_REPR_HEAD = 120
# What object.__repr__ gives: the class and an address, nothing a reader can use.
_DEFAULT_REPR = re.compile(r"<[\w.]+ object at 0x[0-9a-fA-F]+>")
_FACTS = 6  # public attributes shown for an object without a useful repr


def type_name(obj: Any) -> str:
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _repr_head(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not break a commit
        text = f"<repr failed: {type(exc).__name__}>"
    return _cut(" ".join(text.split()))


def summarize(obj: Any) -> dict:
    """{shape, dtype, parameters, length, columns, params, repr}, as they apply. `repr` is
    left out where it would be the data itself flattened onto one line (DataFrames,
    Series); an object whose repr is only its class and address gets `Class(key facts)`."""
    out: dict = {}
    np = sys.modules.get("numpy")
    torch = sys.modules.get("torch")
    pd = sys.modules.get("pandas")
    if np is not None and isinstance(obj, np.ndarray):
        out.update(shape=list(obj.shape), dtype=str(obj.dtype))
    elif torch is not None and isinstance(obj, torch.Tensor):
        out.update(shape=list(obj.shape), dtype=str(obj.dtype).removeprefix("torch."), device=str(obj.device))
    elif torch is not None and isinstance(obj, torch.nn.Module):
        out["parameters"] = int(sum(p.numel() for p in obj.parameters()))
    elif torch is not None and isinstance(obj, torch.optim.Optimizer):
        out.update(_optimizer(obj))
    elif pd is not None and isinstance(obj, pd.DataFrame):
        out.update(shape=list(obj.shape), columns=[str(c) for c in obj.columns[:20]])
        return out
    elif pd is not None and isinstance(obj, pd.Series):
        out.update(length=len(obj), dtype=str(obj.dtype))
        if obj.name is not None:
            out["name"] = _cut(str(obj.name))
        return out
    elif hasattr(obj, "get_params") and hasattr(obj, "fit"):
        try:
            out["params"] = {k: _repr_head(v) for k, v in obj.get_params(deep=False).items()}
        except Exception:
            pass
    elif isinstance(obj, (list, tuple, dict, set, frozenset, str, bytes)):
        out["length"] = len(obj)
    if "repr" not in out:
        text = _repr_head(obj)
        out["repr"] = _described(obj) if _DEFAULT_REPR.fullmatch(text) else text
    return out


def useless_repr(text: str) -> bool:
    """Whether a stored repr is only `<module.Class object at 0x...>`."""
    return bool(_DEFAULT_REPR.fullmatch(text))


def _optimizer(opt: Any) -> dict:
    """A PyTorch optimizer: the parameters it steps and its first group's settings."""
    groups = getattr(opt, "param_groups", [])
    out: dict = {}
    try:
        out["parameters"] = int(sum(p.numel() for g in groups for p in g["params"]))
        first = groups[0] if groups else {}
        out["params"] = {k: _repr_head(v) for k, v in first.items() if k != "params" and _simple(v)}
    except Exception:  # a subclass with odd groups: the repr alone
        pass
    name = type(opt).__name__
    settings = ", ".join(f"{k}={v}" for k, v in list(out.get("params", {}).items())[:4])
    out["repr"] = f"{name}({settings}{', ' if settings else ''}{len(groups)} group{'' if len(groups) == 1 else 's'})"
    return out


def _described(obj: Any) -> str:
    """`Class(a=1, b=[0.1])`: the class and its first public attributes with plain values
    (numbers, strings, short lists of them), for an object whose repr says nothing."""
    facts = []
    try:
        attrs = vars(obj)
    except TypeError:  # __slots__ or a C type
        attrs = {}
    for key, value in attrs.items():
        if key.startswith("_") or not _simple(value):
            continue
        facts.append(f"{key}={_repr_head(value)}")
        if len(facts) == _FACTS:
            break
    more = ", …" if len(facts) == _FACTS else ""
    return _cut(f"{type(obj).__name__}({', '.join(facts)}{more})")


def _simple(value: Any, depth: int = 0) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return not isinstance(value, str) or len(value) <= 40
    if isinstance(value, (list, tuple)) and depth == 0:
        return len(value) <= 4 and all(_simple(v, 1) for v in value)
    return False


def _cut(text: str) -> str:
    return text if len(text) <= _REPR_HEAD else text[: _REPR_HEAD - 1] + "…"

"""Short descriptions of live objects for manifests: what log, diff and widgets show
without loading a byte of data. Never imports a library the object did not come from."""

from __future__ import annotations

import sys
from typing import Any

_REPR_HEAD = 120


def type_name(obj: Any) -> str:
    t = type(obj)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def _repr_head(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not break a commit
        text = f"<repr failed: {type(exc).__name__}>"
    text = " ".join(text.split())
    return text if len(text) <= _REPR_HEAD else text[: _REPR_HEAD - 1] + "…"


def summarize(obj: Any) -> dict:
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
    elif pd is not None and isinstance(obj, pd.DataFrame):
        out.update(shape=list(obj.shape), columns=[str(c) for c in obj.columns[:20]])
    elif pd is not None and isinstance(obj, pd.Series):
        out.update(length=len(obj), dtype=str(obj.dtype))
    elif hasattr(obj, "get_params") and hasattr(obj, "fit"):
        try:
            out["params"] = {k: _repr_head(v) for k, v in obj.get_params(deep=False).items()}
        except Exception:
            pass
    elif isinstance(obj, (list, tuple, dict, set, frozenset, str, bytes)):
        out["length"] = len(obj)
    out["repr"] = _repr_head(obj)
    return out

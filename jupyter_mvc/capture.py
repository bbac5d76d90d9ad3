"""What a commit of a whole namespace picks up, without being told: the variables worth
versioning, the ones whose names look like secrets, and the loss curves and params that
trained models carry themselves (scikit-learn, Keras, XGBoost, LightGBM).

API layer: plain dicts in, plain dicts out; nothing here knows about IPython.
"""

from __future__ import annotations

import functools
import math
import re
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .secrets import looks_like_credential

# Names that usually hold credentials. Matched on word parts, so `tokenizer` and
# `n_tokens` stay in while `api_token`, `hf_token` and `DB_PASSWORD` are left out.
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:token|access_token|password|passwd|pwd|secret|secrets|api_?key|apikey|"
    r"credentials?|private_?key|auth|access_?key|secret_?key|session_?key|bearer|cookie)(?:_|$)",
    re.IGNORECASE,
)
# The interactive shell's own names, never user state.
_SHELL_NAMES = frozenset({"In", "Out", "exit", "quit", "get_ipython", "open"})
# Types that are code or machinery, not state worth versioning.
_CODE_TYPES = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.BuiltinMethodType,
    type,
    types.GeneratorType,
    types.CoroutineType,
)
_NOT_STATE_MODULES = (
    "IPython.",
    "ipykernel.",
    "ipywidgets.",
    "anywidget.",
    "jupyter_mvc.",
    "matplotlib.",
    "zmq.",
    "tornado.",
    "typing",
)


def looks_secret(name: str, value: Any = None) -> bool:
    """True when the variable name (or a string value) looks like a credential."""
    if _SECRET_NAME.search(name):
        return True
    return isinstance(value, str) and looks_like_credential(value)


def worth_versioning(name: str, value: Any) -> bool:
    """User state: not private/underscore names, not the shell's own, not code."""
    if name.startswith("_") or name in _SHELL_NAMES or not name.isidentifier():
        return False
    if isinstance(value, _CODE_TYPES) or isinstance(value, functools.partial):
        return False
    module = type(value).__module__ or ""
    return not module.startswith(_NOT_STATE_MODULES)


@dataclass
class Selection:
    objects: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # left out: names look like credentials


def select(namespace: Mapping[str, Any], hidden: Iterable[str] = ()) -> Selection:
    """Variables of `namespace` worth versioning, minus `hidden` names (the shell's own
    start-up namespace) and secret-looking ones (listed in `secrets`)."""
    hidden = set(hidden)
    out = Selection()
    for name, value in namespace.items():
        if name in hidden or not worth_versioning(name, value):
            continue
        if looks_secret(name, value):
            out.secrets.append(name)
        else:
            out.objects[name] = value
    out.secrets.sort()
    return out


# -- curves and params that models carry --------------------------------------------------
_SKLEARN_CURVES = ("loss_curve_", "validation_scores_", "train_score_", "oob_scores_")


def model_curves(objects: Mapping[str, Any]) -> dict[str, list[float]]:
    """Series found on the objects: `{"<var>.<curve>": [values...]}`."""
    out: dict[str, list[float]] = {}
    for name, obj in objects.items():
        for attr in _SKLEARN_CURVES:
            values = _numbers(_safe_getattr(obj, attr))
            if values:
                out[f"{name}.{attr.rstrip('_')}"] = values
        history = _keras_history(obj)
        for metric, values in history.items():
            values = _numbers(values)
            if values:
                out[f"{name}.{metric}"] = values
        evals = _safe_getattr(obj, "evals_result_")  # XGBoost and LightGBM sklearn API
        if isinstance(evals, Mapping):
            for dataset, metrics in evals.items():
                if isinstance(metrics, Mapping):
                    for metric, values in metrics.items():
                        values = _numbers(values)
                        if values:
                            out[f"{name}.{dataset}.{metric}"] = values
    return out


def _keras_history(obj: Any) -> Mapping:
    """`History.history` of a Keras History object, or of a model's last fit."""
    for candidate in (obj, _safe_getattr(obj, "history")):
        history = _safe_getattr(candidate, "history")
        if isinstance(history, Mapping) and isinstance(_safe_getattr(candidate, "epoch"), list):
            return history
    return {}


def model_params(objects: Mapping[str, Any]) -> dict[str, Any]:
    """Hyper-parameters from `get_params()`: `{"<var>.<param>": value}`, plain values only."""
    out: dict[str, Any] = {}
    for name, obj in objects.items():
        get_params = _safe_getattr(obj, "get_params")
        if not callable(get_params) or isinstance(obj, type):
            continue
        try:
            params = get_params(deep=False)
        except Exception:  # a half-built estimator must not break a commit
            continue
        if isinstance(params, Mapping):
            for key, value in params.items():
                out[f"{name}.{key}"] = value if _plain(value) else repr(value)[:200]
    return out


def _plain(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (str, bool, int))


def _safe_getattr(obj: Any, attr: str) -> Any:
    try:
        return getattr(obj, attr, None)
    except Exception:  # properties of unfitted models raise
        return None


def _numbers(values: Any) -> list[float]:
    if values is None or isinstance(values, (str, bytes, Mapping)):
        return []
    if hasattr(values, "tolist"):
        values = values.tolist()
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        return []
    return out

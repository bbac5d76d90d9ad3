"""scikit-learn estimators through skops' audited format, loaded without pickle.

`encode` dumps a fitted or unfitted `sklearn.base.BaseEstimator` (Pipeline and
ColumnTransformer included) with `skops.io.dumps`, loads the dump back and keeps it only
if the loaded estimator's state equals the original's (arrays by value and dtype, random
states by state, nested objects through their reduce tuples); otherwise it returns None
and the caller uses pickle.

`decode` asks skops which types in the data it would not trust by default and refuses the
first one that `allow` does not name with `UntrustedDataError`; anything else that goes
wrong inside skops (a damaged archive, a schema it rejects) is an `InvalidDataError`.

skops and scikit-learn are imported only for an estimator, or when decoding.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

from ..errors import InvalidDataError, UntrustedDataError

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]{0,255}$")
_VERSION = re.compile(r"^[0-9A-Za-z.+\-]{1,64}$")
_MAX_DEPTH = 200


def encode(obj: Any) -> tuple[dict, list[memoryview]] | None:
    """(meta, [skops archive]) for an estimator whose skops dump loads back equal, else None."""
    base = sys.modules.get("sklearn.base")
    if base is None or not isinstance(obj, base.BaseEstimator):
        return None
    if not _only_types_skops_trusts(sys.modules["sklearn.base"].BaseEstimator, obj):
        # A forest's Tree or an MLP's optimizer: skops would need extra trust to load it, so
        # it stays pickled. Decided before importing skops (2.1 s here: it walks all of
        # scikit-learn) and before its dump (a 100-tree forest: ~0.6 s).
        return None
    try:
        skops, sio = _import("skops"), _import("skops.io")
    except ImportError:
        return None
    try:
        data = sio.dumps(obj)
        back = sio.loads(data, trusted=sio.get_untrusted_types(data=data))  # our own dump
        if not same_state(obj, back):
            return None
    except MemoryError:
        raise
    except Exception:  # skops cannot represent it (custom classes, lambdas...): use pickle
        return None
    meta = {"skops": str(skops.__version__), "type": _full_name(type(obj))}
    return meta, [memoryview(data)]


# scikit-learn types that are not estimators but that skops trusts by default
# (skops.io._trusted_types.SKLEARN_INTERNAL_TYPE_NAMES, skops 0.16): a pre-filter only;
# skops' own check of the dump decides.
_SKOPS_INTERNALS = ("sklearn._loss.", "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper")


def _only_types_skops_trusts(estimator_base: type, obj: Any, limit: int = 100_000) -> bool:
    """Whether every scikit-learn object reachable from `obj` (through attributes, lists,
    tuples, dicts and object arrays; other arrays are leaves) is an estimator or an internal skops trusts. A
    cheap walk, so a model skops would refuse is never dumped just to find out."""
    seen: set[int] = set()
    stack = [obj]
    while stack and len(seen) < limit:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        kind = type(item)
        if kind.__module__.startswith("sklearn") and not issubclass(kind, estimator_base):
            if not _full_name(kind).startswith(_SKOPS_INTERNALS):
                return False
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif getattr(getattr(item, "dtype", None), "hasobject", False):  # object arrays (boosting's trees)
            stack.extend(item.ravel()[:limit].tolist())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif hasattr(item, "__dict__") and not isinstance(item, type):
            stack.extend(vars(item).values())
    return not stack  # a graph past the limit: not worth a skops dump either


def decode(meta: dict, buffers: list[memoryview], *, allow: frozenset[str], variable: str, version: str) -> object:
    """The estimator, if every type skops does not trust by default is in `allow`."""
    _check_meta(meta, variable, version)
    if not isinstance(buffers, list) or len(buffers) != 1:
        raise InvalidDataError(variable, version, "a skops estimator needs exactly one buffer")
    try:
        sio = _import("skops.io")
    except ImportError as exc:
        raise InvalidDataError(
            variable,
            version,
            "this version stores a scikit-learn estimator in skops' format and skops is not installed",
            "pip install skops scikit-learn (or pip install 'jupyter_mvc[data]').",
        ) from exc
    data = bytes(buffers[0])
    try:
        untrusted = sio.get_untrusted_types(data=data)
    except MemoryError:
        raise
    except Exception as exc:  # zipfile / json / skops schema errors: the archive is bad
        raise InvalidDataError(variable, version, f"not a valid skops archive ({type(exc).__name__}: {exc})") from exc
    for name in untrusted:
        if name not in allow:
            raise UntrustedDataError(name, variable, version)
    try:
        obj = sio.loads(data, trusted=list(untrusted))
    except MemoryError:
        raise
    except Exception as exc:  # whatever skops refuses while building is damage, not trust
        raise InvalidDataError(variable, version, f"skops could not load it ({type(exc).__name__}: {exc})") from exc
    if _full_name(type(obj)) != meta["type"]:
        raise InvalidDataError(variable, version, f"the archive holds a {_full_name(type(obj))}, not a {meta['type']}")
    return obj


def _import(name: str) -> Any:
    """skops ships no type information: imported by name, typed Any."""
    return importlib.import_module(name)


def _full_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _check_meta(meta: Any, variable: str, version: str) -> None:
    if not isinstance(meta, dict) or set(meta) != {"skops", "type"}:
        raise InvalidDataError(variable, version, "bad skops description: expected exactly the keys skops, type")
    if not (isinstance(meta["skops"], str) and _VERSION.match(meta["skops"])):
        raise InvalidDataError(variable, version, "bad skops description: skops must be a version string")
    if not (isinstance(meta["type"], str) and _NAME.match(meta["type"])):
        raise InvalidDataError(variable, version, "bad skops description: type must be a dotted class name")


def same_state(a: Any, b: Any, depth: int = 0) -> bool:
    """Whether two object graphs hold the same state: same types, arrays equal by value
    and dtype (padding bytes ignored), floats equal or both NaN, objects by their reduce
    tuples. Conservative: anything it cannot compare counts as different."""
    import numpy as np

    if depth > _MAX_DEPTH or type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return _same_array(np, a, b, depth)
    if isinstance(a, (float, np.floating, complex, np.complexfloating)):
        return bool(a == b) or bool(np.isnan(a) and np.isnan(b))
    if a is None or isinstance(a, (bool, int, str, bytes, np.generic, np.dtype, type)):
        return bool(a == b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same_state(x, y, depth + 1) for x, y in zip(a, b))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_state(a[k], b[k], depth + 1) for k in a)
    if isinstance(a, np.random.RandomState):
        return same_state(a.get_state(legacy=False), b.get_state(legacy=False), depth + 1)
    if isinstance(a, np.random.Generator):
        return same_state(a.bit_generator.state, b.bit_generator.state, depth + 1)
    if callable(a) and not hasattr(a, "__dict__"):
        return a is b or a == b  # functions, builtins
    try:
        ra, rb = a.__reduce_ex__(5), b.__reduce_ex__(5)
    except Exception:  # an object that cannot say what it holds: treat as different
        return False
    if isinstance(ra, str) or isinstance(rb, str):
        return ra == rb
    if len(ra) != len(rb) or ra[0] is not rb[0]:
        return False
    return all(same_state(x, y, depth + 1) for x, y in zip(ra[1:], rb[1:]) if not _is_iterator(x))


def _is_iterator(value: Any) -> bool:
    return hasattr(value, "__next__")


def _same_array(np: Any, a: Any, b: Any, depth: int) -> bool:
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.dtype.names:
        return all(_same_array(np, a[name], b[name], depth + 1) for name in a.dtype.names)
    if a.dtype.kind == "O":
        return all(same_state(x, y, depth + 1) for x, y in zip(a.ravel().tolist(), b.ravel().tolist()))
    return bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))

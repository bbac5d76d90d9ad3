"""Families of globals admitted by rule rather than one by one: scikit-learn estimators,
torch.nn layers, pandas index/array/dtype/offset classes, enums of the standard library
and classes the notebook itself defined.

Every rule checks the *name* first and imports nothing for a name that fails it (naming
`torch._inductor.x` must not import `torch._inductor`); then it admits only a class whose
real `__module__`/`__qualname__` are the name in the stream (a re-export such as
`sklearn.utils.parallel.Parallel` seen from elsewhere is refused) and whose type is data.
Each rule returns `(object, callable)`; objects that are data only (a function an
estimator keeps as a parameter) may be referenced but never called by the stream.
"""

from __future__ import annotations

import importlib
import re
import sys
from typing import Any

_DOTTED = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_IDENT = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")


def _parts_ok(module: str, banned: frozenset[str]) -> bool:
    return all(p not in banned and not p.startswith(("test", "_test", "conftest")) for p in module.split(".")) and bool(
        _DOTTED.match(module)
    )


def _real_class(module: str, name: str) -> Any:
    """`module.name` if it is a class defined there under that very name (imports `module`,
    whose path the caller has already checked), else None."""
    if not _IDENT.match(name):
        return None
    try:
        obj = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    if isinstance(obj, type) and obj.__module__ == module and obj.__qualname__ == name:
        return obj
    return None


# ---- scikit-learn ------------------------------------------------------------------

SKLEARN_BANNED = frozenset({"tests", "utils", "externals", "_build_utils", "conftest", "experimental", "__check_build"})
SKLEARN_EXTRA = frozenset({"sklearn.utils._bunch.Bunch"})
# What fitted estimators pickle besides estimators (found by pickling every estimator of
# sklearn.utils.all_estimators fitted on small data and listing the globals): exact classes...
SKLEARN_DATA_CLASSES = frozenset(
    {
        "sklearn.tree._tree.Tree",
        "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
        "sklearn.calibration._CalibratedClassifier",
        "sklearn.cluster._birch._CFNode",
        "sklearn.cluster._birch._CFSubcluster",
        "sklearn.cluster._bisect_k_means._BisectingTree",
        "sklearn._loss.link.Interval",
        "sklearn._loss._loss.CyHalfMultinomialLoss",
    }
)
# ...and subclasses of these bases (losses, links, kernels, optimizers of the MLP).
SKLEARN_DATA_BASES = (
    ("sklearn._loss.loss", "BaseLoss"),
    ("sklearn._loss.link", "BaseLink"),
    ("sklearn._loss._loss", "CyLossFunction"),
    ("sklearn.linear_model._sgd_fast", "CyLossFunction"),
    ("sklearn.gaussian_process.kernels", "Kernel"),
    ("sklearn.neural_network._stochastic_optimizers", "BaseOptimizer"),
)


def sklearn_module_ok(module: str) -> bool:
    return (module == "sklearn" or module.startswith("sklearn.")) and _parts_ok(module, SKLEARN_BANNED)


def _sklearn_data_class(cls: type, full: str) -> bool:
    base = sys.modules.get("sklearn.base")
    if base is not None and issubclass(cls, base.BaseEstimator) or full in SKLEARN_DATA_CLASSES:
        return True
    for module, name in SKLEARN_DATA_BASES:
        parent = getattr(sys.modules.get(module), name, None)
        if isinstance(parent, type) and issubclass(cls, parent):
            return True
    return False


def sklearn_global(module: str, name: str):
    full = f"{module}.{name}"
    if full not in SKLEARN_EXTRA and not sklearn_module_ok(module):
        return None
    if name.startswith("__pyx_unpickle_"):
        # Cython's unpickle helper for class `<rest>`: allowed when that class is.
        found = sklearn_global(module, name[len("__pyx_unpickle_") :])
        return (getattr(sys.modules[module], name), True) if found is not None else None
    importlib.import_module("sklearn.base")
    cls = _real_class(module, name)
    if cls is not None and (full in SKLEARN_EXTRA or _sklearn_data_class(cls, full)):
        return cls, True
    if cls is None and _IDENT.match(name) and not name.startswith("_"):
        func = getattr(sys.modules.get(module), name, None)  # a public function kept as a parameter
        if callable(func) and not isinstance(func, type) and getattr(func, "__module__", None) == module:
            return func, False
    return None


# ---- torch -------------------------------------------------------------------------


def torch_global(module: str, name: str):
    if module == "torch" and _IDENT.match(name):  # dtypes: torch.float32...
        try:
            torch = importlib.import_module("torch")
        except ImportError:  # no torch here: the name cannot be a torch dtype, so it is refused
            return None
        obj = getattr(torch, name, None)
        return (obj, False) if isinstance(obj, torch.dtype) else None
    if not module.startswith("torch.nn.modules.") or not _parts_ok(module, frozenset()):
        return None
    cls = _real_class(module, name)
    if cls is not None and issubclass(cls, sys.modules["torch"].nn.Module):
        return cls, True
    return None


# ---- pandas ------------------------------------------------------------------------

PANDAS_ROOTS = ("pandas.core.", "pandas._libs.", "pandas.tseries.")
PANDAS_BANNED = frozenset(
    {"tests", "_testing", "io", "plotting", "util", "computation", "window", "groupby", "resample", "interchange"}
)


def pandas_module_ok(module: str) -> bool:
    top = module in ("pandas", "pandas.arrays", "pandas.api.types", "pandas.tseries.offsets")
    return (top or module.startswith(PANDAS_ROOTS)) and _parts_ok(module, PANDAS_BANNED)


def pandas_global(module: str, name: str):
    if not pandas_module_ok(module):
        return None
    cls = _real_class(module, name)
    if cls is None:
        return None
    import pandas as pd
    from pandas.api.extensions import ExtensionArray, ExtensionDtype
    from pandas.tseries.offsets import BaseOffset

    if issubclass(cls, (pd.Index, ExtensionArray, ExtensionDtype, BaseOffset)):
        return cls, True
    return None


# ---- the standard library's enums, the notebook's own classes ------------------------

# stdlib modules whose import does something (opens a browser, prints, starts a GUI)
_STDLIB_NO_IMPORT = frozenset({"antigravity", "this", "__hello__", "__phello__", "idlelib", "tkinter", "turtle"})


def stdlib_enum(module: str, name: str):
    """A member of a standard-library enum (`http.HTTPStatus(200)`, `re.RegexFlag(2)`)."""
    root = module.split(".")[0]
    names: frozenset[str] = getattr(sys, "stdlib_module_names", frozenset())
    if root not in names or root in _STDLIB_NO_IMPORT or any(p.startswith("_") for p in module.split(".")):
        return None
    cls = _real_class(module, name)
    import enum

    if cls is not None and issubclass(cls, enum.Enum) and not name.startswith("_"):
        return cls, True
    return None


def main_class(module: str, name: str):
    """Classes the user defined in this very notebook: that code is already theirs."""
    if module != "__main__" or not _IDENT.match(name):
        return None
    obj = getattr(sys.modules.get("__main__"), name, None)
    if isinstance(obj, type) and obj.__module__ == "__main__":
        return obj, True
    return None


FAMILIES = {
    "__main__": main_class,
    "sklearn": sklearn_global,
    "torch": torch_global,
    "pandas": pandas_global,
}


def family_global(module: str, name: str):
    """`(object, callable)` if a family admits `module.name`, else None."""
    family = FAMILIES.get(module.split(".")[0], stdlib_enum)
    return family(module, name)

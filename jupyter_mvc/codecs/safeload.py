"""A restricted unpickler: loading a version must not run its author's code.

Pickle calls whatever global a stream names, so a version pushed by someone else could
name `os.system`. This unpickler resolves only exact, known-safe names, plus a few
families checked by *type* after import (scikit-learn estimators, torch.nn layers,
pandas index/array/dtype classes) - never by module prefix alone, since `numpy.memmap`,
`torch.hub.load` or `subprocess.Popen` sit under "harmless" prefixes too. Modules are
imported only for names that pass these checks, so a crafted stream cannot trigger an
arbitrary import either.
"""

from __future__ import annotations

import importlib
import io
import pickle
import re
import sys
from collections.abc import Iterable

from ..errors import UntrustedDataError

SAFE_GLOBALS = frozenset(
    {
        # builtins and the standard library's plain data types
        "builtins.complex",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "builtins.range",
        "builtins.slice",
        "builtins.list",
        "builtins.dict",
        "builtins.tuple",
        "builtins.bytes",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.object",
        "copyreg._reconstructor",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "collections.deque",
        "datetime.datetime",
        "datetime.date",
        "datetime.time",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "fractions.Fraction",
        "uuid.UUID",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
        "zoneinfo.ZoneInfo",
        # numpy
        "numpy.ndarray",
        "numpy.dtype",
        "numpy._core.numeric._frombuffer",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy.ma.core._mareconstruct",
        "numpy.ma.MaskedArray",
        "numpy.ma.core.MaskedArray",
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__generator_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "numpy.random._mt19937.MT19937",
        "numpy.random._pcg64.PCG64",
        "numpy.random._pcg64.PCG64DXSM",
        "numpy.random._philox.Philox",
        "numpy.random._sfc64.SFC64",
        "numpy.random.mtrand.RandomState",
        "numpy.random._generator.Generator",
        # pandas: constructors and unpickle helpers (classes are checked by type below)
        "pandas.DataFrame",
        "pandas.Series",
        "pandas.core.frame.DataFrame",
        "pandas.core.series.Series",
        "pandas.core.internals.managers.BlockManager",
        "pandas.core.internals.managers.SingleBlockManager",
        "pandas._libs.internals._unpickle_block",
        "pandas.core.indexes.base._new_Index",
        "pandas.core.indexes.datetimes._new_DatetimeIndex",
        "pandas.core.indexes.period._new_PeriodIndex",
        "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
        "pandas._libs.interval.__pyx_unpickle_IntervalMixin",
        "pandas._libs.interval.Interval",
        "pandas._libs.tslibs.timestamps._unpickle_timestamp",
        "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
        "pandas._libs.tslibs.period.Period",
        "pandas._libs.tslibs.nattype.__nat_unpickle",
        "pandas._libs.sparse.BlockIndex",
        "pandas._libs.sparse.IntIndex",
        # our own tensor rebuild (see tensors.py); torch's in-band loaders are NOT here
        "jupyter_mvc.codecs.tensors.rebuild_tensor",
        "torch.device",
        "torch.Size",
    }
)

_DOTTED = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\Z")
_IDENT = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")


def _import_attr(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def _package_class(module: str, name: str, package: str):
    """The class `module.name` if it is defined inside `package`, else None.

    Only imports modules of an installed package we already trust to import.
    """
    if not (module == package or module.startswith(package + ".")) or not _DOTTED.match(module):
        return None
    if not _IDENT.match(name) or package not in sys.modules and not _installed(package):
        return None
    try:
        obj = _import_attr(module, name)
    except (ImportError, AttributeError):
        return None
    return obj if isinstance(obj, type) else None


def _installed(package: str) -> bool:
    try:
        importlib.import_module(package)
        return True
    except ImportError:
        return False


def _sklearn_global(module: str, name: str):
    if module.startswith(("sklearn.externals", "sklearn.utils")) and name != "Bunch":
        return None
    if name.startswith("__pyx_unpickle_"):
        # Cython's unpickle helper for class `<rest>`: allowed when that class is.
        cls = _package_class(module, name[len("__pyx_unpickle_") :], "sklearn")
        return _import_attr(module, name) if cls is not None else None
    cls = _package_class(module, name, "sklearn")
    if cls is not None and cls.__module__.startswith("sklearn."):
        return cls  # estimators and their parts (trees, losses, links) only hold data
    return None


def _torch_global(module: str, name: str):
    torch = sys.modules.get("torch")
    if module == "torch" and _IDENT.match(name):
        if torch is None:
            try:
                torch = importlib.import_module("torch")
            except ImportError:  # no torch here: the name cannot be a torch dtype, so it is refused
                return None
        obj = getattr(torch, name, None)
        return obj if isinstance(obj, torch.dtype) else None
    cls = _package_class(module, name, "torch.nn")
    if cls is not None:
        torch = sys.modules["torch"]
        if issubclass(cls, torch.nn.Module):
            return cls
    return None


def _pandas_global(module: str, name: str):
    cls = _package_class(module, name, "pandas")
    if cls is None:
        return None
    import pandas as pd
    from pandas.api.extensions import ExtensionArray, ExtensionDtype
    from pandas.tseries.offsets import BaseOffset

    if issubclass(cls, (pd.Index, ExtensionArray, ExtensionDtype, BaseOffset)):
        return cls
    return None


def _main_class(module: str, name: str):
    """Classes the user defined in this very notebook: that code is already theirs."""
    if module != "__main__" or not _IDENT.match(name):
        return None
    obj = getattr(sys.modules.get("__main__"), name, None)
    if isinstance(obj, type) and obj.__module__ == "__main__":
        return obj
    return None


class SafeUnpickler(pickle.Unpickler):
    def __init__(self, file, *, buffers, allow: Iterable[str] = (), variable="", version=""):
        super().__init__(file, buffers=buffers)
        self.allow = frozenset(allow)
        self.variable, self.version = variable, version

    def find_class(self, module: str, name: str):
        full = f"{module}.{name}"
        if full in SAFE_GLOBALS or full in self.allow:
            return super().find_class(module, name)
        for family in (_main_class, _sklearn_global, _torch_global, _pandas_global):
            if module.split(".")[0] in _FAMILY_ROOTS[family]:
                obj = family(module, name)
                if obj is not None:
                    return obj
        raise UntrustedDataError(full, self.variable, self.version)


_FAMILY_ROOTS = {
    _main_class: {"__main__"},
    _sklearn_global: {"sklearn"},
    _torch_global: {"torch"},
    _pandas_global: {"pandas"},
}


def safe_loads(data, *, buffers, allow: Iterable[str] = (), variable="", version=""):
    return SafeUnpickler(io.BytesIO(data), buffers=buffers, allow=allow, variable=variable, version=version).load()

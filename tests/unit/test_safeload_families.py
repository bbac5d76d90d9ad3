"""Families of globals (families.py): admitted by the class's real module and type, with
the module path checked before anything is imported; and the loader's own hooks: no BUILD
on classes, no calls of what is only data, exceptions surface as our errors."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import pytest

from jupyter_mvc.codecs.families import family_global, pandas_module_ok, sklearn_module_ok
from jupyter_mvc.codecs.safeload import safe_loads
from jupyter_mvc.errors import MvcError, UnsafePickleError, UntrustedDataError


def global_stream(module: str, name: str) -> bytes:
    return b"\x80\x04" + text(module) + text(name) + b"\x93."


def text(value: str) -> bytes:
    return b"\x8c" + bytes([len(value)]) + value.encode()


def load(data: bytes, **kw):
    return safe_loads(data, buffers=[], variable="v", version="abc12345", **kw)


class Reduce:
    def __init__(self, *reduce):
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce


# ---- scikit-learn ------------------------------------------------------------------


@pytest.mark.parametrize(
    "module",
    [
        "sklearn.utils.parallel",
        "sklearn.utils.deprecation",
        "sklearn.linear_model.tests.test_logistic",
        "sklearn.tests.test_base",
        "sklearn.externals.array_api_compat",
        "sklearn._build_utils",
        "sklearn.conftest",
        "sklearn.experimental.enable_halving_search_cv",
        "sklearn.x; import os",
    ],
)
def test_sklearn_module_paths_refused_before_import(module):
    assert not sklearn_module_ok(module)


@pytest.mark.parametrize(
    "module,name",
    [
        ("sklearn.utils.parallel", "Parallel"),  # starts worker processes
        ("sklearn.utils.deprecation", "deprecated"),  # patches classes process-wide
        ("sklearn.ensemble._forest", "Parallel"),  # the same class, re-exported
        ("sklearn.linear_model", "LogisticRegression"),  # a re-export: pickle names the real module
        ("sklearn.base", "ClassifierMixin"),  # not an estimator, holds no data
        ("sklearn.utils._testing", "MinimalClassifier"),
        ("sklearn.neighbors._kd_tree", "KDTree"),  # index arrays walked unchecked: needs allow=
    ],
)
def test_sklearn_names_refused(module, name):
    pytest.importorskip("sklearn")
    assert family_global(module, name) is None
    with pytest.raises(UntrustedDataError):
        load(global_stream(module, name))


def test_sklearn_estimators_and_the_parts_fitted_models_pickle_are_admitted():
    pytest.importorskip("sklearn")
    for module, name in [
        ("sklearn.linear_model._logistic", "LogisticRegression"),
        ("sklearn.pipeline", "Pipeline"),
        ("sklearn.tree._tree", "Tree"),
        ("sklearn._loss.loss", "HalfBinomialLoss"),
        ("sklearn._loss.link", "LogitLink"),
        ("sklearn.utils._bunch", "Bunch"),
    ]:
        found = family_global(module, name)
        assert found is not None and found[1], (module, name)
        assert found[0].__module__ == module


def test_a_public_sklearn_function_is_data_and_cannot_be_called():
    pytest.importorskip("sklearn")
    from sklearn.metrics import accuracy_score

    assert load(pickle.dumps(accuracy_score, protocol=5)) is accuracy_score  # a scorer parameter
    with pytest.raises(UnsafePickleError) as err:
        load(pickle.dumps(Reduce(accuracy_score, ([1], [1])), protocol=5))
    assert "may only reference" in str(err.value)


# ---- torch and pandas ---------------------------------------------------------------


def test_torch_names_are_checked_before_anything_is_imported():
    script = textwrap.dedent(
        """
        import sys
        from jupyter_mvc.codecs import decode
        from jupyter_mvc.errors import UntrustedDataError
        for module, name in [("torch._inductor.codecache", "PyCodeCache"), ("torch.nn.utils.parametrize", "x"),
                             ("torch.hub", "load"), ("sklearn.utils.tests.test_x", "T"),
                             ("pandas.io.pickle", "read_pickle")]:
            data = (b"\\x80\\x04\\x8c" + bytes([len(module)]) + module.encode() + b"\\x8c" + bytes([len(name)])
                    + name.encode() + b"\\x93.")
            try:
                decode(data, [])
            except UntrustedDataError:
                pass
            else:
                print("LOADED", module)
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "sklearn", "pandas")))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "LOADED" not in out.stdout and out.stdout.strip().endswith("[]"), out.stdout


@pytest.mark.requires_torch
def test_torch_layers_admitted_by_their_real_module_only():
    import torch

    assert family_global("torch.nn.modules.linear", "Linear") == (torch.nn.Linear, True)
    assert family_global("torch", "float32") == (torch.float32, False)
    for module, name in [
        ("torch.nn", "Linear"),  # re-export
        ("torch.nn.modules.module", "register_module_forward_hook"),  # a function
        ("torch.nn.modules.linear", "F"),  # a module object
        ("torch.nn.parallel.data_parallel", "DataParallel"),
        ("torch", "load"),
    ]:
        assert family_global(module, name) is None, (module, name)


def test_pandas_classes_by_real_module_and_type():
    pd = pytest.importorskip("pandas")
    assert family_global("pandas", "Categorical") == (pd.Categorical, True)
    assert family_global("pandas", "CategoricalDtype") == (pd.CategoricalDtype, True)
    assert family_global("pandas.core.arrays.categorical", "Categorical") is None  # not its real module
    assert family_global("pandas.io.formats.style", "Styler") is None
    assert family_global("pandas", "read_pickle") is None
    assert not pandas_module_ok("pandas.io.pickle") and not pandas_module_ok("pandas.tests.frame")
    assert not pandas_module_ok("pandas.core.computation.eval")


def test_stdlib_enums_load_but_nothing_with_side_effects_is_imported():
    import http
    import re

    assert load(pickle.dumps([http.HTTPStatus.OK, re.IGNORECASE | re.MULTILINE], protocol=5)) == [
        http.HTTPStatus.OK,
        re.IGNORECASE | re.MULTILINE,
    ]
    for module, name in [("antigravity", "x"), ("subprocess", "Popen"), ("os", "system"), ("enum", "_EnumDict")]:
        assert family_global(module, name) is None


# ---- the hooks ---------------------------------------------------------------------

CLASS = b"\x8c\x0bcollections\x8c\x0bOrderedDict\x93"


@pytest.mark.parametrize(
    "stream",
    [
        # BUILD straight on the class: setattr(OrderedDict, "x", 1) through the slot state
        b"\x80\x05" + CLASS + b"N}\x8c\x01xK\x01s\x86b.",
        # the same after a trip through the memo
        b"\x80\x05" + CLASS + b"\x94h\x00N}\x8c\x01xK\x01s\x86b.",
        # SETITEM on a class
        b"\x80\x05" + CLASS + b"\x8c\x01xK\x01s.",
    ],
)
def test_attributes_are_never_set_on_a_class(stream):
    import collections

    with pytest.raises(UnsafePickleError) as err:
        load(stream)
    assert "OrderedDict" in str(err.value) or "a type" in str(err.value)
    assert not hasattr(collections.OrderedDict, "x")


def test_build_on_a_callable_reached_at_run_time_is_refused_by_the_hook():
    import zoneinfo

    # getattr(ZoneInfo, "_unpickle") is allowed (it is how a ZoneInfo pickles) and returns a
    # bound classmethod: the scan cannot know that, the BUILD hook refuses it.
    stream = (
        b"\x80\x05"
        + text("builtins")
        + text("getattr")
        + b"\x93"
        + text("zoneinfo")
        + text("ZoneInfo")
        + b"\x93"
        + text("_unpickle")
        + b"\x86R"  # getattr(ZoneInfo, "_unpickle")
        + b"N}"
        + text("x")
        + b"K\x01s\x86b."  # BUILD (None, {"x": 1})
    )
    with pytest.raises(UnsafePickleError) as err:
        load(stream)
    assert "BUILD on" in str(err.value)
    assert not hasattr(zoneinfo.ZoneInfo, "x") and not hasattr(zoneinfo.ZoneInfo._unpickle, "x")


class Boom:
    def __init__(self):
        pytest.skip("raised inside the unpickler")  # a BaseException, not an Exception


class Interrupt:
    def __init__(self):
        raise KeyboardInterrupt


def test_base_exceptions_from_the_data_surface_as_our_error(monkeypatch):
    main = sys.modules["__main__"]
    for cls in (Boom, Interrupt):
        monkeypatch.setattr(cls, "__module__", "__main__")
        monkeypatch.setattr(main, cls.__name__, cls, raising=False)
    data = pickle.dumps(Reduce(Boom, ()), protocol=5)
    with pytest.raises(MvcError) as err:
        load(data)
    assert isinstance(err.value, UnsafePickleError) and "Skipped" in str(err.value) and "'v'" in str(err.value)
    with pytest.raises(KeyboardInterrupt):
        load(pickle.dumps(Reduce(Interrupt, ()), protocol=5))


def test_getattr_is_only_for_the_classmethods_pickle_needs():
    import zoneinfo

    tz = zoneinfo.ZoneInfo("Europe/Paris")
    assert load(pickle.dumps(tz, protocol=5)) is tz
    with pytest.raises(UntrustedDataError) as err:
        load(pickle.dumps(Reduce(getattr, (zoneinfo.ZoneInfo, "clear_cache")), protocol=5))
    assert "clear_cache" in str(err.value)

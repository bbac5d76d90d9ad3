"""Live objects through encode/decode: bit-identical round trips, safe loading, blame."""

import collections
import datetime
import decimal
import os
import pickle
import sys
import threading

import numpy as np
import pytest

from jupyter_mvc.codecs import decode, encode
from jupyter_mvc.errors import SerializationError, UntrustedDataError

pd = pytest.importorskip("pandas")


def round_trip(obj, **kw):
    enc = encode("x", obj)
    # copy every buffer: decode must not depend on the original memory
    return decode(enc.skeleton, [bytearray(b) for b in enc.buffers], codec=enc.codec, **kw), enc


def assert_same_array(a, b):
    assert type(a) is type(b)
    assert a.dtype == b.dtype and a.shape == b.shape
    if a.dtype.hasobject:
        assert a.tolist() == b.tolist()
    else:
        assert a.tobytes() == b.tobytes()  # bit for bit, NaN payloads included


@pytest.mark.parametrize(
    "dtype",
    [
        "float16",
        "float32",
        "float64",
        "int8",
        "int64",
        "uint16",
        "complex128",
        "bool",
        "datetime64[ns]",
        "timedelta64[s]",
        "U7",
        "S3",
    ],
)
def test_numpy_dtypes_round_trip(dtype):
    rng = np.random.default_rng(0)
    a = (rng.random((17, 5)) * 100).astype(dtype)
    out, enc = round_trip(a)
    assert_same_array(a, out)


def test_large_array_travels_out_of_band_zero_copy():
    a = np.arange(1 << 20, dtype=np.float64)
    enc = encode("a", a)
    assert len(enc.skeleton) < 1024
    assert len(enc.buffers) == 1 and enc.buffers[0].nbytes == a.nbytes
    assert np.shares_memory(np.frombuffer(enc.buffers[0], dtype=np.float64), a)


def test_nan_payloads_views_fortran_structured_and_object_arrays():
    nan = np.array([np.nan, -np.nan, np.inf, 0.0, -0.0], dtype=np.float64)
    base = np.arange(100.0).reshape(10, 10)
    objs = np.array([1, "two", None, {"k": [3]}], dtype=object)
    structured = np.array([(1, 2.5), (3, 4.5)], dtype=[("a", "i4"), ("b", "f8")])
    for a in (nan, base[::3, 1::2], np.asfortranarray(base), base.T, structured, objs, np.float32(3.5)):
        out, _ = round_trip(a)
        if isinstance(a, np.ndarray):
            assert_same_array(np.ascontiguousarray(a) if not a.flags.f_contiguous else a, out)
        else:
            assert out == a and type(out) is type(a)


def test_pandas_frames_and_series_round_trip():
    df = pd.DataFrame(
        {
            "i": np.arange(5),
            "f": np.linspace(0, 1, 5),
            "s": list("abcde"),
            "t": pd.date_range("2024-01-01", periods=5, tz="UTC"),
            "c": pd.Categorical(list("xyxyx")),
            "n": pd.array([1, None, 3, 4, 5], dtype="Int64"),
        },
        index=pd.Index([10, 20, 30, 40, 50], name="row"),
    )
    out, _ = round_trip(df)
    pd.testing.assert_frame_equal(out, df)
    s = pd.Series(np.random.default_rng(1).random(1000), index=pd.date_range("2020", periods=1000, freq="h"))
    out, _ = round_trip(s)
    pd.testing.assert_series_equal(out, s)
    mi = pd.DataFrame(np.ones((2, 2)), index=pd.MultiIndex.from_tuples([(1, "a"), (2, "b")]))
    pd.testing.assert_frame_equal(round_trip(mi)[0], mi)


def test_sklearn_estimators_round_trip_and_predict_the_same():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = load_iris(return_X_y=True)
    import warnings

    warnings.simplefilter("ignore")
    for model in (
        RandomForestClassifier(n_estimators=20, random_state=0).fit(X, y),
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(X, y),
        MLPClassifier(hidden_layer_sizes=(8,), max_iter=50, random_state=0).fit(X, y),
    ):
        out, enc = round_trip(model)
        assert type(out) is type(model)
        assert np.array_equal(out.predict_proba(X), model.predict_proba(X))
        assert repr(out.get_params()) == repr(model.get_params())


# Only the tests marked requires_torch use torch; the rest of this module (the safe-load
# security tests included) runs without it (tests/conftest.py skips the marked ones).
try:
    import torch
except ImportError:
    torch = None


@pytest.mark.requires_torch
@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16", "float16", "int64", "uint8", "bool", "complex64"])
def test_torch_tensors_round_trip_bit_identical(dtype):
    t = (torch.randn(6, 7) * 10).to(getattr(torch, dtype))
    out, enc = round_trip(t)
    assert out.dtype == t.dtype and out.shape == t.shape
    assert torch.equal(out.view(torch.uint8) if dtype != "bool" else out, t.view(torch.uint8) if dtype != "bool" else t)
    assert len(enc.buffers) == 1


@pytest.mark.requires_torch
def test_torch_cpu_tensor_is_zero_copy_and_flags_survive():
    t = torch.randn(256, 256, requires_grad=True)
    enc = encode("t", t)
    buf = np.frombuffer(enc.buffers[0], dtype=np.float32)
    assert np.shares_memory(buf, t.detach().numpy())
    out = decode(enc.skeleton, [bytearray(b) for b in enc.buffers], codec=enc.codec)
    assert out.requires_grad and torch.equal(out.detach(), t.detach())
    view = torch.arange(20.0).reshape(4, 5)[:, 1:3]  # non-contiguous
    out, _ = round_trip(view)
    assert torch.equal(out, view)
    assert round_trip(torch.empty(0, 3))[0].shape == (0, 3)


@pytest.mark.requires_torch
def test_torch_module_round_trip_restores_class_and_weights():
    class_model = torch.nn.Sequential(
        torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.LayerNorm(16), torch.nn.Linear(16, 2)
    ).to(torch.bfloat16)
    out, enc = round_trip(class_model)
    assert type(out) is torch.nn.Sequential and type(out[2]) is torch.nn.LayerNorm
    for (k1, v1), (k2, v2) in zip(class_model.state_dict().items(), out.state_dict().items()):
        assert k1 == k2 and v1.dtype == v2.dtype and torch.equal(v1.view(torch.int16), v2.view(torch.int16))
    assert isinstance(out[0].weight, torch.nn.Parameter)
    x = torch.randn(3, 8).to(torch.bfloat16)
    assert torch.equal(out(x), class_model(x))


@pytest.mark.requires_torch
def test_tied_weights_stay_tied():
    emb = torch.nn.Embedding(10, 4)
    head = torch.nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    model = torch.nn.ModuleDict({"emb": emb, "head": head})
    out, _ = round_trip(model)
    assert out["emb"].weight is out["head"].weight


class Point:  # a user class, as defined in a notebook
    def __init__(self, x, y):
        self.x, self.y = x, y


def test_plain_python_containers_round_trip():
    value = {
        "list": [1, 2.5, "s", None, True],
        "tuple": (1, (2, 3)),
        "set": {1, 2},
        "fs": frozenset("ab"),
        "od": collections.OrderedDict(a=1),
        "dd": collections.defaultdict(list, a=[1]),
        "counter": collections.Counter("aab"),
        "deque": collections.deque([1, 2]),
        "when": datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.timezone.utc),
        "dec": decimal.Decimal("1.25"),
        "bytes": b"\x00\xff",
        "complex": 1 + 2j,
        "range": range(3),
    }
    out, _ = round_trip(value)
    assert out == value and type(out["dd"]) is collections.defaultdict


def test_user_class_defined_in_main_round_trips_but_other_modules_need_trust(monkeypatch):
    main = sys.modules["__main__"]
    Point.__module__ = "__main__"
    monkeypatch.setattr(main, "Point", Point, raising=False)
    try:
        out, _ = round_trip(Point(1, [2]))
        assert type(out) is Point and (out.x, out.y) == (1, [2])
    finally:
        Point.__module__ = __name__
    enc = encode("p", Point(3, 4))  # now lives in this test module: not on the list
    with pytest.raises(UntrustedDataError) as err:
        decode(enc.skeleton, enc.buffers, variable="p", version="abc12345")
    assert f"{__name__}.Point" in str(err.value) and "allow=" in str(err.value) and "'p'" in str(err.value)
    out = decode(enc.skeleton, enc.buffers, allow=[f"{__name__}.Point"])
    assert (out.x, out.y) == (3, 4)
    assert decode(enc.skeleton, enc.buffers, trust=True).x == 3


class Evil:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return (os.system, (self.cmd,))


class EvalGadget:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch PWNED_EVAL')",))


class GetattrGadget:  # the first step of getattr(obj, "__globals__")-style chains
    def __reduce__(self):
        return (getattr, ("text", "upper"))


def test_restricted_loader_refuses_code_execution_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker = tmp_path / "PWNED"
    gadgets = [Evil(f"touch {marker}"), EvalGadget(), GetattrGadget(), {"nested": [Evil(f"touch {marker}")]}]
    for gadget in gadgets:
        data = pickle.dumps(gadget, protocol=5)
        with pytest.raises(UntrustedDataError) as err:
            decode(data, [])
        assert any(n in str(err.value) for n in ("system", "eval", "getattr"))
    assert not marker.exists() and not (tmp_path / "PWNED_EVAL").exists()


@pytest.mark.parametrize(
    "module,name",
    [
        ("subprocess", "Popen"),
        ("numpy", "memmap"),
        ("builtins", "exec"),
        ("builtins", "__import__"),
        ("torch.hub", "load"),
        ("torch.storage", "_load_from_bytes"),
        ("sklearn.utils", "_joblib"),
        ("numpy.testing", "assert_equal"),
        ("pandas.io.pickle", "read_pickle"),
        ("__main__", "os.system"),
        ("antigravity", "x"),
        ("torch", "load"),
        ("torch.nn.modules.module", "register_module_forward_hook"),
    ],
)
def test_dangerous_globals_are_refused_before_import(module, name):
    proto = (
        b"\x80\x04"
        + b"\x8c"
        + bytes([len(module)])
        + module.encode()
        + b"\x8c"
        + bytes([len(name)])
        + name.encode()
        + b"\x93."
    )
    before = set(sys.modules)
    with pytest.raises(UntrustedDataError):
        decode(proto, [])
    if module == "antigravity":
        assert "antigravity" not in set(sys.modules) - before


def test_unpicklable_attribute_is_named_with_its_path():
    class Logger:
        def __init__(self):
            self._lock = threading.Lock()

    class Model:
        def __init__(self):
            self.weights = np.zeros(3)
            self.logger = Logger()

    with pytest.raises(SerializationError) as err:
        encode("model", Model())
    assert err.value.path == "model.logger._lock"
    assert "model.logger._lock" in str(err.value) and "Nothing was committed" in str(err.value)
    with pytest.raises(SerializationError) as err:
        encode("cfg", {"a": [1, lambda: 0]})
    assert err.value.path == "cfg['a'][1]"

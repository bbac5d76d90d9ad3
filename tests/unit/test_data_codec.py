"""The data-only codec `data1`: bit-identical round trips of every kind, which types take
it and which fall back to pickle, and crafted skeletons that break each validation rule
(refused with InvalidDataError before anything is allocated)."""

from __future__ import annotations

import collections
import enum
import json
import math
import os
import struct
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest

from jupyter_mvc.codecs import data, decode, encode
from jupyter_mvc.errors import InvalidDataError

try:
    import torch
except ImportError:
    torch = None

ROOT = Path(__file__).resolve().parents[2]
FIX = "the version is damaged or crafted; load another version or ask its author to recommit."


def round_trip(obj):
    enc = encode("x", obj)
    # copy every buffer (writable, as the store hands them over): decode must not lean
    # on the original memory
    return decode(enc.skeleton, [bytearray(b) for b in enc.buffers], codec=enc.codec), enc


def data_round_trip(obj):
    out, enc = round_trip(obj)
    assert enc.codec == "data1", type(obj)
    return out, enc


def assert_same_array(a, b):
    assert type(a) is type(b) is np.ndarray
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()  # bit for bit, NaN payloads included


def same_float(a: float, b: float) -> bool:
    return type(a) is type(b) is float and struct.pack(">d", a) == struct.pack(">d", b)


# -- round trips --------------------------------------------------------------------------------
def test_python_scalars_round_trip_bit_for_bit():
    payload_nan = struct.unpack(">d", bytes.fromhex("7ff8000000000123"))[0]
    values = [
        None,
        True,
        False,
        0,
        -1,
        2**200,
        -(10**300),
        "",
        "héllo \u2603 \U0001f600",
        "lone \udc80",
        b"",
        b"\x00\xff" * 9,
    ]
    out, _ = data_round_trip(values)
    assert out == values and [type(v) for v in out] == [type(v) for v in values]
    floats = [1.5, -0.0, 0.1, 1e308, 5e-324, math.inf, -math.inf, math.nan, -math.nan, payload_nan]
    out, _ = data_round_trip(floats)
    assert all(same_float(a, b) for a, b in zip(out, floats))


def test_nested_containers_keep_kinds_order_and_key_types():
    value = {
        "list": [1, [2, [3, []]], ()],
        "tuple": (1, ("a", None), (2.5,)),
        3: "int key",
        2.5: "float key",
        None: "none key",
        True: "bool key",
        (1, ("x", None)): "tuple key",
        "z first": 1,
        "a second": 2,
    }
    out, _ = data_round_trip(value)
    assert out == value
    assert list(out) == list(value)  # insertion order
    assert type(out["tuple"]) is tuple and type(out["tuple"][1]) is tuple and type(out["list"][1]) is list
    assert [type(k) for k in out] == [type(k) for k in value]
    od = collections.OrderedDict([("b", 1), ("a", [collections.OrderedDict(x=np.arange(3))])])
    out, _ = data_round_trip(od)
    assert type(out) is collections.OrderedDict and list(out) == ["b", "a"]
    assert type(out["a"][0]) is collections.OrderedDict
    assert_same_array(out["a"][0]["x"], od["a"][0]["x"])


@pytest.mark.parametrize(
    "dtype",
    [
        "float16",
        "float32",
        "float64",
        ">f8",
        "int8",
        "int64",
        ">i4",
        "uint16",
        "uint64",
        "complex64",
        "complex128",
        "bool",
        "datetime64[ns]",
        "datetime64[D]",
        "timedelta64[s]",
        "timedelta64[10ms]",
        "U7",
        "S3",
    ],
)
def test_numpy_arrays_round_trip_bit_for_bit_writable_and_zero_copy(dtype):
    rng = np.random.default_rng(0)
    a = (rng.random((17, 5)) * 100).astype(dtype)
    enc = encode("a", a)
    assert enc.codec == "data1" and len(enc.buffers) == 1 and enc.buffers[0].nbytes == a.nbytes
    assert np.shares_memory(np.frombuffer(enc.buffers[0], dtype=np.uint8), a.view(np.uint8))  # no copy at encode
    buf = bytearray(enc.buffers[0])
    out = decode(enc.skeleton, [buf], codec=enc.codec)
    assert_same_array(out, a)
    assert out.flags.writeable
    assert np.shares_memory(out.view(np.uint8), np.frombuffer(buf, dtype=np.uint8))  # no copy at decode
    out[0, 0] = out[1, 1]  # and it is the buffer's memory
    assert buf[: a.itemsize] == out[1, 1:2].tobytes()


def test_0d_empty_nan_payload_noncontiguous_and_fortran_arrays():
    nan = np.array([np.nan, -np.nan, np.inf, 0.0, -0.0], dtype=np.float64)
    nan.view(np.uint64)[0] |= 0x123  # a NaN payload
    base = np.arange(100.0).reshape(10, 10)
    for a in (np.array(3.5), np.array(7, dtype=np.int16), np.empty((0, 3)), np.zeros((3, 0, 2), "U4"), nan):
        assert_same_array(data_round_trip(a)[0], a)
    view = base[::3, 1::2]
    out, enc = data_round_trip(view)  # copied contiguous at encode
    assert_same_array(out, np.ascontiguousarray(view))
    fortran = np.asfortranarray(base[:4])
    out, enc = data_round_trip(fortran)
    assert out.flags.f_contiguous and not out.flags.c_contiguous and np.array_equal(out, fortran)
    assert np.shares_memory(np.frombuffer(enc.buffers[0], dtype=np.uint8), fortran.T.view(np.uint8))


def test_numpy_scalars_keep_their_type_and_bits():
    values = [
        np.float32(1.5),
        np.float64(-0.0),
        np.float16(np.nan),
        np.int8(-3),
        np.uint64(2**64 - 1),
        np.bool_(True),
        np.complex64(1 - 2j),
        np.datetime64("2024-05-01T12:00", "ns"),
        np.timedelta64(5, "s"),
        np.str_("héllo"),
        np.bytes_(b"ab"),
    ]
    out, _ = data_round_trip(values)
    for a, b in zip(out, values):
        assert type(a) is type(b) and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_the_same_array_twice_comes_back_as_one_object():
    a = np.arange(5.0)
    out, enc = data_round_trip({"x": a, "y": [a, a]})
    assert out["x"] is out["y"][0] is out["y"][1]
    assert len(enc.buffers) == 1


@pytest.mark.requires_torch
@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "bfloat16", "float16", "float8_e4m3fn", "int64", "uint8", "bool", "complex64"]
)
def test_torch_tensors_round_trip_bit_for_bit(dtype):
    t = (torch.randn(6, 7) * 10).to(getattr(torch, dtype))
    out, enc = data_round_trip(t)
    assert type(out) is torch.Tensor and out.dtype == t.dtype and out.shape == t.shape
    assert torch.equal(out.view(torch.uint8), t.view(torch.uint8))
    assert len(enc.buffers) == 1 and enc.buffers[0].nbytes == t.numel() * t.element_size()


@pytest.mark.requires_torch
def test_parameters_flags_views_and_empty_tensors():
    p = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.bfloat16), requires_grad=True)
    frozen = torch.nn.Parameter(torch.randn(2), requires_grad=False)
    grad = torch.randn(3, requires_grad=True)
    view = torch.arange(20.0).reshape(4, 5)[:, 1:3]  # non-contiguous
    conj = torch.randn(3, dtype=torch.complex64).conj()  # a lazy conjugate view: resolved at encode
    out, _ = data_round_trip([p, frozen, grad, view, torch.empty(0, 3), torch.tensor(2.5), conj, -conj])
    assert type(out[0]) is torch.nn.Parameter and out[0].requires_grad and out[0].dtype == torch.bfloat16
    assert torch.equal(out[0].detach().view(torch.int16), p.detach().view(torch.int16))
    assert type(out[1]) is torch.nn.Parameter and not out[1].requires_grad
    assert type(out[2]) is torch.Tensor and out[2].requires_grad and torch.equal(out[2].detach(), grad.detach())
    assert torch.equal(out[3], view)
    assert out[4].shape == (0, 3) and out[5].shape == () and out[5].item() == 2.5
    assert torch.equal(out[6], conj.resolve_conj()) and torch.equal(out[7], (-conj).resolve_conj().resolve_neg())


@pytest.mark.requires_torch
def test_torch_state_dict_comes_back_an_ordered_dict_with_metadata_and_loads():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.Linear(16, 2))
    sd = model.state_dict()
    sd["tied"] = sd["0.weight"]  # the same tensor twice: one buffer, one object
    out, enc = data_round_trip(sd)
    assert type(out) is collections.OrderedDict and list(out) == list(sd)
    assert out._metadata == sd._metadata and type(out._metadata) is collections.OrderedDict
    assert out["tied"] is out["0.weight"]
    assert len(enc.buffers) == len(sd) - 1
    for k in sd:
        assert out[k].dtype == sd[k].dtype and torch.equal(out[k], sd[k])
    del out["tied"]
    fresh = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.BatchNorm1d(16), torch.nn.Linear(16, 2))
    fresh.load_state_dict(out)
    x = torch.randn(5, 8)
    assert torch.equal(fresh.eval()(x), model.eval()(x))


def test_frames_use_their_extension_when_it_can_hold_them():
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frames = pytest.importorskip("jupyter_mvc.codecs.frames")
    df = pd.DataFrame({"i": np.arange(5), "f": np.linspace(0, 1, 5)})
    if frames.encode(df) is None:
        pytest.skip("codecs/frames.py does not represent this frame")
    out, enc = data_round_trip({"df": df, "w": np.ones(2)})
    pd.testing.assert_frame_equal(out["df"], df)
    assert json.loads(enc.skeleton)["root"]["items"][0][1]["kind"] == "frame"


def test_estimators_are_pickled_for_the_audited_unpickler():
    """skops was tried and dropped: its archives differ run to run (member names from id(),
    zip timestamps), so an unchanged model looked changed, and `import skops.io` took 2.1 s.
    Estimators go through the budgeted unpickler (families by real module, Tree shims)."""
    pytest.importorskip("sklearn")
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(0)
    X = rng.random((30, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    for model in (LinearRegression().fit(X, y), RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y > 0)):
        out, enc = round_trip(model)
        assert enc.codec == "pickle5" and np.array_equal(out.predict(X), model.predict(X))
        assert encode("m", model).skeleton == enc.skeleton  # deterministic: same bytes, same id


# -- which codec each type takes ----------------------------------------------------------------
class Point:  # a user class
    def __init__(self, x):
        self.x = x


class Tagged(collections.OrderedDict):
    pass


class Color(enum.IntEnum):
    RED = 1


def fallbacks():
    shared = [1, 2]
    cyclic: list = []
    cyclic.append(cyclic)
    deep: list = []
    for _ in range(data.MAX_DEPTH):
        deep = [deep]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        matrix = np.asmatrix(np.eye(2))
    od = collections.OrderedDict(a=1)
    od.note = "an attribute pickle keeps"  # type: ignore[attr-defined]
    return {
        "object array": np.array([1, "a", None], dtype=object),
        "structured array": np.array([(1, 2.5)], dtype=[("a", "i4"), ("b", "f8")]),
        "void array": np.zeros(2, dtype="V8"),
        "long double": np.zeros(2, dtype=np.longdouble),
        "matrix": matrix,
        "masked array": np.ma.masked_array([1, 2], mask=[0, 1]),
        "user class": Point(1),
        "user class inside": {"a": [1, Point(2)]},
        "shared list": [shared, shared],
        "shared dict": (lambda d: {"a": d, "b": d})({"k": 1}),
        "cycle": cyclic,
        "too deep": deep,
        "too many nodes": [0] * data.ENCODE_MAX_NODES,
        "set": {1, 2},
        "complex": 1 + 2j,
        "bytearray": bytearray(b"x"),
        "defaultdict": collections.defaultdict(list),
        "dict subclass": Tagged(a=1),
        "odict attribute": od,
        "frozenset key": {frozenset({1}): 1},
        "bytes key": {b"k": 1},
        "huge int": 10**5000,
        "int subclass": Color.RED,
    }


@pytest.mark.parametrize("name", list(fallbacks()))
def test_what_the_data_codec_cannot_hold_falls_back_to_pickle(name):
    obj = fallbacks()[name]
    assert data.encode(obj) is None
    enc = encode("x", obj)
    assert enc.codec == "pickle5"


def test_which_codec_each_type_takes():
    takes_data = [None, 1, "s", [1], (1,), {"a": 1}, collections.OrderedDict(), np.ones(2), np.float32(1), b"b"]
    assert [encode("x", v).codec for v in takes_data] == ["data1"] * len(takes_data)
    depth_ok: list = []
    for _ in range(data.MAX_DEPTH - 1):
        depth_ok = [depth_ok]
    assert encode("x", depth_ok).codec == "data1"
    atoms = (1, "a")  # immutable atoms may repeat: nothing to lose
    assert encode("x", [atoms, atoms, (), ()]).codec == "data1"
    assert encode("x", [1, 2]).skeleton.startswith(b'{"format":"mvc-data","version":1,')
    forced = encode("x", np.ones(2), codec="pickle5")  # what a 0.1.0 repository stored
    assert forced.codec == "pickle5" and np.array_equal(decode(forced.skeleton, forced.buffers), np.ones(2))


@pytest.mark.requires_torch
def test_torch_modules_and_odd_tensors_fall_back_to_pickle():
    assert encode("m", torch.nn.Linear(2, 2)).codec == "pickle5"
    assert encode("s", torch.eye(3).to_sparse()).codec == "pickle5"
    assert encode("t", torch.randn(3)).codec == "data1"


def test_data_loading_runs_no_pickle_and_imports_no_torch():
    """In a fresh process: decoding numpy and container variables fires no
    `pickle.find_class` audit event and leaves torch unimported."""
    script = textwrap.dedent(
        """
        import collections, sys
        import numpy as np
        from jupyter_mvc.codecs import decode, encode
        value = {"a": np.arange(6.0).reshape(2, 3), "b": [1, 2.5, "s", None, (True, b"x")],
                 "c": collections.OrderedDict(w=np.float32(2))}
        enc = encode("v", value)
        assert enc.codec == "data1", enc.codec
        events = []
        sys.addaudithook(lambda event, args: event.startswith("pickle") and events.append(event))
        out = decode(enc.skeleton, [bytearray(b) for b in enc.buffers], codec=enc.codec)
        assert out["b"] == value["b"] and np.array_equal(out["a"], value["a"])
        print(events, "torch" in sys.modules)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["[]", "False"]


def test_an_unknown_codec_asks_for_an_upgrade():
    with pytest.raises(InvalidDataError) as err:
        decode(b"{}", [], codec="data9", variable="v", version="abc12345")
    assert "'data9'" in str(err.value) and "newer jupyter_mvc" in str(err.value) and "Upgrade" in str(err.value)


# -- crafted skeletons ----------------------------------------------------------------------------
def doc(root, **top) -> bytes:
    return json.dumps({"format": "mvc-data", "version": 1, "root": root, **top}).encode()


def arr(dtype="<f4", shape=(2,), buffer=0, **extra):
    return {"kind": "ndarray", "dtype": dtype, "shape": list(shape), "buffer": buffer, **extra}


def ten(dtype="float32", shape=(2,), buffer=0, **extra):
    node = {"kind": "tensor", "dtype": dtype, "shape": list(shape), "buffer": buffer}
    return {**node, "requires_grad": False, "parameter": False, "device": "cpu", **extra}


def lst(*items):
    return {"kind": "list", "items": list(items)}


def nested(depth):
    node = {"kind": "none"}
    for _ in range(depth - 1):
        node = lst(node)
    return node


INT1 = {"kind": "int", "value": "1"}
CASES = {
    "not JSON": (b"{not json", [], "not valid JSON"),
    "not UTF-8": (b'{"format":"\xff"}', [], "not valid JSON"),
    "NaN literal": (b'{"format":"mvc-data","version":1,"root":{"kind":"float","value":NaN}}', [], "non-JSON number"),
    "duplicate JSON key": (
        b'{"format":"mvc-data","format":"x","version":1,"root":{"kind":"none"}}',
        [],
        "repeats a key",
    ),
    "not an object": (b"[1, 2]", [], "not a {format, version, root}"),
    "extra top-level key": (doc({"kind": "none"}, extra=1), [], "not a {format, version, root}"),
    "wrong format": (json.dumps({"format": "pickle", "version": 1, "root": {"kind": "none"}}).encode(), [], "format"),
    "wrong version": (
        json.dumps({"format": "mvc-data", "version": 2, "root": {"kind": "none"}}).encode(),
        [],
        "version is 2",
    ),
    "version as bool": (
        json.dumps({"format": "mvc-data", "version": True, "root": {"kind": "none"}}).encode(),
        [],
        "version",
    ),
    "too deep": (doc(nested(data.MAX_DEPTH + 1)), [], "deeper than 100"),
    "JSON nested past recursion": (b"[" * 100_000 + b"]" * 100_000, [], "nested too deeply"),
    "unknown kind": (doc({"kind": "pickle", "data": "gASV"}), [], "unknown node kind 'pickle'"),
    "kind missing": (doc({"value": 1}), [], "unknown node kind None"),
    "node not an object": (doc(lst(1)), [], "not an object"),
    "extra field": (doc({"kind": "none", "code": "os.system"}), [], "has fields"),
    "missing field": (doc({"kind": "int"}), [], "has fields"),
    "bool not bool": (doc({"kind": "bool", "value": 1}), [], "true or false"),
    "int not decimal": (doc({"kind": "int", "value": "0x10"}), [], "decimal string"),
    "int leading zero": (doc({"kind": "int", "value": "012"}), [], "decimal string"),
    "int as number": (doc({"kind": "int", "value": 12}), [], "decimal string"),
    "int too long": (doc({"kind": "int", "value": "9" * 5000}), [], "decimal string"),
    "float out of range": (
        b'{"format":"mvc-data","version":1,"root":{"kind":"float","value":1e400}}',
        [],
        "out of range",
    ),
    "float bad string": (doc({"kind": "float", "value": "NaN"}), [], "not a number"),
    "float int": (doc({"kind": "float", "value": 1}), [], "not a number"),
    "float nan bits not nan": (doc({"kind": "float", "value": "nan:0000000000000000"}), [], "not a NaN"),
    "str not str": (doc({"kind": "str", "value": None}), [], "not a string"),
    "items not list": (doc({"kind": "list", "items": {}}), [], "not a list"),
    "dict item not pair": (doc({"kind": "dict", "items": [[INT1]]}), [], "[key, value] pair"),
    "dict list key": (doc({"kind": "dict", "items": [[lst(), INT1]]}), [], "cannot be a dict key"),
    "dict key tuple with list": (
        doc({"kind": "dict", "items": [[{"kind": "tuple", "items": [lst()]}, INT1]]}),
        [],
        "key tuple holds a list",
    ),
    "dict repeated key": (
        doc({"kind": "dict", "items": [[INT1, INT1], [{"kind": "float", "value": 1.0}, INT1]]}),
        [],
        "repeats a key",
    ),
    "odict metadata not dict": (doc({"kind": "odict", "items": [], "metadata": lst()}), [], "metadata is not a dict"),
    "index out of range": (doc(arr(buffer=1)), [bytearray(8)], "names buffer 1, but there are 1"),
    "index negative": (doc(arr(buffer=-1)), [bytearray(8)], "names buffer -1"),
    "index as bool": (doc(arr(buffer=True)), [bytearray(8)], "names buffer True"),
    "index as float": (doc(arr(buffer=0.0)), [bytearray(8)], "names buffer 0.0"),
    "buffer reused": (doc(lst(arr(), arr())), [bytearray(8)], "used by two nodes"),
    "bytes and array share": (doc(lst({"kind": "bytes", "buffer": 0}, arr())), [bytearray(8)], "used by two nodes"),
    "buffer unused": (doc(arr()), [bytearray(8), bytearray(1)], "buffer 1 belongs to no node"),
    "ref to bytes": (
        doc(lst({"kind": "bytes", "buffer": 0}, {"kind": "ref", "buffer": 0})),
        [bytearray(2)],
        "ref names",
    ),
    "ref before its array": (doc(lst({"kind": "ref", "buffer": 0}, arr())), [bytearray(8)], "ref names"),
    "shape x itemsize too small": (doc(arr(shape=(3,))), [bytearray(8)], "needs 12 bytes, its buffer 0 has 8"),
    "shape x itemsize too big": (doc(arr(shape=(1,))), [bytearray(8)], "needs 4 bytes"),
    "negative shape": (doc(arr(shape=(-2, -1))), [bytearray(8)], "holds -2"),
    "shape float": (doc(arr(shape=(2.0,))), [bytearray(8)], "holds 2.0"),
    "shape bool": (doc(arr(shape=(True, 2))), [bytearray(8)], "holds True"),
    "shape not list": (doc({**arr(), "shape": 2}), [bytearray(8)], "not a list"),
    "too many dims": (doc(arr(shape=(1,) * 65)), [bytearray(4)], "at most 64"),
    "2**62 elements": (doc(arr(shape=(2**62,))), [bytearray(16)], "too big to exist"),
    "overflow hidden by a zero": (doc(arr(shape=(0, 2**40, 2**40))), [bytearray(0)], "too big to exist"),
    "product overflows int64": (doc(arr(shape=(2**32, 2**32, 4))), [bytearray(16)], "too big to exist"),
    "order not F": (doc(arr(order="K")), [bytearray(8)], "order 'K'"),
    "dtype object": (doc(arr("|O", shape=(1,))), [bytearray(8)], "not a plain numpy dtype"),
    "dtype void": (doc(arr("|V8", shape=(1,))), [bytearray(8)], "not a plain numpy dtype"),
    "dtype structured list": (doc(arr([["a", "<f4"]])), [bytearray(8)], "not a plain numpy dtype"),
    "dtype structured string": (doc(arr("[('a','<f4')]")), [bytearray(8)], "not a plain numpy dtype"),
    "dtype long double": (doc(arr("<f16", shape=(1,))), [bytearray(16)], "not a plain numpy dtype"),
    "dtype without byte order": (doc(arr("f4")), [bytearray(8)], "not a plain numpy dtype"),
    "dtype name": (doc(arr("float32")), [bytearray(8)], "not a plain numpy dtype"),
    "dtype 1-byte with order": (doc(arr("<i1", shape=(8,))), [bytearray(8)], "not a plain numpy dtype"),
    "dtype S0": (doc(arr("|S0", shape=(0,))), [bytearray(0)], "not a plain numpy dtype"),
    "dtype unit spelled two ways": (doc(arr("<M8[1s]", shape=(1,))), [bytearray(8)], "not a plain numpy dtype"),
    "dtype huge unicode": (doc(arr("<U999999999", shape=(0,))), [bytearray(0)], "items too big"),
    "dtype with code": (doc(arr("<f4;import os", shape=(1,))), [bytearray(4)], "not a plain numpy dtype"),
    "scalar hex short": (doc({"kind": "scalar", "dtype": "<f8", "hex": "00"}), [], "exactly its item's bytes"),
    "scalar hex odd": (doc({"kind": "scalar", "dtype": "<f4", "hex": "0000000"}), [], "exactly its item's bytes"),
    "scalar object": (doc({"kind": "scalar", "dtype": "|O", "hex": "00" * 8}), [], "not a plain numpy dtype"),
    "tensor unknown dtype": (doc(ten("qint8", shape=(8,))), [bytearray(8)], "not a known torch dtype"),
    "tensor dtype attribute": (doc(ten("load", shape=(8,))), [bytearray(8)], "not a known torch dtype"),
    "tensor device": (doc(ten(device="cuda; rm -rf /")), [bytearray(8)], "not a device name"),
    "tensor requires_grad": (doc(ten(requires_grad="yes")), [bytearray(8)], "requires_grad"),
    "tensor size": (doc(ten("bfloat16", shape=(3,))), [bytearray(8)], "needs 6 bytes"),
    "tensor 2**62 elements": (doc(ten(shape=(2**62,))), [bytearray(16)], "too big to exist"),
    "frame meta not object": (doc({"kind": "frame", "meta": [], "buffers": []}), [], "meta is not an object"),
    "frame buffers not list": (doc({"kind": "frame", "meta": {}, "buffers": 0}), [], "buffers are not a list"),
    "estimator kind (never written)": (doc({"kind": "estimator", "meta": {}, "buffers": []}), [], "estimator"),
    "frame buffer out of range": (doc({"kind": "frame", "meta": {}, "buffers": [3]}), [], "names buffer 3"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_crafted_skeletons_are_refused_before_anything_is_allocated(case):
    skeleton, buffers, why = CASES[case]
    tracemalloc.start()
    try:
        with pytest.raises(InvalidDataError) as err:
            decode(skeleton, buffers, codec="data1", variable="weights", version="abc12345")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert why in err.value.why, err.value.why
    assert (err.value.variable, err.value.version) == ("weights", "abc12345")
    message = str(err.value)
    assert message.startswith("cannot load variable 'weights' of version abc12345: ")
    assert message.endswith(FIX[0].upper() + FIX[1:])
    assert isinstance(err.value, ValueError)
    # parsing costs a few times the skeleton; nothing near what a shape asks for
    assert peak < 64 * len(skeleton) + (4 << 20), peak


def test_a_skeleton_over_64_mib_is_refused_unread():
    with pytest.raises(InvalidDataError, match="more than 67108864"):
        decode(b" " * (data.MAX_JSON + 1), [], codec="data1")


def test_every_rule_is_checked_before_the_first_value_is_built():
    """A valid 32 MiB bytes node first, a broken node after it: the bytes are never
    copied out, because nothing is built until everything has been checked."""
    big = bytearray(32 << 20)
    skeleton = doc(lst({"kind": "bytes", "buffer": 0}, {"kind": "int", "value": "x"}))
    tracemalloc.start()
    try:
        with pytest.raises(InvalidDataError, match="decimal string"):
            decode(skeleton, [big], codec="data1")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20, peak
    fixed = doc(lst({"kind": "bytes", "buffer": 0}, {"kind": "int", "value": "7"}))
    assert decode(fixed, [big], codec="data1") == [bytes(big), 7]


def test_a_valid_handmade_skeleton_decodes():
    buf = bytearray(np.array([1.5, 2.5], dtype="<f4").tobytes())
    root = {
        "kind": "dict",
        "items": [
            [{"kind": "str", "value": "a"}, arr()],
            [{"kind": "tuple", "items": [INT1, {"kind": "none"}]}, {"kind": "ref", "buffer": 0}],
        ],
    }
    out = decode(doc(root), [buf], codec="data1")
    assert out[(1, None)] is out["a"] and out["a"].tolist() == [1.5, 2.5]

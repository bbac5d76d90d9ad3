"""The Arrow codec for pandas objects: exact round trips of the dtype and index zoo, None
for what Arrow would change, and crafted streams refused with InvalidDataError (each in
a subprocess, so a crash would fail the test instead of killing pytest)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pd = pytest.importorskip("pandas", reason="pandas is not installed (pip install pandas)")
pa = pytest.importorskip("pyarrow", reason="pyarrow is not installed (pip install 'jupyter_mvc[data]')")
import numpy as np  # noqa: E402

from jupyter_mvc.codecs import frames  # noqa: E402
from jupyter_mvc.errors import InvalidDataError  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _zoo() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i32": np.arange(5, dtype="int32"),
            "u8": np.arange(5, dtype="uint8"),
            "f64": [0.5, -0.0, np.nan, np.inf, 1e300],
            "f16": np.arange(5, dtype="float16"),
            "b": [True, False, True, True, False],
            "I64": pd.array([1, None, 3, 4, 5], dtype="Int64"),
            "boolean": pd.array([True, None, False, True, True], dtype="boolean"),
            "F64": pd.array([1.5, None, 3.0, 4.0, 5.0], dtype="Float64"),
            "string": pd.array(["a", None, "c", "d", "é"], dtype="string"),
            "str": pd.array(["a", None, "c", "d", "e"], dtype="str"),
            "cat": pd.Categorical(["x", "y", "x", None, "y"], categories=["z", "y", "x"]),
            "ordered": pd.Categorical(["lo", "hi", "lo", "mid", "hi"], categories=["lo", "mid", "hi"], ordered=True),
            "dt_ns": pd.Series([pd.Timestamp("2020-01-01 00:00:00.000000001"), pd.NaT] + [pd.Timestamp(0)] * 3),
            "dt_s": pd.Series(pd.date_range("2020", periods=5)).astype("datetime64[s]"),
            "dt_tz": pd.date_range("2020-03-29", periods=5, freq="h", tz="Europe/Paris"),
            "td": pd.to_timedelta([1, 2, None, 4, 5], unit="s"),
        }
    )


def _roundtrip(obj):
    result = frames.encode(obj)
    assert result is not None, "expected the Arrow codec to take this object"
    meta, buffers = result
    json.dumps(meta, allow_nan=False)  # the data codec stores meta as strict JSON
    copied = [memoryview(bytes(b)) for b in buffers]  # what comes back from the store
    return meta, frames.decode(meta, copied, variable="df", version="v1")


def _assert_identical(original, back):
    assert type(back) is type(original)
    if isinstance(original, pd.Series):
        pd.testing.assert_series_equal(back, original, check_exact=True, check_index_type=True, check_freq=True)
        assert back.name == original.name and type(back.name) is type(original.name)
    else:
        pd.testing.assert_frame_equal(
            back, original, check_exact=True, check_index_type=True, check_column_type=True, check_freq=True
        )
        assert list(back.dtypes) == list(original.dtypes)
        assert type(back.columns) is type(original.columns)
    assert type(back.index) is type(original.index)
    assert back.index.names == original.index.names
    assert back.attrs == original.attrs
    assert back.flags.allows_duplicate_labels == original.flags.allows_duplicate_labels


def test_the_dtype_zoo_round_trips_exactly_with_every_dtype():
    df = _zoo()
    _, back = _roundtrip(df)
    _assert_identical(df, back)
    assert str(back["dt_tz"].dtype) == "datetime64[us, Europe/Paris]" or back["dt_tz"].dtype == df["dt_tz"].dtype
    assert back["ordered"].cat.ordered and list(back["ordered"].cat.categories) == ["lo", "mid", "hi"]
    assert back["dt_ns"][0].nanosecond == 1
    assert np.signbit(back["f64"][1])  # -0.0 stays negative
    assert isinstance(back.index, pd.RangeIndex)


def _multi_rows():
    index = pd.MultiIndex.from_arrays(
        [["a", "a", "b"], [1, 2, 1], pd.to_datetime(["2020", "2021", "2022"])], names=["s", "n", None]
    )
    return pd.DataFrame({"v": [1.0, 2.0, 3.0]}, index=index)


def _with_attrs():
    df = pd.DataFrame({"v": [1, 2]})
    df.attrs = {"source": "sensor 4", "calibration": [1.5, 2], "nested": {"ok": True, "none": None}}
    return df


def _series_attrs():
    s = pd.Series([1.5, 2.5], name="price", index=pd.Index(["x", "y"], name="sku"))
    s.attrs = {"unit": "EUR"}
    return s


CASES = {
    "range index with a step and name": lambda: pd.DataFrame({"a": [1, 2, 3]}, index=pd.RangeIndex(3, 9, 2, name="r")),
    "named int index": lambda: pd.DataFrame({"a": [1, 2, 3]}, index=pd.Index([7, 5, 9], name="key")),
    "string index": lambda: pd.DataFrame({"a": [1, 2]}, index=pd.Index(["x", "y"], name="k")),
    "datetime index with freq": lambda: pd.DataFrame(
        {"v": [1, 2, 3]}, index=pd.date_range("2020", periods=3, name="d")
    ),
    "tz index with freq": lambda: pd.DataFrame(
        {"v": [1, 2]}, index=pd.date_range("2020", periods=2, freq="15min", tz="UTC")
    ),
    "timedelta index": lambda: pd.DataFrame({"v": [1, 2]}, index=pd.to_timedelta([1, 3], unit="D")),
    "categorical index": lambda: pd.DataFrame({"v": [1, 2, 3]}, index=pd.CategoricalIndex(["a", "b", "a"], name="c")),
    "multiindex rows": _multi_rows,
    "multiindex columns": lambda: pd.DataFrame(
        [[1, 2, 3]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2), ("b", 1)], names=["l0", "l1"])
    ),
    "named columns": lambda: pd.DataFrame({"a": [1], "b": [2]}).rename_axis(columns="fields"),
    "int columns (RangeIndex)": lambda: pd.DataFrame(np.arange(6).reshape(2, 3)),
    "int columns": lambda: pd.DataFrame({3: [1], 1: [2]}),
    "empty frame": pd.DataFrame,
    "index only": lambda: pd.DataFrame(index=pd.Index([1, 2, 3], name="i")),
    "no rows": lambda: pd.DataFrame({"a": pd.Series([], dtype="int64"), "s": pd.Series([], dtype="str")}),
    "attrs": _with_attrs,
    "no duplicate labels flag": lambda: pd.DataFrame({"a": [1]}).set_flags(allows_duplicate_labels=False),
    "object column of str": lambda: pd.DataFrame({"v": pd.Series(["a", "b"], dtype=object)}),
    "object column of bytes": lambda: pd.DataFrame({"v": pd.Series([b"\x00", None], dtype=object)}),
    "python-storage strings": lambda: pd.DataFrame({"v": pd.array(["a", None], dtype=pd.StringDtype("python"))}),
    "series with name, index and attrs": _series_attrs,
    "unnamed series": lambda: pd.Series([1, 2, 3]),
    "series with int name": lambda: pd.Series([1.0, np.nan], name=3),
    "categorical series": lambda: pd.Series(pd.Categorical(["b", "a"], ordered=True), name="grade"),
    "series on a freq index": lambda: pd.Series([1, 2], index=pd.date_range("2021", periods=2, freq="W")),
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_exact_round_trip(make):
    original = make()
    meta, back = _roundtrip(original)
    _assert_identical(original, back)
    assert meta["kind"] == type(original).__name__


def test_meta_records_what_arrow_loses():
    meta, _ = _roundtrip(pd.Series([1, 2], name="n", index=pd.date_range("2020", periods=2)))
    assert meta == {"format": "arrow-ipc/1", "kind": "Series", "name": "n", "freq": "D"}
    meta, _ = _roundtrip(pd.DataFrame(np.zeros((1, 2))).set_flags(allows_duplicate_labels=False))
    assert meta["columns_range"] == [0, 2, 1] and meta["allows_duplicate_labels"] is False
    meta, _ = _roundtrip(pd.DataFrame({"o": pd.Series(["x"], dtype=object), "p": pd.array(["y"], dtype="string")}))
    assert meta["restore"] == [[0, "object"]] or meta["restore"] == [[0, "object"], [1, "string-python"]]


def test_the_buffer_is_the_arrow_buffer_without_a_copy_and_decoded_frames_are_writable():
    df = pd.DataFrame({"x": np.arange(100_000, dtype="float64")})
    meta, (view,) = frames.encode(df)
    assert isinstance(view.obj, pa.Buffer)  # a view of pyarrow's own buffer
    assert view.nbytes >= df["x"].nbytes
    unaligned = bytearray(view.nbytes + 1)
    unaligned[1:] = view
    back = frames.decode(meta, [memoryview(unaligned)[1:]])
    back.iloc[0, 0] = -1.0  # an ordinary writable frame
    assert back.iloc[0, 0] == -1.0 and df.iloc[0, 0] == 0.0


class _Frame(pd.DataFrame):
    pass


NOT_TAKEN = {
    "not a frame": lambda: {"a": [1]},
    "numpy array": lambda: np.arange(3),
    "DataFrame subclass": lambda: _Frame({"a": [1]}),
    "mixed object column": lambda: pd.DataFrame({"v": pd.Series([1, "b", None], dtype=object)}),
    "object column of ints": lambda: pd.DataFrame({"v": pd.Series([1, 2], dtype=object)}),
    "object strings with None (comes back NaN)": lambda: pd.DataFrame({"v": pd.Series(["a", None], dtype=object)}),
    "lists in a column": lambda: pd.DataFrame({"v": pd.Series([[1], [2]], dtype=object)}),
    "decimals": lambda: pd.DataFrame({"v": pd.Series([__import__("decimal").Decimal("1.10")], dtype=object)}),
    "complex": lambda: pd.DataFrame({"v": np.arange(2) + 1j}),
    "period": lambda: pd.DataFrame({"v": pd.period_range("2020", periods=2, freq="M")}),
    "interval": lambda: pd.DataFrame({"v": pd.interval_range(0, 2)}),
    "sparse": lambda: pd.DataFrame({"v": pd.arrays.SparseArray([0, 1])}),
    "ArrowDtype": lambda: pd.DataFrame({"v": pd.array([1, None], dtype="int64[pyarrow]")}),
    "Float64 NaN that is not NA": lambda: pd.DataFrame(
        {"v": pd.arrays.FloatingArray(np.array([1.0, np.nan]), np.array([False, False]))}
    ),
    "duplicate column names": lambda: pd.DataFrame([[1, 2]], columns=["a", "a"]),
    "mixed-type column labels": lambda: pd.DataFrame({0: [1], "a": [2]}),
    "attrs that are not JSON": lambda: pd.DataFrame({"a": [1]}).__setattr__("attrs", {"t": (1, 2)}),
    "series with a tuple name": lambda: pd.Series([1], name=("a", 1)),
    "object index of str": lambda: pd.DataFrame({"a": [1]}, index=pd.Index(["x"], dtype=object)),
}


@pytest.mark.parametrize("make", NOT_TAKEN.values(), ids=NOT_TAKEN.keys())
def test_what_would_not_come_back_identical_is_left_to_pickle(make):
    obj = make()
    if obj is None:  # the attrs case: __setattr__ returns None, rebuild it
        obj = pd.DataFrame({"a": [1]})
        obj.attrs = {"t": (1, 2)}
    assert frames.encode(obj) is None


def _good() -> tuple[dict, bytes]:
    meta, (view,) = frames.encode(pd.DataFrame({"v": np.arange(4, dtype="int64")}))
    return meta, bytes(view)


BAD_META = {
    "not a dict": [],
    "unknown key": {"format": "arrow-ipc/1", "kind": "DataFrame", "code": "x"},
    "wrong format": {"format": "arrow-ipc/9", "kind": "DataFrame"},
    "wrong kind": {"format": "arrow-ipc/1", "kind": "Panel"},
    "name on a frame": {"format": "arrow-ipc/1", "kind": "DataFrame", "name": "x"},
    "series without name": {"format": "arrow-ipc/1", "kind": "Series"},
    "name of a wrong type": {"format": "arrow-ipc/1", "kind": "Series", "name": ["x"]},
    "columns_range step 0": {"format": "arrow-ipc/1", "kind": "DataFrame", "columns_range": [0, 1, 0]},
    "columns_range of bools": {"format": "arrow-ipc/1", "kind": "DataFrame", "columns_range": [True, 1, 1]},
    "restore kind": {"format": "arrow-ipc/1", "kind": "DataFrame", "restore": [[0, "eval"]]},
    "restore negative": {"format": "arrow-ipc/1", "kind": "DataFrame", "restore": [[-1, "object"]]},
    "freq that is code": {"format": "arrow-ipc/1", "kind": "DataFrame", "freq": "__import__('os')"},
    "duplicate flag true": {"format": "arrow-ipc/1", "kind": "DataFrame", "allows_duplicate_labels": True},
}


@pytest.mark.parametrize("meta", BAD_META.values(), ids=BAD_META.keys())
def test_bad_meta_is_refused_before_the_stream_is_read(meta):
    _, raw = _good()
    with pytest.raises(InvalidDataError, match="bad Arrow frame description"):
        frames.decode(meta, [memoryview(raw)], variable="df", version="v1")


def test_meta_that_does_not_fit_the_stream_is_invalid_data():
    meta, raw = _good()
    with pytest.raises(InvalidDataError, match="does not convert"):
        frames.decode({**meta, "freq": "h"}, [memoryview(raw)])  # rows are not hourly
    with pytest.raises(InvalidDataError, match="does not convert"):
        frames.decode({**meta, "columns_range": [0, 5, 1]}, [memoryview(raw)])
    with pytest.raises(InvalidDataError, match="does not convert"):
        frames.decode({**meta, "kind": "Series", "name": None}, [memoryview(raw)])
    with pytest.raises(InvalidDataError, match="exactly one buffer"):
        frames.decode(meta, [memoryview(raw), memoryview(raw)])


# Crafted streams. Each runs in a fresh interpreter: the test fails on a crash (a
# segfault gives a negative return code) as well as on any exception but ours.
_PRELUDE = """
import json, struct, sys
import numpy as np, pandas as pd, pyarrow as pa
from jupyter_mvc.codecs import frames
from jupyter_mvc.errors import InvalidDataError

def stream(table):
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue().to_pybytes()

def with_pandas_meta(table, edit):
    doc = json.loads(table.schema.metadata[b"pandas"])
    edit(doc)
    return table.replace_schema_metadata({b"pandas": json.dumps(doc).encode()})

meta, (view,) = frames.encode(pd.DataFrame({"v": np.arange(4, dtype="int64")}))
raw = bytes(view)
table = pa.Table.from_pandas(pd.DataFrame({"v": np.arange(4, dtype="int64")}), preserve_index=None)

def expect_refused(data, meta=meta):
    try:
        frames.decode(meta, [memoryview(data)], variable="df", version="v1")
    except InvalidDataError as exc:
        print("InvalidDataError:", exc)
    else:
        print("DECODED")
"""

CRAFTED = {
    "truncated stream": "expect_refused(raw[: len(raw) // 2])",
    "stream cut inside the body": "expect_refused(raw[:-12])",
    "empty buffer": "expect_refused(b'')",
    "not arrow at all": "expect_refused(b'PK\\x03\\x04' + bytes(100))",
    "buffer offset outside the body": (
        "pat = struct.pack('<qqqq', 0, 0, 0, 32); assert raw.count(pat) == 1\n"
        "expect_refused(raw.replace(pat, struct.pack('<qqqq', 0, 0, 1 << 40, 32)))"
    ),
    "huge declared buffer length": (
        "pat = struct.pack('<qqqq', 0, 0, 0, 32); assert raw.count(pat) == 1\n"
        "expect_refused(raw.replace(pat, struct.pack('<qqqq', 0, 0, 0, 1 << 62)))"
    ),
    "huge declared row count": (
        "pat = struct.pack('<qq', 4, 0); assert raw.count(pat) == 1\n"
        "expect_refused(raw.replace(pat, struct.pack('<qq', 1 << 40, 0)))"
    ),
    "huge declared metadata length": "expect_refused(raw[:4] + struct.pack('<i', 0x7FFFFFF0) + raw[8:])",
    "string offsets past the data": (
        "t = pa.Table.from_pandas(pd.DataFrame({'s': ['ab', 'cd']}), preserve_index=None)\n"
        "m, _ = frames.encode(pd.DataFrame({'s': ['ab', 'cd']}))\n"
        "data = stream(t); pat = np.array([0, 2, 4], dtype=np.int64).tobytes(); assert data.count(pat) == 1\n"
        "expect_refused(data.replace(pat, np.array([0, 2, 1 << 40], dtype=np.int64).tobytes()), m)"
    ),
    "dictionary index out of range": (
        "df = pd.DataFrame({'c': pd.Categorical(list('dbeb'), categories=list('abcde'))}); m, _ = frames.encode(df)\n"
        "data = stream(pa.Table.from_pandas(df, preserve_index=None))\n"
        "pat = bytes([3, 1, 4, 1]); assert data.count(pat) == 1\n"
        "expect_refused(data.replace(pat, bytes([3, 1, 120, 1])), m)"
    ),
    "a struct column": "expect_refused(stream(pa.table({'v': [{'a': 1}]}).replace_schema_metadata(table.schema.metadata)))",
    "an extension column": (
        "t = pa.table({'v': pa.array([b'0' * 16], pa.uuid())}).replace_schema_metadata(table.schema.metadata)\n"
        "expect_refused(stream(t))"
    ),
    "no pandas metadata": "expect_refused(stream(table.replace_schema_metadata({})))",
    "extra schema metadata": "expect_refused(stream(table.replace_schema_metadata({**table.schema.metadata, b'x': b'1'})))",
    "oversized pandas metadata": (
        "expect_refused(stream(with_pandas_meta(table, lambda d: d.update(attributes={'x': 'y' * 200000}))))"
    ),
    "pandas metadata not JSON": "expect_refused(stream(table.replace_schema_metadata({b'pandas': b'{nope'})))",
    "pandas metadata nested too deep to parse": (
        "expect_refused(stream(table.replace_schema_metadata({b'pandas': b'[' * 5000})))"
    ),
    "unknown pandas metadata key": "expect_refused(stream(with_pandas_meta(table, lambda d: d.update(hook='x'))))",
    "index column that is no field": (
        "expect_refused(stream(with_pandas_meta(table, lambda d: d.update(index_columns=['missing']))))"
    ),
    "range index longer than the rows": (
        "def edit(d): d['index_columns'][0]['stop'] = 10 ** 15\nexpect_refused(stream(with_pandas_meta(table, edit)))"
    ),
    "numpy_type pandas would parse": (
        "def edit(d): d['columns'][0]['numpy_type'] = 'Sparse[int64, 0]'\n"
        "expect_refused(stream(with_pandas_meta(table, edit)))"
    ),
    "columns that do not match the fields": (
        "def edit(d): d['columns'][0]['field_name'] = 'w'\nexpect_refused(stream(with_pandas_meta(table, edit)))"
    ),
}


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", _PRELUDE + textwrap.dedent(code)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("code", CRAFTED.values(), ids=CRAFTED.keys())
def test_crafted_stream_is_invalid_data_and_never_crashes(code):
    done = _run(code)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "InvalidDataError:" in done.stdout, done.stdout + done.stderr


def test_flipped_bytes_anywhere_never_crash_or_raise_anything_else():
    done = _run(
        """
        df = pd.DataFrame({"i": np.arange(4), "s": ["a", "bb", None, "d"], "c": pd.Categorical(list("xyxx")),
                           "t": pd.date_range("2020", periods=4, tz="UTC")}, index=pd.Index([5, 6, 7, 8], name="k"))
        meta, (view,) = frames.encode(df)
        good = bytes(view)
        refused = decoded = 0
        for pos in range(len(good)):
            for mask in (0x01, 0x80, 0xFF):
                data = bytearray(good)
                data[pos] ^= mask
                try:
                    frames.decode(meta, [memoryview(bytes(data))])
                    decoded += 1
                except InvalidDataError:
                    refused += 1
        print("refused", refused, "decoded", decoded)
        """
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "refused" in done.stdout
    refused = int(done.stdout.split()[1])
    assert refused > 1000, done.stdout  # most damage is caught, the rest only changes values


_HIDE = """
import importlib.abc, sys
class Hide(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "{0}" or name.startswith("{0}."):
            raise ModuleNotFoundError("No module named " + repr(name), name=name)
sys.meta_path.insert(0, Hide())
"""


def test_without_pyarrow_encode_declines_and_decode_says_what_to_install():
    meta, raw = _good()
    code = _HIDE.format("pyarrow") + textwrap.dedent(
        f"""
        import pandas as pd
        from jupyter_mvc.codecs import frames
        from jupyter_mvc.errors import InvalidDataError
        print("encode:", frames.encode(pd.DataFrame({{"a": [1]}})))
        try:
            frames.decode({meta!r}, [memoryview({raw!r})], variable="df", version="v1")
        except InvalidDataError as exc:
            print("InvalidDataError:", exc)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "encode: None" in done.stdout
    assert "InvalidDataError:" in done.stdout and "pip install pyarrow" in done.stdout


def test_the_module_imports_neither_pandas_nor_pyarrow_until_needed():
    code = (
        "import sys\nfrom jupyter_mvc.codecs import frames\n"
        "assert frames.encode([1, 2]) is None\n"
        "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_large_declared_buffer_in_meta_shape_is_not_trusted():
    # A stream that is valid Arrow but says (in its pandas metadata) its RangeIndex is longer
    # than its rows is refused in process too, before pandas builds anything.
    table = pa.Table.from_pandas(pd.DataFrame({"v": [1, 2]}), preserve_index=None)
    doc = json.loads(table.schema.metadata[b"pandas"])
    doc["index_columns"][0]["stop"] = 2**40
    table = table.replace_schema_metadata({b"pandas": json.dumps(doc).encode()})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    with pytest.raises(InvalidDataError, match="range index"):
        frames.decode({"format": "arrow-ipc/1", "kind": "DataFrame"}, [memoryview(sink.getvalue())])


@pytest.mark.parametrize("column", list(_zoo().columns))
def test_the_exactness_check_sees_one_changed_value_in_every_column_kind(column):
    """encode's check compares natively-held columns by bytes or Arrow equality: one value
    changed (or -0.0 for 0.0) must still count as a difference, column by column."""
    original = _zoo()
    changed = original.copy()
    values = changed[column]
    if str(values.dtype) in ("float64", "float16"):
        changed[column] = values.where(values.index != 1, 0.0 if str(values.dtype) == "float64" else 9.0)
    else:
        changed[column] = values.iloc[[1, 0, 2, 3, 4]].set_axis(values.index)  # two values swapped, same dtype
    assert str(changed[column].dtype) == str(original[column].dtype)
    assert frames._identical(pd, original, original.copy())
    assert not frames._identical(pd, original, changed)

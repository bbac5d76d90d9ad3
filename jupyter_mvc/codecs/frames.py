"""pandas DataFrames and Series as one Arrow IPC stream, loaded without pickle.

`encode` writes `pyarrow.Table.from_pandas(frame)` as an IPC stream into one buffer and
keeps in `meta` what Arrow's own pandas metadata loses (Series vs DataFrame, the Series
name, a RangeIndex of columns, a DatetimeIndex's freq, object / python-storage string
dtypes, the duplicate-labels flag). Nothing is stored that does not come back identical:
encode decodes what it wrote the way `decode` will and returns None (the caller falls
back to pickle) unless the result equals the original exactly, dtypes, index classes,
names, freq and attrs included.

`decode` trusts nothing: `meta` is checked field by field, the stream's schema may hold
only plain column types (no extension, nested or union types), the pandas metadata that
`to_pandas` interprets is bounded in size and checked key by key against the schema,
and the table is validated in full (offsets, dictionary indices, UTF-8) before any
conversion. Every failure is an `InvalidDataError`.

The row index is stored as Arrow does by default (`preserve_index=None`): a RangeIndex
as metadata (no bytes, and it comes back a RangeIndex), any other index as columns.
pandas and pyarrow are imported only when an object is a frame or a stream is decoded.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from typing import Any

from ..errors import InvalidDataError

FORMAT = "arrow-ipc/1"
_SERIES_COLUMN = "__mvc_series__"
_META_KEYS = {"format", "kind", "name", "columns_range", "restore", "freq", "allows_duplicate_labels"}
_RESTORE_KINDS = ("object", "string-python", "str-python")
_MAX_NAME = 4096
_MAX_LEVELS = 64
_FREQ = re.compile(r"^-?[0-9]{0,9}[A-Za-z][A-Za-z0-9\-]{0,15}$")
_TZ = re.compile(r"^[A-Za-z0-9_/+\-:]{1,64}$")
_UNIT = r"(s|ms|us|ns)"
_TIME_TYPE = re.compile(rf"^(datetime64|timedelta64)\[{_UNIT}\]$")
_PLAIN_NUMPY = {
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "object", "str", "string", "category", "boolean",
    "Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64",
}  # fmt: skip
_PANDAS_TYPES = _PLAIN_NUMPY | {"unicode", "bytes", "datetime", "datetimetz", "timedelta", "categorical", "empty"}
_PANDAS_META_KEYS = {"index_columns", "column_indexes", "columns", "attributes", "creator", "pandas_version"}
_COLUMN_KEYS = {"name", "field_name", "pandas_type", "numpy_type", "metadata"}
_COLUMN_META_KEYS = {"encoding", "num_categories", "ordered", "timezone"}


def encode(obj: Any) -> tuple[dict, list[memoryview]] | None:
    """(meta, [IPC stream]) for an exact DataFrame/Series that Arrow returns unchanged,
    else None."""
    pd = sys.modules.get("pandas")
    if pd is None or type(obj) not in (pd.DataFrame, pd.Series):
        return None
    try:
        pa = _pyarrow()
    except ImportError:
        return None
    try:
        return _encode(pd, pa, obj)
    except MemoryError:
        raise
    except Exception:  # pyarrow/pandas conversion errors: not representable, use pickle
        return None


def _pyarrow() -> Any:
    """pyarrow with its ipc module bound; imported by name (no type information)."""
    importlib.import_module("pyarrow.ipc")
    return importlib.import_module("pyarrow")


def _encode(pd: Any, pa: Any, obj: Any) -> tuple[dict, list[memoryview]] | None:
    series = isinstance(obj, pd.Series)
    if series and (obj.name is not None and type(obj.name) not in (str, int, float, bool)):
        return None
    frame = obj.to_frame(name=_SERIES_COLUMN) if series else obj
    if not isinstance(frame.columns, pd.MultiIndex) and frame.columns.inferred_type.startswith("mixed"):
        return None  # Arrow would turn the labels into strings
    if not all(_supported(pd, dtype, column) for dtype, (_, column) in zip(frame.dtypes, frame.items())):
        return None
    meta: dict[str, Any] = {"format": FORMAT, "kind": "Series" if series else "DataFrame"}
    if series:
        meta["name"] = obj.name
    if not series and type(frame.columns) is pd.RangeIndex and frame.columns.name is None:
        cols = frame.columns
        meta["columns_range"] = [int(cols.start), int(cols.stop), int(cols.step)]
    restore = []
    for position, dtype in enumerate(frame.dtypes):
        if str(dtype) == "object":
            restore.append([position, "object"])
        elif isinstance(dtype, pd.StringDtype) and dtype.storage == "python":
            restore.append([position, "string-python" if dtype.na_value is pd.NA else "str-python"])
    if restore:
        meta["restore"] = restore
    freq = getattr(obj.index, "freqstr", None)
    if freq is not None and isinstance(obj.index, (pd.DatetimeIndex, pd.TimedeltaIndex)):
        meta["freq"] = freq
    if not obj.flags.allows_duplicate_labels:
        meta["allows_duplicate_labels"] = False

    table = pa.Table.from_pandas(frame, preserve_index=None)
    _check_meta(meta, "", "")
    _check_schema(pa, table.schema, "", "")
    _check_pandas_metadata(table.schema, table.num_rows, "", "")
    if not _identical(pd, obj, _to_pandas(pd, table, meta, split_blocks=True)):
        return None
    return meta, [memoryview(_write_stream(pa, table))]


def _write_stream(pa: Any, table: Any) -> Any:
    """The IPC stream in one buffer allocated at its final size (measured by a dry run that
    copies nothing), so a large frame is copied once rather than at every doubling."""
    mock = pa.MockOutputStream()
    with pa.ipc.new_stream(mock, table.schema) as writer:
        writer.write_table(table)
    buffer = pa.allocate_buffer(mock.size())
    with pa.ipc.new_stream(pa.FixedSizeBufferWriter(buffer), table.schema) as writer:
        writer.write_table(table)
    return buffer


def _supported(pd: Any, dtype: Any, column: Any) -> bool:
    kind = getattr(dtype, "kind", "")
    if isinstance(dtype, pd.CategoricalDtype):
        return not isinstance(dtype.categories.dtype, pd.CategoricalDtype) and _supported(
            pd, dtype.categories.dtype, dtype.categories
        )
    if type(dtype).__module__.startswith("numpy"):
        if kind == "O":  # only strings or only bytes (missing allowed): others change on the way
            return pd.api.types.infer_dtype(column, skipna=True) in ("string", "bytes")
        return kind in "biufMm"
    return isinstance(dtype, (pd.DatetimeTZDtype, pd.StringDtype)) or dtype.name in _PLAIN_NUMPY


def _identical(pd: Any, original: Any, restored: Any) -> bool:
    """Whether `restored` is `original` exactly: type, labels, index (class, names, freq),
    flags, attrs, dtypes, and every value bit for bit. Columns Arrow holds natively are
    compared by their bytes or Arrow's own equality (a 5M-row frame in ~0.1 s, where
    pandas' assert_frame_equal took ~3 s); any other column by pandas' exact assertion."""
    if type(original) is not type(restored) or original.shape != restored.shape:
        return False
    try:
        pd.testing.assert_index_equal(original.index, restored.index, exact=True, check_exact=True)
        if isinstance(original, pd.DataFrame):
            pd.testing.assert_index_equal(original.columns, restored.columns, exact=True, check_exact=True)
    except AssertionError:
        return False
    if isinstance(original, pd.DataFrame):
        if type(original.columns) is not type(restored.columns):
            return False
        pairs = [(original.iloc[:, i], restored.iloc[:, i]) for i in range(original.shape[1])]
    else:
        if type(original.name) is not type(restored.name) or original.name != restored.name:
            return False
        pairs = [(original, restored)]
    if (
        getattr(original.index, "freq", None) != getattr(restored.index, "freq", None)
        or original.flags.allows_duplicate_labels != restored.flags.allows_duplicate_labels
        or original.attrs != restored.attrs
    ):
        return False
    return all(_same_column(pd, left, right) for left, right in pairs)


def _same_column(pd: Any, left: Any, right: Any) -> bool:
    if type(left.dtype) is not type(right.dtype) or left.dtype != right.dtype or str(left.dtype) != str(right.dtype):
        return False
    np = sys.modules["numpy"]
    if isinstance(left.dtype, np.dtype) and left.dtype.kind in "biufmM" and left.dtype.itemsize in (1, 2, 4, 8):
        # Bit for bit: NaN payloads and -0.0 count, as they would in the stored bytes.
        unsigned = f"u{left.dtype.itemsize}"
        return bool(np.array_equal(left.to_numpy(copy=False).view(unsigned), right.to_numpy(copy=False).view(unsigned)))
    if hasattr(left.array, "__arrow_array__") and type(left.array) is type(right.array):
        if not isinstance(left.dtype, pd.CategoricalDtype):  # categoricals: codes and categories both matter
            return bool(left.array.__arrow_array__().equals(right.array.__arrow_array__()))
    try:
        pd.testing.assert_series_equal(left, right, check_exact=True, check_index=False, check_names=False)
    except AssertionError:
        return False
    # Object columns: same element types too (None is not NaN, str is not bytes).
    return left.dtype != object or list(map(type, left)) == list(map(type, right))


def decode(meta: dict, buffers: list[memoryview], *, variable: str = "", version: str = "") -> object:
    """The DataFrame or Series of `encode`; InvalidDataError for anything else."""
    _check_meta(meta, variable, version)
    if not isinstance(buffers, list) or len(buffers) != 1:
        raise InvalidDataError(variable, version, "an Arrow frame needs exactly one buffer")
    try:
        import pandas as pd

        pa = _pyarrow()
    except ImportError as exc:
        raise InvalidDataError(
            variable,
            version,
            f"this version stores a pandas object as Arrow and {exc.name} is not installed",
            "pip install pyarrow pandas (or pip install 'jupyter_mvc[data]').",
        ) from exc
    try:
        reader = pa.ipc.open_stream(pa.py_buffer(buffers[0]))
        _check_schema(pa, reader.schema, variable, version)
        table = reader.read_all()
        table.validate(full=True)
    except InvalidDataError:
        raise
    except (pa.ArrowException, OSError, ValueError, TypeError, IndexError) as exc:
        raise InvalidDataError(variable, version, f"not a valid Arrow IPC stream ({exc})") from exc
    _check_pandas_metadata(table.schema, table.num_rows, variable, version)
    try:
        return _to_pandas(pd, table, meta)
    except MemoryError:
        raise
    except Exception as exc:  # any refusal of pandas/pyarrow to build it means bad data
        raise InvalidDataError(variable, version, f"the Arrow table does not convert ({exc})") from exc


def _to_pandas(pd: Any, table: Any, meta: dict, split_blocks: bool = False) -> Any:
    """The pandas object `table` and `meta` describe. `split_blocks`: a column per block,
    zero-copy where Arrow allows (read-only arrays): same values, no consolidation copy;
    for encode's exactness check, never for a frame handed to the user."""
    frame = table.to_pandas(split_blocks=split_blocks)
    for position, kind in meta.get("restore", []):
        dtype = {"object": object, "string-python": pd.StringDtype("python"), "str-python": None}[kind]
        if dtype is None:
            dtype = pd.StringDtype("python", na_value=float("nan"))
        frame.isetitem(position, frame.iloc[:, position].astype(dtype))
    if "columns_range" in meta:
        columns = pd.RangeIndex(*meta["columns_range"])
        if len(columns) != frame.shape[1]:
            raise ValueError(f"{frame.shape[1]} columns, not the {len(columns)} of columns_range")
        frame.columns = columns
    if "freq" in meta:
        frame.index = type(frame.index)(frame.index, freq=meta["freq"])  # pandas checks it fits
    if meta.get("allows_duplicate_labels") is False:
        frame = frame.set_flags(allows_duplicate_labels=False)
    if meta["kind"] == "DataFrame":
        return frame
    if list(frame.columns) != [_SERIES_COLUMN]:
        raise ValueError("a Series is stored as exactly one column")
    series = frame.iloc[:, 0]
    series.name = meta["name"]
    series.attrs = frame.attrs
    return series


def _check_meta(meta: Any, variable: str, version: str) -> None:
    def bad(why: str) -> InvalidDataError:
        return InvalidDataError(variable, version, f"bad Arrow frame description: {why}")

    if not isinstance(meta, dict) or not set(meta) <= _META_KEYS:
        raise bad(f"expected a dict with keys among {sorted(_META_KEYS)}")
    if meta.get("format") != FORMAT:
        raise bad(f"format must be {FORMAT!r}")
    kind = meta.get("kind")
    if kind not in ("DataFrame", "Series"):
        raise bad("kind must be 'DataFrame' or 'Series'")
    if ("name" in meta) != (kind == "Series"):
        raise bad("a Series, and only a Series, has a name")
    name = meta.get("name")
    if not (name is None or type(name) in (int, float, bool) or (type(name) is str and len(name) <= _MAX_NAME)):
        raise bad("the Series name must be a string, number, boolean or null")
    if "columns_range" in meta:
        cr = meta["columns_range"]
        if kind != "DataFrame" or not _int_list(cr, 3) or cr[2] == 0:
            raise bad("columns_range must be [start, stop, step] with step != 0")
    if "restore" in meta:
        restore = meta["restore"]
        if not isinstance(restore, list) or len(restore) > 1_000_000:
            raise bad("restore must be a list")
        for item in restore:
            if not (isinstance(item, list) and len(item) == 2 and _int_list(item[:1], 1) and item[0] >= 0):
                raise bad("restore entries are [column position, kind]")
            if item[1] not in _RESTORE_KINDS:
                raise bad(f"restore kinds are {_RESTORE_KINDS}")
    if "freq" in meta and not (isinstance(meta["freq"], str) and _FREQ.match(meta["freq"])):
        raise bad("freq must be a pandas frequency string such as 'D' or '15min'")
    if "allows_duplicate_labels" in meta and meta["allows_duplicate_labels"] is not False:
        raise bad("allows_duplicate_labels is stored only as false")


def _int_list(value: Any, length: int) -> bool:
    return isinstance(value, list) and len(value) == length and all(type(v) is int for v in value)


def _check_schema(pa: Any, schema: Any, variable: str, version: str) -> None:
    """Plain column types only, unique names, no metadata but the pandas JSON (bounded)."""
    types = pa.types
    metadata = schema.metadata or {}
    if set(metadata) != {b"pandas"}:
        raise InvalidDataError(variable, version, "the Arrow schema must carry exactly the pandas metadata")
    limit = 65536 + 4 * _MAX_NAME * len(schema)
    if len(metadata[b"pandas"]) > limit:
        raise InvalidDataError(variable, version, f"the pandas metadata is over {limit} bytes")
    names = schema.names
    if len(set(names)) != len(names):
        raise InvalidDataError(variable, version, "the Arrow schema repeats a column name")

    def plain(t: Any) -> bool:
        if types.is_timestamp(t):
            return t.tz is None or bool(_TZ.match(t.tz))
        return (
            types.is_boolean(t)
            or types.is_integer(t)
            or types.is_floating(t)
            or types.is_duration(t)
            or types.is_string(t)
            or types.is_large_string(t)
            or types.is_binary(t)
            or types.is_large_binary(t)
        )

    for field in schema:
        t = field.type
        ok = plain(t) or (types.is_dictionary(t) and types.is_integer(t.index_type) and plain(t.value_type))
        if not ok or field.metadata or len(field.name) > _MAX_NAME:
            raise InvalidDataError(variable, version, f"column {field.name[:80]!r} has a type not allowed here ({t})")


def _check_pandas_metadata(schema: Any, num_rows: int, variable: str, version: str) -> None:
    """The JSON `to_pandas` follows: known keys, one entry per field, plausible types."""

    def bad(why: str) -> InvalidDataError:
        return InvalidDataError(variable, version, f"bad pandas metadata in the Arrow schema: {why}")

    try:
        doc = json.loads(schema.metadata[b"pandas"])
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise bad(f"not JSON ({exc})") from exc
    if not isinstance(doc, dict) or not {"index_columns", "column_indexes", "columns"} <= set(doc) <= _PANDAS_META_KEYS:
        raise bad(f"expected keys among {sorted(_PANDAS_META_KEYS)}")
    if not isinstance(doc.get("attributes", {}), dict):
        raise bad("attributes must be an object")
    for key in ("creator", "pandas_version"):
        if key in doc and not isinstance(doc[key], (dict, str)):
            raise bad(f"{key} has a wrong type")
    columns, column_indexes, index_columns = doc["columns"], doc["column_indexes"], doc["index_columns"]
    if not isinstance(columns, list) or [c.get("field_name") if isinstance(c, dict) else None for c in columns] != (
        schema.names
    ):
        raise bad("columns must describe the schema's fields, in order")
    if not isinstance(column_indexes, list) or len(column_indexes) > _MAX_LEVELS:
        raise bad(f"column_indexes must be a list of at most {_MAX_LEVELS} levels")
    for entry in columns + column_indexes:
        _check_column_entry(entry, bad)
    if not isinstance(index_columns, list) or len(index_columns) > _MAX_LEVELS:
        raise bad(f"index_columns must be a list of at most {_MAX_LEVELS} levels")
    for descr in index_columns:
        if isinstance(descr, str):
            if descr not in schema.names:
                raise bad(f"index column {descr[:80]!r} is not a field")
            continue
        if not isinstance(descr, dict) or set(descr) != {"kind", "name", "start", "stop", "step"}:
            raise bad("an index descriptor is a field name or a range")
        bounds = [descr["start"], descr["stop"], descr["step"]]
        if descr["kind"] != "range" or not _int_list(bounds, 3) or bounds[2] == 0:
            raise bad("a range index needs integer start, stop and a non-zero step")
        if len(range(*bounds)) != num_rows or not _scalar_name(descr["name"]):
            raise bad("the range index does not match the number of rows")


def _scalar_name(name: Any) -> bool:
    return name is None or type(name) in (int, float, bool) or (type(name) is str and len(name) <= _MAX_NAME)


def _check_column_entry(entry: Any, bad: Any) -> None:
    if not isinstance(entry, dict) or set(entry) != _COLUMN_KEYS:
        raise bad(f"a column entry has exactly the keys {sorted(_COLUMN_KEYS)}")
    if not (_scalar_name(entry["name"]) and _scalar_name(entry["field_name"])):
        raise bad("column names must be strings, numbers or null")
    if entry["pandas_type"] not in _PANDAS_TYPES:
        raise bad(f"pandas_type {str(entry['pandas_type'])[:40]!r} is not allowed")
    numpy_type = entry["numpy_type"]
    if not (numpy_type in _PLAIN_NUMPY or (isinstance(numpy_type, str) and _TIME_TYPE.match(numpy_type))):
        raise bad(f"numpy_type {str(numpy_type)[:40]!r} is not allowed")
    metadata = entry["metadata"]
    if metadata is None:
        return
    if not isinstance(metadata, dict) or not set(metadata) <= _COLUMN_META_KEYS:
        raise bad(f"column metadata keys are among {sorted(_COLUMN_META_KEYS)}")
    if "encoding" in metadata and metadata["encoding"] != "UTF-8":
        raise bad("the only encoding is UTF-8")
    if "ordered" in metadata and type(metadata["ordered"]) is not bool:
        raise bad("ordered must be a boolean")
    count = metadata.get("num_categories")
    if count is not None and not (type(count) is int and count >= 0):
        raise bad("num_categories must be a count")
    if "timezone" in metadata and not (isinstance(metadata["timezone"], str) and _TZ.match(metadata["timezone"])):
        raise bad("timezone must be a time zone name")

"""Write a loaded variable to a standard file format, chosen by suffix:
.npy (one array or tensor), .safetensors (a tensor, a dict of arrays/tensors, or a torch
module's state_dict), .csv and .parquet (a pandas DataFrame or Series; parquet through
pyarrow) and .pkl (anything; reading a .pkl back is the reader's trust call). An existing
file is kept unless `overwrite`.

safetensors is written directly (8-byte header length, JSON header, raw little-endian
bytes) so exporting needs no extra dependency.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import struct
import sys
from pathlib import Path
from typing import Any

from .arraydiff import leaves
from .atomic import write_atomic
from .errors import ExportError
from .objects import Progress

_SAFETENSORS_DTYPES = {
    "float64": "F64",
    "float32": "F32",
    "float16": "F16",
    "bfloat16": "BF16",
    "int64": "I64",
    "int32": "I32",
    "int16": "I16",
    "int8": "I8",
    "uint8": "U8",
    "uint16": "U16",
    "uint32": "U32",
    "uint64": "U64",
    "bool": "BOOL",
    "float8_e4m3fn": "F8_E4M3",
    "float8_e5m2": "F8_E5M2",
}


def export(
    obj: Any, name: str, path: str | os.PathLike, *, overwrite: bool = False, progress: Progress | None = None
) -> Path:
    """Write `obj` (variable `name`) to `path` in the format its suffix names; refuses to
    replace an existing file unless `overwrite`. `progress`: ("writing FILE", 0, 0) while
    the file is built and written, then (its bytes, its bytes)."""
    path = Path(path)
    suffix = path.suffix.lower()
    check_target(name, path, overwrite=overwrite)
    what = f"writing {path.name}"
    if progress is not None:
        progress(what, 0, 0)
    if suffix == ".npy":
        data = _export_npy(obj, name, path)
    elif suffix == ".safetensors":
        data = _safetensors_bytes(obj, name, path)
    elif suffix in (".csv", ".parquet"):
        data = _table_bytes(obj, name, path, suffix)
    elif suffix == ".pkl":
        data = pickle.dumps(obj, protocol=5)
    else:
        raise ExportError(name, str(path), f"unknown file type {suffix or '(none)'!r}")
    n = write_atomic(path, data)
    if progress is not None:
        progress(what, n, n)
    return path


def check_target(name: str, path: str | os.PathLike, *, overwrite: bool = False) -> None:
    """ExportError if `path` exists and may not be replaced (before anything is loaded)."""
    if Path(path).exists() and not overwrite:
        raise ExportError(name, str(path), "the file exists", "Pick another name, or replace it with overwrite=True.")


def _table_bytes(obj: Any, name: str, path: Path, suffix: str) -> bytes:
    """A DataFrame or Series as CSV (with its index) or Parquet (pyarrow)."""
    import io

    pd = sys.modules.get("pandas")
    if pd is None or not isinstance(obj, (pd.DataFrame, pd.Series)):
        raise ExportError(name, str(path), f"it is a {type(obj).__name__}, not a pandas DataFrame or Series")
    if suffix == ".csv":
        return obj.to_csv().encode("utf-8")
    try:
        importlib.import_module("pyarrow")
    except ImportError:
        raise ExportError(
            name,
            str(path),
            "writing Parquet needs pyarrow, which is not installed",
            "Install it (pip install pyarrow, or pip install 'jupyter_mvc[data]'), or export to .csv.",
        ) from None
    frame = obj.to_frame(name if obj.name is None else obj.name) if isinstance(obj, pd.Series) else obj
    buf = io.BytesIO()
    try:
        frame.to_parquet(buf, engine="pyarrow")
    except (ValueError, TypeError, NotImplementedError) as exc:  # pyarrow's ArrowInvalid, ArrowTypeError...
        raise ExportError(name, str(path), f"Parquet cannot hold it ({exc})", "Export it to .csv or .pkl.") from None
    return buf.getvalue()


def _export_npy(obj: Any, name: str, path: Path) -> bytes:
    import io

    import numpy as np

    arrays = list(_raw_leaves(obj))
    if len(arrays) != 1 or arrays[0][0] != "":
        raise ExportError(name, str(path), f"it is a {type(obj).__name__}, not one array")
    arr = arrays[0][1]
    if isinstance(arr, _Raw):
        raise ExportError(name, str(path), f"numpy has no {arr.dtype_name} dtype (.safetensors does)")
    if arr.dtype == object:
        raise ExportError(name, str(path), "object arrays would need pickle")
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _raw_leaves(obj: Any):
    """Like arraydiff.leaves, but bfloat16/float8 tensors keep their raw bits (as uint8 views)."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.nn.Module):
        obj = obj.state_dict()
    if torch is not None and isinstance(obj, dict):
        for k, v in obj.items():
            if isinstance(v, torch.Tensor):
                yield str(k), _tensor_raw(v)
            else:
                for sub, arr in _raw_leaves(v):
                    yield (f"{k}.{sub}" if sub else str(k)), arr
        return
    if torch is not None and isinstance(obj, torch.Tensor):
        yield "", _tensor_raw(obj)
        return
    yield from leaves(obj)


class _Raw:
    """A tensor's bytes with its torch dtype name (numpy may not have the dtype)."""

    def __init__(self, data, dtype: str, shape: tuple):
        self.data, self.dtype_name, self.shape = data, dtype, shape


def _tensor_raw(t) -> Any:
    import torch

    t = t.detach().cpu().contiguous()
    name = str(t.dtype).removeprefix("torch.")
    try:
        return t.numpy()
    except TypeError:  # bfloat16, float8: no numpy dtype
        return _Raw(t.reshape(-1).view(torch.uint8).numpy(), name, tuple(t.shape))


def _safetensors_bytes(obj: Any, name: str, path: Path) -> bytes:
    tensors = dict(_raw_leaves(obj))
    if not tensors:
        raise ExportError(name, str(path), f"a {type(obj).__name__} holds no arrays or tensors")
    header: dict[str, Any] = {"__metadata__": {"exported_by": "jupyter_mvc", "variable": name}}
    blobs, offset = [], 0
    for key, arr in tensors.items():
        key = key or name
        if isinstance(arr, _Raw):
            dtype, shape, raw = arr.dtype_name, list(arr.shape), arr.data.tobytes()
        else:
            dtype, shape = str(arr.dtype), list(arr.shape)
            raw = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(order="C")
        code = _SAFETENSORS_DTYPES.get(dtype)
        if code is None:
            raise ExportError(name, str(path), f"{key!r} has dtype {dtype}, which safetensors lacks")
        header[key] = {"dtype": code, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)  # the format wants the data 8-byte aligned
    return struct.pack("<Q", len(head)) + head + b"".join(blobs)

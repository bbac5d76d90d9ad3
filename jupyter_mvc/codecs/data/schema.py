"""The data1 format: its constants, dtype grammar, node kinds and fields."""

from __future__ import annotations

import importlib
import math
import re
import struct
from typing import Any

FORMAT = "mvc-data"
VERSION = 1
MAX_JSON = 64 << 20  # bytes of skeleton
MAX_DEPTH = 100
MAX_NODES = 1_000_000  # what decode accepts
# What encode writes: past this many nodes (a list of 100 000 floats) building and checking
# JSON nodes costs seconds where pickle, loaded by the budgeted unpickler, costs
# milliseconds; such objects go to pickle.
ENCODE_MAX_NODES = 100_000
MAX_INT_DIGITS = 4300  # Python's own default limit for int <-> str
MAX_NDIM = 64  # numpy's limit
MAX_ELEMENTS_BYTES = 1 << 62  # product(max(dim, 1)) * itemsize must stay below this

_UNITS = "(?:Y|M|W|D|h|m|s|ms|us|ns|ps|fs|as)"
# numpy.dtype.str of the plain dtypes: bool, integers, IEEE floats and complexes,
# datetime64/timedelta64, fixed-width bytes and unicode. Not object, void/structured or
# sub-array dtypes, nor long double (its bytes differ between platforms).
_DTYPE = re.compile(
    r"\A(?:"
    r"\|b1"
    r"|\|[iu]1|[<>][iu](?:2|4|8)"
    r"|[<>]f(?:2|4|8)"
    r"|[<>]c(?:8|16)"
    rf"|[<>][Mm]8(?:\[(?:[1-9][0-9]{{0,5}})?{_UNITS}\])?"
    r"|\|S[1-9][0-9]{0,9}"
    r"|[<>]U[1-9][0-9]{0,9}"
    r")\Z"
)
MAX_FLEXIBLE_ITEMSIZE = 1 << 31

# torch dtype name -> item size. A fixed table, so a tensor node is checked without
# importing torch; quantized and bit dtypes are not here (they go through pickle).
TORCH_ITEMSIZE = {
    "bool": 1,
    "uint8": 1,
    "int8": 1,
    "int16": 2,
    "uint16": 2,
    "int32": 4,
    "uint32": 4,
    "int64": 8,
    "uint64": 8,
    "float16": 2,
    "bfloat16": 2,
    "float32": 4,
    "float64": 8,
    "complex32": 4,
    "complex64": 8,
    "complex128": 16,
    "float8_e4m3fn": 1,
    "float8_e5m2": 1,
    "float8_e4m3fnuz": 1,
    "float8_e5m2fnuz": 1,
    "float8_e8m0fnu": 1,
}
_DEVICE = re.compile(r"\A[a-z][a-z_]{0,15}(?::[0-9]{1,4})?\Z")
_INT = re.compile(r"\A-?(?:0|[1-9][0-9]*)\Z")
_NAN = re.compile(r"\Anan:[0-9a-f]{16}\Z")
_HEX = re.compile(r"\A(?:[0-9a-f]{2})*\Z")
_CANONICAL_NAN = struct.pack(">d", math.nan)

_SCALAR_KEYS = (type(None), bool, int, float, str)

# Node kinds and their fields (besides "kind"): required, optional.
_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "none": (frozenset(), frozenset()),
    "bool": (frozenset({"value"}), frozenset()),
    "int": (frozenset({"value"}), frozenset()),
    "float": (frozenset({"value"}), frozenset()),
    "str": (frozenset({"value"}), frozenset()),
    "bytes": (frozenset({"buffer"}), frozenset()),
    "list": (frozenset({"items"}), frozenset()),
    "tuple": (frozenset({"items"}), frozenset()),
    "dict": (frozenset({"items"}), frozenset()),
    "odict": (frozenset({"items"}), frozenset({"metadata"})),
    "ndarray": (frozenset({"dtype", "shape", "buffer"}), frozenset({"order"})),
    "scalar": (frozenset({"dtype", "hex"}), frozenset()),
    "tensor": (frozenset({"dtype", "shape", "buffer", "requires_grad", "parameter", "device"}), frozenset()),
    "ref": (frozenset({"buffer"}), frozenset()),
    "frame": (frozenset({"meta", "buffers"}), frozenset()),
}
_KEY_KINDS = frozenset({"none", "bool", "int", "float", "str", "tuple"})
# kind -> (every key a node of it must have, every key it may have), "kind" included
_KEYS = {kind: (req | {"kind"}, req | opt | {"kind"}) for kind, (req, opt) in _FIELDS.items()}


def _extension(name: str) -> Any:
    """codecs/frames.py, or None where it (or what it needs) is
    missing: those kinds then go through pickle."""
    try:
        return importlib.import_module(f"..{name}", __package__)  # jupyter_mvc.codecs.<name>
    except ImportError:
        return None


class _Invalid(Exception):
    """A rule broken; becomes InvalidDataError with the variable and version."""


def _numpy_dtype(text: str) -> Any:
    """The numpy dtype of a string that matched the grammar, if numpy spells it the same
    way (so `<M8[1s]` or a 4-billion-character `U` are refused too)."""
    import numpy as np

    if text[1] in "SU" and int(text[2:]) * (4 if text[1] == "U" else 1) > MAX_FLEXIBLE_ITEMSIZE:
        raise _Invalid(f"dtype {text} has items too big")
    try:
        dtype = np.dtype(text)
    except TypeError:
        raise _Invalid(f"dtype {_show(text)} is not a numpy dtype") from None
    if dtype.str != text or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise _Invalid(f"dtype {_show(text)} is not a plain numpy dtype")
    return dtype


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"

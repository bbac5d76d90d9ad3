"""Live objects -> a data1 skeleton and buffers, or None when something has no data-only form."""

from __future__ import annotations

import collections
import json
import math
import struct
import sys
from typing import Any

from .schema import (
    _CANONICAL_NAN,
    _DTYPE,
    _SCALAR_KEYS,
    ENCODE_MAX_NODES,
    FORMAT,
    MAX_DEPTH,
    MAX_FLEXIBLE_ITEMSIZE,
    MAX_INT_DIGITS,
    MAX_JSON,
    MAX_NDIM,
    TORCH_ITEMSIZE,
    VERSION,
    _extension,
)


# -- encode -------------------------------------------------------------------------------------
class _Unrepresentable(Exception):
    """Something in the graph has no data-only form: fall back to pickle."""


class _Encoder:
    def __init__(self) -> None:
        self.buffers: list[memoryview] = []
        self.nodes = 0
        self.seen: set[int] = set()  # ids of containers already written
        self.owners: dict[int, int] = {}  # id of an array/tensor -> its buffer index
        self.keep: list[Any] = []  # keeps every id above alive (and unique) while encoding

    def buffer(self, view: memoryview) -> int:
        self.buffers.append(view)
        return len(self.buffers) - 1

    def container(self, obj: Any) -> None:
        if id(obj) in self.seen:  # shared or cyclic: pickle keeps identity, we would not
            raise _Unrepresentable
        self.seen.add(id(obj))
        self.keep.append(obj)

    def node(self, obj: Any, depth: int) -> dict:
        self.nodes += 1
        if depth > MAX_DEPTH or self.nodes > ENCODE_MAX_NODES:
            raise _Unrepresentable
        t = type(obj)
        if obj is None:
            return {"kind": "none"}
        if t is bool:
            return {"kind": "bool", "value": obj}
        if t is int:
            return {"kind": "int", "value": _int_text(obj)}
        if t is float:
            return {"kind": "float", "value": _float_value(obj)}
        if t is str:
            return {"kind": "str", "value": obj}
        if t is bytes:
            return {"kind": "bytes", "buffer": self.buffer(memoryview(obj))}
        if t is list or t is tuple:
            if t is list or not _atomic_tuple(obj):
                self.container(obj)
            return {"kind": t.__name__, "items": [self.node(v, depth + 1) for v in obj]}
        if t is dict or t is collections.OrderedDict:
            return self.mapping(obj, depth)
        if id(obj) in self.owners:
            return {"kind": "ref", "buffer": self.owners[id(obj)]}
        np = sys.modules.get("numpy")
        if np is not None:
            if t is np.ndarray:
                return self.ndarray(obj, np)
            if t is np.memmap:  # a file-backed array: its contents (read in place), loaded as a plain one
                node = self.ndarray(obj.view(np.ndarray), np)
                self.owners[id(obj)] = node["buffer"]
                self.keep.append(obj)
                return node
            if isinstance(obj, np.generic):
                return self.scalar(obj, np)
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return self.tensor(obj, torch)
        return self.extension(obj)

    def mapping(self, obj: dict, depth: int) -> dict:
        self.container(obj)
        node: dict[str, Any] = {"kind": "odict" if type(obj) is collections.OrderedDict else "dict"}
        node["items"] = [[self.key(k, depth + 1), self.node(v, depth + 1)] for k, v in obj.items()]
        extra = getattr(obj, "__dict__", None)
        if node["kind"] == "odict" and extra:
            metadata = extra.get("_metadata")
            if set(extra) != {"_metadata"} or type(metadata) not in (dict, collections.OrderedDict):
                raise _Unrepresentable  # other attributes: pickle keeps them
            node["metadata"] = self.node(metadata, depth + 1)
        return node

    def key(self, key: Any, depth: int) -> dict:
        if type(key) in _SCALAR_KEYS or (type(key) is tuple and _atomic_tuple(key)):
            return self.node(key, depth)
        raise _Unrepresentable

    def ndarray(self, obj: Any, np: Any) -> dict:
        dtype = obj.dtype.str
        if not _DTYPE.match(dtype) or obj.dtype.itemsize > MAX_FLEXIBLE_ITEMSIZE:
            raise _Unrepresentable
        node: dict[str, Any] = {"kind": "ndarray", "dtype": dtype, "shape": list(obj.shape)}
        if obj.flags.c_contiguous:
            data = obj
        elif obj.flags.f_contiguous:  # keep the layout: its transpose is C-contiguous
            data, node["order"] = obj.T, "F"
        else:
            data = np.ascontiguousarray(obj)
        node["buffer"] = self.buffer(memoryview(data.reshape(-1).view(np.uint8)))
        self.owners[id(obj)] = node["buffer"]
        self.keep.append(obj)
        return node

    def scalar(self, obj: Any, np: Any) -> dict:
        dtype = obj.dtype.str
        if type(obj) is not obj.dtype.type or not _DTYPE.match(dtype) or obj.dtype.itemsize > 4096:
            raise _Unrepresentable
        return {"kind": "scalar", "dtype": dtype, "hex": obj.tobytes().hex()}

    def tensor(self, obj: Any, torch: Any) -> dict:
        """As tensors.reduce_tensor does for pickle: the bytes of a CPU, contiguous copy
        only where the tensor is not one already, else its own memory."""
        dtype = str(obj.dtype).removeprefix("torch.")
        if (
            type(obj) not in (torch.Tensor, torch.nn.Parameter)
            or dtype not in TORCH_ITEMSIZE
            or obj.layout != torch.strided
            or obj.is_nested
            or obj.is_quantized
            or obj.dim() > MAX_NDIM
        ):
            raise _Unrepresentable
        try:
            values = obj.detach()
            device = str(values.device)
            if values.device.type != "cpu":
                values = values.cpu()
            values = values.resolve_conj().resolve_neg().contiguous()  # lazy views made real
            raw = values.reshape(-1).view(torch.uint8).numpy() if values.numel() else bytearray()
            view = memoryview(raw)
        except Exception:  # meta tensors, exotic storages: pickle decides what to do with them
            raise _Unrepresentable from None
        index = self.buffer(view)
        node = {
            "kind": "tensor",
            "dtype": dtype,
            "shape": [int(d) for d in obj.shape],
            "buffer": index,
            "requires_grad": bool(obj.requires_grad),
            "parameter": isinstance(obj, torch.nn.Parameter),
            "device": device,
        }
        self.owners[id(obj)] = index
        self.keep.append(obj)
        return node

    def extension(self, obj: Any) -> dict:
        module = type(obj).__module__ or ""
        if (module == "pandas" or module.startswith("pandas.")) and "pandas" in sys.modules:
            kind, codec = "frame", _extension("frames")
        else:
            raise _Unrepresentable
        if codec is None:
            raise _Unrepresentable
        self.container(obj)
        try:
            out = codec.encode(obj)
        except Exception:  # the extension cannot represent it after all: pickle can
            out = None
        if out is None:
            raise _Unrepresentable
        meta, views = out
        if not isinstance(meta, dict):
            raise _Unrepresentable
        return {"kind": kind, "meta": meta, "buffers": [self.buffer(memoryview(v)) for v in views]}


def _atomic_tuple(value: tuple) -> bool:
    """A tuple of scalars and strings (recursively): duplicating it loses nothing."""
    return all(type(v) in _SCALAR_KEYS or (type(v) is tuple and _atomic_tuple(v)) for v in value)


def _int_text(value: int) -> str:
    try:
        text = str(value)
    except ValueError:  # beyond Python's int <-> str limit
        raise _Unrepresentable from None
    if len(text) > MAX_INT_DIGITS:
        raise _Unrepresentable
    return text


def _float_value(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    bits = struct.pack(">d", value)
    return "nan" if bits == _CANONICAL_NAN else "nan:" + bits.hex()


def encode(obj: Any) -> tuple[bytes, list[memoryview]] | None:
    """(skeleton, buffers), or None when some part of `obj` has no data-only form."""
    enc = _Encoder()
    try:
        root = enc.node(obj, 1)
        skeleton = json.dumps(
            {"format": FORMAT, "version": VERSION, "root": root},
            ensure_ascii=True,
            allow_nan=False,
            separators=(",", ":"),
        ).encode("ascii")
    except (_Unrepresentable, RecursionError, ValueError, TypeError):
        return None  # TypeError/ValueError: an extension's meta that JSON cannot hold
    if len(skeleton) > MAX_JSON:
        return None
    return skeleton, enc.buffers


# -- decode -------------------------------------------------------------------------------------

"""Checks a data1 skeleton completely before anything is built: sizes, depth, node count,
kinds and fields, dtype grammar, buffer ownership, shape x itemsize == length."""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Sequence
from typing import Any

from .builder import _key_value
from .schema import (
    _DEVICE,
    _DTYPE,
    _FIELDS,
    _HEX,
    _INT,
    _KEY_KINDS,
    _KEYS,
    _NAN,
    FORMAT,
    MAX_DEPTH,
    MAX_ELEMENTS_BYTES,
    MAX_INT_DIGITS,
    MAX_JSON,
    MAX_NDIM,
    MAX_NODES,
    TORCH_ITEMSIZE,
    VERSION,
    _Invalid,
    _numpy_dtype,
    _show,
)


def _no_constants(name: str) -> Any:
    raise _Invalid(f"the skeleton holds the non-JSON number {name}")


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Invalid("the skeleton repeats a key in one JSON object")
    return out


class _Checker:
    """Walks the parsed document once and checks every rule; allocates nothing big."""

    def __init__(self, sizes: Sequence[int]) -> None:
        self.sizes = sizes
        self.owner: list[str | None] = [None] * len(sizes)  # kind owning each buffer
        self.nodes = 0
        self.checks: dict[str, Any] = {kind: getattr(self, "_" + kind) for kind in _FIELDS}

    def use(self, index: Any, kind: str) -> int:
        if type(index) is not int or not 0 <= index < len(self.sizes):
            raise _Invalid(f"a {kind} node names buffer {_show(index)}, but there are {len(self.sizes)}")
        if self.owner[index] is not None:
            raise _Invalid(f"buffer {index} is used by two nodes")
        self.owner[index] = kind
        return index

    def node(self, node: Any, depth: int, key: bool = False) -> None:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise _Invalid(f"more than {MAX_NODES} nodes")
        if depth > MAX_DEPTH:
            raise _Invalid(f"nested deeper than {MAX_DEPTH}")
        if type(node) is not dict:
            raise _Invalid("a node is not an object")
        kind = node.get("kind")
        keys = _KEYS.get(kind) if isinstance(kind, str) else None
        if keys is None or not isinstance(kind, str):
            raise _Invalid(f"unknown node kind {_show(kind)}")
        if key and kind not in _KEY_KINDS:
            raise _Invalid(f"a {kind} node cannot be a dict key")
        fields = node.keys()
        if fields != keys[0] and not keys[0] <= fields <= keys[1]:
            raise _Invalid(f"a {kind} node has fields {sorted(fields)}; it needs {sorted(keys[0])}")
        self.checks[kind](node, depth)

    def _none(self, node: dict, depth: int) -> None:
        pass

    def _bool(self, node: dict, depth: int) -> None:
        if type(node["value"]) is not bool:
            raise _Invalid("a bool node's value is not true or false")

    def _int(self, node: dict, depth: int) -> None:
        value = node["value"]
        if type(value) is not str or len(value) > MAX_INT_DIGITS + 1 or not _INT.match(value):
            raise _Invalid(
                f"an int node's value {_show(value)} is not a decimal string of at most {MAX_INT_DIGITS} digits"
            )

    def _float(self, node: dict, depth: int) -> None:
        value = node["value"]
        if type(value) is float:
            if not math.isfinite(value):
                raise _Invalid("a float node's number is out of range")
        elif type(value) is not str or not (value in ("nan", "inf", "-inf") or _NAN.match(value)):
            raise _Invalid(f"a float node's value {_show(value)} is not a number, 'nan', 'inf' or '-inf'")
        elif value.startswith("nan:") and not math.isnan(struct.unpack(">d", bytes.fromhex(value[4:]))[0]):
            raise _Invalid(f"a float node's {_show(value)} is not a NaN")

    def _str(self, node: dict, depth: int) -> None:
        if type(node["value"]) is not str:
            raise _Invalid("a str node's value is not a string")

    def _bytes(self, node: dict, depth: int) -> None:
        self.use(node["buffer"], "bytes")

    def _list(self, node: dict, depth: int) -> None:
        items = node["items"]
        if type(items) is not list:
            raise _Invalid(f"a {node['kind']} node's items are not a list")
        for item in items:
            self.node(item, depth + 1)

    _tuple = _list

    def _dict(self, node: dict, depth: int) -> None:
        items = node["items"]
        if type(items) is not list:
            raise _Invalid(f"a {node['kind']} node's items are not a list")
        keys = set()
        for pair in items:
            if type(pair) is not list or len(pair) != 2:
                raise _Invalid(f"a {node['kind']} item is not a [key, value] pair")
            self.key(pair[0], depth + 1)
            keys.add(_key_value(pair[0]))
            self.node(pair[1], depth + 1)
        if len(keys) != len(items):
            raise _Invalid(f"a {node['kind']} node repeats a key")
        if "metadata" in node:
            meta = node["metadata"]
            self.node(meta, depth + 1)
            if meta["kind"] not in ("dict", "odict"):
                raise _Invalid("an odict node's metadata is not a dict")

    _odict = _dict

    def key(self, node: Any, depth: int) -> None:
        self.node(node, depth, key=True)
        if node["kind"] == "tuple":
            self._key_tuple(node, depth)

    def _key_tuple(self, node: dict, depth: int) -> None:
        for item in node["items"]:  # already checked as nodes: only key kinds here
            if item["kind"] not in _KEY_KINDS:
                raise _Invalid(f"a dict key tuple holds a {item['kind']} node")
            if item["kind"] == "tuple":
                self._key_tuple(item, depth + 1)

    def _ndarray(self, node: dict, depth: int) -> None:
        dtype = node["dtype"]
        if type(dtype) is not str or not _DTYPE.match(dtype):
            raise _Invalid(f"dtype {_show(dtype)} is not a plain numpy dtype")
        if "order" in node and node["order"] != "F":
            raise _Invalid(f"array order {_show(node['order'])} is not 'F'")
        self.sized(node, _numpy_dtype(dtype).itemsize, "ndarray")

    def _tensor(self, node: dict, depth: int) -> None:
        dtype = node["dtype"]
        if type(dtype) is not str or dtype not in TORCH_ITEMSIZE:
            raise _Invalid(f"tensor dtype {_show(dtype)} is not a known torch dtype")
        for flag in ("requires_grad", "parameter"):
            if type(node[flag]) is not bool:
                raise _Invalid(f"a tensor node's {flag} is not true or false")
        device = node["device"]
        if type(device) is not str or not _DEVICE.match(device):
            raise _Invalid(f"tensor device {_show(device)} is not a device name")
        self.sized(node, TORCH_ITEMSIZE[dtype], "tensor")

    def sized(self, node: dict, itemsize: int, kind: str) -> None:
        shape = node["shape"]
        if type(shape) is not list or len(shape) > MAX_NDIM:
            raise _Invalid(f"a {kind} shape is not a list of at most {MAX_NDIM} sizes")
        count, bound = 1, itemsize
        for dim in shape:
            if type(dim) is not int or dim < 0:
                raise _Invalid(f"a {kind} shape holds {_show(dim)}, not a size")
            count *= dim
            bound *= max(dim, 1)
            if bound > MAX_ELEMENTS_BYTES:
                raise _Invalid(f"a {kind} shape {_show(shape)} is too big to exist")
        index = self.use(node["buffer"], kind)
        if count * itemsize != self.sizes[index]:
            raise _Invalid(
                f"a {kind} of shape {_show(shape)} and {itemsize}-byte items needs {count * itemsize} bytes, "
                f"its buffer {index} has {self.sizes[index]}"
            )

    def _scalar(self, node: dict, depth: int) -> None:
        dtype, text = node["dtype"], node["hex"]
        if type(dtype) is not str or not _DTYPE.match(dtype):
            raise _Invalid(f"scalar dtype {_show(dtype)} is not a plain numpy dtype")
        if type(text) is not str or not _HEX.match(text) or len(text) != 2 * _numpy_dtype(dtype).itemsize:
            raise _Invalid(f"a scalar of dtype {dtype} does not hold exactly its item's bytes")

    def _ref(self, node: dict, depth: int) -> None:
        index = node["buffer"]
        if type(index) is not int or not 0 <= index < len(self.sizes) or self.owner[index] not in ("ndarray", "tensor"):
            raise _Invalid(f"a ref names buffer {_show(index)}, which no earlier array or tensor owns")

    def _frame(self, node: dict, depth: int) -> None:
        if type(node["meta"]) is not dict:
            raise _Invalid(f"a {node['kind']} node's meta is not an object")
        indexes = node["buffers"]
        if type(indexes) is not list:
            raise _Invalid(f"a {node['kind']} node's buffers are not a list")
        for index in indexes:
            self.use(index, node["kind"])


def _parse(skeleton: Any) -> dict:
    view = memoryview(skeleton)
    if view.nbytes > MAX_JSON:
        raise _Invalid(f"the skeleton is {view.nbytes} bytes, more than {MAX_JSON}")
    try:
        text = bytes(view).decode("utf-8")
        doc = json.loads(text, object_pairs_hook=_unique_pairs, parse_constant=_no_constants)
    except _Invalid:
        raise
    except RecursionError:
        raise _Invalid("the skeleton is nested too deeply") from None
    except ValueError as exc:  # UnicodeDecodeError, JSONDecodeError, int digits limit
        raise _Invalid(f"the skeleton is not valid JSON ({exc})") from None
    if type(doc) is not dict or set(doc) != {"format", "version", "root"}:
        raise _Invalid("the skeleton is not a {format, version, root} object")
    if doc["format"] != FORMAT:
        raise _Invalid(f"the skeleton's format is {_show(doc['format'])}, not {FORMAT!r}")
    if type(doc["version"]) is not int or doc["version"] != VERSION:
        raise _Invalid(f"the skeleton's format version is {_show(doc['version'])}; this jupyter_mvc reads {VERSION}")
    return doc

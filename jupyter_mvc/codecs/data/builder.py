"""Builds objects from a checked data1 skeleton (zero-copy from the buffers)."""

from __future__ import annotations

import collections
import struct
from collections.abc import Sequence
from typing import Any

from ...errors import InvalidDataError, MvcError
from .schema import TORCH_ITEMSIZE, _extension, _Invalid


def _key_value(node: dict) -> Any:
    """The value of a checked key node (scalars and tuples of them: cheap to build)."""
    kind = node["kind"]
    if kind == "tuple":
        return tuple(_key_value(item) for item in node["items"])
    return _Builder((), frozenset(), "", "").node(node)


class _Builder:
    def __init__(self, buffers: Sequence[Any], allow: frozenset[str], variable: str, version: str) -> None:
        self.buffers = buffers
        self.allow, self.variable, self.version = allow, variable, version
        self.built: dict[int, Any] = {}  # buffer index -> array/tensor, for refs

    def node(self, node: dict) -> Any:
        kind = node["kind"]
        if kind == "none":
            return None
        if kind in ("bool", "str"):
            return node["value"]
        if kind == "int":
            return int(node["value"])
        if kind == "float":
            value = node["value"]
            if type(value) is float:
                return value
            if value.startswith("nan:"):
                return struct.unpack(">d", bytes.fromhex(value[4:]))[0]
            return float(value)
        if kind == "bytes":
            return bytes(self.buffers[node["buffer"]])
        if kind == "list":
            return [self.node(v) for v in node["items"]]
        if kind == "tuple":
            return tuple(self.node(v) for v in node["items"])
        if kind in ("dict", "odict"):
            return self.mapping(node)
        if kind == "ref":
            return self.built[node["buffer"]]
        if kind == "ndarray":
            return self.ndarray(node)
        if kind == "scalar":
            import numpy as np

            return np.frombuffer(bytes.fromhex(node["hex"]), dtype=np.dtype(node["dtype"]))[0]
        if kind == "tensor":
            return self.tensor(node)
        return self.extension(node)

    def mapping(self, node: dict) -> Any:
        out: dict = collections.OrderedDict() if node["kind"] == "odict" else {}
        for k, v in node["items"]:
            out[self.node(k)] = self.node(v)
        if "metadata" in node:
            out._metadata = self.mapping(node["metadata"])  # type: ignore[attr-defined]
        return out

    def ndarray(self, node: dict) -> Any:
        import numpy as np

        dtype = np.dtype(node["dtype"])  # checked by _Checker
        shape = tuple(node["shape"])
        flat = np.frombuffer(self.buffers[node["buffer"]], dtype=dtype)
        array = flat.reshape(shape[::-1]).T if node.get("order") == "F" else flat.reshape(shape)
        self.built[node["buffer"]] = array
        return array

    def tensor(self, node: dict) -> Any:
        try:
            import torch
        except ImportError:
            raise InvalidDataError(
                self.variable,
                self.version,
                "it holds a PyTorch tensor and PyTorch is not installed here",
                "Install PyTorch (pip install torch) and load it again.",
            ) from None
        from ..tensors import rebuild_tensor

        torch_dtype = getattr(torch, node["dtype"], None)
        if not isinstance(torch_dtype, torch.dtype) or torch_dtype.itemsize != TORCH_ITEMSIZE[node["dtype"]]:
            raise _Invalid(f"tensor dtype {node['dtype']!r} is not this PyTorch's")
        tensor = rebuild_tensor(
            self.buffers[node["buffer"]],
            node["dtype"],
            tuple(node["shape"]),
            node["requires_grad"],
            node["device"],
            node["parameter"],
        )
        self.built[node["buffer"]] = tensor
        return tensor

    def extension(self, node: dict) -> Any:
        kind = node["kind"]
        codec = _extension("frames")
        if codec is None:
            raise InvalidDataError(
                self.variable,
                self.version,
                "it holds a pandas object stored as data and this installation cannot read it",
                "Install the data extras (pip install 'jupyter_mvc[data]') and load it again.",
            )
        views = [memoryview(self.buffers[i]) for i in node["buffers"]]
        try:
            return codec.decode(node["meta"], views, variable=self.variable, version=self.version)
        except MvcError:
            raise
        except Exception as exc:  # the extension found its part damaged
            raise _Invalid(f"its {kind} could not be read ({type(exc).__name__}: {exc})") from exc

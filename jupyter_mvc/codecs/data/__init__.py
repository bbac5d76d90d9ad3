"""The data-only codec `data1`: loading runs no pickle at all.

Same shape as the pickle codec - a small skeleton plus out-of-band buffers - so zero-copy,
chunk dedup and deltas work unchanged; but the skeleton is a strictly validated JSON
document:

    {"format": "mvc-data", "version": 1, "root": NODE}

NODE is an object with a "kind" and exactly that kind's fields:

    none                               None
    bool      value: true|false        bool
    int       value: "-12"             int, as a bounded decimal string
    float     value: 1.5|"nan"|"inf"|"-inf"|"nan:<16 hex>"   float, bit for bit
    str       value: "..."             str (lone surrogates survive: ASCII-escaped JSON)
    bytes     buffer: i                bytes
    list      items: [NODE...]         list
    tuple     items: [NODE...]         tuple
    dict      items: [[KEY, NODE]...]  dict, insertion order; KEY: none/bool/int/float/str
                                       or a tuple of those
    odict     items, metadata?: NODE   collections.OrderedDict (torch state_dicts, with
                                       their `_metadata`)
    ndarray   dtype, shape, buffer, order?: "F"   numpy.ndarray of a plain dtype
    scalar    dtype, hex               numpy scalar (numpy.float32(1.5)...), its raw bytes
    tensor    dtype, shape, buffer, requires_grad, parameter, device   torch.Tensor /
                                       nn.Parameter, strided, any dtype as raw bytes
    ref       buffer: i                the same array/tensor object as the earlier node
                                       owning buffer i
    frame     meta, buffers: [i...]    pandas, by codecs/frames.py

`encode` returns None when anything in the object graph is not representable (the caller
then falls back to pickle). `decode` checks the whole document - sizes, depth, node
count, kinds and fields, dtype grammar, every buffer index used exactly once, shape x
itemsize == buffer length - before it allocates anything, and raises InvalidDataError on
any violation. torch is imported only for a tensor, pandas / scikit-learn only through
their extension modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ...errors import InvalidDataError
from .builder import _Builder
from .checker import _Checker, _parse
from .encoder import encode
from .schema import ENCODE_MAX_NODES, FORMAT, MAX_DEPTH, MAX_JSON, MAX_NODES, VERSION, _Invalid


def decode(
    skeleton: Any,
    buffers: Sequence[Any],
    *,
    allow: Iterable[str] = (),
    variable: str = "",
    version: str = "",
) -> Any:
    """Rebuild an object from a `data1` skeleton and its buffers. Checks everything first;
    InvalidDataError names the first rule broken."""
    try:
        doc = _parse(skeleton)
        sizes = [memoryview(b).nbytes for b in buffers]
        checker = _Checker(sizes)
        checker.node(doc["root"], 1)
        unused = [i for i, owner in enumerate(checker.owner) if owner is None]
        if unused:
            raise _Invalid(f"buffer {unused[0]} belongs to no node")
        return _Builder(buffers, frozenset(allow), variable, version).node(doc["root"])
    except _Invalid as exc:
        raise InvalidDataError(variable, version, str(exc)) from None


__all__ = ["ENCODE_MAX_NODES", "FORMAT", "MAX_DEPTH", "MAX_JSON", "MAX_NODES", "VERSION", "decode", "encode"]

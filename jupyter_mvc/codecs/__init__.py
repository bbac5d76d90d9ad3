"""Live objects <-> (skeleton bytes, out-of-band buffers), by one of two codecs.

`data1` (codecs/data/) first: containers, scalars, numpy arrays, torch tensors and, via
codecs/frames.py, pandas DataFrames and Series, as a strictly validated JSON skeleton
plus raw buffers; loading it runs no pickle. Whatever it cannot represent goes through
`pickle5`: pickle protocol 5 with `buffer_callback`, for numpy, pandas, scikit-learn,
PyTorch and user classes alike. Either way large contiguous buffers leave the skeleton
zero-copy and go to the chunk store, while the small skeleton is stored as an object of
its own. A pickle skeleton loads through the restricted unpickler unless the caller trusts
the data. The manifest records each variable's codec; a codec this version does not know
(written by a newer jupyter_mvc) is refused with a hint to upgrade.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidDataError, SerializationError
from . import data
from .blame import find_unpicklable, null_sink
from .safeload import safe_loads
from .summary import summarize, type_name
from .tensors import reduce_tensor

PICKLE = "pickle5"
DATA = "data1"
CODEC = PICKLE  # the codec of repositories written before data1 (0.1.0): every variable
CODECS = (DATA, PICKLE)


@dataclass
class Encoded:
    type_name: str
    skeleton: bytes
    buffers: list[memoryview]
    summary: dict
    codec: str = PICKLE

    @property
    def size(self) -> int:
        return len(self.skeleton) + sum(b.nbytes for b in self.buffers)


class _Pickler(pickle.Pickler):
    """Protocol 5 pickler that also hands torch tensors over as out-of-band buffers."""

    def reducer_override(self, obj):
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return reduce_tensor(obj)
        return NotImplemented


def _dumps(obj: Any, buffer_callback) -> bytes:
    f = io.BytesIO()
    pickler_class = _Pickler if "torch" in sys.modules else pickle.Pickler
    pickler_class(f, protocol=5, buffer_callback=buffer_callback).dump(obj)
    return f.getvalue()


def encode(name: str, obj: Any, *, codec: str | None = None) -> Encoded:
    """Serialise `obj` without copying its large buffers: data-only if it can be, else
    pickled. `codec` forces one (PICKLE: what a 0.1.0 repository would have stored).
    SerializationError names the attribute path that cannot be pickled."""
    if codec not in (None, DATA, PICKLE):
        raise ValueError(f"unknown codec {codec!r}; use one of {CODECS}")
    if codec != PICKLE:
        packed = data.encode(obj)
        if packed is not None:
            return Encoded(type_name(obj), packed[0], packed[1], summarize(obj), DATA)
        if codec == DATA:
            raise SerializationError(name, name, TypeError("it has no data-only (data1) form"))
    raw: list[pickle.PickleBuffer] = []
    try:
        skeleton = _dumps(obj, raw.append)
    except Exception as exc:
        path, cause = find_unpicklable(
            obj, name, lambda o: _Pickler(null_sink(), protocol=5, buffer_callback=lambda b: None).dump(o)
        )
        raise SerializationError(name, path, cause) from exc
    buffers = [b.raw() for b in raw]
    return Encoded(type_name(obj), skeleton, buffers, summarize(obj), PICKLE)


def decode(
    skeleton,
    buffers: Sequence,
    *,
    codec: str = PICKLE,
    trust: bool = False,
    allow: Iterable[str] = (),
    variable: str = "",
    version: str = "",
) -> Any:
    """Rebuild an object stored by `codec` (the manifest's). A data1 skeleton is validated
    in full and runs no pickle; untrusted pickle data may only name allow-listed globals."""
    if codec == DATA:
        return data.decode(skeleton, buffers, allow=allow, variable=variable, version=version)
    if codec != PICKLE:
        raise InvalidDataError(
            variable,
            version,
            f"it is stored with codec {str(codec)[:40]!r}, which this jupyter_mvc (codecs {', '.join(CODECS)}) "
            "does not know: a newer jupyter_mvc wrote it",
            "Upgrade jupyter_mvc (pip install -U jupyter_mvc) and load it again.",
        )
    if trust:
        return pickle.loads(skeleton, buffers=buffers)
    return safe_loads(skeleton, buffers=buffers, allow=allow, variable=variable, version=version)


__all__ = ["CODEC", "CODECS", "DATA", "PICKLE", "Encoded", "encode", "decode", "summarize", "type_name"]

"""Live objects <-> (skeleton bytes, out-of-band buffers).

One mechanism for numpy, pandas, scikit-learn, PyTorch and user classes: pickle protocol 5
with `buffer_callback`, so large contiguous buffers leave the stream zero-copy and go to
the chunk store, while the small remaining "skeleton" is stored as an object of its own.
Loading goes through the restricted unpickler unless the caller trusts the data.
"""

from __future__ import annotations

import io
import pickle
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import SerializationError
from .blame import find_unpicklable, null_sink
from .safeload import safe_loads
from .summary import summarize, type_name
from .tensors import reduce_tensor

CODEC = "pickle5"


@dataclass
class Encoded:
    type_name: str
    skeleton: bytes
    buffers: list[memoryview]
    summary: dict

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


def encode(name: str, obj: Any) -> Encoded:
    """Serialise `obj` without copying its large buffers; SerializationError names the
    attribute path that cannot be pickled."""
    raw: list[pickle.PickleBuffer] = []
    try:
        skeleton = _dumps(obj, raw.append)
    except Exception as exc:
        path, cause = find_unpicklable(
            obj, name, lambda o: _Pickler(null_sink(), protocol=5, buffer_callback=lambda b: None).dump(o)
        )
        raise SerializationError(name, path, cause) from exc
    buffers = [b.raw() for b in raw]
    return Encoded(type_name(obj), skeleton, buffers, summarize(obj))


def decode(
    skeleton,
    buffers: Sequence,
    *,
    trust: bool = False,
    allow: Iterable[str] = (),
    variable: str = "",
    version: str = "",
) -> Any:
    """Rebuild an object; untrusted data may only name allow-listed globals."""
    if trust:
        return pickle.loads(skeleton, buffers=buffers)
    return safe_loads(skeleton, buffers=buffers, allow=allow, variable=variable, version=version)


__all__ = ["CODEC", "Encoded", "encode", "decode", "summarize", "type_name"]

"""A cheap stand-in for a value's fingerprint between cells: what the libraries already
count instead of hashing every tensor byte.

The witness of a value is a digest of its pickled skeleton with each torch tensor
replaced by a stamp (storage address, size, layout, and the tensor's in-place
`_version` counter, which every in-place op, optimizer steps and `load_state_dict`
included, bumps on the tensor and on its views). Small out-of-band buffers (numpy arrays
up to `HASHED_UP_TO` in all) are hashed as before. A value holding more numpy bytes than
that, or a tensor torch does not count (sparse, subclasses, inference tensors), has no
witness: it is hashed in full, as before.

While a value's witness stays the same, its fingerprints stay the same, so a kernel
hashes only what may have changed. Not counted by torch, so not seen here: writes through
`tensor.data` or a `tensor.numpy()` view. The checkout guard therefore always hashes in
full, and `%mv_status --verify` does too.
"""

from __future__ import annotations

import io
import pickle
import sys
from typing import Any

from ..store import digest

# Out-of-band bytes (numpy and other buffer holders) a witness still hashes; above this a
# value is hashed in full each time, as it was before witnesses.
HASHED_UP_TO = 1 << 20


class _NoWitness(Exception):
    """The value holds something a witness cannot vouch for cheaply."""


def _stamp(*fields: Any) -> None:  # pragma: no cover - never called: stamps are only pickled
    raise RuntimeError("a witness stamp is not a value")


class _WitnessPickler(pickle.Pickler):
    def __init__(self, f: io.BytesIO):
        super().__init__(f, protocol=5, buffer_callback=self._buffer)
        self.buffers: list[pickle.PickleBuffer] = []
        self.buffered = 0

    def _buffer(self, buf: pickle.PickleBuffer) -> None:
        self.buffered += buf.raw().nbytes
        if self.buffered > HASHED_UP_TO:
            raise _NoWitness
        self.buffers.append(buf)

    def reducer_override(self, obj: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return _stamp, _tensor_stamp(torch, obj)
        return NotImplemented


def _tensor_stamp(torch: Any, t: Any) -> tuple:
    if type(t) not in (torch.Tensor, torch.nn.Parameter) or t.layout != torch.strided:
        raise _NoWitness
    try:
        version = t._version  # inference tensors count nothing and raise
    except RuntimeError:
        raise _NoWitness from None
    storage = t.untyped_storage()
    return (
        type(t).__name__,
        str(t.dtype),
        str(t.device),
        tuple(t.shape),
        tuple(t.stride()),
        t.storage_offset(),
        storage.data_ptr() if t.device.type != "meta" else 0,
        storage.nbytes(),
        version,
        bool(t.requires_grad),
    )


def witness(obj: Any) -> str | None:
    """The value's witness, or None when it has none (it is then hashed in full). Only
    meaningful inside the process that computed it (addresses and counters)."""
    f = io.BytesIO()
    pickler = _WitnessPickler(f)
    try:
        pickler.dump(obj)
    except _NoWitness:
        return None
    except Exception:  # unpicklable here: status decides what that means, by hashing
        return None
    return digest(f.getvalue() + b"".join(digest(b.raw()).encode() for b in pickler.buffers))

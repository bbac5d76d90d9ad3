"""PyTorch tensors as out-of-band pickle buffers.

Stock torch pickles keep tensor bytes in-band and rebuild through
`torch.storage._load_from_bytes`, which runs an unrestricted `torch.load`. We reduce a
tensor to (raw bytes as a PickleBuffer, dtype name, shape, flags) instead: CPU tensors
hand their memory over without a copy, dtypes numpy lacks (bfloat16, float8) travel as raw
bytes, and loading needs nothing but `rebuild_tensor` below. torch is never imported here
unless the object being pickled already came from it.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

# Where loaded tensors go, like torch.load's map_location: a device ("cpu", "cuda:1",
# "meta"), or {stored device: device}. None: where they were, if this machine has it.
_MAP_LOCATION: ContextVar[Any] = ContextVar("jupyter_mvc_map_location", default=None)


@contextmanager
def map_location(where: str | Mapping[str, str] | Any | None) -> Iterator[None]:
    """Tensors built inside go to `where` (see `_MAP_LOCATION`) instead of their stored device."""
    if where is not None and not isinstance(where, (str, Mapping)):
        where = str(where)  # a torch.device
    token = _MAP_LOCATION.set(where)
    try:
        yield
    finally:
        _MAP_LOCATION.reset(token)


def _target(stored: str) -> str | None:
    """The device a tensor stored from `stored` goes to; None: where it was, if here."""
    where = _MAP_LOCATION.get()
    if isinstance(where, Mapping):
        return where.get(stored)
    return where


def reduce_tensor(tensor):
    """The reduce tuple for a torch.Tensor or nn.Parameter, or NotImplemented."""
    torch = sys.modules["torch"]
    if type(tensor) not in (torch.Tensor, torch.nn.Parameter) or tensor.layout != torch.strided:
        return NotImplemented  # subclasses, sparse and quantized tensors: torch's own way
    data = tensor.detach()
    device = str(data.device)
    if data.device.type != "cpu":
        data = data.cpu()
    if not data.is_contiguous():
        data = data.contiguous()
    raw = data.reshape(-1).view(torch.uint8).numpy() if data.numel() else b""
    return (
        rebuild_tensor,
        (
            pickle.PickleBuffer(raw),
            str(tensor.dtype).removeprefix("torch."),
            tuple(tensor.shape),
            bool(tensor.requires_grad),
            device,
            isinstance(tensor, torch.nn.Parameter),
        ),
    )


def rebuild_tensor(buffer, dtype: str, shape: tuple, requires_grad: bool, device: str, is_parameter: bool):
    import torch

    torch_dtype = getattr(torch, dtype, None)
    if not isinstance(torch_dtype, torch.dtype):
        raise ValueError(f"not a torch dtype: {dtype!r}")
    view = memoryview(buffer)
    if view.nbytes:
        tensor = torch.frombuffer(view, dtype=torch.uint8).view(torch_dtype).reshape(shape)
    else:
        tensor = torch.empty(shape, dtype=torch_dtype)
    target = _target(device)
    if target is not None:
        tensor = tensor.to(target)  # asked for: a device this machine lacks is an error
    elif device != "cpu" and _device_available(torch, device):
        tensor = tensor.to(device)
    if is_parameter:
        return torch.nn.Parameter(tensor, requires_grad=requires_grad)
    return tensor.requires_grad_(requires_grad) if requires_grad else tensor


def _device_available(torch, device: str) -> bool:
    kind = device.split(":")[0]
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return False

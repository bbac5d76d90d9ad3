"""Co-variables: the variables of a commit that share mutable referents (a model and its
optimizer, a scheduler and that optimizer, a DataFrame and a view of it, two names for one
list) are stored as ONE pickle of {name: obj}, so identity between them survives a
checkout; each member still gets its own manifest entry (see `packing.store_variables`).

Finding them: one extra pickling pass per variable (buffers dropped, tensor data never
read) with a pickler whose `persistent_id` sees every object the pickle would reach and
notes a key for each mutable one: `id()` of lists, dicts, sets, bytearrays and objects with
a `__dict__`; the memory a numpy array views (its root `.base`); the storage a tensor lives
in. Immutable values, types, functions, modules and enum members are shared by everybody
and never group variables. Variables whose keys meet are joined (union-find). Every object
the pass meets is held until all passes end, so a temporary's `id()` is never reused by
another variable's pass.
"""

from __future__ import annotations

import enum
import io
import pickle
import sys
import types
from collections.abc import Mapping
from typing import Any

from .. import codecs
from ..objects import VariableEntry
from ..store import ObjectStore
from . import packing

_SHARED_BY_ALL = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    tuple,
    frozenset,
    range,
    slice,
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    types.ModuleType,
    enum.Enum,
)


def _nothing() -> None:
    """What the referent pass pickles in place of a tensor's or an array's data."""


class _Sink(io.RawIOBase):
    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        return len(memoryview(b))


class _Referents(pickle.Pickler):
    def __init__(self, keys: set, keep: list):
        super().__init__(_Sink(), protocol=5, buffer_callback=lambda b: None)
        self.keys, self.keep = keys, keep

    def persistent_id(self, obj: Any) -> None:
        key = _key(obj, self.keep)
        if key is not None:
            self.keys.add(key)
        return None

    def reducer_override(self, obj: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return (_nothing, ())  # its storage is the key; its bytes are not needed
        np = sys.modules.get("numpy")
        if np is not None and type(obj) is np.ndarray and not obj.dtype.hasobject:
            return (_nothing, ())
        return NotImplemented


def _key(obj: Any, keep: list) -> tuple | None:
    if isinstance(obj, _SHARED_BY_ALL):
        return None
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        try:
            ptr = obj.untyped_storage().data_ptr()
        except Exception:  # sparse, meta, quantized...: the tensor object itself
            ptr = 0
        keep.append(obj)
        return ("mem", str(obj.device), ptr) if ptr else ("obj", id(obj))
    np = sys.modules.get("numpy")
    if np is not None and isinstance(obj, np.ndarray):
        root = obj
        while getattr(root, "base", None) is not None:
            root = root.base
        keep.append(root)
        return ("obj", id(root))
    if isinstance(obj, (list, dict, set, bytearray)) or hasattr(obj, "__dict__"):
        keep.append(obj)
        return ("obj", id(obj))
    return None


def find_groups(objects: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Groups of two or more names whose objects share a mutable referent, each in the
    order of `objects`. A variable that cannot be pickled joins no group (committing it
    reports why)."""
    names = list(objects)
    if len(names) < 2:
        return []
    keep: list = []
    owner: dict[tuple, int] = {}
    parent = list(range(len(names)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, name in enumerate(names):
        keys: set = set()
        try:
            _Referents(keys, keep).dump(objects[name])
        except Exception:
            continue
        for key in keys:
            j = owner.setdefault(key, i)
            if j != i:
                parent[find(i)] = find(j)
    by_root: dict[int, list[str]] = {}
    for i, name in enumerate(names):
        by_root.setdefault(find(i), []).append(name)
    keep.clear()
    return [tuple(g) for g in by_root.values() if len(g) > 1]


def encode(
    store: ObjectStore, objects: Mapping[str, Any]
) -> tuple[dict[str, codecs.Encoded], list[tuple[codecs.Encoded, dict[str, VariableEntry]]]]:
    """(each lone variable's encoding, each group's (pickle of {name: obj}, its members'
    own planned entries)). A member's own entry is what it would be stored as alone with
    pickle5 (hashed, not written), so status and diff compare members one by one."""
    grouped = find_groups(objects)
    in_group = {n for g in grouped for n in g}
    singles = {name: codecs.encode(name, obj) for name, obj in objects.items() if name not in in_group}
    units = []
    for members in grouped:
        own = {n: packing.planned_entry(store, n, codecs.encode(n, objects[n], codec=codecs.PICKLE)) for n in members}
        units.append((codecs.encode(members[0], {n: objects[n] for n in members}, codec=codecs.PICKLE), own))
    return singles, units


def label(members: tuple[str, ...]) -> str:
    return ", ".join(members)

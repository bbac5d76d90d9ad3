"""What one kernel remembers between operations: the version it stands on, the names it
tracks, and the fingerprints of values it knows are stored; which names a checkout may
assign."""

from __future__ import annotations

import keyword
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import api, codecs
from ..errors import SerializationError
from ..objects import VariableEntry
from .witness import witness

# Names a checkout never assigns: the kernel's own (IPython's history and display hooks,
# builtins, the exit helpers) and any name starting with "_" (private or IPython's).
RESERVED_NAMES = frozenset(
    {"__builtins__", "get_ipython", "In", "Out", "exit", "quit", "_", "__", "___", "_ih", "_oh", "_dh"}
)


def refused_name(name: str) -> str | None:
    """Why a version's variable `name` must not be assigned into a kernel's namespace
    (None: it may be)."""
    if not isinstance(name, str) or not name.isidentifier():
        return "it is not a Python identifier"
    if keyword.iskeyword(name):
        return "it is a Python keyword"
    if name in RESERVED_NAMES or name.startswith("_"):
        return "the kernel reserves it"
    return None


@dataclass
class SessionState:
    # The version this kernel last committed or checked out in full: the baseline that
    # status and the dirty-checkout guard compare against (None: the repository's HEAD).
    version: str | None = None
    # Variable names this kernel versions; with `track_all`, every variable worth versioning.
    # Until a commit names variables, every one (a checkout of a whole version included:
    # new variables defined after it are versioned too, by autocommit as well).
    tracked: set[str] = field(default_factory=set)
    track_all: bool = True
    autocommit: bool = False
    # name -> content id of a value this kernel knows is stored (committed or checked out),
    # so restoring a variable from an older version does not count as an unsaved change.
    # (content id, codec): a value compares by the codec its version was stored with.
    known_ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    # (name, content id, codec) -> other fingerprints (id, codec) the value stored as that
    # id had in this kernel when it was committed or checked out (`remember_value`): a
    # restored estimator pickles differently from the bytes stored (its numpy scalars no
    # longer share a dtype object), yet it is the same value. Only the set of the pair in
    # `known_ids` counts (`known`).
    aliases: dict[tuple[str, str, str], set[tuple[str, str]]] = field(default_factory=dict)
    # name -> id() of a value found unpicklable (by status or a commit): no reason for
    # autocommit to commit while that same object is bound to the name.
    unpicklable: dict[str, int] = field(default_factory=dict)
    # Set on the first commit, so later commits go to the same repository even after a
    # `%cd`; None: the notebook's folder, else the working directory.
    repo_path: str | None = None
    # What a commit could not capture (e.g. no notebook file) is said once per kernel.
    said: set[str] = field(default_factory=set)
    # name -> (witness, {codec: fingerprint}) of the value the name held when last hashed,
    # committed or checked out: while its witness holds, status reuses the fingerprints
    # instead of hashing again (`witness.py`).
    fingerprints: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)

    def remember(self, name: str, content_id: str, codec: str, *aliases: tuple[str, str]) -> None:
        """`name`'s value in this kernel is the one stored as `content_id` (by `codec`);
        `aliases`: (id, codec) fingerprints it has here that stand for the same value."""
        self.known_ids[name] = (content_id, codec)
        self.fingerprints.pop(name, None)  # the kernel's value may not be this one (carried forward)
        for key in [k for k in self.aliases if k[0] == name and k[1:] != (content_id, codec)]:
            del self.aliases[key]
        self.aliases.setdefault((name, content_id, codec), set()).update(aliases)

    def remember_value(self, name: str, value: Any, entry: VariableEntry) -> None:
        """Right after a commit or checkout put `value` in the namespace as `entry`
        stores it: remember it, with its canonical fingerprint (`api.CANONICAL`: hashes
        its buffers once, in place) unless it is a large one whose codec is exact (a data1
        array, tensor or frame pickles the same restored or not, so it costs nothing)."""
        aliases = []
        exact = entry.codec == codecs.DATA and not entry.type.startswith("sklearn.")
        if entry.size <= CANONICAL_BELOW or not exact:
            try:
                aliases.append((api.fingerprint(value, name, codec=api.CANONICAL), api.CANONICAL))
            except SerializationError:
                pass  # status then compares it by its stored id alone
        self.remember(name, entry.content_id, entry.codec, *aliases)
        w = witness(value)
        if w is not None:
            # The value is the one stored: status compares it as the stored id.
            self.fingerprints[name] = (w, {entry.codec: entry.content_id, **{c: fp for fp, c in aliases}})

    def seed(
        self, namespace: Mapping[str, Any], names: Iterable[str]
    ) -> tuple[dict[tuple[str, str], str], dict[str, str | None]]:
        """A fingerprint memo for `api.status`: the remembered fingerprints of each of
        `names` whose value's witness still holds (it has not changed since it was hashed);
        and the witnesses computed on the way, for `keep`."""
        memo: dict[tuple[str, str], str] = {}
        seen: dict[str, str | None] = {}
        for name in names:
            cached = self.fingerprints.get(name)
            if cached is None or name not in namespace:
                continue
            seen[name] = witness(namespace[name])
            if seen[name] == cached[0]:
                memo.update(((name, codec), fp) for codec, fp in cached[1].items())
            else:
                del self.fingerprints[name]
        return memo, seen

    def keep(
        self, namespace: Mapping[str, Any], memo: Mapping[tuple[str, str], str], seen: Mapping[str, str | None]
    ) -> None:
        """Remember what `api.status` hashed into `memo`, under each value's witness
        (`seen`: those `seed` computed already; the values have not changed since)."""
        by_name: dict[str, dict[str, str]] = {}
        for (name, codec), fp in memo.items():
            by_name.setdefault(name, {})[codec] = fp
        for name, fps in by_name.items():
            cached = self.fingerprints.get(name)
            if cached is not None and fps.items() <= cached[1].items():
                continue  # seeded from it, nothing new
            if name in seen:
                w = seen[name]
            else:
                w = witness(namespace[name]) if name in namespace else None
            if w is not None:
                self.fingerprints[name] = (w, fps)

    def known(self) -> dict[str, set[tuple[str, str]]]:
        """name -> the (id, codec) pairs that stand for its stored value (`api.status(known=)`)."""
        out = {}
        for name, (content_id, codec) in self.known_ids.items():
            out[name] = {(content_id, codec), *self.aliases.get((name, content_id, codec), ())}
        return out


# Values stored smaller than this always get a canonical fingerprint when remembered (a
# 64 MiB one takes ~25 ms); larger ones only when their codec may lay them out differently.
CANONICAL_BELOW = 64 << 20

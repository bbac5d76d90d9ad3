"""Loading the variables a checkout asked for: each loads or fails on its own, except
co-variables, which load as their group or not at all (one pickle, so the objects they
share stay shared)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ..errors import InvalidNameError, ManifestError, MvcError
from ..objects import Manifest
from ..store import ObjectStore
from . import packing, snapshot


def expand(entries: Mapping[str, Any], wanted: list[str]) -> list[str]:
    """`wanted` plus the group partners of each (a group is the unit of checkout)."""
    out: dict[str, None] = {}
    for name in wanted:
        out.update(dict.fromkeys(snapshot.group_of(entries, name) if name in entries else (name,)))
    return list(out)


def load(
    store: ObjectStore,
    sha: str,
    manifest: Manifest,
    damaged: Mapping[str, str],
    wanted: list[str],
    *,
    trust: bool,
    allowed: set[str],
    refuse: Callable[[str], str | None] | None,
    on_bytes: Callable[[int], None] | None = None,
    lazy: bool = False,
) -> tuple[dict[str, Any], dict[str, MvcError], dict[str, tuple[str, ...]]]:
    """(name -> object, name -> why it failed, group id -> members restored together).
    `on_bytes(n)`: each chunk's bytes as it is read. `lazy`: arrays and tensors page in
    on first touch (`packing.load_entry`)."""
    objects: dict[str, Any] = {}
    failed: dict[str, MvcError] = {}
    restored_groups: dict[str, tuple[str, ...]] = {}
    entries = manifest.variables
    for name in wanted:
        if name in objects or name in failed:
            continue
        if name in damaged:
            failed[name] = damaged_entry(sha, name, damaged[name])
            continue
        members = snapshot.group_of(entries, name)
        why = refuse(name) if refuse is not None else None
        if why:
            failed[name] = InvalidNameError(
                "variable",
                name,
                f"{why}, so version {sha[:8]} cannot restore it",
                f"It was left alone; read it with jupyter_mvc.load({sha[:8]!r}, {name!r}) if you need it.",
            )
            blocked = [m for m in members if m != name]
            for m in blocked:
                failed[m] = InvalidNameError(
                    "variable",
                    m,
                    f"it shares objects with {name!r} (one group: {', '.join(members)}), which cannot be "
                    "restored, and restoring it alone would break what they share",
                    f"Read the group with jupyter_mvc.load({sha[:8]!r}, {m!r}) if you need it.",
                )
            continue
        try:
            value = packing.load_entry(
                store,
                sha,
                entries[name],
                trust=trust,
                allow=allowed,
                whole_group=len(members) > 1,
                on_bytes=on_bytes,
                lazy=lazy,
            )
        except MvcError as exc:
            for m in members:
                failed[m] = exc
            continue
        if len(members) == 1:
            objects[name] = value
            continue
        for m in members:
            if refuse is not None and refuse(m):
                continue  # reported when the loop reaches it (blocked the group only if named first)
            objects[m] = value[m]
        restored_groups[entries[name].group or name] = members
    return objects, failed, restored_groups


def damaged_entry(sha: str, name: str, why: str) -> ManifestError:
    return ManifestError(sha[:8], f"the entry of variable {name!r} cannot be read ({why})")

"""A version is the whole tracked state, like a Git tree: a commit that names some
variables updates those and carries the parent's others forward by reference (the same
streams and content ids, zero bytes written); `rm` is the one way a variable stops being
tracked. Co-variables (`groups`) are carried, updated and removed as units."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from ..errors import InvalidNameError, InvalidValueError, NothingToCommitError, VariableNotFoundError
from ..objects import Manifest, VariableEntry, VersionInfo

if TYPE_CHECKING:
    from .repository import Repo


def carry_forward(
    new: Manifest, parent: Manifest | None, parent_sha: str | None, remove: Collection[str] = ()
) -> tuple[Manifest, tuple[str, ...]]:
    """(`new` plus the parent's entries it neither updates nor removes, the carried names).

    A carried entry keeps its streams and content id and records `carried_from`: the
    version whose commit wrote its bytes. Refuses to carry a co-variable whose group
    partner is being updated: the old group's pickle holds the partner's old value, so a
    checkout would restore two objects that no longer share what they shared."""
    if parent is None or parent_sha is None:
        return new, ()
    entries: dict[str, VariableEntry] = {}  # in the parent's order, new names last
    carried = []
    for name, old in parent.variables.items():
        if name in new.variables:
            entries[name] = new.variables[name]
            continue
        if name in remove:
            continue
        updated = [m for m in old.members if m != name and m in new.variables]
        if old.group is not None and updated:
            raise InvalidValueError(
                "commit of",
                ", ".join(updated),
                f"{name!r} shares objects with {', '.join(updated)} (one group: {', '.join(old.members)}), "
                f"so committing {'it' if len(updated) == 1 else 'them'} without {name!r} would split the group",
                f"Commit the whole group together ({' '.join(old.members)}), or remove {name!r} first (rm {name}).",
            )
        entries[name] = dataclasses.replace(old, carried_from=old.carried_from or parent_sha)
        carried.append(name)
    entries.update((n, e) for n, e in new.variables.items() if n not in entries)
    return Manifest(entries), tuple(carried)


def check_removable(names: Collection[str], parent: Manifest | None, version: str) -> None:
    """Every name to remove is tracked by the parent version."""
    tracked = list(parent.variables) if parent is not None else []
    for name in names:
        if name not in tracked:
            raise VariableNotFoundError(name, version or "(none yet)", tracked)


def group_of(entries: Mapping[str, VariableEntry], name: str) -> tuple[str, ...]:
    """The members of `name`'s group present in `entries` (just `name` if it has none)."""
    entry = entries[name]
    if entry.group is None:
        return (name,)
    return tuple(m for m in entry.members if m in entries and entries[m].group == entry.group)


def remove(repo: Repo, names: list[str], message: str | None) -> VersionInfo:
    """A new version without `names` (each must be tracked by HEAD); the rest, the params
    and the files (notebook, executed cells) carry over from HEAD."""
    from .repository import CORE_FILES, FILE_LIMIT

    head = repo.refs.head()
    parent = repo.manifest(head) if head is not None else None
    check_removable(names, parent, head[:8] if head else "")
    if not names or head is None:
        raise NothingToCommitError("no variable names given", "Name the variables to stop tracking: rm NAME...")
    files = {n: repo.git.read_file(head, n, limit=FILE_LIMIT) for n in repo.git.file_names(head) if n not in CORE_FILES}
    return repo.commit(
        {},
        message or f"rm {' '.join(names)}",
        params=repo._json_file(head, "params.json"),
        files={n: data for n, data in files.items() if data is not None},
        remove=names,
    )


def check_variable_name(name: object) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidNameError(
            "variable",
            str(name),
            "a variable name must be a Python identifier",
            "Use a name like `model` or `X_train`.",
        )

"""The three-way merge of two versions' variables, decided from their manifests alone
(content ids: nothing is loaded). The unit is a variable, or a co-variable group
(objects that share references: an optimizer and its model), so a merge never pairs one
side's optimizer with the other side's model.

Per unit, with base = the common ancestor's: ours == theirs -> that; base == ours ->
theirs (changed, added or deleted there only); base == theirs -> ours; else a conflict
(changed on both, deleted on one and changed on the other, added on both with different
content), which `--take NAME=ours|theirs` resolves by side, or a weight strategy
(`average`, `task-arithmetic`) resolves by combining the values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ..errors import InvalidValueError
from ..objects import Manifest, VariableEntry

SIDES = ("ours", "theirs")
STRATEGIES = ("average", "task-arithmetic")

Side = tuple[tuple[str, str], ...]  # the unit's (name, content id) pairs on one side: () when absent


@dataclass(frozen=True)
class Conflict:
    names: tuple[str, ...]  # the unit: one variable, or a group's members
    kind: str  # "changed on both sides", "deleted here, changed there", ...


@dataclass
class MergePlan:
    entries: dict[str, VariableEntry] = field(default_factory=dict)  # decided: the merged version's
    taken: dict[str, str] = field(default_factory=dict)  # name -> "ours", "theirs", "both", "ours (--take)"...
    conflicts: list[Conflict] = field(default_factory=list)  # unresolved
    combine: dict[str, str] = field(default_factory=dict)  # name -> strategy: values to compute


def units(*manifests: Manifest | None) -> list[tuple[str, ...]]:
    """Names joined into units: a group's members (on any side) are one unit."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    order: list[str] = []
    for manifest in manifests:
        if manifest is None:
            continue
        for name, entry in manifest.variables.items():
            if name not in parent:
                order.append(name)
            find(name)
            for member in entry.members if entry.group else ():
                if member not in parent:
                    order.append(member)
                parent[find(member)] = find(name)
    groups: dict[str, list[str]] = {}
    for name in order:
        groups.setdefault(find(name), []).append(name)
    return [tuple(g) for g in groups.values()]


def _side(manifest: Manifest | None, unit: tuple[str, ...]) -> Side:
    if manifest is None:
        return ()
    return tuple((n, manifest.variables[n].content_id) for n in unit if n in manifest.variables)


def _kind(base: Side, ours: Side, theirs: Side) -> str:
    if not base:
        return "added on both sides with different content"
    if not ours:
        return "deleted here, changed there"
    if not theirs:
        return "changed here, deleted there"
    return "changed on both sides"


def plan(
    base: Manifest | None,
    ours: Manifest,
    theirs: Manifest,
    take: Mapping[str, str] | None = None,
    strategy: Mapping[str, str] | None = None,
) -> MergePlan:
    take, strategy = dict(take or {}), dict(strategy or {})
    _check_options(take, strategy, ours, theirs)
    result = MergePlan()
    for unit in units(ours, theirs, base):
        b, o, t = _side(base, unit), _side(ours, unit), _side(theirs, unit)
        if o == t:
            source, how = ours, "both"
        elif b == o:
            source, how = theirs, "theirs"
        elif b == t:
            source, how = ours, "ours"
        else:
            chosen = {take[n] for n in unit if n in take}
            combining = [n for n in unit if n in strategy]
            if len(chosen) > 1:
                raise InvalidValueError(
                    "--take for",
                    ", ".join(unit),
                    "the members of one group were given different sides",
                    f"Take the whole group from one side: {' '.join(f'--take {n}=ours' for n in unit)}.",
                )
            if combining and (len(unit) > 1 or not b or not o or not t):
                raise InvalidValueError(
                    "--strategy for",
                    ", ".join(unit),
                    "a weight strategy needs one variable present in the base and on both sides"
                    + (f" (it is one group: {', '.join(unit)})" if len(unit) > 1 else ""),
                    "Resolve it with --take NAME=ours or --take NAME=theirs.",
                )
            if combining:
                result.combine[unit[0]] = strategy[unit[0]]
                result.taken[unit[0]] = strategy[unit[0]]
                continue
            if not chosen:
                result.conflicts.append(Conflict(unit, _kind(b, o, t)))
                continue
            side = chosen.pop()
            source, how = (ours if side == "ours" else theirs), f"{side} (--take)"
        for name in unit:
            if name in source.variables:
                result.entries[name] = source.variables[name]
                result.taken[name] = how
    return result


def _check_options(take: dict[str, str], strategy: dict[str, str], ours: Manifest, theirs: Manifest) -> None:
    known = set(ours.variables) | set(theirs.variables)
    for flag, given, allowed in (("--take", take, SIDES), ("--strategy", strategy, STRATEGIES)):
        for name, value in given.items():
            if name not in known:
                raise InvalidValueError(
                    flag, name, "neither side has that variable", f"Variables: {', '.join(sorted(known))}."
                )
            if value not in allowed:
                raise InvalidValueError(
                    flag, f"{name}={value}", f"expected {' or '.join(allowed)}", f"e.g. {flag} {name}={allowed[0]}"
                )
    both = set(take) & set(strategy)
    if both:
        raise InvalidValueError(
            "--take and --strategy for", ", ".join(sorted(both)), "both were given", "Give one of them per variable."
        )

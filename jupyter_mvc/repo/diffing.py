"""What changed between two versions: variables added/removed/changed (arrays and tensors
with per-element change counts and max |delta|), params and scalar metrics that differ.
A variable whose data cannot be loaded (untrusted, damaged) still shows its summaries."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from .. import arraydiff
from ..errors import MvcError
from ..objects import VariableChange, VariableEntry, VersionDiff
from . import packing

if TYPE_CHECKING:
    from .repository import Repo


def diff(
    repo: Repo,
    old: str,
    new: str = "HEAD",
    *,
    allowed: set[str],
    trust: bool = False,
    names: Collection[str] | None = None,
) -> VersionDiff:
    """Variables added/removed/changed (with per-array change counts and max |delta|),
    params and scalar metrics that differ. `names`: only those variables (the others are
    not compared, so not loaded)."""
    a, b = repo.show(old), repo.show(new)
    changes = []
    every = a.manifest.variables.keys() | b.manifest.variables.keys()
    for name in sorted(every if names is None else every & set(names)):
        ea, eb = a.manifest.variables.get(name), b.manifest.variables.get(name)
        if ea is None or eb is None:
            changes.append(
                VariableChange(
                    name,
                    "added" if ea is None else "removed",
                    ea.summary if ea else None,
                    eb.summary if eb else None,
                )
            )
        elif ea.content_id == eb.content_id:
            changes.append(VariableChange(name, "unchanged", ea.summary, eb.summary))
        else:
            tensors: tuple = ()
            if _has_arrays(ea) or _has_arrays(eb):
                try:
                    old_obj = packing.load_entry(repo.store, a.info.id, ea, trust=trust, allow=allowed)
                    new_obj = packing.load_entry(repo.store, b.info.id, eb, trust=trust, allow=allowed)
                except MvcError:
                    old_obj = new_obj = None  # summaries still show; the numbers need loadable data
                else:
                    try:
                        tensors = tuple(arraydiff.compare(old_obj, new_obj))
                    except Exception:  # objects shaped by someone else's data: show no numbers, never fail
                        tensors = ()
            changes.append(VariableChange(name, "changed", ea.summary, eb.summary, tensors))
    scalars_a, scalars_b = a.metrics.get("scalars", {}), b.metrics.get("scalars", {})
    return VersionDiff(
        old=a.info,
        new=b.info,
        variables=tuple(changes),
        params=_dict_diff(a.params, b.params),
        metrics=_dict_diff(
            scalars_a if isinstance(scalars_a, dict) else {}, scalars_b if isinstance(scalars_b, dict) else {}
        ),
    )


def _has_arrays(entry: VariableEntry) -> bool:
    return "shape" in entry.summary or "parameters" in entry.summary or entry.streams != ()


def _dict_diff(a: Mapping, b: Mapping) -> dict:
    return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}

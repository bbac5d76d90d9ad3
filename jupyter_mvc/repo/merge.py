"""Merging a branch into the current one: a version with two parents whose variables
are decided per unit (merging.plan), whose notebook is merged by nbdime where both sides
changed it, and whose params say where everything came from. Nothing is written until
every conflict is resolved; the kernel is never touched here (checking the merged
version out is the caller's choice)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ConcurrentUpdateError, MergeConflictError, MvcError, RevisionError
from ..objects import Manifest, MergeResult, VariableEntry, summary_line
from ..present import fmt
from . import groups, merging, packing, trailer, weights
from . import metrics as metrics_format
from .refs import BRANCHES, HEAD_REF

if TYPE_CHECKING:
    from .repository import Repo

NOTEBOOK = "notebook.ipynb"
THEIRS_NOTEBOOK = "notebook.theirs.ipynb"


def merge(
    repo: Repo,
    rev: str,
    message: str | None = None,
    *,
    take: Mapping[str, str] | None = None,
    strategy: Mapping[str, str] | None = None,
    trust: bool = False,
    allow: Iterable[str] = (),
) -> MergeResult:
    theirs = repo.resolve(rev)
    branch_ref = repo.refs._branch_ref()
    if branch_ref is None and repo.refs.head() is not None:
        raise RevisionError("HEAD", "it is detached; switch to the branch to merge into first")
    ref = branch_ref or BRANCHES + repo.refs.current_branch()  # type: ignore[operator]
    ours = repo.git.read_ref(ref)
    if ours is None or repo.git.is_ancestor(ours, theirs):
        if ours != theirs and not repo.git.update_ref(ref, theirs, ours, f"merge {rev}: fast-forward"):
            raise ConcurrentUpdateError(ref, 1)
        if branch_ref is None:
            repo.git.set_symbolic_ref(HEAD_REF, ref)
        return MergeResult(
            "fast-forward" if ours != theirs else "up to date", repo.info(theirs), ours, theirs, ours, {}
        )
    if repo.git.is_ancestor(theirs, ours):
        return MergeResult("up to date", repo.info(ours), ours, theirs, theirs, {})
    base = repo.git.merge_base(ours, theirs)
    m_base = repo.manifest(base) if base else None
    m_ours, m_theirs = repo.manifest(ours), repo.manifest(theirs)
    plan = merging.plan(m_base, m_ours, m_theirs, take, strategy)
    if plan.conflicts:
        deltas = _deltas(repo, ours, theirs, [n for c in plan.conflicts for n in c.names])
        raise MergeConflictError(
            rev, [(c.names, c.kind, _describe(repo, c, ours, theirs, deltas)) for c in plan.conflicts]
        )
    notes: list[str] = []
    combined: dict[str, Any] = {}
    for name, how in plan.combine.items():
        b, o, t = (repo.load(sha, name, trust=trust, allow=allow) for sha in (base, ours, theirs))  # type: ignore[arg-type]
        combined[name], kept = weights.combine(how, b, o, t, name)
        notes += [f"{name}: {k}" for k in kept]
    entries = _entries(plan, m_ours, m_theirs, ours, theirs)
    if combined:
        encoded, units = groups.encode(repo.store, combined)
        parents = {n: (e.skeleton, *e.streams) for n, e in m_ours.variables.items()}
        entries.update(packing.store_variables(repo.store, encoded, parents, units)[0].variables)
    ordered = {n: entries[n] for n in [*m_ours.variables, *m_theirs.variables] if n in entries}
    ordered.update(entries)
    files, file_notes = _files(repo, base, ours, theirs)
    notes += file_notes
    params = {
        "merge": {
            "base": base,
            "ours": ours,
            "theirs": theirs,
            "theirs_rev": rev,
            "variables": plan.taken,
            "metrics": {"ours": repo.info(ours).metrics, "theirs": repo.info(theirs).metrics},
        }
    }
    text = message or f"Merge {rev} into {ref.removeprefix(BRANCHES)}"
    sha = _write(repo, ref, ours, theirs, Manifest(ordered), files, params, text)
    return MergeResult("merged", repo.info(sha), ours, theirs, base, dict(plan.taken), tuple(notes))


def _entries(
    plan: merging.MergePlan, m_ours: Manifest, m_theirs: Manifest, ours: str, theirs: str
) -> dict[str, VariableEntry]:
    """The decided entries, each recording the version whose commit wrote its bytes."""
    out = {}
    for name, entry in plan.entries.items():
        side = ours if m_ours.variables.get(name) is entry else theirs
        out[name] = dataclasses.replace(entry, carried_from=entry.carried_from or side)
    return out


def _deltas(repo: Repo, ours: str, theirs: str, names: list[str]) -> dict[str, list[str]]:
    """name -> "max |Δ|" lines for the conflicting arrays, from ONE diff of just those
    variables (the rest of both versions is neither loaded nor compared)."""
    try:
        diff = repo.diff(ours, theirs, names=names)
    except MvcError:
        return {}
    out: dict[str, list[str]] = {}
    for change in diff.variables:
        for t in change.tensors:
            if t.max_abs_delta is not None and t.changed:
                out.setdefault(change.name, []).append(
                    f"max |Δ| ours vs theirs {fmt.number(t.max_abs_delta)} ({change.name}{t.path}, {t.changed}/{t.total} values differ)"
                )
    return out


def _describe(
    repo: Repo, conflict: merging.Conflict, ours: str, theirs: str, deltas: dict[str, list[str]]
) -> list[str]:
    """One line per side (summary and headline metrics) and, for arrays that changed on
    both, how far apart the sides are."""
    lines = []
    for label, sha in (("ours", ours), ("theirs", theirs)):
        manifest = repo.manifest(sha)
        present = [n for n in conflict.names if n in manifest.variables]
        what = "; ".join(f"{n}: {_brief(manifest.variables[n])}" for n in present) or "deleted"
        metrics = fmt.metric_pairs(repo.info(sha).metrics)
        lines.append(f"{label:<6} {sha[:8]} {fmt.printable(what)[:140]}" + (f"  [{metrics}]" if metrics else ""))
    lines += [line for name in conflict.names for line in deltas.get(name, [])]
    return lines[:8]


def _brief(entry: VariableEntry) -> str:
    """Type and shape, without the value's repr (the max |Δ| line says how far apart)."""
    summary = {k: v for k, v in entry.summary.items() if k != "repr"} if isinstance(entry.summary, dict) else {}
    return f"{entry.type.rsplit('.', 1)[-1]} {summary_line(summary)}".strip()


def _blob_sha(repo: Repo, sha: str | None, name: str) -> str | None:
    return None if sha is None else repo.git.blob_id(sha, name)


def _files(repo: Repo, base: str | None, ours: str, theirs: str) -> tuple[dict[str, bytes], list[str]]:
    """The version's files (notebook, history...): three-way by content; a notebook both
    sides changed goes through nbdime, and where that conflicts (or nbdime is absent) ours
    is kept with theirs stored beside it as notebook.theirs.ipynb."""
    from .repository import CORE_FILES, FILE_LIMIT

    names = [
        n for n in dict.fromkeys([*repo.git.file_names(ours), *repo.git.file_names(theirs)]) if n not in CORE_FILES
    ]
    out: dict[str, bytes] = {}
    notes: list[str] = []
    for name in names:
        b, o, t = (_blob_sha(repo, s, name) for s in (base, ours, theirs))
        if o == t or b == t:
            source: str | None = ours if o is not None else None
        elif b == o:
            source = theirs if t is not None else None
        elif name == NOTEBOOK and o is not None and t is not None:
            merged, note = _merge_notebook(
                *(repo.git.read_file(s, name, limit=FILE_LIMIT) if s else None for s in (base, ours, theirs))
            )
            notes.append(note)
            if merged is not None:
                out[name] = merged
                continue
            out[THEIRS_NOTEBOOK] = repo.git.read_file(theirs, name, limit=FILE_LIMIT) or b""
            source = ours
        else:
            notes.append(f"{name}: changed on both sides; kept ours")
            source = ours if o is not None else None
        data = repo.git.read_file(source, name, limit=FILE_LIMIT) if source else None
        if data is not None:
            out[name] = data
    return out, notes


def _merge_notebook(base: bytes | None, ours: bytes | None, theirs: bytes | None) -> tuple[bytes | None, str]:
    try:
        import nbformat
        from nbdime.merging import merge_notebooks  # type: ignore[import-untyped]
    except ImportError:
        return (
            None,
            f"{NOTEBOOK}: changed on both sides; nbdime is not installed, so ours is kept and theirs is stored as {THEIRS_NOTEBOOK} (pip install nbdime)",
        )
    try:
        nbs = [nbformat.reads((x or b"{}").decode("utf-8", "replace"), as_version=4) for x in (base, ours, theirs)]
        merged, decisions = merge_notebooks(*nbs)
    except Exception as exc:  # a notebook nbdime cannot read: keep both, say why
        return (
            None,
            f"{NOTEBOOK}: nbdime could not merge it ({type(exc).__name__}); ours is kept, theirs stored as {THEIRS_NOTEBOOK}",
        )
    if any(d.conflict for d in decisions):
        return None, f"{NOTEBOOK}: nbdime found conflicting cells; ours is kept, theirs stored as {THEIRS_NOTEBOOK}"
    return nbformat.writes(merged).encode(), f"{NOTEBOOK}: merged cell by cell with nbdime"


def _write(
    repo: Repo,
    ref: str,
    ours: str,
    theirs: str,
    manifest: Manifest,
    files: Mapping[str, bytes],
    params: dict,
    message: str,
) -> str:
    from .repository import _json_bytes

    env = repo.git.read_file(ours, "env.json") or b"{}"
    blobs = {
        "manifest.json": repo.git.write_blob(_json_bytes(manifest.to_json())),
        "metrics.json": repo.git.write_blob(_json_bytes(metrics_format.normalize({}))),
        "params.json": repo.git.write_blob(_json_bytes(params)),
        "env.json": repo.git.write_blob(env),
        **{n: repo.git.write_blob(data) for n, data in files.items()},
    }
    tree = repo.git.write_tree(blobs)
    summary = trailer.Summary(tuple(manifest.variables), {})
    sha = repo.git.write_commit(tree, [ours, theirs], trailer.encode(message, summary))
    if not repo.git.update_ref(ref, sha, ours, f"merge: {message.splitlines()[0][:60]}"):
        raise ConcurrentUpdateError(ref, 1)  # a commit landed while merging: nothing moved; merge again
    return sha

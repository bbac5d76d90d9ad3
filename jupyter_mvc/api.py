"""The public API, and the boundary every face goes through (magics, session, widgets,
server, CLI): module functions over a `Repo`, for scripts, CI and serving processes.

Each function takes `path`: a folder or notebook inside the Git repository, or an open
`Repo` (used as is and left open, so a widget can make many calls on one). Namespaces are
plain dicts; nothing here knows about IPython.

Functions that change history or HEAD are marked `@_changes_history`: after they succeed,
every `on_change` subscriber (the open widgets) is told, so no face can forget to.
"""

from __future__ import annotations

import functools
import io
import json
import os
import pickle
import sys
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from .codecs.tensors import map_location as tensors_to
from .codecs.tensors import reduce_tensor
from .errors import SerializationError
from .objects import CommitInfo, FsckReport, GcReport, Progress, Version, VersionDiff, VersionInfo
from .public import API
from .remote.opening import attach as attach_remotes
from .remote.opening import opened as _opened
from .repo import CheckoutResult, Repo, goals, maintenance
from .repo.metrics import MetricsBuffer
from .repo.packing import is_variable_name
from .store import digest

if TYPE_CHECKING:  # the lazily imported verbs (see _LAZY), typed as themselves
    from .ranking import follow_best as follow_best
    from .ranking import followed_best as followed_best
    from .ranking import metric_goal as metric_goal
    from .ranking import metric_goals as metric_goals
    from .ranking import runs as runs
    from .ranking import tag_best as tag_best
    from .ranking import unfollow_best as unfollow_best
    from .reproduction import ReproduceReport
    from .sharing import access_grant as access_grant
    from .sharing import access_list as access_list
    from .sharing import access_revoke as access_revoke
    from .sharing import clone as clone
    from .sharing import fetch as fetch
    from .sharing import merge as merge
    from .sharing import pull as pull
    from .sharing import push as push
    from .sharing import remote_add as remote_add
    from .sharing import remote_fsck as remote_fsck
    from .sharing import remote_gc as remote_gc
    from .sharing import remote_remove as remote_remove
    from .sharing import remotes_list as remotes  # noqa: F401 (api.remotes)
    from .sharing import whoami as whoami

PathLike = str | os.PathLike
Where = PathLike | Repo
F = TypeVar("F", bound=Callable[..., Any])

__all__ = list(API)  # the names live in public.py, so `import jupyter_mvc` stays light


# -- change notification: faces that show history (widgets) subscribe; api stays below them
_listeners: list[Callable[[], object]] = []


def on_change(callback: Callable[[], object]) -> None:
    """Call `callback()` after every commit, checkout, branch or tag change made through
    this API in this process (the widgets use it to refresh)."""
    if callback not in _listeners:
        _listeners.append(callback)


def _notify() -> None:
    """A failing subscriber never fails the operation that already succeeded."""
    for callback in list(_listeners):
        try:
            callback()
        except Exception as exc:  # e.g. a widget whose front-end is gone
            print(f"jupyter_mvc: a history view could not refresh: {exc}", file=sys.stderr)


def _changes_history(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        if not isinstance(result, CheckoutResult) or result.moved_head:
            _notify()
        return result

    return wrapper  # type: ignore[return-value]


# -- opening ---------------------------------------------------------------------------------
def open_repo(path: PathLike = ".", create: bool = True) -> Repo:
    """The version repository of the Git repo holding `path`. With `create` (default), a
    Git repo is initialised at `path` when there is none; `repo.created` tells. Chunks it
    lacks are fetched from its remotes when read."""
    return attach_remotes(Repo.open(path, create=create))


# The team verbs (sharing.py: remotes, push, fetch, pull, clone, merge, access) and the
# ranking verbs (ranking.py: metric goals, the runs table, best tags) are this module's
# too, imported on first use (`__getattr__` below): the remote layer's clients and crypto
# and the runs table cost a command that needs none of them (`mvc log`) a third of its time.
_SHARING = ("remote_add", "remote_remove", "clone", "push", "fetch", "pull", "merge", "whoami")
_SHARING_ACCESS = ("access_list", "access_grant", "access_revoke", "remote_fsck", "remote_gc")
_RANKING = ("metric_goal", "metric_goals", "runs", "tag_best", "follow_best", "unfollow_best", "followed_best")
_LAZY = (
    {name: ("sharing", name) for name in _SHARING + _SHARING_ACCESS}
    | {"remotes": ("sharing", "remotes_list")}
    | {name: ("ranking", name) for name in _RANKING}
)
_NOTIFYING = {"push", "fetch", "pull", "merge", "tag_best", "follow_best"}  # they change history


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attribute = _LAZY[name]
    value = getattr(importlib.import_module(f"{__package__}.{module}"), attribute)
    if name in _NOTIFYING:
        value = _changes_history(value)
    globals()[name] = value  # once: the next lookup finds it without this hook
    return value


def trust_signer(public_key: str | os.PathLike, *, path: Where = ".") -> str:
    """Trust versions signed with this SSH key (its text, or its .pub file) to load
    classes off the safe list, in this repository, for you (kept in your own config).
    Returns the key as stored."""
    text = str(public_key)
    candidate = Path(text).expanduser()
    if "\n" not in text and len(text) < 4096 and candidate.is_file():
        text = candidate.read_text(errors="replace")
    with _opened(path) as repo:
        return repo.config.trust_signer(text)


_SIGNATURE_WORDS = {
    "G": "trusted",
    "U": "unknown key",
    "B": "bad",
    "X": "bad",
    "Y": "bad",
    "R": "bad",
    "E": "unverifiable",
}


def signatures(ids: list[str], *, path: Where = ".") -> dict[str, tuple[str, str]]:
    """id -> (status, key fingerprint) of signed versions: "trusted" (a key you trust
    signed it), "unknown key" (a good signature by another key), "bad" (it does not
    verify), "unverifiable" (no ssh-keygen...). Unsigned versions are left out."""
    with _opened(path) as repo:
        found = repo.git.signatures(list(ids), repo.config.trusted_signers())
    return {
        sha: (_SIGNATURE_WORDS.get(status, "unverifiable"), fpr)
        for sha, (status, fpr) in found.items()
        if status != "N"
    }


# -- versions --------------------------------------------------------------------------------
_metrics = MetricsBuffer()


def log_metric(name: str, value: float, step: int | None = None) -> None:
    """Append `value` to the series `name` (step defaults to the next index); the next
    commit in this process stores the series as a curve. A step logged again since the
    last commit (a training cell run twice) keeps the last value, with one warning per
    series (`RepeatedStepWarning`)."""
    _metrics.log(name, value, step)


@_changes_history
def commit(
    objects: Mapping[str, Any],
    message: str,
    *,
    path: Where = ".",
    metrics: Mapping | None = None,
    params: Mapping | None = None,
    files: Mapping[str, bytes | str] | None = None,
    env: Mapping | None = None,
    allow_secrets: bool = False,
    carry: bool = True,
    progress: Progress | None = None,
) -> CommitInfo:
    """Snapshot `objects` (name -> object). With `carry` (default) the version is the whole
    tracked state: HEAD's other variables are carried forward unchanged, by reference (no
    bytes); `rm` stops tracking one. Variables sharing objects are stored as one group.
    Metrics logged with `log_metric` since the last commit are included (explicit
    `metrics` win) and then cleared. The version returned says what it `added` to the
    store (bytes of new chunks). `progress(what, done, total)`: ("serialising", 0, 0),
    then ("storing", bytes, bytes in all) per chunk, e.g. a `present.progress.ProgressLine`."""
    merged = {**_metrics.pending(), **(metrics or {})}
    with _opened(path, create=True) as repo:
        info = repo.commit(
            objects,
            message,
            metrics=merged,
            params=params,
            files=files,
            env=env,
            allow_secrets=allow_secrets,
            carry=carry,
            progress=progress,
        )
        # Followed best tags (%mv_tag --follow-best) move on improvement.
        info = CommitInfo.of(goals.after_commit(repo, info), info.added)
    _metrics.clear()
    return info


@_changes_history
def rm(names: Iterable[str], *, path: Where = ".", message: str | None = None) -> VersionInfo:
    """Commit a version without `names` (each must be tracked by HEAD; VariableNotFoundError
    lists those that are); the other variables, params and files carry over."""
    with _opened(path) as repo:
        return repo.rm(names, message)


def log(rev: str | None = None, *, path: Where = ".", limit: int | None = None, all: bool = False) -> list[VersionInfo]:
    """Versions reachable from `rev` (default HEAD), newest first; `all`: every branch and tag."""
    with _opened(path) as repo:
        return repo.log(rev, limit=limit, all=all)


def show(rev: str = "HEAD", *, path: Where = ".") -> Version:
    """A version in full (variables' summaries, metrics, params, env, files), no data loaded."""
    with _opened(path) as repo:
        return repo.show(rev)


def info(rev: str = "HEAD", *, path: Where = ".") -> VersionInfo:
    with _opened(path) as repo:
        return repo.info(rev)


def resolve(rev: str = "HEAD", *, path: Where = ".") -> str:
    """The full id of `rev` (HEAD~1, a branch, tag or id prefix)."""
    with _opened(path) as repo:
        return repo.resolve(rev)


def read_file(rev: str, name: str, *, path: Where = ".") -> bytes:
    """A file stored with a version, e.g. notebook.ipynb or history.py."""
    with _opened(path) as repo:
        return repo.read_file(rev, name)


def diff(
    old: str, new: str = "HEAD", *, path: Where = ".", trust: bool = False, allow: Iterable[str] = ()
) -> VersionDiff:
    """What changed between two versions. Never runs code from them unless `trust`."""
    with _opened(path) as repo:
        return repo.diff(old, new, trust=trust, allow=allow)


@_changes_history
def checkout(
    rev: str = "HEAD",
    names: Iterable[str] | None = None,
    *,
    path: Where = ".",
    namespace: MutableMapping[str, Any] | None = None,
    new_branch: str | None = None,
    trust: bool = False,
    allow: Iterable[str] = (),
    refuse: Callable[[str], str | None] | None = None,
    progress: Progress | None = None,
    lazy: bool = False,
    map_location: str | Mapping[str, str] | None = None,
) -> CheckoutResult:
    """Load a version's variables; with `namespace`, also assign them into it. Each
    variable loads or fails on its own (`result.failed` names it and says why).
    `refuse(name)`: why a name must not be restored (None: it may), e.g. a kernel's own
    names; refused ones are neither loaded nor assigned, and are listed in `failed`.
    `progress("loading", bytes read, bytes in all)` per chunk. `lazy`: arrays and tensors
    page in from the store on first touch (see `load`'s `mmap`). `map_location`: where
    tensors go (see `load`)."""
    with _opened(path) as repo, tensors_to(map_location):
        result = repo.checkout(
            rev, names, new_branch=new_branch, trust=trust, allow=allow, refuse=refuse, progress=progress, lazy=lazy
        )
    if namespace is not None:
        namespace.update(result.objects)
    return result


def load(
    rev: str,
    name: str,
    *,
    path: Where = ".",
    trust: bool = False,
    allow: Iterable[str] = (),
    progress: Progress | None = None,
    mmap: bool = False,
    map_location: str | Mapping[str, str] | None = None,
) -> Any:
    """One variable of one version, e.g. `load("prod", "model")` in a serving process.
    Untrusted code never runs: only allow-listed classes load unless `trust=True`.
    `progress("loading", bytes read, bytes in all)` per chunk.

    `mmap=True`: arrays and tensors are mapped from the store's chunk files and paged in
    on first touch, as safetensors and `torch.load(mmap=True)` do: a 1 GiB model returns
    at once, one larger than memory stays usable. Their memory is private (writing to it
    changes nothing stored). Chunks were verified when stored and are not hashed again
    on this path (`mvc fsck` checks them at rest); chunks kept as deltas are rebuilt and
    verified. Pickled values (estimators...) load as usual.

    `map_location`, as torch.load's: the device tensors go to ("cpu", "cuda:1", "meta"),
    or {stored device: device}, e.g. {"cuda:0": "cpu"}. By default a tensor goes back to
    the device it was committed from when this machine has it, else to the CPU."""
    with _opened(path) as repo, tensors_to(map_location):
        return repo.load(rev, name, trust=trust, allow=allow, progress=progress, lazy=mmap)


# -- where HEAD is, branches and tags ---------------------------------------------------------
@dataclass(frozen=True)
class Head:
    branch: str | None  # None: detached
    version: str | None  # None: no versions yet


def head(*, path: Where = ".") -> Head:
    with _opened(path) as repo:
        refs = repo.refs.view()
        return Head(refs.current_branch, refs.head)


def branches(*, path: Where = ".") -> dict[str, str]:
    """Branch name -> the id of its newest version."""
    with _opened(path) as repo:
        return repo.refs.branches()


def tags(*, path: Where = ".") -> dict[str, str]:
    with _opened(path) as repo:
        return repo.refs.tags()


@_changes_history
def branch(name: str, rev: str = "HEAD", *, path: Where = ".") -> str:
    """Create branch `name` at `rev`; returns the version id it points at."""
    with _opened(path) as repo:
        return repo.refs.create_branch(name, rev)


@_changes_history
def delete_branch(name: str, *, force: bool = False, path: Where = ".") -> str:
    """Delete a branch; refused when its versions would be lost, unless `force`."""
    with _opened(path) as repo:
        return repo.refs.delete_branch(name, force=force)


@_changes_history
def tag(name: str, rev: str = "HEAD", *, path: Where = ".") -> str:
    """Tag `rev` as `name`; returns the version id."""
    with _opened(path) as repo:
        return repo.refs.create_tag(name, rev)


@_changes_history
def delete_tag(name: str, *, path: Where = ".") -> str:
    with _opened(path) as repo:
        return repo.refs.delete_tag(name)


# -- the kernel's namespace against a version ---------------------------------------------------
@dataclass(frozen=True)
class Status:
    version: VersionInfo | None
    branch: str | None
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    new: tuple[str, ...]  # in the namespace, not in the version
    missing: tuple[str, ...]  # in the version, gone from the namespace


def status(
    namespace: Mapping[str, Any],
    names: Iterable[str] | None = None,
    *,
    path: Where = ".",
    rev: str | None = None,
    known: Mapping[str, Iterable[tuple[str, str]]] | None = None,
    fingerprints: MutableMapping[tuple[str, str], str] | None = None,
) -> Status:
    """Compare variables in `namespace` with the checked-out version (or `rev`, e.g. the
    version one kernel last committed) by content id (pickles out-of-band and hashes;
    writes nothing). `names`: the candidates for `new`.

    `known`: name -> (id, codec) pairs a caller knows stand for one stored value, e.g. the
    fingerprints (`fingerprint`, `CANONICAL` included) a value restored by a checkout has
    in its kernel, next to its stored (content id, codec). They apply to a variable when
    the version's own (content id, codec) is among them, so a restored value whose
    encoding differs from the stored bytes (numpy scalars no longer sharing a dtype
    object) counts as unchanged, while a real change does not
    match any of them. The version's own codec is tried first: an unchanged array costs
    one hash of its buffers, as before.

    `fingerprints`: a memo the caller owns, (name, codec) -> the fingerprint that name's
    value has now; read before hashing and filled with what was hashed. A kernel seeds
    it with the values it knows have not changed since (`session.witness`)."""
    memo: MutableMapping[tuple[str, str], str] = {} if fingerprints is None else fingerprints
    with _opened(path) as repo:
        sha = repo.refs.head() if rev is None else repo.resolve(rev)
        if sha is None:
            candidates = tuple(sorted(names or ()))
            return Status(None, repo.refs.current_branch(), (), (), candidates, ())
        entries = repo.manifest(sha).variables
        changed, unchanged, missing = [], [], []
        for name, entry in entries.items():
            if not is_variable_name(name):
                continue  # a damaged entry's name: no namespace can hold it (checkout reports it)
            if name not in namespace:
                missing.append(name)
            elif _matches(
                repo, namespace[name], name, (entry.content_id, entry.codec), (known or {}).get(name, ()), memo
            ):
                unchanged.append(name)
            else:
                changed.append(name)
        new = sorted(n for n in (names or ()) if n not in entries and n in namespace)
        return Status(
            repo.info(sha), repo.refs.current_branch(), tuple(changed), tuple(unchanged), tuple(new), tuple(missing)
        )


def _matches(
    repo: Repo,
    obj: Any,
    name: str,
    stored: tuple[str, str],
    known: Iterable[tuple[str, str]],
    memo: MutableMapping[tuple[str, str], str],
) -> bool:
    """Whether `obj` is the value stored as `stored` (content id, codec): its fingerprint
    by that codec is the id, or matches one of the `known` pairs standing for it. Each
    codec hashes `obj` at most once; the stored codec's failure to encode `obj` raises
    (SerializationError: the caller decides), another's only rules that pair out."""
    aliases = set(known)
    pairs = {stored} | aliases if stored in aliases else {stored}
    ids: dict[str, set[str]] = {}
    for content_id, codec in pairs:
        ids.setdefault(codec, set()).add(content_id)
    for codec in [stored[1], *sorted(ids.keys() - {stored[1]})]:
        fp = memo.get((name, codec))
        if fp is None:
            try:
                fp = _canonical(obj) if codec == CANONICAL else repo.fingerprint(obj, name, codec)
            except (SerializationError, ValueError):
                if codec == stored[1]:
                    raise
                continue
            memo[name, codec] = fp
        if fp in ids[codec]:
            return True
    return False


# Not a codec: the pseudo-codec of `fingerprint(..., codec=CANONICAL)`.
CANONICAL = "canonical"


def fingerprint(obj: Any, name: str = "obj", *, path: Where = ".", codec: str | None = None) -> str:
    """The content id `obj` would get if committed now (hashes, writes nothing); `codec`
    to compare with a version stored with that codec (see `VariableEntry.codec`).

    `codec=CANONICAL`: a fingerprint of the value itself rather than of how a codec lays
    it out, equal for values that differ only in what they share with the rest of the
    process (numpy dtype objects: a restored estimator's scalars no longer share the
    dtype its arrays use).
    No version stores it; a kernel keeps it to recognise a value it committed or checked
    out (`status(known=...)`). Large buffers are hashed in place, never copied; needs no
    repository."""
    if codec == CANONICAL:
        return _canonical(obj, name)
    with _opened(path) as repo:
        return repo.fingerprint(obj, name, codec)


class _CanonicalPickler(pickle.Pickler):
    """Protocol 5, buffers out-of-band; a numpy dtype becomes a persistent id naming it
    (so it is never memoized: sharing the process's dtype singletons or not pickles the
    same); torch tensors hand their storage over as the codecs do."""

    def persistent_id(self, obj: Any) -> Any:
        if type(obj).__module__.startswith("numpy") and isinstance(obj, sys.modules["numpy"].dtype):
            plain = obj.fields is None and obj.subdtype is None
            return "numpy.dtype:" + (obj.str if plain else repr(obj.descr))
        return None

    def reducer_override(self, obj: Any) -> Any:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(obj, torch.Tensor):
            return reduce_tensor(obj)
        return NotImplemented


def _canonical(obj: Any, name: str = "obj") -> str:
    buffers: list[pickle.PickleBuffer] = []
    f = io.BytesIO()
    try:
        _CanonicalPickler(f, protocol=5, buffer_callback=buffers.append).dump(obj)
        hashes = [digest(b.raw()) for b in buffers]
    except Exception as exc:
        raise SerializationError(name, name, exc) from exc
    return digest(json.dumps([digest(f.getvalue()), hashes]).encode())


def reproduce(
    rev: str = "HEAD", *, path: Where = ".", tolerance: float = 0.0, timeout: float = 600.0
) -> ReproduceReport:
    """Re-run the cells `rev` recorded (its history.py) in a fresh kernel, in a temporary
    copy of the notebook's folder (jupyter_mvc's own magics skipped: the run writes no
    version), and compare each stored variable with what the run produced: bit-identical
    by content id, else by value (arrays: max |delta| <= `tolerance`; DataFrames:
    pandas.testing), and the scalar metrics. `timeout`: seconds per cell. Never touches
    the caller's kernel or files."""
    from .reproduction import runner

    folder = path.root if isinstance(path, Repo) else Path(path)
    with _opened(path) as repo:
        return runner.reproduce(repo, rev, folder, tolerance=tolerance, timeout=timeout)


# -- housekeeping ---------------------------------------------------------------------------------
def fsck(*, path: Where = ".") -> FsckReport:
    """Verify every object every reachable version needs."""
    with _opened(path) as repo:
        return maintenance.fsck(repo)


def gc(*, path: Where = ".", grace_seconds: float = 3600.0) -> GcReport:
    """Remove objects no version reaches (older than the grace period)."""
    with _opened(path) as repo:
        return maintenance.gc(repo, grace_seconds)


def trust(global_name: str, *, path: Where = ".") -> None:
    """Let `module.name` load from this repository's versions: added to your own
    allow-list for it (in your config folder, never in the repository)."""
    with _opened(path) as repo:
        repo.config.trust(global_name)


def data_dir(*, path: Where = ".") -> Path:
    """Where jupyter_mvc keeps its own files in this repository (`<gitdir>/mvc`)."""
    with _opened(path) as repo:
        return repo.mvc_dir

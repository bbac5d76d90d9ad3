"""Repo = object store + Git history: commit, log, show, checkout, diff, branches, tags,
fsck and gc. Every face (API, magics, widgets, server, CLI) goes through this class.

Layout inside the user's git dir:
  refs/mvc/heads/<branch>, refs/mvc/tags/<tag>   versions (real Git commits)
  refs/mvc/HEAD                                  symbolic ref to the current branch, or a
                                                 commit id when detached
  mvc/objects/ab/cdef…                           chunks (see store.py)
  mvc/config.json                                per-repository settings (trusted globals)
"""
from __future__ import annotations

import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from . import codecs, deltas, environment, secrets
from .errors import (
    ConcurrentUpdateError, CorruptObjectError, InvalidNameError, ManifestError, MvcError,
    NothingToCommitError, RefExistsError, RefLockedError, RevisionError, SecretsFoundError,
    StorageError, VariableNotFoundError,
)
from .gitrepo import GitRepo
from .objects import (
    FsckReport, GcReport, Manifest, Problem, Stream, VariableChange, VariableEntry, Version,
    VersionDiff, VersionInfo, jsonable,
)
from .store import ObjectStore, digest, validate_oid

HEAD_REF = "refs/mvc/HEAD"
BRANCHES = "refs/mvc/heads/"
TAGS = "refs/mvc/tags/"
DEFAULT_BRANCH = "main"
SUMMARY_TRAILER = "Mvc-Summary: "
PACK_BELOW = 64 << 10  # buffers smaller than this share one packed stream
CORE_FILES = ("manifest.json", "metrics.json", "params.json", "env.json")
_EXTRA_FILE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
_REV = re.compile(r"\A(?P<base>[^~^]+)(?P<suffix>(?:[~^][0-9]*)*)\Z")
_HEX = re.compile(r"\A[0-9a-f]{4,40}\Z")
_CAS_ATTEMPTS = 200
_LOCK_PATIENCE = 2.0  # seconds to wait for a ref lock before calling it stale


@dataclass
class CheckoutResult:
    version: VersionInfo
    objects: dict[str, Any]
    failed: dict[str, MvcError] = field(default_factory=dict)
    branch: str | None = None  # the branch HEAD now follows (None: detached or not moved)
    moved_head: bool = False
    left_behind: str | None = None  # a detached version no ref reaches any more (gc will take it)


class Repo:
    def __init__(self, gitrepo: GitRepo, created: bool = False):
        self.git = gitrepo
        self.created = created
        self.mvc_dir = gitrepo.git_dir / "mvc"
        self.store = ObjectStore(self.mvc_dir)

    @classmethod
    def open(cls, path: str | os.PathLike = ".", create: bool = True) -> "Repo":
        """The repository of the Git repo holding `path`; with `create`, a new Git repo
        is made at `path` when there is none (`repo.created` says so)."""
        gitrepo, created = GitRepo.discover(path, create=create)
        return cls(gitrepo, created)

    @property
    def root(self) -> Path:
        return self.git.work_tree or self.git.git_dir

    def close(self) -> None:
        self.store.close()
        self.git.close()

    def __enter__(self) -> "Repo":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- HEAD, branches, tags ----------------------------------------------------------------
    def current_branch(self) -> str | None:
        """The branch new versions go to; None when HEAD is detached."""
        target = self.git.symbolic_ref(HEAD_REF)
        if target is None:
            return None if self.git.read_ref(HEAD_REF) else DEFAULT_BRANCH
        return target.removeprefix(BRANCHES)

    def head(self) -> str | None:
        return self.git.read_ref(HEAD_REF)

    def branches(self) -> dict[str, str]:
        return {r.removeprefix(BRANCHES): sha for r, sha in self.git.refs(BRANCHES).items()}

    def tags(self) -> dict[str, str]:
        return {r.removeprefix(TAGS): sha for r, sha in self.git.refs(TAGS).items()}

    def create_branch(self, name: str, rev: str = "HEAD") -> str:
        self.git.check_ref_name("branch", name)
        sha = self.resolve(rev)
        if not self.git.update_ref(BRANCHES + name, sha, None, f"branch: created from {rev}"):
            raise RefExistsError("branch", name)
        return sha

    def switch_branch(self, name: str) -> str:
        """Make `name` the current branch (it must exist); returns its tip."""
        sha = self.branches().get(name)
        if sha is None:
            raise RevisionError(name, f"no branch named {name!r} (branches: {', '.join(sorted(self.branches())) or 'none'})")
        self.git.set_symbolic_ref(HEAD_REF, BRANCHES + name)
        return sha

    def delete_branch(self, name: str, force: bool = False) -> str:
        branches = self.branches()
        if name not in branches:
            raise RevisionError(name, "no branch by that name")
        if name == self.current_branch():
            raise InvalidNameError("branch", name, "it is the current branch",
                                   "Switch to another branch first.")
        sha = branches[name]
        if not force and not self._reachable_from_others(sha, BRANCHES + name):
            raise InvalidNameError(
                "branch", name, "its versions are on no other branch or tag and would be lost",
                "Merge or tag them first, or delete with force=True.")
        self.git.delete_ref(BRANCHES + name, sha)
        return sha

    def _reachable_from_others(self, sha: str, ref: str) -> bool:
        """Whether `sha` stays reachable once `ref` is gone."""
        others = [r for r in self.git.refs("refs/mvc/") if r != ref]
        return bool(others) and sha in set(self.git.rev_list(others))

    def create_tag(self, name: str, rev: str = "HEAD") -> str:
        self.git.check_ref_name("tag", name)
        sha = self.resolve(rev)
        if not self.git.update_ref(TAGS + name, sha, None, f"tag: {rev}"):
            raise RefExistsError("tag", name)
        return sha

    def delete_tag(self, name: str) -> str:
        sha = self.tags().get(name)
        if sha is None:
            raise RevisionError(name, "no tag by that name")
        self.git.delete_ref(TAGS + name, sha)
        return sha

    # -- revisions -----------------------------------------------------------------------------
    def resolve(self, rev: str = "HEAD") -> str:
        """Full id of a version: HEAD, HEAD~N, HEAD^, branch, tag, id prefix (and suffixes
        on any of them, e.g. `main~2`)."""
        if not isinstance(rev, str):
            raise RevisionError(str(rev), "a revision is a string")
        m = _REV.match(rev.strip())
        if not m:
            raise RevisionError(rev, "not a revision")
        base, suffix = m["base"], m["suffix"]
        if base in ("HEAD", "@"):
            if self.head() is None:
                raise RevisionError(rev, "there are no versions yet (commit one first)")
            target = HEAD_REF
        elif base in self.branches():
            target = BRANCHES + base
        elif base in self.tags():
            target = TAGS + base
        elif _HEX.match(base):
            target = base
        else:
            raise RevisionError(rev, f"no branch, tag or version id {base!r}")
        try:
            sha = self.git.resolve(target + suffix)
        except RevisionError as exc:
            why = "history is not that long" if suffix and exc.why == "no such version" else exc.why
            raise RevisionError(rev, why) from None
        if target == base and self.git.read_file(sha, "manifest.json") is None:
            raise RevisionError(rev, "that is a Git commit but not a jupyter_mvc version")
        return sha

    # -- commit -------------------------------------------------------------------------------
    def commit(self, objects: Mapping[str, Any], message: str, *, metrics: Mapping | None = None,
               params: Mapping | None = None, files: Mapping[str, bytes | str] | None = None,
               env: Mapping | None = None, allow_secrets: bool = False) -> VersionInfo:
        """Snapshot `objects` (name -> live object) as a new version on the current branch.

        All objects are serialised and scanned for credentials before anything is written,
        so an unpicklable object or a leaked token leaves no trace. Chunks are durable
        before the ref moves; the ref moves with compare-and-swap and retries on top of
        concurrent commits, so none is lost.
        """
        if not objects:
            raise NothingToCommitError()
        if not isinstance(message, str) or not message.strip():
            raise InvalidNameError("commit message", str(message), "it is empty",
                                   "Say what this version is, e.g. -m 'baseline lr=0.1'.")
        for name in objects:
            _check_variable_name(name)
        extra = dict(files or {})
        for fname in extra:
            if not _EXTRA_FILE.match(fname) or fname in CORE_FILES:
                raise InvalidNameError("file", fname, "extra files need a plain name that is not one of "
                                       + ", ".join(CORE_FILES), "Use e.g. notebook.ipynb or history.py.")
        encoded = {name: codecs.encode(name, obj) for name, obj in objects.items()}
        extra_bytes = {n: c.encode() if isinstance(c, str) else bytes(c) for n, c in extra.items()}
        if not allow_secrets:
            findings = secrets.scan_files(extra_bytes) + secrets.scan_skeletons(
                (n, e.skeleton) for n, e in encoded.items())
            if findings:
                raise SecretsFoundError(findings)
        metrics_json = normalize_metrics(metrics or {})
        try:
            return self._write_version(encoded, extra_bytes, metrics_json, params, env, message)
        except OSError as exc:
            if isinstance(exc, MvcError):
                raise
            raise StorageError(str(self.git.git_dir), exc) from exc

    def _write_version(self, encoded, extra_bytes, metrics_json, params, env, message) -> VersionInfo:
        manifest = self._store_variables(encoded)
        blobs = {
            "manifest.json": _json_bytes(manifest.to_json()),
            "metrics.json": _json_bytes(metrics_json),
            "params.json": _json_bytes(jsonable(dict(params or {}))),
            "env.json": _json_bytes(dict(env) if env is not None else environment.capture(self.git.user_head())),
        }
        blobs.update(extra_bytes)
        tree = self.git.write_tree({n: self.git.write_blob(b) for n, b in blobs.items()})
        summary = {"variables": list(manifest.variables), "metrics": headline_metrics(metrics_json)}
        full_message = f"{message.strip()}\n\n{SUMMARY_TRAILER}{json.dumps(summary, separators=(',', ':'))}"
        sha = self._advance_head(tree, full_message)
        return self._info(self.git.log([sha], limit=1)[0], {}, sha)

    def _store_variables(self, encoded: Mapping[str, codecs.Encoded]) -> Manifest:
        plans = {name: _layout(enc) for name, enc in encoded.items()}
        all_buffers = [buf for plan in plans.values() for buf in plan[0]]
        parent = self._parent_streams()
        bases: list[Stream | None] = []
        for name, (datas, _locations) in plans.items():
            old = parent.get(name, ())  # the same variable's streams, position by position
            bases += [old[k] if k < len(old) else None for k in range(len(datas))]
        streams, _written = self.store.put_many(all_buffers, bases)
        entries, i = {}, 0
        for name, enc in encoded.items():
            datas, locations = plans[name]
            mine = streams[i : i + len(datas)]
            i += len(datas)
            entries[name] = _entry(name, enc, mine[0], tuple(mine[1:]), locations)
        return Manifest(entries)

    def _parent_streams(self) -> dict[str, tuple[Stream, ...]]:
        """name -> [skeleton, streams...] of the current HEAD version: the bases that new
        chunks may be stored as deltas against (none if there is no readable HEAD)."""
        head = self.head()
        if head is None:
            return {}
        try:
            manifest = self.manifest(head)
        except MvcError:
            return {}
        return {name: (e.skeleton, *e.streams) for name, e in manifest.variables.items()}

    def _advance_head(self, tree: str, message: str) -> str:
        """Commit `tree` on top of the current branch (or detached HEAD), retrying the
        compare-and-swap until it lands."""
        locked_since = None
        for attempt in range(_CAS_ATTEMPTS):
            branch_ref = self.git.symbolic_ref(HEAD_REF)
            detached = branch_ref is None and self.git.read_ref(HEAD_REF) is not None
            ref = HEAD_REF if detached else (branch_ref or BRANCHES + DEFAULT_BRANCH)
            parent = self.git.read_ref(ref)
            sha = self.git.write_commit(tree, [parent] if parent else [], message)
            try:
                moved = self.git.update_ref(ref, sha, parent, "commit: " + message.splitlines()[0][:60])
            except RefLockedError:
                # A live git holds a ref lock for milliseconds; one that stays is stale.
                locked_since = locked_since or time.monotonic()
                if time.monotonic() - locked_since > _LOCK_PATIENCE:
                    raise
                moved = False
            if moved:
                if branch_ref is None and not detached:
                    self.git.set_symbolic_ref(HEAD_REF, ref)
                return sha
            time.sleep(random.uniform(0.001, 0.01) * min(attempt + 1, 10))
        raise ConcurrentUpdateError(ref, _CAS_ATTEMPTS)

    def fingerprint(self, obj: Any, name: str = "obj") -> str:
        """The content id `obj` would get if committed now (hashes, writes nothing)."""
        enc = codecs.encode(name, obj)
        datas, locations = _layout(enc)
        streams = [self.store.plan(d) for d in datas]
        return _entry(name, enc, streams[0], tuple(streams[1:]), locations).content_id

    # -- reading history --------------------------------------------------------------------
    def log(self, rev: str | None = None, limit: int | None = None, all: bool = False) -> list[VersionInfo]:
        """Versions reachable from `rev` (default HEAD), newest first; `all`: from every
        branch and tag."""
        if all:
            revs = sorted(set(self.branches().values()) | set(self.tags().values()) | ({self.head()} - {None}))
        else:
            if rev is None and self.head() is None:
                return []
            revs = [self.resolve(rev or "HEAD")]
        decorations = self._decorations()
        head = self.head()
        return [self._info(r, decorations, head) for r in self.git.log(revs, limit)]

    def _decorations(self) -> dict[str, tuple[list[str], list[str]]]:
        out: dict[str, tuple[list[str], list[str]]] = {}
        for name, sha in sorted(self.branches().items()):
            out.setdefault(sha, ([], []))[0].append(name)
        for name, sha in sorted(self.tags().items()):
            out.setdefault(sha, ([], []))[1].append(name)
        return out

    def _info(self, rec, decorations, head) -> VersionInfo:
        message, summary = _split_trailer(rec.message)
        branches, tags = decorations.get(rec.sha, ([], []))
        return VersionInfo(
            id=rec.sha, parents=rec.parents, message=message, author=rec.author, time=rec.time,
            variables=tuple(summary.get("variables", ())), metrics=dict(summary.get("metrics", {})),
            branches=tuple(branches), tags=tuple(tags), is_head=rec.sha == head,
        )

    def info(self, rev: str = "HEAD") -> VersionInfo:
        sha = self.resolve(rev)
        return self._info(self.git.log([sha], limit=1)[0], self._decorations(), self.head())

    def manifest(self, sha: str) -> Manifest:
        raw = self.git.read_file(sha, "manifest.json")
        if raw is None:
            raise ManifestError(sha[:8], "manifest.json is missing")
        try:
            manifest = Manifest.from_json(json.loads(raw))
        except (ValueError, KeyError, TypeError) as exc:
            raise ManifestError(sha[:8], f"manifest.json does not parse ({exc})") from None
        for entry in manifest.variables.values():
            for oid in entry.object_ids():
                validate_oid(oid)
        return manifest

    def _json_file(self, sha: str, name: str) -> dict:
        raw = self.git.read_file(sha, name)
        return json.loads(raw) if raw else {}

    def show(self, rev: str = "HEAD") -> Version:
        sha = self.resolve(rev)
        return Version(
            info=self.info(sha), manifest=self.manifest(sha),
            metrics=self._json_file(sha, "metrics.json"), params=self._json_file(sha, "params.json"),
            env=self._json_file(sha, "env.json"), files=tuple(self.git.file_names(sha)),
        )

    def read_file(self, rev: str, name: str) -> bytes:
        sha = self.resolve(rev)
        data = self.git.read_file(sha, name)
        if data is None:
            raise VariableNotFoundError(name, sha[:8], self.git.file_names(sha))
        return data

    # -- loading ------------------------------------------------------------------------------
    def _allowed_globals(self, allow: Iterable[str]) -> set[str]:
        return set(allow) | set(self.config().get("trusted_globals", []))

    def _load_entry(self, sha: str, entry: VariableEntry, trust: bool, allow: set[str]) -> Any:
        try:
            skeleton = self.store.read_stream(entry.skeleton)
            datas = [self.store.read_stream(s) for s in entry.streams]
        except CorruptObjectError as exc:
            raise CorruptObjectError(exc.oid, exc.why, entry.name, sha[:8]) from None
        views = [memoryview(d) for d in datas]
        try:
            buffers = [views[s][off : off + n] for s, off, n in entry.buffers]
        except IndexError:
            raise ManifestError(sha[:8], f"variable {entry.name!r} points at a missing stream") from None
        return codecs.decode(skeleton, buffers, trust=trust, allow=allow, variable=entry.name, version=sha[:8])

    def load(self, rev: str, name: str, *, trust: bool = False, allow: Iterable[str] = ()) -> Any:
        """One variable of a version, for a serving process. Raises on any problem."""
        sha = self.resolve(rev)
        manifest = self.manifest(sha)
        if name not in manifest.variables:
            raise VariableNotFoundError(name, sha[:8], list(manifest.variables))
        return self._load_entry(sha, manifest.variables[name], trust, self._allowed_globals(allow))

    def checkout(self, rev: str = "HEAD", names: Iterable[str] | None = None, *, move_head: bool | None = None,
                 new_branch: str | None = None, trust: bool = False, allow: Iterable[str] = ()) -> CheckoutResult:
        """Load a version's variables (all, or `names`). Variables that fail to load (corrupt,
        untrusted) are reported in `failed`; the others still load.

        Like `git checkout`: checking out every variable moves HEAD (onto the branch if
        `rev` names one, else detached), unless `move_head=False`; `new_branch` creates a
        branch at `rev` and switches to it.
        """
        sha = self.resolve(rev)
        manifest = self.manifest(sha)
        wanted = list(manifest.variables) if names is None else list(names)
        missing = [n for n in wanted if n not in manifest.variables]
        if missing:
            raise VariableNotFoundError(missing[0], sha[:8], list(manifest.variables))
        allowed = self._allowed_globals(allow)
        result = CheckoutResult(version=self.info(sha), objects={})
        for name in wanted:
            try:
                result.objects[name] = self._load_entry(sha, manifest.variables[name], trust, allowed)
            except MvcError as exc:
                result.failed[name] = exc
        if move_head is None:
            move_head = names is None
        if new_branch or move_head:
            result.left_behind = self._detached_only(exclude=sha)
        if new_branch:
            self.create_branch(new_branch, sha)
            self.switch_branch(new_branch)
            result.branch, result.moved_head = new_branch, True
        elif move_head:
            if rev in self.branches():
                self.switch_branch(rev)
                result.branch = rev
                result.moved_head = True
            elif sha != self.head():  # like `git checkout HEAD`: staying put never detaches
                self.git.update_ref(HEAD_REF, sha, self.head(), f"checkout: {rev}")
                result.moved_head = True
        if not result.moved_head:
            result.left_behind = None
        return result

    def _detached_only(self, exclude: str) -> str | None:
        """The detached HEAD's version if no branch or tag reaches it (moving HEAD away
        would leave it for gc), else None."""
        if self.git.symbolic_ref(HEAD_REF) is not None:
            return None
        head = self.head()
        if head is None or head == exclude:
            return None
        return None if self._reachable_from_others(head, HEAD_REF) else head

    # -- diff --------------------------------------------------------------------------------
    def diff(self, old: str, new: str = "HEAD", *, trust: bool = False, allow: Iterable[str] = ()) -> VersionDiff:
        """Variables added/removed/changed (with per-array change counts and max |delta|),
        params and scalar metrics that differ."""
        a, b = self.show(old), self.show(new)
        allowed = self._allowed_globals(allow)
        changes = []
        for name in sorted(a.manifest.variables.keys() | b.manifest.variables.keys()):
            ea, eb = a.manifest.variables.get(name), b.manifest.variables.get(name)
            if ea is None or eb is None:
                changes.append(VariableChange(name, "added" if ea is None else "removed",
                                              ea and ea.summary, eb and eb.summary))
            elif ea.content_id == eb.content_id:
                changes.append(VariableChange(name, "unchanged", ea.summary, eb.summary))
            else:
                tensors: tuple = ()
                if _has_arrays(ea) or _has_arrays(eb):
                    try:
                        tensors = tuple(deltas.compare(self._load_entry(a.info.id, ea, trust, allowed),
                                                       self._load_entry(b.info.id, eb, trust, allowed)))
                    except MvcError:
                        tensors = ()  # summaries still show; the numbers need loadable data
                changes.append(VariableChange(name, "changed", ea.summary, eb.summary, tensors))
        return VersionDiff(
            old=a.info, new=b.info, variables=tuple(changes),
            params=_dict_diff(a.params, b.params),
            metrics=_dict_diff(a.metrics.get("scalars", {}), b.metrics.get("scalars", {})),
        )

    # -- integrity and housekeeping ----------------------------------------------------------
    def _all_roots(self) -> list[str]:
        refs = list(self.git.refs("refs/mvc/").values())
        head = self.head()
        return sorted(set(refs) | ({head} if head else set()))

    def versions(self) -> list[str]:
        """Every version any ref reaches."""
        return self.git.rev_list(self._all_roots())

    def fsck(self) -> FsckReport:
        """Verify every object every reachable version needs; report what each problem hurts."""
        problems: list[Problem] = []
        verdicts: dict[str, str | None] = {}
        versions = self.versions()
        for sha in versions:
            try:
                manifest = self.manifest(sha)
            except MvcError as exc:
                problems.append(Problem("manifest.json", str(exc), sha))
                continue
            for entry in manifest.variables.values():
                for oid, size in entry.sized_chunks():
                    if oid not in verdicts:
                        verdicts[oid] = self.store.verify(oid, size)
                    if verdicts[oid]:
                        problems.append(Problem(oid, verdicts[oid], sha, entry.name))
        return FsckReport(len(versions), len(verdicts), tuple(problems))

    def gc(self, grace_seconds: float = 3600.0) -> GcReport:
        """Remove objects no version reaches and stale temp files, if older than the grace
        period (which protects commits in flight in other processes)."""
        cutoff = time.time() - grace_seconds
        temp = self.store.remove_stale_temp_files(cutoff)
        reachable: set[str] = set()
        for sha in self.versions():
            for entry in self.manifest(sha).variables.values():
                reachable.update(entry.object_ids())
        # A reachable delta needs its base, and that base's base, whatever refers to them.
        frontier = list(reachable)
        while frontier:
            base = self.store.delta_base(frontier.pop())
            if base is not None and base not in reachable:
                reachable.add(base)
                frontier.append(base)
        unreachable = [oid for oid in self.store.iter_oids() if oid not in reachable]
        removed, freed = self.store.remove(unreachable, cutoff)
        return GcReport(removed, freed, temp, len(reachable))

    # -- configuration ------------------------------------------------------------------------
    def config(self) -> dict:
        path = self.mvc_dir / "config.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def trust(self, global_name: str) -> None:
        """Add `module.name` to this repository's safe-load allow-list."""
        if not re.match(r"\A[A-Za-z_][\w.]*\.[A-Za-z_]\w*\Z", global_name):
            raise InvalidNameError("global", global_name, "expected module.name",
                                   "Give the name the refusal printed, e.g. mypkg.models.Net.")
        cfg = self.config()
        names = sorted(set(cfg.get("trusted_globals", [])) | {global_name})
        cfg["trusted_globals"] = names
        self.mvc_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.mvc_dir / f"config.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(cfg, indent=2))
        os.replace(tmp, self.mvc_dir / "config.json")


# -- helpers private to the repo layer ---------------------------------------------------------
def _check_variable_name(name: object) -> None:
    if not isinstance(name, str) or not name.isidentifier():
        raise InvalidNameError("variable", str(name), "a variable name must be a Python identifier",
                               "Use a name like `model` or `X_train`.")


def _layout(enc: codecs.Encoded) -> tuple[list, tuple[tuple[int, int, int], ...]]:
    """Stream contents [skeleton, pack?, large...] and where each pickle buffer lies.
    Small buffers share one packed stream so a forest is not 800 tiny files."""
    datas: list = [enc.skeleton]
    small = [i for i, b in enumerate(enc.buffers) if b.nbytes < PACK_BELOW]
    locations: list[tuple[int, int, int]] = [(0, 0, 0)] * len(enc.buffers)
    if small:
        datas.append(b"".join(enc.buffers[i] for i in small))
        offset = 0
        for i in small:
            n = enc.buffers[i].nbytes
            locations[i] = (0, offset, n)
            offset += n
    for i, b in enumerate(enc.buffers):
        if b.nbytes >= PACK_BELOW:
            locations[i] = (len(datas) - 1, 0, b.nbytes)
            datas.append(b)
    return datas, tuple(locations)


def _entry(name: str, enc: codecs.Encoded, skeleton: Stream, streams: tuple[Stream, ...],
           locations) -> VariableEntry:
    # Locations count streams after the skeleton from 0, as VariableEntry.buffers does.
    content_id = digest(json.dumps(
        [skeleton.chunks, [s.chunks for s in streams], [list(l) for l in locations]]).encode())
    return VariableEntry(name=name, type=enc.type_name, codec=codecs.CODEC, size=enc.size,
                         summary=enc.summary, content_id=content_id, skeleton=skeleton,
                         streams=streams, buffers=locations)


def _has_arrays(entry: VariableEntry) -> bool:
    return "shape" in entry.summary or "parameters" in entry.summary or entry.streams != ()


def _dict_diff(a: Mapping, b: Mapping) -> dict:
    return {k: (a.get(k), b.get(k)) for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)}


def _split_trailer(message: str) -> tuple[str, dict]:
    lines = message.rstrip("\n").split("\n")
    if lines and lines[-1].startswith(SUMMARY_TRAILER):
        try:
            summary = json.loads(lines[-1][len(SUMMARY_TRAILER):])
        except ValueError:
            summary = {}
        return "\n".join(lines[:-1]).rstrip("\n"), summary if isinstance(summary, dict) else {}
    return message, {}


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=True, allow_nan=False) + "\n").encode()


def normalize_metrics(metrics: Mapping) -> dict:
    """{"scalars": {name: value}, "series": {name: [[step, value], ...]}} from a mapping of
    name -> number, list of numbers (steps 0..n-1), or list of (step, value) pairs."""
    scalars, series = {}, {}
    for name, value in metrics.items():
        if name == "scalars" and isinstance(value, Mapping):  # already structured
            scalars.update({str(k): _number(k, v) for k, v in value.items()})
            continue
        if name == "series" and isinstance(value, Mapping):
            series.update({str(k): _series(k, v) for k, v in value.items()})
            continue
        if isinstance(value, (list, tuple)) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) >= 1):
            series[str(name)] = _series(name, value)
        else:
            scalars[str(name)] = _number(name, value)
    return {"scalars": scalars, "series": series}


def _number(name, value) -> float | int | None:
    v = jsonable(value)
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
        raise InvalidNameError("metric", str(name), f"its value {value!r} is not a number",
                               "Metrics are numbers or lists of numbers; put other values in params.")
    return v


def _series(name, values) -> list[list]:
    values = values.tolist() if hasattr(values, "tolist") else list(values)
    out = []
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple)) and len(v) == 2:
            out.append([_number(name, v[0]), _number(name, v[1])])
        else:
            out.append([i, _number(name, v)])
    return out


def headline_metrics(metrics_json: dict) -> dict:
    """Scalars, plus the last value of each series: what a log line shows."""
    out = dict(metrics_json.get("scalars", {}))
    for name, points in metrics_json.get("series", {}).items():
        if points and name not in out:
            out[name] = points[-1][1]
    return out

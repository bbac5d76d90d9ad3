"""Repo = object store + Git history: commit, log, show, load, checkout and diff of versions.

Branches, tags and HEAD are `repo.refs` (refs.py); fsck/gc are functions in
maintenance.py; settings are `repo.config` (config.py). Faces never use this class
directly: they go through `jupyter_mvc.api`.

Layout inside the user's git dir: refs/mvc/... (see refs.py), mvc/objects/ and
mvc/deltas/ (the chunk store), mvc/config.json.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import codecs, environment, secrets
from ..errors import (
    FileNotInVersionError,
    FileTooLargeError,
    InvalidNameError,
    InvalidValueError,
    ManifestError,
    MvcError,
    NothingToCommitError,
    SecretsFoundError,
    StorageError,
    VariableNotFoundError,
)
from ..gitrepo import CommitRecord, GitRepo
from ..objects import (
    CommitInfo,
    Manifest,
    Progress,
    Stream,
    Version,
    VersionDiff,
    VersionInfo,
    jsonable,
)
from ..store import ObjectStore
from . import diffing, groups, packing, restoring, snapshot, tipcopies, trailer
from . import metrics as metrics_format
from .config import Config
from .refs import Refs

CORE_FILES = ("manifest.json", "metrics.json", "params.json", "env.json")
_EXTRA_FILE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,99}\Z")
# The most a version's files may hold; a larger one is refused unread as damaged or crafted
# (its size comes from the Git object header). A manifest lists ids, not data: 64 MiB is
# ~200 000 variables, or one variable of ~100 TB in 2 MiB chunks.
MANIFEST_LIMIT = 64 << 20
JSON_LIMIT = 16 << 20  # metrics.json (~500 000 curve points), params.json, env.json
FILE_LIMIT = 1 << 30  # the notebook and history.py: outputs can be large, but not more than this


@dataclass
class CheckoutResult:
    version: VersionInfo
    objects: dict[str, Any]
    failed: dict[str, MvcError] = field(default_factory=dict)
    branch: str | None = None  # the branch HEAD now follows (None: detached or not moved)
    moved_head: bool = False
    left_behind: str | None = None  # a detached version no ref reaches any more (gc will take it)
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group id -> members restored as one


class Repo:
    def __init__(self, gitrepo: GitRepo, created: bool = False):
        self.git = gitrepo
        self.created = created
        self.mvc_dir = gitrepo.git_dir / "mvc"
        self.store = ObjectStore(self.mvc_dir)
        self.refs = Refs(gitrepo)
        self.config = Config(self.mvc_dir, gitrepo.git_dir)
        self._damaged: dict[str, dict[str, str]] = {}  # version -> damaged manifest entries
        self._signers: dict[str, str | None] = {}  # version -> the trusted key that signed it

    @classmethod
    def open(cls, path: str | os.PathLike = ".", create: bool = True) -> Repo:
        """The repository of the Git repo holding `path`; with `create`, a new Git repo
        is made at `path` when there is none (`repo.created` says so)."""
        gitrepo, created = GitRepo.discover(path, create=create)
        return cls(gitrepo, created)

    @classmethod
    def init(cls, folder: str | os.PathLike) -> Repo:
        """A new repository at `folder` (which must exist), never the one around it."""
        return cls(GitRepo.init(folder), created=True)

    @property
    def root(self) -> Path:
        return self.git.work_tree or self.git.git_dir

    def close(self) -> None:
        self.store.close()
        self.git.close()

    def __enter__(self) -> Repo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def resolve(self, rev: str = "HEAD") -> str:
        return self.refs.resolve(rev)

    # -- commit -------------------------------------------------------------------------------
    def commit(
        self,
        objects: Mapping[str, Any],
        message: str,
        *,
        metrics: Mapping | None = None,
        params: Mapping | None = None,
        files: Mapping[str, bytes | str] | None = None,
        env: Mapping | None = None,
        allow_secrets: bool = False,
        carry: bool = True,
        remove: Iterable[str] = (),
        progress: Progress | None = None,
    ) -> CommitInfo:
        """Snapshot `objects` (name -> live object) as a new version on the current branch.
        With `carry` (default), HEAD's other variables are carried forward unchanged, by
        reference (zero bytes), except those in `remove`: a version is the whole tracked
        state. Variables sharing referents are stored as one group (groups.py).

        All objects are serialised and scanned for credentials before anything is written,
        so an unpicklable object or a leaked token leaves no trace. Chunks are durable
        before the ref moves; the ref moves with compare-and-swap and retries on top of
        concurrent commits, so none is lost.

        Returns the version with `added`, the bytes the store grew by: what it wrote new
        (deltas and the new version's full tip copies) less the tip copies it dropped (of
        chunks no branch or tag tip uses any more); negative if it shrank. `progress`: the stage
        ("serialising", size not known: 0), then ("storing", bytes done, bytes in all) per chunk.
        """
        remove = list(dict.fromkeys(remove))
        if not objects and not remove:
            raise NothingToCommitError()
        if not isinstance(message, str) or not message.strip():
            raise InvalidValueError(
                "commit message", message, "it is empty", "Say what this version is, e.g. -m 'baseline lr=0.1'."
            )
        for name in objects:
            snapshot.check_variable_name(name)
        extra = dict(files or {})
        for fname in extra:
            if not _EXTRA_FILE.match(fname) or fname in CORE_FILES:
                raise InvalidNameError(
                    "file",
                    fname,
                    "extra files need a plain name that is not one of " + ", ".join(CORE_FILES),
                    "Use e.g. notebook.ipynb or history.py.",
                )
        if progress is not None:
            progress("serialising", 0, 0)
        encoded, units = groups.encode(self.store, objects)
        extra_bytes = {n: c.encode() if isinstance(c, str) else bytes(c) for n, c in extra.items()}
        if not allow_secrets:
            skeletons = [*((n, e.skeleton) for n, e in encoded.items())]
            skeletons += [(groups.label(tuple(own)), whole.skeleton) for whole, own in units]
            findings = secrets.scan_files(extra_bytes) + secrets.scan_skeletons(skeletons)
            if findings:
                raise SecretsFoundError(findings)
        metrics_json = metrics_format.normalize(metrics or {})
        try:
            return self._write_version(
                encoded,
                units,
                extra_bytes,
                metrics_json,
                params,
                env,
                message,
                carry=carry,
                remove=remove,
                progress=progress,
            )
        except OSError as exc:
            if isinstance(exc, MvcError):
                raise
            raise StorageError(str(self.git.git_dir), exc) from exc

    def _write_version(
        self,
        encoded: Mapping[str, codecs.Encoded],
        units: list[tuple[codecs.Encoded, dict]],
        extra_bytes: Mapping[str, bytes],
        metrics_json: dict,
        params: Mapping | None,
        env: Mapping | None,
        message: str,
        *,
        carry: bool,
        remove: list[str],
        progress: Progress | None = None,
    ) -> CommitInfo:
        head = self.refs.head()
        parent = self._readable_manifest(head)
        if remove:
            snapshot.check_removable(remove, parent if carry else None, head[:8] if head else "")
        stored, added = packing.store_variables(self.store, encoded, self._parent_streams(parent), units, progress)
        others = {
            "metrics.json": self.git.write_blob(_json_bytes(metrics_json)),
            "params.json": self.git.write_blob(_json_bytes(jsonable(dict(params or {})))),
            "env.json": self.git.write_blob(
                _json_bytes(dict(env) if env is not None else environment.capture(self.git.user_head()))
            ),
            **{n: self.git.write_blob(b) for n, b in extra_bytes.items()},
        }

        landed_on: list[str | None] = []

        def build(tip: str | None) -> tuple[str, str]:
            # The snapshot carries forward what the tip it lands on holds (another kernel's
            # commit may have landed since `head` was read).
            landed_on.append(tip)
            manifest = stored
            if carry:
                base = parent if tip == head else self._readable_manifest(tip)
                manifest, _carried = snapshot.carry_forward(stored, base, tip, remove)
            tree = self.git.write_tree(
                {"manifest.json": self.git.write_blob(_json_bytes(manifest.to_json())), **others}
            )
            summary = trailer.Summary(tuple(manifest.variables), metrics_format.headline(metrics_json))
            return tree, trailer.encode(message, summary)

        sha = self.refs.advance(build)
        # The versions this one replaced as the tip no longer need full copies of the
        # chunks they alone used (tipcopies.py): the store's net growth is what was written
        # (deltas and the new tip copies) less the copies dropped.
        replaced = [head, *(landed_on[-1:] if landed_on and landed_on[-1] != head else [])]
        try:
            _dropped, freed = tipcopies.drop_old_tip_copies(self, tipcopies.chunks_of(self, replaced))
        except (MvcError, OSError):  # the version has landed: a copy left behind only costs space (gc)
            freed = 0
        info = self._info(self.git.log([sha], limit=1)[0], {}, sha)
        return CommitInfo.of(info, added - freed)

    def _readable_manifest(self, sha: str | None) -> Manifest | None:
        """The version's manifest, None if there is none or it cannot be read."""
        if sha is None:
            return None
        try:
            return self.manifest(sha)
        except MvcError:
            return None

    @staticmethod
    def _parent_streams(parent: Manifest | None) -> dict[str, tuple[Stream, ...]]:
        """name -> [skeleton, streams...] of the HEAD version: the bases that new chunks
        may be stored as deltas against (none if there is no readable HEAD)."""
        if parent is None:
            return {}
        return {name: (e.skeleton, *e.streams) for name, e in parent.variables.items()}

    def rm(self, names: Iterable[str], message: str | None = None) -> VersionInfo:
        """A new version without `names` (see snapshot.remove)."""
        return snapshot.remove(self, list(dict.fromkeys(names)), message)

    def fingerprint(self, obj: Any, name: str = "obj", codec: str | None = None) -> str:
        """The content id `obj` would get if committed now (hashes, writes nothing)."""
        return packing.fingerprint(self.store, obj, name, codec)

    # -- reading history --------------------------------------------------------------------
    def log(self, rev: str | None = None, limit: int | None = None, all: bool = False) -> list[VersionInfo]:
        """Versions reachable from `rev` (default HEAD), newest first; `all`: from every
        branch and tag."""
        refs = self.refs.view()
        head = refs.head
        if all:
            revs = sorted(set(refs.branches.values()) | set(refs.tags.values()) | ({head} if head else set()))
        elif rev is None:
            if head is None:
                return []
            revs = [head]
        else:
            revs = [self.resolve(rev)]
        decorations = refs.decorations()
        return [self._info(r, decorations, head) for r in self.git.log(revs, limit)]

    def _info(
        self, rec: CommitRecord, decorations: Mapping[str, tuple[list[str], list[str]]], head: str | None
    ) -> VersionInfo:
        message, summary = trailer.decode(rec.message)
        branches, tags = decorations.get(rec.sha, ([], []))
        return VersionInfo(
            id=rec.sha,
            parents=rec.parents,
            message=message,
            author=rec.author,
            time=rec.time,
            variables=summary.variables,
            metrics=summary.metrics,
            branches=tuple(branches),
            tags=tuple(tags),
            is_head=rec.sha == head,
        )

    def info(self, rev: str = "HEAD") -> VersionInfo:
        sha = self.resolve(rev)
        refs = self.refs.view()
        return self._info(self.git.log([sha], limit=1)[0], refs.decorations(), refs.head)

    def manifest(self, sha: str) -> Manifest:
        """The version's readable variable entries. The manifest is size-checked before it
        is read and parsed strictly: one that is no manifest raises ManifestError, while
        a damaged entry is left out here and fails alone on load (`damaged`)."""
        try:
            raw = self.git.read_file(sha, "manifest.json", limit=MANIFEST_LIMIT)
        except FileTooLargeError as exc:
            raise ManifestError(
                sha[:8], f"manifest.json is {exc.size} bytes, over the {MANIFEST_LIMIT}-byte limit (damaged or crafted)"
            ) from None
        if raw is None:
            raise ManifestError(sha[:8], "manifest.json is missing")
        try:
            data = json.loads(raw, parse_constant=metrics_format.no_constant)
        except (ValueError, RecursionError) as exc:
            raise ManifestError(sha[:8], f"manifest.json does not parse ({type(exc).__name__})") from None
        manifest, damaged = packing.parse_manifest(data, sha[:8])
        if damaged:
            self._damaged[sha] = damaged
        else:
            self._damaged.pop(sha, None)
        return manifest

    def damaged(self, sha: str) -> dict[str, str]:
        """Entries of the version's manifest that cannot be read: name -> why."""
        self.manifest(sha)
        return dict(self._damaged.get(sha, {}))

    def _json_file(self, sha: str, name: str) -> dict:
        """A version's JSON file as a dict; a damaged, oversized or non-object file reads as {}."""
        try:
            raw = self.git.read_file(sha, name, limit=JSON_LIMIT)
            value = json.loads(raw, parse_constant=metrics_format.no_constant) if raw else {}
        except (FileTooLargeError, ValueError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}

    def show(self, rev: str = "HEAD") -> Version:
        """A version in full, no data loaded. Metrics come back in their format whatever
        the file held ({"scalars": {name: number}, "series": {name: [[step, value]...]}},
        wrong types dropped), so no view has to guess."""
        sha = self.resolve(rev)
        return Version(
            info=self.info(sha),
            manifest=self.manifest(sha),
            metrics=metrics_format.clean(self._json_file(sha, "metrics.json")),
            params=self._json_file(sha, "params.json"),
            env=self._json_file(sha, "env.json"),
            files=tuple(self.git.file_names(sha)),
        )

    def read_file(self, rev: str, name: str) -> bytes:
        sha = self.resolve(rev)
        data = self.git.read_file(sha, name, limit=FILE_LIMIT)
        if data is None:
            raise FileNotInVersionError(name, sha[:8], self.git.file_names(sha))
        return data

    def versions(self) -> list[str]:
        """Every version any ref reaches."""
        return self.git.rev_list(self.refs.roots())

    # -- loading ------------------------------------------------------------------------------
    def _allowed_globals(self, allow: Iterable[str]) -> set[str]:
        return set(allow) | self.config.trusted_globals()

    def trusted_signer(self, sha: str) -> str | None:
        """The fingerprint of the key that signed `sha` if it is one this user trusts for
        this repository (`mvc trust --signer`), else None. Such a version loads like one
        you made yourself."""
        if sha not in self._signers:
            keys = self.config.trusted_signers()
            status, fingerprint = self.git.signatures([sha], keys).get(sha, ("N", "")) if keys else ("N", "")
            self._signers[sha] = fingerprint if status == "G" else None
        return self._signers[sha]

    def load(
        self,
        rev: str,
        name: str,
        *,
        trust: bool = False,
        allow: Iterable[str] = (),
        progress: Progress | None = None,
        lazy: bool = False,
    ) -> Any:
        """One variable of a version, for a serving process. Raises on any problem.
        `progress("loading", bytes read, bytes in all)` per chunk. `lazy`: its arrays and
        tensors are mapped from the chunk files and paged in on first touch
        (`ObjectStore.map_stream`)."""
        sha = self.resolve(rev)
        trust = trust or self.trusted_signer(sha) is not None
        manifest = self.manifest(sha)
        damaged = self._damaged.get(sha, {})
        if name in damaged:
            raise restoring.damaged_entry(sha, name, damaged[name])
        if name not in manifest.variables:
            raise VariableNotFoundError(name, sha[:8], list(manifest.variables))
        item = manifest.variables[name]
        meter = packing.Meter(progress, "loading", packing.entry_bytes(item))
        value = packing.load_entry(
            self.store, sha, item, trust=trust, allow=self._allowed_globals(allow), on_bytes=meter.on_bytes, lazy=lazy
        )
        meter.finish()
        return value

    def checkout(
        self,
        rev: str = "HEAD",
        names: Iterable[str] | None = None,
        *,
        move_head: bool | None = None,
        new_branch: str | None = None,
        trust: bool = False,
        allow: Iterable[str] = (),
        refuse: Callable[[str], str | None] | None = None,
        progress: Progress | None = None,
        lazy: bool = False,
    ) -> CheckoutResult:
        """Load a version's variables (all, or `names`). Variables that fail to load (corrupt,
        untrusted, a damaged manifest entry, a name that is no identifier, or any error the
        data raises) are reported in `failed`, each naming itself; the others still load.
        `refuse(name)`: why a name must not be restored (e.g. the kernel's reserved names),
        or None; refused names are not loaded and are reported in `failed`.

        Like `git checkout`: checking out every variable moves HEAD (onto the branch if
        `rev` names one, else detached), unless `move_head=False`; `new_branch` creates a
        branch at `rev` and switches to it. `progress("loading", bytes read, bytes in all)`
        per chunk. `lazy`: arrays and tensors page in on first touch (see `load`).
        """
        sha = self.resolve(rev)
        trust = trust or self.trusted_signer(sha) is not None
        manifest = self.manifest(sha)
        damaged = self._damaged.get(sha, {})
        wanted = [*manifest.variables, *damaged] if names is None else list(names)
        missing = [n for n in wanted if n not in manifest.variables and n not in damaged]
        if missing:
            raise VariableNotFoundError(missing[0], sha[:8], list(manifest.variables))
        result = CheckoutResult(version=self.info(sha), objects={})
        loading = restoring.expand(manifest.variables, wanted)
        meter = packing.Meter(progress, "loading", _bytes_to_load(manifest, loading, refuse))
        result.objects, result.failed, result.groups = restoring.load(
            self.store,
            sha,
            manifest,
            damaged,
            loading,
            trust=trust,
            allowed=self._allowed_globals(allow),
            refuse=refuse,
            on_bytes=meter.on_bytes,
            lazy=lazy,
        )
        meter.finish()
        if move_head is None:
            move_head = names is None
        if new_branch or move_head:
            result.left_behind = self.refs.detached_only(exclude=sha)
        if new_branch:
            self.refs.create_branch(new_branch, sha)
            self.refs.switch_branch(new_branch)
            result.branch, result.moved_head = new_branch, True
        elif move_head:
            if rev in self.refs.branches():
                self.refs.switch_branch(rev)
                result.branch, result.moved_head = rev, True
            elif sha != self.refs.head():  # like `git checkout HEAD`: staying put never detaches
                self.refs.move_head(sha, f"checkout: {rev}")
                result.moved_head = True
        if not result.moved_head:
            result.left_behind = None
        return result

    # -- diff --------------------------------------------------------------------------------
    def diff(
        self,
        old: str,
        new: str = "HEAD",
        *,
        trust: bool = False,
        allow: Iterable[str] = (),
        names: Iterable[str] | None = None,
    ) -> VersionDiff:
        """Variables added/removed/changed (with per-array change counts and max |delta|),
        params and scalar metrics that differ (see diffing.py); `names`: only those variables."""
        only = None if names is None else set(names)
        return diffing.diff(self, old, new, allowed=self._allowed_globals(allow), trust=trust, names=only)


def _bytes_to_load(manifest: Manifest, names: Iterable[str], refuse: Callable[[str], str | None] | None) -> int:
    """What loading `names` reads: each variable's streams, a group's once."""
    units: dict[str, int] = {}
    for name in names:
        item = manifest.variables.get(name)
        if item is not None and (refuse is None or not refuse(name)):
            units[item.group or name] = packing.entry_bytes(item)
    return sum(units.values())


def _json_bytes(obj: Any) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=True, allow_nan=False) + "\n").encode()

"""push, fetch, pull and clone: moving versions between a repository and a remote.

A push uploads, in this order: the packs of chunks the remote lacks (in parallel; each
pack's index after its pack), one history bundle, then each ref with compare-and-swap.
So a ref never names a version whose data is not there, and of two pushes racing to one
branch exactly one moves it; the other is refused with "fetch and merge first", and
neither side loses anything (its packs and bundle are there, unreferenced, for gc)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import DivergedError, MvcError, PushRejectedError, RemoteError, RevisionError
from ..repo import Repo
from ..repo.refs import BRANCHES, TAGS
from . import gitmirror, history, lazy, packs, remotes
from .reports import CloneReport, FetchReport, PullReport, PushReport
from .sealed import cipher_of
from .transport import Transport

Progress = Callable[[str, int, int], None]  # (what, bytes done, bytes in all)
_UPLOADS = 4  # packs in flight at once: enough to fill a link, few enough for 2 cores


def _check_format(t: Transport, remote: remotes.Remote, writing: bool) -> None:
    """The remote's layout is ours, and private exactly when this remote is configured so
    (a plain push must never land in a private remote, nor a sealed one in a plain one)."""
    marker = remotes.read_marker(t)
    if marker is None:
        if writing:
            remotes.write_marker(t, remote.encrypted)
        return
    if bool(marker.get("encrypted")) != remote.encrypted:
        state = "private (encrypted)" if marker.get("encrypted") else "not encrypted"
        raise RemoteError(
            t.url,
            f"it is {state}, unlike this repository's settings for it",
            f"Remove and add it again: mvc remote remove {remote.name}; mvc remote add {remote.name} {remote.url}",
        )


def push(
    repo: Repo,
    name: str = "origin",
    branch: str | None = None,
    *,
    all_branches: bool = False,
    tags: bool = False,
    progress: Progress | None = None,
) -> PushReport:
    start = time.perf_counter()
    remote = remotes.get(repo, name)
    t = remote.transport()
    local = repo.refs.branches()
    if all_branches:
        pushed = {f"heads/{b}": sha for b, sha in local.items()}
    else:
        b = branch or repo.refs.current_branch()
        if b is None:
            raise RevisionError(
                "HEAD", "it is detached, so there is no branch to push; name one: mvc push origin BRANCH"
            )
        if b not in local:
            raise RevisionError(b, "no such branch here (see mvc branch)")
        pushed = {f"heads/{b}": local[b]}
    if tags:
        pushed.update({f"tags/{tag}": sha for tag, sha in repo.refs.tags().items()})
    _check_format(t, remote, writing=True)
    there = history.read_refs(repo, t)
    updates: dict[str, tuple[history.RemoteRef | None, str]] = {}
    for ref, sha in pushed.items():
        old = there.get(ref)
        if old is not None and old.sha == sha:
            continue
        if old is not None and ref.startswith("tags/"):
            raise PushRejectedError(
                name, ref, f"the remote has that tag on another version ({old.sha[:8]}); tags never move"
            )
        if old is not None and not (repo.git.has_commit(old.sha) and repo.git.is_ancestor(old.sha, sha)):
            raise PushRejectedError(
                name, ref[len("heads/") :], f"the remote's branch has versions you do not have (it is at {old.sha[:8]})"
            )
        updates[ref] = (old, sha)
    if not updates:
        return PushReport(name, {}, 0, 0, 0, 0, 0, 0, time.perf_counter() - start)
    known = sorted({r.sha for r in there.values() if repo.git.has_commit(r.sha)})
    versions = repo.git.rev_list([sha for _, sha in updates.values()] + [f"^{k}" for k in known])
    needed: dict[str, int] = {}
    for sha in versions:
        for entry in repo.manifest(sha).variables.values():
            needed.update(entry.sized_chunks())
    indexes = lazy.refresh_indexes(repo, name, t)
    have = {oid for index in indexes.values() for oid in index.objects}
    missing = {oid: size for oid, size in needed.items() if oid not in have}
    todo = packs.plan(missing)  # what an interrupted push finished is in `have`: never sent twice
    sent = _upload_packs(repo, name, t, todo, sum(missing.values()), progress)
    refs = [(BRANCHES if ref.startswith("heads/") else TAGS) + ref.split("/", 1)[1] for ref in updates]
    history_bytes = history.upload_bundle(repo, t, refs, known)
    moved: dict[str, tuple[str | None, str]] = {}
    lost: list[str] = []
    for ref, (old, sha) in updates.items():
        if history.publish_ref(t, ref, sha, old):
            moved[ref] = (old.sha if old else None, sha)
            if ref.startswith("heads/"):
                _track(repo, name, ref[len("heads/") :], sha)
        else:
            lost.append(ref)
    if lost:
        raise PushRejectedError(name, ", ".join(r.split("/", 1)[1] for r in lost), "another push moved it first")
    refused = gitmirror.mirror(repo, remote.git, {ref: new for ref, (_, new) in moved.items()}) if remote.git else {}
    return PushReport(
        name,
        moved,
        versions=len(versions),
        chunks=sum(len(g) for g in todo),
        bytes_uploaded=sent,
        packs=len(todo),
        chunks_already_there=len(needed) - len(missing),
        history_bytes=history_bytes,
        seconds=time.perf_counter() - start,
        git_remote=remote.git,
        git_refused=refused,
    )


def _upload_packs(
    repo: Repo, name: str, t: Transport, groups: list[list[str]], total: int, progress: Progress | None
) -> int:
    """Build and upload `groups` as packs (`total`: their chunks' bytes, from the manifests)."""
    done = [0]
    lock = threading.Lock()
    cache = remotes.cache_dir(repo, name) / "packs"
    cache.mkdir(parents=True, exist_ok=True)

    def tick(n: int) -> None:
        with lock:
            done[0] += n
            if progress is not None:
                progress("push", done[0], total)

    def send(oids: list[str]) -> None:
        with tempfile.TemporaryDirectory(dir=repo.mvc_dir) as tmp:
            path = Path(tmp) / "pack"
            index = packs.write_pack(repo.store, oids, path, cipher_of(t))
            t.put_file(index.pack_key, path, progress=tick)
            body = packs.encode_index(index)
            t.put(packs.index_key(index.pack_id), body)  # after its pack: an index means a whole pack
            (cache / f"{index.pack_id}.idx").write_bytes(body)

    if groups:
        with ThreadPoolExecutor(min(_UPLOADS, len(groups))) as pool:
            list(pool.map(send, groups))
    return total


def _track(repo: Repo, name: str, branch: str, sha: str | None) -> None:
    ref = f"{remotes.TRACKING}{name}/{branch}"
    old = repo.git.read_ref(ref)
    if sha is None:
        if old is not None:
            repo.git.delete_ref(ref, old)
    elif old != sha:
        repo.git.update_ref(ref, sha, old, f"remote {name}")


def fetch(repo: Repo, name: str = "origin", *, prefetch: bool = False, progress: Progress | None = None) -> FetchReport:
    """History only (plus the pack indexes a lazy load needs); `prefetch` also brings
    every chunk of the remote's branches."""
    start = time.perf_counter()
    remote = remotes.get(repo, name)
    t = remote.transport()
    _check_format(t, remote, writing=False)
    there = history.read_refs(repo, t)
    bundles = history.apply_bundles(repo, t, remotes.cache_dir(repo, name))
    lazy.refresh_indexes(repo, name, t)
    for ref, r in there.items():
        if not (repo.git.has_commit(r.sha) and repo.git.has_file(r.sha, "manifest.json")):
            raise RemoteError(
                t.url, f"{ref} names {r.sha[:8]}, a version no history bundle there holds", "Push it again."
            )
    before = remotes.tracking(repo, name)
    heads = {ref[len("heads/") :]: r.sha for ref, r in there.items() if ref.startswith("heads/")}
    changed: dict[str, tuple[str | None, str | None]] = {}
    for branch in sorted(set(before) | set(heads)):
        if before.get(branch) != heads.get(branch):
            _track(repo, name, branch, heads.get(branch))
            changed[branch] = (before.get(branch), heads.get(branch))
    local_tags = repo.refs.tags()
    new_tags, conflicts = [], []
    for ref, r in sorted(there.items()):
        if ref.startswith("tags/"):
            tag = ref[len("tags/") :]
            if tag not in local_tags:
                repo.git.update_ref(TAGS + tag, r.sha, None, f"fetch {name}")
                new_tags.append(tag)
            elif local_tags[tag] != r.sha:
                conflicts.append(tag)
    fetched = _prefetch(repo, list(heads.values()), progress) if prefetch else 0
    return FetchReport(name, changed, tuple(new_tags), tuple(conflicts), bundles, fetched, time.perf_counter() - start)


def _prefetch(repo: Repo, tips: list[str], progress: Progress | None) -> int:
    wanted: dict[str, int] = {}
    for sha in repo.git.rev_list(tips):
        for entry in repo.manifest(sha).variables.values():
            wanted.update(entry.sized_chunks())
    missing = [oid for oid in wanted if not repo.store.has(oid)]
    source = lazy.RemoteChunks(repo)
    total, done = sum(wanted[o] for o in missing), 0
    for i in range(0, len(missing), 64):  # in batches: progress moves, and memory stays bounded
        batch = missing[i : i + 64]
        source(batch)
        done += sum(wanted[o] for o in batch)
        if progress is not None:
            progress("fetch", done, total)
    return source.fetched_bytes


def pull(repo: Repo, name: str = "origin", *, progress: Progress | None = None) -> PullReport:
    """Fetch, then fast-forward the current branch to the remote's; diverged: say to merge."""
    report = fetch(repo, name, progress=progress)
    branch = repo.refs.current_branch()
    if branch is None:
        raise RevisionError(
            "HEAD",
            "it is detached: switch to a branch (%mv_checkout BRANCH in a notebook, or jupyter_mvc.checkout) before pulling",
        )
    theirs = remotes.tracking(repo, name).get(branch)
    if theirs is None:
        raise RevisionError(
            f"{name}/{branch}", f"the remote has no branch {branch!r}; share yours with mvc push {name}"
        )
    ours = repo.refs.branches().get(branch)
    if ours == theirs:
        return PullReport(report, branch, ours, ours, "up to date")
    if ours is not None and repo.git.is_ancestor(theirs, ours):
        return PullReport(report, branch, ours, ours, "ahead")
    if ours is not None and not repo.git.is_ancestor(ours, theirs):
        ahead = len(repo.git.rev_list([ours, f"^{theirs}"]))
        behind = len(repo.git.rev_list([theirs, f"^{ours}"]))
        raise DivergedError(branch, f"{name}/{branch}", ahead, behind)
    if not repo.git.update_ref(BRANCHES + branch, theirs, ours, f"pull {name}: fast-forward"):
        raise MvcError(f"{branch} moved while pulling (another commit landed): pull again")
    return PullReport(report, branch, ours, theirs, "fast-forward")


def clone(
    url: str, folder: str | Path, name: str = "origin", *, prefetch: bool = False, progress: Progress | None = None
) -> CloneReport:
    """A new project folder holding the remote's history (chunks arrive lazily, or all
    now with `prefetch`); its branches become local branches. A clone that fails leaves
    nothing behind."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise RemoteError(url, f"cannot clone into {folder}: it is not empty", "Pick a new folder.")
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with Repo.init(folder) as repo:
            remote = remotes.add(repo, name, url, accept_unsafe=True)  # reading needs no compare-and-swap
            report = fetch(repo, name, prefetch=prefetch, progress=progress)
            heads = remotes.tracking(repo, name)
            for branch, sha in heads.items():
                repo.git.update_ref(BRANCHES + branch, sha, None, f"clone {url}")
            current = "main" if "main" in heads else min(heads, default=None)
            if current is not None:
                repo.refs.switch_branch(current)
            return CloneReport(folder, name, url, report, current, remote.unsafe, tuple(sorted(heads)))
    except BaseException:
        if made:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for child in folder.iterdir():
                shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
        raise

"""The public API's team verbs (re-exported by `jupyter_mvc.api`): remotes, push, fetch,
pull, clone, merge, access to private remotes. Each takes `path=` like the rest of the API (a
folder inside the project, or an open Repo) and returns the report of what it did."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InvalidValueError
from .objects import MergeResult
from .remote import access, maintenance, remotes, sync
from .remote.opening import Where, opened
from .remote.remotes import Remote
from .remote.reports import CloneReport, FetchReport, PullReport, PushReport
from .remote.sync import Progress
from .repo import Repo
from .repo.merge import merge as merge_versions


def remote_add(
    name: str,
    url: str,
    *,
    accept_unsafe: bool = False,
    encrypt: bool = False,
    passphrase: str | None = None,
    git: str | None = None,
    path: Where = ".",
) -> Remote:
    """Add a remote (s3://bucket/prefix, gs://..., az://..., file:///folder). It is probed
    first: a server that ignores conditional writes is refused unless `accept_unsafe`.
    `encrypt` makes an empty remote private: everything sealed here, readable by the
    members granted access (you first; `passphrase` too, for CI). `git`: a Git remote of
    the project that also receives the versions' history (refs/mvc/*) on each push."""
    with opened(path) as repo:
        return remotes.add(
            repo, name, url, accept_unsafe=accept_unsafe, encrypt=encrypt, passphrase=passphrase, git=git
        )


def remote_remove(name: str, *, path: Where = ".") -> Remote:
    with opened(path) as repo:
        return remotes.remove(repo, name)


def remotes_list(*, path: Where = ".") -> list[Remote]:
    with opened(path) as repo:
        return list(remotes.read(repo).values())


def push(
    remote: str = "origin",
    branch: str | None = None,
    *,
    all: bool = False,
    tags: bool = False,
    progress: Progress | None = None,
    path: Where = ".",
) -> PushReport:
    """Upload the versions of `branch` (default: the current one; `all`: every branch)
    the remote lacks, then move its branch, only if nobody else moved it first."""
    with opened(path) as repo:
        return sync.push(repo, remote, branch, all_branches=all, tags=tags, progress=progress)


def fetch(
    remote: str = "origin", *, prefetch: bool = False, progress: Progress | None = None, path: Where = "."
) -> FetchReport:
    """The remote's history (its branches become `REMOTE/BRANCH`); chunks arrive when a
    load needs them, or all now with `prefetch`."""
    with opened(path) as repo:
        return sync.fetch(repo, remote, prefetch=prefetch, progress=progress)


def pull(remote: str = "origin", *, progress: Progress | None = None, path: Where = ".") -> PullReport:
    """Fetch, then fast-forward the current branch; refuses with the merge to run when diverged."""
    with opened(path) as repo:
        return sync.pull(repo, remote, progress=progress)


def clone(
    url: str,
    folder: str | os.PathLike,
    *,
    remote: str = "origin",
    prefetch: bool = False,
    progress: Progress | None = None,
) -> CloneReport:
    """A new project folder with the remote's versions (loaded lazily unless `prefetch`)."""
    return sync.clone(url, Path(folder), remote, prefetch=prefetch, progress=progress)


# -- signed versions ------------------------------------------------------------------------------
def merge_choices(items: list[str], flag: str) -> dict[str, str]:
    """`["w=theirs", ...]` as typed after --take / --strategy -> {"w": "theirs"}."""
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise InvalidValueError(flag, item, "expected NAME=VALUE", f"e.g. {flag} model=theirs")
        out[name] = value
    return out


def merge(
    rev: str,
    message: str | None = None,
    *,
    take: dict[str, str] | None = None,
    strategy: dict[str, str] | None = None,
    trust: bool = False,
    allow: tuple[str, ...] = (),
    path: Where = ".",
) -> MergeResult:
    """Merge `rev` (a branch, `origin/main`, an id) into the current branch: a version with
    two parents, decided per variable (or co-variable group) against their common
    ancestor. Conflicts stop it before anything is written (MergeConflictError lists them
    with both sides); `take={"w": "theirs"}` resolves by side, `strategy={"w": "average"}`
    (or "task-arithmetic") combines same-shaped weights. The kernel is not touched."""
    with opened(path) as repo:
        return merge_versions(repo, rev, message, take=take, strategy=strategy, trust=trust, allow=allow)


# -- access to private remotes ------------------------------------------------------------------
def whoami() -> str:
    """Your member key (the public half of your identity): what a teammate grants."""
    me = access.identity()
    assert me is not None
    return access.public_text(me[1])


def _private(repo: Repo, remote: str):
    spec = remotes.get(repo, remote)
    if not spec.encrypted:
        raise InvalidValueError("remote", remote, "it is not private", "Access is for remotes added with --encrypt.")
    return spec


def access_list(remote: str = "origin", *, path: Where = ".") -> list[access.Member]:
    with opened(path) as repo:
        spec = _private(repo, remote)
        return access.members(spec.transport())


def access_grant(member_key: str, remote: str = "origin", *, path: Where = ".") -> access.Member:
    """Let the holder of `member_key` (mvc-x25519:..., from their `mvc access whoami`) read
    and push to this private remote."""
    with opened(path) as repo:
        spec = _private(repo, remote)
        return access.grant(spec.transport().inner, member_key)


def access_revoke(
    member: str, remote: str = "origin", *, passphrase: str | None = None, path: Where = "."
) -> tuple[access.Member, bool]:
    """Remove a member (key or fingerprint) and start a new key for everything pushed from
    now on. What they already downloaded, or could read until now, cannot be taken back.
    Returns (the member, whether passphrase access was kept: it needs the passphrase)."""
    with opened(path) as repo:
        spec = _private(repo, remote)
        result = access.revoke(spec.transport().inner, member, passphrase)
        remotes.forget_keys(spec.url)
        return result


# -- remote maintenance ---------------------------------------------------------------------------
def remote_fsck(remote: str = "origin", *, data: bool = False, path: Where = ".") -> maintenance.RemoteFsckReport:
    """Check a remote: indexes parse (and authenticate), packs are whole, every chunk a
    remote version needs is there; `data` also downloads and verifies every such chunk."""
    with opened(path) as repo:
        return maintenance.fsck(repo, remote, data=data)


def remote_gc(
    remote: str = "origin", *, grace_seconds: float = 3600.0, path: Where = "."
) -> maintenance.RemoteGcReport:
    """Remove the remote's packs no remote branch or tag needs, older than the grace period."""
    with opened(path) as repo:
        return maintenance.gc(repo, remote, grace_seconds)

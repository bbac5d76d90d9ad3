"""Branches, tags, HEAD and revisions of versions, over a `GitRepo`.

  refs/mvc/heads/<branch>, refs/mvc/tags/<tag>   versions (real Git commits)
  refs/mvc/HEAD                                  symbolic ref to the current branch, or a
                                                 commit id when detached

refs/mvc/HEAD may point nowhere else: one made symbolic to another ref (a crafted store,
`refs/heads/master`) is damaged (DamagedHeadError, saying how to reset it), so a commit
can never move a ref outside refs/mvc/.

Refs only move with compare-and-swap (`update-ref <ref> <new> <old>`), so two kernels
committing at once cannot lose a version: `advance` retries on top of the winner.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import (
    ConcurrentUpdateError,
    DamagedHeadError,
    RefDeleteRefusedError,
    RefExistsError,
    RefLockedError,
    RevisionError,
    close_matches,
)
from ..gitrepo import GitRepo
from ..objects import subject_of

HEAD_REF = "refs/mvc/HEAD"
BRANCHES = "refs/mvc/heads/"
TAGS = "refs/mvc/tags/"
ALL = "refs/mvc/"
REMOTES = "refs/mvc/remotes/"  # <remote>/<branch>: what a remote's branch was at the last fetch or push
DEFAULT_BRANCH = "main"
_REV = re.compile(r"\A(?P<base>[^~^]+)(?P<suffix>(?:[~^][0-9]*)*)\Z")
_HEX = re.compile(r"\A[0-9a-f]{4,40}\Z")
_SHORT_HEX = re.compile(r"\A[0-9a-f]{1,3}\Z")
_AMBIGUOUS_LISTED = 5  # versions an ambiguous id prefix lists
_CAS_ATTEMPTS = 200
_LOCK_PATIENCE = 2.0  # seconds to wait for a ref lock before calling it stale


def _checked_branch_ref(target: str | None) -> str | None:
    """HEAD's target if it is a branch of ours; DamagedHeadError if it is anything else."""
    if target is not None and (not target.startswith(BRANCHES) or len(target) == len(BRANCHES) or ".." in target):
        raise DamagedHeadError(target)
    return target


def _current_branch(branch_ref: str | None, head: str | None) -> str | None:
    if branch_ref is None:
        return None if head else DEFAULT_BRANCH  # detached, or no versions yet
    return branch_ref.removeprefix(BRANCHES)


@dataclass(frozen=True)
class RefsView:
    """HEAD, branches and tags as one read saw them (`Refs.view`): what a log needs,
    without a git call per question."""

    branch_ref: str | None  # the ref HEAD follows; None when detached or unborn
    head: str | None
    branches: dict[str, str]
    tags: dict[str, str]

    @property
    def current_branch(self) -> str | None:
        return _current_branch(self.branch_ref, self.head)

    def decorations(self) -> dict[str, tuple[list[str], list[str]]]:
        """sha -> (branches, tags) pointing at it."""
        out: dict[str, tuple[list[str], list[str]]] = {}
        for name, sha in sorted(self.branches.items()):
            out.setdefault(sha, ([], []))[0].append(name)
        for name, sha in sorted(self.tags.items()):
            out.setdefault(sha, ([], []))[1].append(name)
        return out


class Refs:
    def __init__(self, git: GitRepo):
        self.git = git

    # -- HEAD ------------------------------------------------------------------------------
    def _branch_ref(self) -> str | None:
        """The ref HEAD follows (refs/mvc/heads/...), None when detached or unborn;
        DamagedHeadError when it follows anything else."""
        return _checked_branch_ref(self.git.symbolic_ref(HEAD_REF))

    def current_branch(self) -> str | None:
        """The branch new versions go to; None when HEAD is detached."""
        target = self._branch_ref()
        return _current_branch(target, None if target else self.git.read_ref(HEAD_REF))

    def head(self) -> str | None:
        self._branch_ref()
        return self.git.read_ref(HEAD_REF)

    def view(self) -> RefsView:
        """HEAD, branches and tags in one git call (three or more otherwise). A HEAD the
        listing cannot settle (unborn, or at something that is no commit) is asked for as
        `head()` does."""
        rows = self.git.ref_rows(HEAD_REF, BRANCHES, TAGS)
        branches = {r.removeprefix(BRANCHES): sha for r, (sha, _, _) in rows.items() if r.startswith(BRANCHES)}
        tags = {r.removeprefix(TAGS): sha for r, (sha, _, _) in rows.items() if r.startswith(TAGS)}
        head_row = rows.get(HEAD_REF)
        if head_row is not None and head_row[1] == "commit":
            branch_ref = _checked_branch_ref(head_row[2] or None)
            return RefsView(branch_ref, head_row[0], branches, tags)
        branch_ref = self._branch_ref()
        return RefsView(branch_ref, self.git.read_ref(HEAD_REF), branches, tags)

    def move_head(self, sha: str, reason: str) -> None:
        """Detach HEAD at `sha`."""
        self.git.update_ref(HEAD_REF, sha, self.head(), reason)

    # -- branches and tags ---------------------------------------------------------------
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
            have = ", ".join(sorted(self.branches())) or "none"
            raise RevisionError(
                name, f"no branch named {name!r} (branches: {have})", close_matches(name, self.branches())
            )
        self.git.set_symbolic_ref(HEAD_REF, BRANCHES + name)
        return sha

    def delete_branch(self, name: str, force: bool = False) -> str:
        branches = self.branches()
        if name not in branches:
            raise RevisionError(name, "no branch by that name", close_matches(name, branches))
        if name == self.current_branch():
            raise RefDeleteRefusedError("branch", name, "it is the current branch", "Switch to another branch first.")
        sha = branches[name]
        if not force and not self.reachable_without(sha, BRANCHES + name):
            raise RefDeleteRefusedError(
                "branch",
                name,
                "its versions are on no other branch or tag and would be lost",
                "Merge or tag them first, or delete with force=True (%mv_branch -D).",
            )
        self.git.delete_ref(BRANCHES + name, sha)
        return sha

    def create_tag(self, name: str, rev: str = "HEAD") -> str:
        self.git.check_ref_name("tag", name)
        sha = self.resolve(rev)
        if not self.git.update_ref(TAGS + name, sha, None, f"tag: {rev}"):
            raise RefExistsError("tag", name)
        return sha

    def delete_tag(self, name: str) -> str:
        tags = self.tags()
        sha = tags.get(name)
        if sha is None:
            raise RevisionError(name, "no tag by that name", close_matches(name, tags))
        self.git.delete_ref(TAGS + name, sha)
        return sha

    # -- reachability ------------------------------------------------------------------------
    def reachable_without(self, sha: str, ref: str) -> bool:
        """Whether `sha` stays reachable once `ref` is gone."""
        others = [r for r in self.git.refs(ALL) if r != ref]
        return bool(others) and sha in set(self.git.rev_list(others))

    def detached_only(self, exclude: str) -> str | None:
        """The detached HEAD's version if no branch or tag reaches it (moving HEAD away
        would leave it for gc), else None."""
        if self._branch_ref() is not None:
            return None
        head = self.head()
        if head is None or head == exclude:
            return None
        return None if self.reachable_without(head, HEAD_REF) else head

    def roots(self) -> list[str]:
        """Every commit a ref (or the detached HEAD) points at."""
        refs = list(self.git.refs(ALL).values())
        head = self.head()
        return sorted(set(refs) | ({head} if head else set()))

    # -- revisions ---------------------------------------------------------------------------
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
        elif "/" in base and self.git.read_ref(REMOTES + base):
            target = REMOTES + base
        elif _HEX.match(base):
            target = base
        elif _SHORT_HEX.match(base):
            raise RevisionError(
                rev,
                f"no branch or tag {base!r}, and a version id prefix needs at least 4 digits",
                close_matches(base, self.names()),
                fix="Give at least 4 digits of the id (see `mvc log`), or use HEAD, HEAD~N, a branch or tag name.",
            )
        else:
            raise RevisionError(
                rev, f"no branch, tag, remote branch or version id {base!r}", close_matches(base, self.names())
            )
        try:
            sha = self.git.resolve(target + suffix)
        except RevisionError as exc:
            if target == base and len(base) < 40:
                # Git answers an ambiguous prefix as a missing one (rev-parse --quiet): ask the versions.
                return self._resolve_prefix(rev, base, suffix, exc)
            why = "history is not that long" if suffix and exc.why == "no such version" else exc.why
            raise RevisionError(rev, why) from None
        if target == base and not self.git.has_file(sha, "manifest.json"):
            raise RevisionError(rev, "that is a Git commit but not a jupyter_mvc version")
        return sha

    def names(self) -> list[str]:
        """Every name a revision can start with: HEAD, branches, tags, remote branches."""
        remote = [r.removeprefix(REMOTES) for r in self.git.refs(REMOTES)]
        return ["HEAD", *sorted(self.branches()), *sorted(self.tags()), *sorted(remote)]

    def _resolve_prefix(self, rev: str, prefix: str, suffix: str, failed: RevisionError) -> str:
        """Git did not resolve the id prefix `prefix` (none, or more than one commit starts
        with it): the one version among the commits it starts, or a RevisionError listing
        the versions it could mean."""
        versions = [sha for sha in self.git.rev_list(self.roots()) if sha.startswith(prefix)]
        if len(versions) == 1:
            return self.resolve(versions[0] + suffix)
        if not versions:
            why = "history is not that long" if suffix and failed.why == "no such version" else failed.why
            raise RevisionError(rev, why, close_matches(prefix, self.names())) from None
        shown = versions[:_AMBIGUOUS_LISTED]
        digits = max(8, len(prefix) + 1)
        while len({sha[:digits] for sha in shown}) < len(shown):
            digits += 1
        listed = []
        for sha in shown:
            records = self.git.log([sha], limit=1)
            subject = subject_of(records[0].message) if records else ""
            listed.append(f"{sha[:digits]} {subject[:40]!r}")
        more = f" (and {len(versions) - _AMBIGUOUS_LISTED} more)" if len(versions) > _AMBIGUOUS_LISTED else ""
        raise RevisionError(
            rev,
            f"ambiguous prefix {prefix!r}, matches: {', '.join(listed)}{more}",
            fix="Give more digits of the one you mean.",
        )

    # -- committing ----------------------------------------------------------------------------
    def advance(self, build: Callable[[str | None], tuple[str, str]]) -> str:
        """Commit on top of the current branch (or detached HEAD), retrying the
        compare-and-swap until it lands. `build(parent)` gives (tree, message) for the tip
        it will land on, so a version that carries its parent's variables forward is rebuilt
        on top of a commit another kernel landed first, and loses none of them."""
        locked_since = None
        ref = HEAD_REF
        for attempt in range(_CAS_ATTEMPTS):
            branch_ref = self._branch_ref()  # never a ref outside refs/mvc/heads/
            detached = branch_ref is None and self.git.read_ref(HEAD_REF) is not None
            ref = HEAD_REF if detached else (branch_ref or BRANCHES + DEFAULT_BRANCH)
            parent = self.git.read_ref(ref)
            tree, message = build(parent)
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

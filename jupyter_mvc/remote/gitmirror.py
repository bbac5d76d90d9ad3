"""History over the project's own Git remote too: after a push to object storage, the
moved refs/mvc/* refs are pushed to a Git remote of the project with explicit refspecs,
`git push --atomic`, a lease per ref, never a forced `+` refspec; rejections are read
from git's porcelain output, not assumed away. Teammates with only Git access then see
the versions (`git log refs/mvc/heads/main`), and the data stays in object storage.

A ref the Git remote holds on a version that ours does not descend from is not pushed
(the lease alone would allow rewinding it): it is reported, and nothing is forced."""

from __future__ import annotations

from ..errors import InvalidNameError
from ..repo import Repo
from ..repo.refs import BRANCHES, TAGS


def check(repo: Repo, git_remote: str) -> str:
    known = repo.git.remote_names()
    if git_remote not in known:
        raise InvalidNameError(
            "Git remote",
            git_remote,
            f"the project has no Git remote by that name (it has: {', '.join(known) or 'none'})",
            f"Add it first: git remote add {git_remote} URL",
        )
    return git_remote


def mirror(repo: Repo, git_remote: str, moved: dict[str, str]) -> dict[str, str]:
    """Push `moved` ('heads/main' -> sha) to the Git remote; returns ref -> why it was
    refused (empty: all moved)."""
    updates = {
        (BRANCHES if name.startswith("heads/") else TAGS) + name.split("/", 1)[1]: sha for name, sha in moved.items()
    }
    if not updates:
        return {}
    current = repo.git.ls_remote(git_remote, list(updates))
    refused: dict[str, str] = {}
    for ref, sha in updates.items():
        theirs = current.get(ref)
        if theirs and theirs != sha and not (repo.git.has_commit(theirs) and repo.git.is_ancestor(theirs, sha)):
            refused[ref] = f"the Git remote has {theirs[:8]} there, which {sha[:8]} does not descend from"
    todo = {ref: sha for ref, sha in updates.items() if ref not in refused and current.get(ref) != sha}
    if todo:
        refused.update(repo.git.push_leased(git_remote, todo, {ref: current.get(ref) for ref in todo}))
    return refused

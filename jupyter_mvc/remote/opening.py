"""Opening a repository that fetches the chunks it lacks from its remotes. The remote
layer (object-store clients, crypto, packs) is imported only for a repository that has
remotes, so `mvc log`, `%mv_status` or a load in a project without any stay light."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from ..repo import Repo

CONFIG_FILE = "remotes.json"  # in the repository's mvc folder: name -> remote

Where = str | os.PathLike | Repo


def has_remotes(repo: Repo) -> bool:
    return (repo.mvc_dir / CONFIG_FILE).exists()


def attach(repo: Repo) -> Repo:
    """Give the repository's store a lazy source when it has remotes (else leave it)."""
    if has_remotes(repo):
        from .lazy import attach as attach_remotes

        attach_remotes(repo)
    return repo


@contextmanager
def opened(where: Where, create: bool = False) -> Iterator[Repo]:
    """The repository at `where` (a folder or an open Repo), able to fetch what it lacks."""
    if isinstance(where, Repo):
        yield attach(where)
        return
    with Repo.open(where, create=create) as repo:
        yield attach(repo)

"""What session operations return: plain, typed facts. The magics word them, the comm
serialises them; neither has to parse the other's output."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..objects import VersionInfo


@dataclass(frozen=True)
class CommitReport:
    version: VersionInfo
    branch: str | None  # None: committed on a detached HEAD
    variables: tuple[str, ...]  # updated by this commit
    size: int  # bytes of the committed variables
    auto: bool = False
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it cannot be serialised
    secrets: tuple[str, ...] = ()  # left out: names look like credentials
    secrets_named: tuple[str, ...] = ()  # committed although they look like secrets (named)
    not_captured: tuple[str, ...] = ()  # what this commit could not record (e.g. no notebook)
    first_mention: tuple[str, ...] = ()  # the subset of not_captured not yet said in this kernel
    created_repo: Path | None = None  # a Git repository made for this commit
    carried: tuple[str, ...] = ()  # HEAD's other variables, carried forward unchanged (no bytes)
    added: int = 0  # bytes of chunks the store did not hold yet: what this version cost on disk


@dataclass(frozen=True)
class NotebookRestore:
    path: str
    backup: Path


@dataclass(frozen=True)
class CheckoutReport:
    version: VersionInfo
    branch: str | None  # the branch HEAD now follows
    moved_head: bool
    restored: tuple[str, ...]
    left_alone: tuple[str, ...]  # variables in the namespace the checkout did not touch
    names_given: bool  # only some variables were asked for
    failed: dict[str, str] = field(default_factory=dict)  # name -> why it did not load
    untrusted: dict[str, str] = field(default_factory=dict)  # name -> the class the safe loader refused
    left_behind: str | None = None  # a detached version no ref reaches any more
    notebook: NotebookRestore | None = None
    group_restored: dict[str, tuple[str, ...]] = field(default_factory=dict)  # group -> members restored as one

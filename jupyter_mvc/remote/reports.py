"""What push, fetch, pull and clone did: plain data (the faces turn it into text)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class PushReport:
    remote: str
    moved: dict[str, tuple[str | None, str]]  # 'heads/main' -> (old, new) on the remote
    versions: int  # versions the remote did not have
    chunks: int  # chunks uploaded
    bytes_uploaded: int  # chunk bytes uploaded (packs), not counting indexes and history
    packs: int
    chunks_already_there: int  # the remote had them (shared with its versions, or sent by an interrupted push)
    history_bytes: int
    seconds: float
    git_remote: str | None = None  # the Git remote that mirrors refs/mvc/*, if any
    git_refused: dict[str, str] = field(default_factory=dict)  # ref -> why it refused (nothing forced)

    @property
    def up_to_date(self) -> bool:
        return not self.moved


@dataclass(frozen=True)
class FetchReport:
    remote: str
    branches: dict[str, tuple[str | None, str | None]]  # remote branch -> (old, new) tracking ref
    new_tags: tuple[str, ...]
    conflicting_tags: tuple[str, ...]  # the remote has them on another version: left alone
    bundles: int
    prefetched_bytes: int
    seconds: float


@dataclass(frozen=True)
class PullReport:
    fetch: FetchReport
    branch: str
    old: str | None
    new: str | None
    outcome: str  # "fast-forward", "up to date", "ahead" (nothing to pull; push to share)


@dataclass(frozen=True)
class CloneReport:
    folder: Path
    remote: str
    url: str
    fetch: FetchReport
    branch: str | None
    unsafe: bool = False
    branches: tuple[str, ...] = field(default_factory=tuple)

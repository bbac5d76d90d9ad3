"""One way to replace a file so that a crash leaves the old file or the new one, never a
half-written mix: write a temp file beside it (or in `tmp_dir`), fsync, rename over the
target, fsync the folder. Used by the chunk store, the repository config, notebook
restores and exports."""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomic(
    target: str | os.PathLike,
    data: bytes | bytearray | memoryview,
    *,
    tmp_dir: str | os.PathLike | None = None,
    mode: int = 0o644,
    sync_dir: bool = True,
) -> int:
    """Write `data` to `target` atomically and durably; returns the bytes written.
    `tmp_dir` must be on the same filesystem as `target` (a rename cannot cross one)."""
    target = Path(target)
    folder = Path(tmp_dir) if tmp_dir is not None else target.parent
    folder.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{target.name[:40]}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data).cast("B")
        while view:
            n = os.write(fd, view)
            view = view[n:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        tmp.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(tmp, target)
    if sync_dir:
        fsync_dir(target.parent)
    return len(memoryview(data).cast("B"))


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a rename inside `path` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

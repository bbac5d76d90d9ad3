"""Putting a version's notebook file back over the open one, after keeping a copy of the
current file under `<gitdir>/mvc/notebook-backups/` (nothing is committed, nothing lost)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from ..atomic import write_atomic
from .reports import NotebookRestore


def restore(nb_path: str, data: bytes, backups: Path) -> NotebookRestore:
    backups.mkdir(parents=True, exist_ok=True)
    backup = backups / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{os.path.basename(nb_path)}"
    shutil.copy2(nb_path, backup)
    write_atomic(nb_path, data)
    return NotebookRestore(nb_path, backup)

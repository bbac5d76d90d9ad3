"""Per-repository settings in `<gitdir>/mvc/config.json`: today the safe-load allow-list
(`mvc trust MODULE.NAME`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..atomic import write_atomic
from ..errors import InvalidNameError

_GLOBAL = re.compile(r"\A[A-Za-z_][\w.]*\.[A-Za-z_]\w*\Z")


class Config:
    def __init__(self, mvc_dir: Path):
        self.path = mvc_dir / "config.json"

    def read(self) -> dict:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def trusted_globals(self) -> set[str]:
        names = self.read().get("trusted_globals", [])
        return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()

    def trust(self, global_name: str) -> None:
        """Add `module.name` to this repository's safe-load allow-list."""
        if not _GLOBAL.match(global_name):
            raise InvalidNameError(
                "global",
                global_name,
                "expected module.name",
                "Give the name the refusal printed, e.g. mypkg.models.Net.",
            )
        cfg = self.read()
        cfg["trusted_globals"] = sorted(self.trusted_globals() | {global_name})
        write_atomic(self.path, json.dumps(cfg, indent=2).encode())

"""The IPython shell seen as the session layer's `Kernel`."""

from __future__ import annotations

import time
from collections.abc import Collection, MutableMapping
from typing import Any

from . import provenance


class IPythonKernel:
    def __init__(self, shell: Any):
        self.shell = shell
        self._last_cell: float | None = None

    @property
    def namespace(self) -> MutableMapping[str, Any]:
        return self.shell.user_ns

    def hidden_names(self) -> Collection[str]:
        return getattr(self.shell, "user_ns_hidden", {})

    def notebook_path(self) -> str | None:
        return provenance.notebook_path(self.shell)

    def executed_cells(self) -> str:
        return provenance.executed_cells(self.shell)

    def last_cell_finished(self) -> float | None:
        return self._last_cell

    def cell_finished(self, result: Any) -> None:
        """post_run_cell hook (registered by `magics.register`)."""
        self._last_cell = time.time()

"""What the session needs from a kernel, whatever runs it (IPython, a test, a script)."""

from __future__ import annotations

from collections.abc import Collection, MutableMapping
from typing import Any, Protocol


class Kernel(Protocol):
    @property
    def namespace(self) -> MutableMapping[str, Any]:
        """The user's variables (IPython's `user_ns`)."""

    def hidden_names(self) -> Collection[str]:
        """Names the shell put there itself (never user state)."""

    def notebook_path(self) -> str | None:
        """Absolute path of the notebook behind this kernel, or None (terminal, nbclient)."""

    def executed_cells(self) -> str:
        """The cells run since the kernel started, as a Python file."""

    def last_cell_finished(self) -> float | None:
        """When (epoch seconds) the last cell before the running one finished, if known."""

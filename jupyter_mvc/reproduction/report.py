"""What a reproduction found: plain, typed data (the faces turn it into text)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..objects import VersionInfo

VariableStatus = Literal["reproduced", "differs", "missing"]
MetricStatus = Literal["reproduced", "differs", "missing"]


@dataclass(frozen=True)
class VariableResult:
    name: str
    status: VariableStatus
    detail: str  # "bit-identical", "max |Δ| 0.0123", "content differs", "not produced by the run"...
    max_delta: float | None = None  # over the numeric leaves, where they were compared


@dataclass(frozen=True)
class MetricResult:
    name: str
    status: MetricStatus
    recorded: float | None
    produced: float | None  # None: the run did not compute it (missing)


@dataclass(frozen=True)
class CellFailure:
    cell: int  # n of its `# In[n]:` marker in history.py (0: the reproducer's own probe)
    error: str  # "ZeroDivisionError: division by zero"


@dataclass(frozen=True)
class ReproduceReport:
    version: VersionInfo
    variables: tuple[VariableResult, ...]
    metrics: tuple[MetricResult, ...]
    failed_cells: tuple[CellFailure, ...]
    cells_run: int
    replayed_magics: tuple[str, ...]  # jupyter_mvc's own magic lines, run against the run's scratch repository
    warnings: tuple[str, ...]  # e.g. a %mv_checkout of a version only the user's repository has
    tolerance: float
    seconds: float

    @property
    def ok(self) -> bool:
        """Every variable and metric reproduced, and no cell failed."""
        return (
            all(v.status == "reproduced" for v in self.variables)
            and all(m.status == "reproduced" for m in self.metrics)
            and not self.failed_cells
        )

    def names(self, status: VariableStatus) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables if v.status == status)

"""Reproduce a version: re-run its recorded cells (`history.py`) in a fresh kernel, in a
temporary copy of the notebook's folder, and compare what the run produced with what the
version stored. `api.reproduce` is the entry point; the faces print `table.lines(report)`.

    cells    history.py -> cells; jupyter_mvc's own magics replaced by stand-ins
             (the probe's, which probe at the version's commit, then replay the magic)
    probe    runs INSIDE the reproduction kernel: fingerprints and numeric leaves -> files
    compare  pure comparison of stored and produced values (no kernel, no repository)
    runner   the temporary folder, the kernel (nbclient), the probe's files -> a report
    report   the typed report;  table: the report as a small text table

Named `reproduction`, not `reproduce`: a subpackage `jupyter_mvc.reproduce` would replace
the public function `jupyter_mvc.reproduce` on the package once imported.
"""

from __future__ import annotations

from .report import CellFailure, MetricResult, ReproduceReport, VariableResult

__all__ = ["CellFailure", "MetricResult", "ReproduceReport", "VariableResult"]

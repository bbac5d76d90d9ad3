"""A reproduction report as a small text table (the magic and the CLI print the same)."""

from __future__ import annotations

from ..present import fmt
from .report import ReproduceReport


def lines(r: ReproduceReport) -> list[str]:
    v = r.version
    out = [
        f"Reproduced {v.short_id} {fmt.printable(v.subject)!r}: {len(r.names('reproduced'))}/{len(r.variables)} "
        f"variables reproduced, {r.cells_run} cells re-run in a fresh kernel in {r.seconds:.1f} s"
        + (f" (tolerance {fmt.number(r.tolerance)})" if r.tolerance else "")
        + "."
    ]
    width = max([len("variable")] + [len(x.name) for x in r.variables])
    out.append(f"  {'variable':<{width}}  {'result':<10}  detail")
    for x in r.variables:
        out.append(f"  {fmt.printable(x.name):<{width}}  {x.status:<10}  {fmt.printable(x.detail)}")
    for m in r.metrics:
        got = "not computed by the run" if m.produced is None else f"run {fmt.number(m.produced)}"
        out.append(f"  metric {fmt.printable(m.name)}: {m.status} (recorded {fmt.number(m.recorded)}, {got})")
    for f in r.failed_cells:
        where = f"In[{f.cell}]" if f.cell else "reproducer"
        out.append(f"  failed: {where}: {fmt.printable(f.error)}")
    if r.replayed_magics:
        out.append(
            f"  jupyter_mvc magics replayed: {len(r.replayed_magics)} (in a scratch repository: your history is untouched)"
        )
    for w in r.warnings:
        out.append(f"  warning: {fmt.printable(w)}")
    out.append("OK: everything reproduced." if r.ok else "NOT reproduced: see above.")
    return out

"""What a notebook cell run by nbclient printed: its streams, and its error as `Name: value`."""

from __future__ import annotations

from typing import Any


def cell_text(cell: Any) -> str:
    text = []
    for out in cell.outputs:
        if out.output_type == "stream":
            text.append(out.text)
        elif out.output_type == "error":
            text.append(f"{out.ename}: {out.evalue}")
    return "".join(text)

"""A version's `history.py` as cells, and jupyter_mvc's own magics taken out of them.

Each magic line (`%mv_*`, `%load_ext jupyter_mvc`...) becomes a call to the probe's
`stand_in(i, get_ipython())` at the same indentation, so a magic inside a loop or an
`if` still parses, and a `%mv_commit` can be followed where it ran. The line itself
travels as data (the request file), never spliced into source."""

from __future__ import annotations

import re
from dataclasses import dataclass

_MARKER = re.compile(r"^# In\[(\d+)\]:[ \t]*$", re.MULTILINE)
_OWN_MAGIC = re.compile(r"^([ \t]*)%(mv_\w+|(?:load_ext|reload_ext|unload_ext)[ \t]+jupyter_mvc\b)(.*)$")
PROBE = "__import__('jupyter_mvc.reproduction.probe', fromlist=['probe'])"


@dataclass(frozen=True)
class Cell:
    number: int  # n of `# In[n]:`
    source: str


def parse_history(text: str) -> list[Cell]:
    """Cells of a history.py (`# In[n]:` markers); the header comment before the first is dropped."""
    marks = list(_MARKER.finditer(text))
    cells = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        source = text[m.end() : end].strip("\n")
        if source.strip():
            cells.append(Cell(int(m[1]), source))
    return cells


def strip_own_magics(cells: list[Cell]) -> tuple[list[Cell], list[str]]:
    """The cells with each jupyter_mvc magic line replaced by a stand-in call, and the
    replaced lines (stripped), in order: `stand_in(i)` refers to the i-th."""
    skipped: list[str] = []
    out = []
    for cell in cells:
        lines = []
        for line in cell.source.split("\n"):
            m = _OWN_MAGIC.match(line)
            if m is None:
                lines.append(line)
                continue
            lines.append(f"{m[1]}{PROBE}.stand_in({len(skipped)}, get_ipython())")
            skipped.append(line.strip())
        out.append(Cell(cell.number, "\n".join(lines)))
    return out, skipped


def is_commit(line: str) -> bool:
    return line.lstrip().startswith("%mv_commit")

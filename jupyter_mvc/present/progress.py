"""A transfer's progress as one line that rewrites itself (bytes, rate, ETA), for
terminals and notebook cells alike (both honour a carriage return). Silent for transfers
under a second, so small pushes print nothing but their result."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from . import fmt


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, after: float = 1.0, every: float = 0.2):
        self.stream = stream if stream is not None else sys.stderr
        self.after, self.every = after, every
        self.start = time.monotonic()
        self._last = 0.0
        self._shown = False

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.monotonic()
        elapsed = now - self.start
        if elapsed < self.after or (now - self._last < self.every and done < total):
            return
        self._last = now
        self.stream.write("\r" + line(what, done, total, elapsed) + "  ")
        self.stream.flush()
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False


def line(what: str, done: int, total: int, elapsed: float) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    text = f"{what}: {fmt.size(done)} / {fmt.size(total)}, {fmt.size(int(rate))}/s"
    if 0 < rate and done < total:
        text += f", {int((total - done) / rate) + 1} s left"
    return text

"""A long operation's progress as one line that rewrites itself (bytes, rate, ETA), for
terminals and notebook cells alike (both honour a carriage return). Silent for operations
under a second, so small commits, checkouts and pushes print nothing but their result.

Used for transfers (push, pull, fetch, clone), commits, checkouts and exports: the API
calls it with (what, bytes done, bytes in all), per chunk or per stage. A stage whose size
is not known (total 0, e.g. serialising a DataFrame) shows its elapsed time; a ticker
thread redraws the line while one long step runs without calling back.
`MVC_PROGRESS_AFTER` (seconds, default 1) overrides when the line starts to show.
"""

from __future__ import annotations

import contextvars
import os
import sys
import threading
import time
from typing import TextIO

from . import fmt

AFTER_ENV = "MVC_PROGRESS_AFTER"
_RATE_AFTER = 1.0  # seconds into a stage before its rate and time left are shown


def default_after() -> float:
    """Seconds an operation runs before its progress shows (`MVC_PROGRESS_AFTER`, else 1)."""
    try:
        return max(0.0, float(os.environ.get(AFTER_ENV, "")))
    except ValueError:
        return 1.0


class ProgressLine:
    def __init__(self, stream: TextIO | None = None, after: float | None = None, every: float = 0.2):
        self.stream = stream if stream is not None else sys.stderr
        self.after = default_after() if after is None else after
        self.every = every
        self.start = time.monotonic()
        self._last = 0.0
        self._shown = False
        self._state: tuple[str, int, int] | None = None
        self._stage = ("", self.start)  # the current `what` and when it began (its rate counts from there)
        self._width = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, what: str, done: int, total: int) -> None:
        with self._lock:
            now = time.monotonic()
            if what != self._stage[0]:
                self._stage = (what, now)
            self._state = (what, done, total)
            if now - self.start >= self.after and (now - self._last >= self.every or (total and done >= total)):
                self._draw(now)
        if self._ticker is None and not self._stop.is_set():
            # In a notebook the thread writes with this cell's context (its output goes here).
            context = contextvars.copy_context()
            self._ticker = threading.Thread(target=context.run, args=(self._tick,), daemon=True, name="mvc-progress")
            self._ticker.start()

    def _tick(self) -> None:
        """Redraw while a step runs long without calling back (elapsed time, rate); a
        finished one is left as drawn."""
        while not self._stop.wait(self.every):
            with self._lock:
                now = time.monotonic()
                state = self._state
                running = state is not None and (state[2] <= 0 or state[1] < state[2])
                if running and now - self.start >= self.after and now - self._last >= self.every:
                    self._draw(now)

    def _draw(self, now: float) -> None:
        if self._state is None or self._stop.is_set():
            return
        self._last = now
        text = line(*self._state, now - self._stage[1])
        self.stream.write("\r" + text.ljust(self._width) + "  ")
        self.stream.flush()
        self._width = len(text)
        self._shown = True

    def __enter__(self) -> ProgressLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the line (a newline, if anything was shown) and stop the ticker."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            if self._shown:
                self.stream.write("\n")
                self.stream.flush()
                self._shown = False


def line(what: str, done: int, total: int, elapsed: float) -> str:
    if total <= 0:  # a stage whose size is not known yet
        return f"{what}… {int(elapsed)} s"
    text = f"{what}: {fmt.size(done)} / {fmt.size(total)}"
    if elapsed < _RATE_AFTER:  # a stage just begun: its rate would be noise (and its ETA absurd)
        return text
    rate = done / elapsed
    text += f", {fmt.size(int(rate))}/s"
    if 0 < rate and done < total:
        text += f", {int((total - done) / rate) + 1} s left"
    return text

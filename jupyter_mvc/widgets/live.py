"""The widgets alive in this kernel, so a commit made from the same kernel can refresh them.

Weak references: a widget the notebook dropped (or closed) is not kept alive by this.
"""

from __future__ import annotations

import weakref

from .. import api

_live: weakref.WeakSet = weakref.WeakSet()


def register(widget) -> None:
    _live.add(widget)


def refresh_all() -> int:
    """Re-read history in every open timeline and curves widget; returns how many.
    A widget shows jupyter_mvc errors itself; one whose repository is gone is dropped.
    One failure never stops the others."""
    count = 0
    for widget in list(_live):
        if getattr(widget, "comm", None) is None:  # closed
            _live.discard(widget)
            continue
        try:
            widget.refresh()
        except Exception:  # e.g. its repository was deleted: stop following it
            _live.discard(widget)
            continue
        count += 1
    return count


api.on_change(refresh_all)  # commits and checkouts through the API (and so the magics) refresh

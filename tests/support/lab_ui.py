"""What the browser tests (tests/ui) share: Debian's Chromium driven by Playwright (no
browser download), the flags that make it run headless in a container, a notebook
builder, and the page-side wait for a notebook's kernel."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("MVC_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 120_000  # waits for the UI to reach a state; generous for a slow CI machine

# JS run in the page: the notebook panel once its context, session and kernel are ready
# (running cells earlier can pop a "Select Kernel" dialog).
READY = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  await panel.context.ready;
  await panel.sessionContext.ready;
  await panel.sessionContext.session.kernel.info;
  return panel.context.path;
}"""


def require_browser() -> Any:
    """Playwright's sync API, or skip the calling test module saying what is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set MVC_CHROMIUM)", allow_module_level=True
        )
    if shutil.which("jupyter-lab") is None and not (Path(sys.executable).parent / "jupyter-lab").exists():
        pytest.skip("JupyterLab is not installed (pip install -e '.[test]')", allow_module_level=True)
    return sync_api


def labextension_installed() -> bool:
    from jupyter_core.paths import jupyter_path

    return any((Path(d) / "jupyter-mvc" / "package.json").exists() for d in jupyter_path("labextensions"))


def notebook(cells: list[str]) -> dict:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {"cell_type": "code", "id": f"c{i}", "metadata": {}, "execution_count": None, "outputs": [], "source": src}
            for i, src in enumerate(cells)
        ],
    }


def lab_project(tmp_path: Path, name: str, cells: list[str]) -> Path:
    """`tmp_path/work`: a project with its own Git repository and one notebook `name` of
    `cells`, for a server the test starts there (the extension must be installed)."""
    from tests.support.git import git

    require_labextension()
    root = tmp_path / "work"
    root.mkdir()
    git(root, "init", "-q", "-b", "master")
    (root / name).write_text(json.dumps(notebook(cells)))
    return root


def require_labextension() -> None:
    """Our own product, not an absent tool: a broken extension build fails, never skips."""
    if not labextension_installed():
        pytest.fail(
            "the jupyter-mvc labextension is not installed: `pip install -e '.[test]'` builds it (needs node and npm)"
        )


@contextmanager
def browser_page(
    last_screenshot: str, timeout_ms: int = WAIT_MS, width: int = 1500, height: int = 950
) -> Iterator[Any]:
    """A page of headless Chromium, `width` x `height` CSS pixels; a screenshot named
    `last_screenshot` is kept in ARTIFACTS however the test ends."""
    sync_api = require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            page.screenshot(path=str(ARTIFACTS / last_screenshot))
            browser.close()


# JS run in the page on the root of a timeline widget (.mvc-timeline-widget): what a reader
# sees of its controls and rows, measured (tests/ui/test_narrow_layout.py, test_notebook7.py).
TIMELINE_LAYOUT = """(root) => {
  const area = (root.closest('.jp-OutputArea-output') || root.parentElement).getBoundingClientRect();
  const visible = el => el.offsetParent !== null && getComputedStyle(el).visibility !== 'hidden';
  const buttons = [...root.querySelectorAll('button')].filter(visible).map(b => {
    const r = b.getBoundingClientRect();
    return {text: b.textContent.trim(), cut: b.scrollWidth > b.clientWidth + 1,
            inside: r.left >= area.left - 1 && r.right <= area.right + 1};
  });
  const rows = [...root.querySelectorAll('.mvc-row')].map(row => {
    const s = row.querySelector('.mvc-subject');
    const m = row.querySelector('.mvc-metrics');
    return {subject: s.textContent, title: s.title, display: getComputedStyle(s).display,
            width: s.getBoundingClientRect().width, whole: s.scrollWidth <= s.clientWidth + 1,
            metricsWidth: m ? m.getBoundingClientRect().width : 0,
            fits: row.scrollWidth <= row.clientWidth + 1, rowWidth: row.clientWidth,
            tags: row.querySelectorAll('.mvc-tag').length, tagIcons: row.querySelectorAll('.mvc-tag svg').length,
            text: row.textContent};
  });
  return {width: area.width, buttons, rows};
}"""

EMOJI = re.compile("[\U0001f000-\U0001ffff\ufe0f]")  # the ★ (U+2605) is in the default fonts


def timeline_layout_problems(layout: dict, messages: dict[str, str]) -> list[str]:
    """What a reader of a narrow timeline could not see: a button cut or outside the
    output, a message hidden, shrunk below the metrics or elided without a tooltip of it
    all, a row wider than the widget, a tag without its drawn icon, an emoji (a box where
    no emoji font is installed). `messages`: short id -> the full message."""
    problems = []
    for b in layout["buttons"]:
        if b["cut"] or not b["inside"]:
            problems.append(f"button {b['text']!r} is {'cut' if b['cut'] else 'outside the output'}")
    for r in layout["rows"]:
        short = r["text"].split()[0] if r["text"].split() else "?"
        if r["display"] == "none" or r["width"] < 40:
            problems.append(f"{short}: the message is hidden ({r['width']:.0f} px)")
        if not r["whole"] and (r["title"] != r["subject"] or r["width"] < r["metricsWidth"]):
            problems.append(f"{short}: the message is elided without priority or tooltip: {r}")
        if messages.get(short) and not messages[short].startswith(r["subject"]):
            problems.append(f"{short}: the row shows {r['subject']!r}, not its message")
        if not r["fits"]:
            problems.append(f"{short}: the row is wider than the widget ({r['rowWidth']} px)")
        if r["tagIcons"] != r["tags"]:
            problems.append(f"{short}: a tag without its drawn icon")
        if EMOJI.search(r["text"]):
            problems.append(f"{short}: an emoji glyph in {r['text']!r}")
    return problems


WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def saved_widget_outputs(path: Path) -> list[str]:
    """The `text/html` beside each widget output of a saved notebook ("" where none)."""
    nb = json.loads(path.read_text())
    return [
        "".join(out["data"].get("text/html", ""))
        for cell in nb["cells"]
        for out in cell.get("outputs", [])
        if WIDGET_MIME in out.get("data", {})
    ]


# JS run in the page on an element: whether all of it can be seen, inside the viewport and
# every ancestor that clips (a button cut by its panel's edge is not).
SEEN_WHOLE = """(el) => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right > innerWidth + 1 || r.left < -1) return false;
  for (let p = el.parentElement; p; p = p.parentElement) {
    if (getComputedStyle(p).overflowX === 'visible') continue;
    const c = p.getBoundingClientRect();
    if (r.left < c.left - 1 || r.right > c.right + 1) return false;
  }
  return el.scrollWidth <= el.clientWidth + 1;
}"""


def cut_elements(elements: Any, settle_s: float = 5.0) -> list[str]:
    """The texts of `elements` (a Playwright locator) that are not seen whole, once the
    layout has settled: a side panel that has just opened may still be growing to its
    width, so a check taken at once can catch a button mid-resize. Waits up to `settle_s`
    for every element to show whole and returns the ones still cut (empty when all are
    whole)."""
    import time

    check = f"(els) => els.filter(el => !({SEEN_WHOLE})(el)).map(el => el.innerText)"
    deadline = time.monotonic() + settle_s
    while True:
        cut = elements.evaluate_all(check)
        if not cut or time.monotonic() > deadline:
            return cut
        time.sleep(0.1)

"""What the browser tests (tests/ui) share: Debian's Chromium driven by Playwright (no
browser download), the flags that make it run headless in a container, a notebook
builder, and the page-side wait for a notebook's kernel."""

from __future__ import annotations

import os
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


def require_labextension() -> None:
    """Our own product, not an absent tool: a broken extension build fails, never skips."""
    if not labextension_installed():
        pytest.fail(
            "the jupyter-mvc labextension is not installed: `pip install -e '.[test]'` builds it (needs node and npm)"
        )


@contextmanager
def browser_page(last_screenshot: str, timeout_ms: int = WAIT_MS) -> Iterator[Any]:
    """A page of headless Chromium; a screenshot named `last_screenshot` is kept in
    ARTIFACTS however the test ends."""
    sync_api = require_browser()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        page.set_default_timeout(timeout_ms)
        try:
            yield page
        finally:
            page.screenshot(path=str(ARTIFACTS / last_screenshot))
            browser.close()

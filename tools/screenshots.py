#!/usr/bin/env python3
"""Retake the README's screenshots (docs/screenshots/*.png) from a real browser.

    python tools/screenshots.py [--out docs/screenshots]

demo.ipynb runs in JupyterLab (a real server on 127.0.0.1 and a real kernel, in a
temporary folder: this repository is never written to but for the pictures) in Debian's
headless Chromium driven by Playwright, at a normal width (1500 px) and a narrow one
(900 px, the Versions sidebar open), then once more in Notebook 7 at 900 px; then the
saved notebook is reopened after its kernel is gone, to show the widgets' static form.
Takes a few minutes (the demo runs twice). Not part of the test suite; the browser tests
(tests/ui) check the same views.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.lab_server import running_server  # noqa: E402
from tests.support.lab_ui import ARGS, CHROMIUM, READY  # noqa: E402

WAIT_MS = 300_000
SIDEBAR = "jupyter-mvc-versions"
DONE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  return panel.content.widgets.every(c => c.model.type !== 'code' || c.model.executionCount)
    && panel.sessionContext.session?.kernel?.status === 'idle';
}"""


def run_demo(page, url: str) -> None:
    page.goto(url)
    page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext")
    page.evaluate(READY)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(DONE)
    page.locator(".jp-OutputArea .mvc-timeline-widget .mvc-row").first.wait_for()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        work.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "master"], cwd=work, check=True)
        shutil.copy(ROOT / "demo.ipynb", work / "demo.ipynb")
        # A second project for the Notebook 7 run (the demo makes branches it cannot make twice).
        (work / "nb7").mkdir()
        subprocess.run(["git", "init", "-q", "-b", "master"], cwd=work / "nb7", check=True)
        shutil.copy(ROOT / "demo.ipynb", work / "nb7" / "demo.ipynb")
        with running_server(work, Path(tmp) / "server", lab=True) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1500, "height": 950})
            page.set_default_timeout(WAIT_MS)

            # JupyterLab, normal width: the timeline of the last cell with a comparison and
            # the curves; the Versions sidebar beside it; the sidebar's compare.
            run_demo(page, f"{base}lab/tree/demo.ipynb")
            page.evaluate("() => window.jupyterapp.shell.collapseLeft()")
            timeline = page.locator(".jp-OutputArea .mvc-timeline-widget").last
            timeline.locator(".mvc-row").nth(0).click(modifiers=["Shift"])  # compare HEAD with the best
            timeline.locator(".mvc-curves img").wait_for()
            page.set_viewport_size({"width": 1500, "height": 2000})  # the widget whole, in view
            page.wait_for_timeout(500)  # Lab re-lays out on resize
            timeline.screenshot(path=str(out / "widgets-timeline-demo.png"))
            page.locator(".jp-OutputArea .mvc-curves").first.screenshot(path=str(out / "widgets-curves-demo.png"))
            page.set_viewport_size({"width": 1500, "height": 950})
            page.evaluate(f"() => window.jupyterapp.shell.activateById('{SIDEBAR}')")
            rows = page.locator(f"#{SIDEBAR} .jp-mvc-version")
            rows.nth(3).wait_for()
            timeline.scroll_into_view_if_needed()
            page.screenshot(path=str(out / "jupyterlab-demo-sidebar-timeline.png"))
            page.screenshot(path=str(out / "jupyterlab-versions-sidebar.png"), clip=_right(page, 420))
            rows.nth(0).locator(".jp-mvc-pick").check()
            rows.nth(2).locator(".jp-mvc-pick").check()
            page.locator(f"#{SIDEBAR} .jp-mvc-compare").click()
            page.locator(f"#{SIDEBAR} .jp-mvc-details td", has_text="changed").first.wait_for()
            page.screenshot(path=str(out / "jupyterlab-compare.png"))

            # Narrow: 900 px with the sidebar open.
            page.set_viewport_size({"width": 900, "height": 900})
            page.wait_for_timeout(500)  # Lab re-lays out on resize
            timeline.scroll_into_view_if_needed()
            page.screenshot(path=str(out / "jupyterlab-narrow.png"))

            # Saved, the kernel gone, reopened: the widgets' static form.
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
            page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
            page.evaluate("""async () => {
              const panel = window.jupyterapp.shell.currentWidget;
              await panel.sessionContext.shutdown();
              await panel.close();
            }""")
            page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'demo.ipynb'})")
            page.set_viewport_size({"width": 1500, "height": 950})
            page.locator(".jp-mvc-static-fallback .mvc-curves-static").first.wait_for()
            page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
              nb.activeCellIndex = nb.widgets.length - 1; return nb.scrollToCell(nb.activeCell, 'start'); }""")
            page.locator(".jp-mvc-static-fallback .mvc-timeline-static").last.wait_for()
            page.screenshot(path=str(out / "jupyterlab-saved-static.png"))
            page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")

            # Notebook 7, 900 px, the demo run again.
            page.set_viewport_size({"width": 900, "height": 900})
            page.goto("about:blank")
            run_demo(page, f"{base}notebooks/nb7/demo.ipynb")
            page.evaluate(f"() => window.jupyterapp.shell.activateById('{SIDEBAR}')")
            page.locator(f"#{SIDEBAR} .jp-mvc-version").nth(3).wait_for()
            page.locator(".jp-OutputArea .mvc-timeline-widget").last.scroll_into_view_if_needed()
            page.screenshot(path=str(out / "notebook7-narrow.png"))
            browser.close()
    for png in sorted(out.glob("*.png")):
        print(png.relative_to(ROOT) if png.is_relative_to(ROOT) else png)
    return 0


def _right(page, width: int) -> dict:
    size = page.viewport_size
    return {"x": size["width"] - width, "y": 0, "width": width, "height": size["height"]}


if __name__ == "__main__":
    sys.exit(main())

"""Notebook 7 (the `notebook` package: the same lab extension and widgets as JupyterLab)
at 900 px wide, in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright): the timeline widget of %mv_log keeps its buttons whole and every message
shown (tags drawn, no emoji), the Versions panel opens beside the notebook and lists the
versions, and the saved notebook, reopened after its kernel is gone, shows the widgets'
static renderings instead of "Error displaying widget: model not found".
Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import pytest

from tests.support.lab_server import running_server
from tests.support.lab_ui import (
    ARTIFACTS,
    READY,
    TIMELINE_LAYOUT,
    browser_page,
    cut_elements,
    lab_project,
    require_browser,
    saved_widget_outputs,
    timeline_layout_problems,
)

require_browser()  # skips the module, saying why, without Playwright, Chromium or JupyterLab
pytest.importorskip("notebook", minversion="7", reason="Notebook 7 is not installed (pip install -e '.[test]')")

LONG = "ridge alpha=10 on the scaled features, with the outliers of March removed first"
CELLS = [
    "%load_ext jupyter_mvc",
    "import jupyter_mvc\nalpha = 1.0\n%mv_commit -m 'baseline alpha=1' --metric r2=0.9999 --metric mae=0.0123",
    f"alpha = 10.0\n%mv_commit -m '{LONG}' --metric r2=0.9915 --metric mae=0.0456\n%mv_tag best-r2 HEAD~1",
    "%mv_runs",
    "%mv_log",
]
WIDGETS = ".jp-OutputArea-output.jp-mvc-widget-output"  # marked by the extension (fallback.ts)


@pytest.fixture
def server(tmp_path):
    root = lab_project(tmp_path, "nb7.ipynb", CELLS)
    with running_server(root, tmp_path / "server", lab=True) as base:
        yield base, root


def open_notebook(page, base: str, path: str) -> None:
    page.goto(f"{base}notebooks/{path}")
    page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext")
    assert page.evaluate(READY) == path


def test_notebook7_timeline_sidebar_and_saved_widgets(server):
    base, root = server
    from jupyter_mvc import api

    with browser_page("notebook7-last.png", width=900, height=900) as page:
        open_notebook(page, base, "nb7.ipynb")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        widget = page.locator(".jp-OutputArea .mvc-timeline-widget").last
        widget.locator(".mvc-row").nth(1).wait_for()
        messages = {i.short_id: i.subject for i in api.log(path=root, all=True)}

        # The Versions panel beside the notebook, as in JupyterLab.
        page.evaluate("() => window.jupyterapp.shell.activateById('jupyter-mvc-versions')")
        rows = page.locator("#jupyter-mvc-versions .jp-mvc-version")
        rows.nth(1).wait_for()
        assert rows.locator(".jp-mvc-subject").all_inner_texts() == [LONG, "baseline alpha=1"]
        buttons = page.locator("#jupyter-mvc-versions .jp-mvc-button:visible")
        assert buttons.count() >= 5  # Commit…, Compare, Refresh, a Check out per version
        assert cut_elements(buttons) == []

        widget.scroll_into_view_if_needed()
        layout = widget.evaluate(TIMELINE_LAYOUT)
        page.screenshot(path=str(ARTIFACTS / "notebook7-timeline.png"))
        assert len(layout["rows"]) == 2 and len(layout["buttons"]) >= 5
        assert timeline_layout_problems(layout, messages) == []
        assert any(r["tags"] for r in layout["rows"])

        # Saved with the static renderings; reopened after the kernel is gone, they show.
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        saved = saved_widget_outputs(root / "nb7.ipynb")
        assert len(saved) == 2 and all("mvc-static" in html for html in saved)
        page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.shutdown()")
        open_notebook(page, base, "nb7.ipynb")
        timeline = page.locator(".jp-mvc-static-fallback .mvc-timeline-static")
        timeline.wait_for()
        assert LONG in timeline.inner_text() and "best-r2" in timeline.inner_text()
        assert "baseline alpha=1" in page.locator(".jp-mvc-static-fallback .mvc-runs-static").inner_text()
        assert page.locator(WIDGETS).count() == 2
        errors = page.locator(".jp-OutputArea-output", has_text="Error displaying widget")
        assert errors.count() == 0, errors.all_inner_texts()
        timeline.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "notebook7-reopened.png"))

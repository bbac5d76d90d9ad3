"""JupyterLab at 900 px wide, in a real headless Chromium (Debian's /usr/bin/chromium,
driven by Playwright), with the Versions sidebar open beside the notebook, so the
notebook column is narrow:

- the timeline widget of %mv_log keeps every button whole and inside the output, shows
  every message (elided with the whole of it in a tooltip when it must be, before the
  metrics give way), draws tags with an SVG icon (no emoji, which is an empty box where
  no emoji font is installed), and "Curves" shows the curves above a long diff;
- the sidebar gives each message its own line(s), keeps its buttons whole, its compare
  headers unbroken, and shows a DataFrame as shape + columns and an object without a
  useful repr as its class and facts;
- the saved notebook holds each widget's static rendering beside it, and reopened after
  its kernel is gone it shows that rendering, not "Error displaying widget: model not found".

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

LONG = "GBR lr=0.05 depth=3: gradient boosting with the learning rate halved and deeper trees"
CELLS = [
    "%load_ext jupyter_mvc",
    "import jupyter_mvc, pandas as pd\n"
    "frame = pd.DataFrame({'feature': [1.0, 2.0, 3.0], 'target': [0.5, 1.5, 2.5]})\n"
    "class Schedule:\n"
    "    def __init__(self):\n"
    "        self.T_max, self.eta_min = 10, 0.0\n"
    "sched = Schedule()\n"
    "for step, loss in enumerate([0.9, 0.5, 0.3]): jupyter_mvc.log_metric('loss', loss, step=step)\n"
    "%mv_commit frame sched -m 'baseline' --metric accuracy=0.81 --metric f1_macro=0.7712 --metric roc_auc=0.9011",
    "frame['target'] = frame['target'] * 2\n"
    "for step, loss in enumerate([0.8, 0.4, 0.2]): jupyter_mvc.log_metric('loss', loss, step=step)\n"
    f"%mv_commit frame -m '{LONG}' --metric accuracy=0.84 --metric f1_macro=0.8023 --metric roc_auc=0.9312\n"
    "%mv_tag best-accuracy-so-far",
    "%mv_plot HEAD~1 HEAD",
    "%mv_log",
]

SIDEBAR = "#jupyter-mvc-versions"
WIDGET_OUTPUTS = ".jp-OutputArea-output.jp-mvc-widget-output"  # marked by fallback.ts
# Every widget output shows something final: a live view, its static form, or an error.
SETTLED = f"""() => [...document.querySelectorAll("{WIDGET_OUTPUTS}")].every(o =>
  o.querySelector('.jp-mvc-static-fallback, .lm-Widget') || o.textContent.includes('Error displaying'))"""
# Whether an element's text runs on one line (a header broken mid-word would not).
ONE_LINE = """el => { const r = document.createRange(); r.selectNodeContents(el);
  return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size <= 1; }"""


@pytest.fixture
def lab(tmp_path):
    root = lab_project(tmp_path, "narrow.ipynb", CELLS)
    with running_server(root, tmp_path / "server", lab=True) as base:
        yield base, root


def run_all(page, base: str, path: str) -> None:
    page.goto(f"{base}lab/tree/{path}")
    page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext")
    assert page.evaluate(READY) == path
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.locator(".jp-OutputArea .mvc-timeline .mvc-row").nth(1).wait_for()


def test_narrow_lab_timeline_sidebar_and_saved_widgets(lab):
    base, root = lab
    from jupyter_mvc import api

    with browser_page("narrow-last.png", width=900, height=900) as page:
        run_all(page, base, "narrow.ipynb")
        messages = {i.short_id: i.subject for i in api.log(path=root, all=True)}
        assert LONG in messages.values()

        # The sidebar open beside the notebook: a narrow notebook column; then the file
        # browser open too: the narrowest.
        page.evaluate(f"() => window.jupyterapp.shell.activateById('{SIDEBAR[1:]}')")
        rows = page.locator(f"{SIDEBAR} .jp-mvc-version")
        rows.nth(1).wait_for()
        widget = page.locator(".jp-OutputArea .mvc-timeline-widget").last
        for left, widest, shot in [("collapseLeft", 500, "narrow-timeline"), ("expandLeft", 260, "narrowest-timeline")]:
            page.evaluate(f"() => window.jupyterapp.shell.{left}()")
            page.wait_for_timeout(300)  # the panels' resize animation; the checks below decide
            widget.scroll_into_view_if_needed()
            layout = widget.evaluate(TIMELINE_LAYOUT)
            page.screenshot(path=str(ARTIFACTS / f"{shot}.png"))
            assert layout["width"] < widest, f"the notebook column is not narrow: {layout['width']} px"
            assert len(layout["rows"]) == 2 and len(layout["buttons"]) >= 5
            assert timeline_layout_problems(layout, messages) == [], shot
        page.evaluate("() => window.jupyterapp.shell.collapseLeft()")

        # "Curves" shows the curves above the details (a long diff never pushes them away).
        widget.locator("button", has_text="Curves").click()
        curves = widget.locator(".mvc-curves img")
        curves.wait_for()
        details = widget.locator(".mvc-details")
        assert curves.bounding_box()["y"] < details.bounding_box()["y"]

        # The sidebar: each message on its own line(s), in full or elided with a tooltip.
        panel = page.locator(SIDEBAR)
        box = panel.bounding_box()
        for i in range(rows.count()):
            subject = rows.nth(i).locator(".jp-mvc-subject")
            main = rows.nth(i).locator(".jp-mvc-main")
            text = subject.inner_text()
            assert text in messages.values()
            assert subject.bounding_box()["width"] >= main.bounding_box()["width"] - 1
            whole = subject.evaluate("el => el.scrollHeight <= el.clientHeight + 1")
            assert whole or (subject.get_attribute("title") or "").startswith(text)
        long = rows.filter(has_text="GBR").locator(".jp-mvc-subject")
        assert long.evaluate("el => el.getBoundingClientRect().height") > 20  # two lines, not `GBR lr=0.…`
        buttons = panel.locator(".jp-mvc-button:visible")
        assert buttons.count() >= 5  # Commit…, Compare, Refresh, a Check out per version
        assert cut_elements(buttons) == []
        for b in buttons.all():
            r = b.bounding_box()
            assert box["x"] - 1 <= r["x"] and r["x"] + r["width"] <= box["x"] + box["width"] + 1, b.inner_text()

        # Details of the first version: a DataFrame as shape + columns, an object without a
        # useful repr as its class and facts.
        rows.filter(has_text="baseline").locator(".jp-mvc-subject").click()
        sidebar_details = panel.locator(".jp-mvc-details")
        sidebar_details.locator("td", has_text="sched").first.wait_for()
        cells = sidebar_details.locator("tbody tr")
        frame_row = cells.filter(has_text="frame").inner_text()
        assert "shape=[3, 2]" in frame_row and "columns=['feature', 'target']" in frame_row
        assert "repr=" not in frame_row
        sched_row = cells.filter(has_text="sched").inner_text()
        assert "Schedule(T_max=10, eta_min=0.0)" in sched_row and "object at 0x" not in sched_row

        # Compare: headers whole on one line each, in the narrow sidebar.
        rows.nth(0).locator(".jp-mvc-pick").check()
        rows.nth(1).locator(".jp-mvc-pick").check()
        panel.locator(".jp-mvc-compare").click()
        sidebar_details.locator("td", has_text="changed").first.wait_for()
        headers = sidebar_details.locator("thead td")
        assert headers.count() >= 4
        for h in headers.all():
            assert h.evaluate(ONE_LINE), f"header {h.inner_text()!r} is broken"
        for name in sidebar_details.locator("tbody tr td:first-child").all():
            assert name.evaluate(ONE_LINE), f"name {name.inner_text()!r} is broken"
        page.screenshot(path=str(ARTIFACTS / "narrow-sidebar-compare.png"))

        # Saved: each widget output carries its static rendering.
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        saved = saved_widget_outputs(root / "narrow.ipynb")
        assert saved, "no widget output in the saved notebook"
        timeline_html = [html for html in saved if "mvc-timeline-static" in html]
        assert len(timeline_html) == 1 and LONG in timeline_html[0] and "best-accuracy-so-far" in timeline_html[0]

        # The kernel gone, the notebook reopened (a new kernel, which never had these
        # widgets): the static renderings, not "Error displaying widget".
        page.evaluate("""async () => {
          const panel = window.jupyterapp.shell.currentWidget;
          await panel.sessionContext.shutdown();
          await panel.close();
        }""")
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'narrow.ipynb'})")
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget?.context?.path === 'narrow.ipynb'")
        assert page.evaluate(READY) == "narrow.ipynb"
        fallback = page.locator(".jp-OutputArea .jp-mvc-static-fallback .mvc-timeline-static")
        fallback.wait_for()
        assert LONG in fallback.inner_text()
        page.locator(".jp-mvc-static-fallback .mvc-curves-static img").wait_for()
        page.wait_for_function(SETTLED)
        widgets = page.locator(WIDGET_OUTPUTS)
        assert widgets.count() == len(saved) == 2
        assert widgets.locator(".jp-mvc-static-fallback").count() == 2, widgets.all_inner_texts()
        errors = page.locator(".jp-OutputArea-output", has_text="Error displaying widget")
        assert errors.count() == 0, errors.all_inner_texts()
        fallback.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "narrow-reopened.png"))

        # A copy this server never signed (from a colleague, or GitHub): untrusted, so no
        # widget renders and each output shows a safe form of its bundle by itself: the
        # static HTML, sanitized (not `Timeline(children=...` nor an error).
        copy = (root / "narrow.ipynb").read_text().replace("baseline", "baseline (copy)")
        (root / "copy.ipynb").write_text(copy)
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:open', {path: 'copy.ipynb'})")
        page.wait_for_function("() => window.jupyterapp.shell.currentWidget?.context?.path === 'copy.ipynb'")
        assert page.evaluate(READY) == "copy.ipynb"
        assert not page.evaluate("() => window.jupyterapp.shell.currentWidget.model.trusted")
        shown = page.locator("#" + page.evaluate("() => window.jupyterapp.shell.currentWidget.id"))
        page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
          nb.activeCellIndex = nb.widgets.length - 1; return nb.scrollToCell(nb.activeCell, 'start'); }""")
        shown.locator(".jp-OutputArea-output", has_text="baseline (copy)").last.wait_for()
        assert shown.locator(".jp-OutputArea-output td", has_text="deeper trees").count() >= 1
        figure = shown.locator(".jp-OutputArea-output img").first
        figure.wait_for(state="attached")
        assert figure.evaluate("img => img.complete && img.naturalWidth > 0")
        assert shown.get_by_text("Timeline(children=").count() == 0
        assert shown.get_by_text("Error displaying widget").count() == 0
        page.screenshot(path=str(ARTIFACTS / "narrow-untrusted-copy.png"))

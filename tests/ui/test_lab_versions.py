"""JupyterLab in a real headless Chromium (Debian's /usr/bin/chromium, driven by
Playwright; no browser download): run a notebook that commits two versions, see the
timeline widget and the Versions sidebar, commit from the sidebar with a message full
of quotes and code, check out the older version from the sidebar and ask the kernel
what the variable is now. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.git import git
from tests.support.lab_server import running_server
from tests.support.lab_ui import (
    ARTIFACTS,
    READY,
    WAIT_MS,
    browser_page,
    lab_project,
    require_browser,
    require_labextension,
)

require_browser()  # skips the module, saying why, without Playwright, Chromium or JupyterLab


CELLS = [
    "%load_ext jupyter_mvc",
    "import jupyter_mvc\nx = 1\njupyter_mvc.log_metric('acc', 0.5)\n%mv_commit x -m 'x is one'",
    "x = 2\njupyter_mvc.log_metric('acc', 0.75)\n%mv_commit x -m 'x is two'",
    "%mv_log",
]


# Ask the kernel directly (not through our extension) what an expression is.
KERNEL_EVAL = """async (expr) => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({code: `print(repr(${expr}))`, silent: false, store_history: false});
  let out = '';
  future.onIOPub = msg => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
  await future.done;
  return out.trim();
}"""


@pytest.fixture
def lab(tmp_path):
    root = lab_project(tmp_path, "versions.ipynb", CELLS)
    with running_server(root, tmp_path / "server", lab=True) as base:
        yield base, root


@pytest.fixture
def page(lab):
    with browser_page("last.png") as page:
        yield page


def test_sidebar_lists_commits_and_checks_out_into_the_kernel(lab, page):
    base, root = lab
    page.goto(f"{base}lab/tree/versions.ipynb")
    page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext")
    assert page.evaluate(READY) == "versions.ipynb"
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")

    # The timeline widget from %mv_log renders in the output of the last cell.
    timeline = page.locator(".jp-OutputArea .mvc-timeline")
    timeline.first.wait_for()
    page.locator(".jp-OutputArea .mvc-timeline .mvc-row").nth(1).wait_for()
    page.screenshot(path=str(ARTIFACTS / "timeline.png"))

    # The sidebar lists both versions, newest first, the head marked.
    page.evaluate("() => window.jupyterapp.shell.activateById('jupyter-mvc-versions')")
    rows = page.locator("#jupyter-mvc-versions .jp-mvc-version")
    rows.nth(1).wait_for()
    assert rows.locator(".jp-mvc-subject").all_inner_texts() == ["x is two", "x is one"]
    assert "jp-mvc-current" in (rows.first.get_attribute("class") or "")
    assert rows.first.locator(".jp-mvc-branch").inner_text() == "main"
    assert "acc=0.75" in rows.first.locator(".jp-mvc-meta").inner_text()
    page.wait_for_function("() => /clean/.test(document.querySelector('.jp-mvc-status').textContent)")
    page.screenshot(path=str(ARTIFACTS / "sidebar.png"))

    # Commit from the sidebar: the message is quotes and code, and must arrive as text.
    assert page.evaluate(KERNEL_EVAL, "exec('x = 3') or x") == "3"
    page.evaluate("() => window.jupyterapp.commands.execute('jupyter-mvc:refresh')")
    page.wait_for_function("() => /1 changed/.test(document.querySelector('.jp-mvc-status').textContent)")
    message = "x is three'); import os; os._exit(1) #\" {x} $x"
    # An unsaved cell: the version must hold the notebook as on screen, not as last saved.
    page.evaluate(
        "() => window.jupyterapp.shell.currentWidget.content.model.sharedModel"
        ".insertCell(0, {cell_type: 'markdown', source: 'unsaved-marker-1'})"
    )
    page.locator("#jupyter-mvc-versions .jp-mvc-commit").click()
    page.locator(".jp-Dialog input").fill(message)
    page.locator(".jp-Dialog .jp-mod-accept").click()
    rows.nth(2).wait_for()
    assert rows.locator(".jp-mvc-subject").all_inner_texts()[:3] == [message, "x is two", "x is one"]
    assert page.evaluate(KERNEL_EVAL, "x") == "3"  # the kernel survived the message
    from jupyter_mvc import api

    assert "unsaved-marker-1" in api.read_file("HEAD", "notebook.ipynb", path=root).decode()

    # A %mv_commit run in a cell also stores the live document (handed over before the cell runs).
    page.evaluate(
        "() => { const nb = window.jupyterapp.shell.currentWidget.content;"
        " nb.model.sharedModel.insertCell(nb.model.cells.length,"
        " {cell_type: 'code', source: '%mv_commit x -m live-notebook'});"
        " nb.activeCellIndex = nb.model.cells.length - 1;"
        " nb.model.sharedModel.insertCell(0, {cell_type: 'markdown', source: 'unsaved-marker-2'}); }"
    )
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-cell')")
    rows.nth(3).wait_for()
    assert "unsaved-marker-2" in api.read_file("HEAD", "notebook.ipynb", path=root).decode()
    assert rows.first.locator(".jp-mvc-subject").inner_text() == "live-notebook"

    # Check out the oldest version from the sidebar; the kernel's variable changes.
    rows.filter(has_text="x is one").locator(".jp-mvc-checkout").click()
    page.wait_for_function(
        "() => document.querySelector('#jupyter-mvc-versions .jp-mvc-current .jp-mvc-subject')"
        "?.textContent === 'x is one'"
    )
    assert page.evaluate(KERNEL_EVAL, "x") == "1"

    # Changing x and checking out again asks before discarding the change.
    assert page.evaluate(KERNEL_EVAL, "exec('x = 99') or x") == "99"
    rows.filter(has_text="x is two").locator(".jp-mvc-checkout").click()
    dialog = page.locator(".jp-Dialog")
    dialog.wait_for()
    assert "would overwrite x" in dialog.inner_text()
    page.screenshot(path=str(ARTIFACTS / "checkout-confirm.png"))
    dialog.locator(".jp-mod-reject").click()
    assert page.evaluate(KERNEL_EVAL, "x") == "99"
    rows.filter(has_text="x is two").locator(".jp-mvc-checkout").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    page.wait_for_function(
        "() => document.querySelector('#jupyter-mvc-versions .jp-mvc-current .jp-mvc-subject')"
        "?.textContent === 'x is two'"
    )
    assert page.evaluate(KERNEL_EVAL, "x") == "2"

    # Compare two versions: tick them, press Compare, see the diff.
    rows.filter(has_text="x is one").locator(".jp-mvc-pick").check()
    rows.filter(has_text="x is two").locator(".jp-mvc-pick").check()
    page.locator("#jupyter-mvc-versions .jp-mvc-compare").click()
    details = page.locator("#jupyter-mvc-versions .jp-mvc-details")
    details.locator("td", has_text="changed").first.wait_for()
    assert "x" in details.locator("tbody td").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "compare.png"))


DEMO = Path(__file__).resolve().parents[2] / "demo.ipynb"
CURRENT_SUBJECT = "() => document.querySelector('#jupyter-mvc-versions .jp-mvc-current .jp-mvc-subject')?.textContent"


@pytest.mark.skipif(not DEMO.exists(), reason="demo.ipynb is not in the repository yet")
def test_demo_notebook_in_lab(tmp_path):
    require_labextension()
    root = tmp_path / "work"
    root.mkdir()
    git(root, "init", "-q", "-b", "master")
    shutil.copy(DEMO, root / "demo.ipynb")
    # the demo trains several models: three times the usual patience
    with (
        running_server(root, tmp_path / "server", lab=True) as base,
        browser_page("demo-last.png", WAIT_MS * 3) as page,
    ):
        page.goto(f"{base}lab/tree/demo.ipynb")
        page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext")
        assert page.evaluate(READY) == "demo.ipynb"
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # Every code cell ran (has an execution count) and the kernel is idle again.
        page.wait_for_function("""() => {
          const panel = window.jupyterapp.shell.currentWidget;
          return panel.content.widgets.every(c => c.model.type !== 'code' || c.model.executionCount)
            && panel.sessionContext.session.kernel.status === 'idle';
        }""")
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'] .jp-RenderedText, .jp-RenderedText[data-mime-type='application/vnd.jupyter.error']"
        )
        assert errors.count() == 0, errors.all_inner_texts()
        page.locator(".jp-OutputArea .mvc-timeline").first.wait_for()
        page.evaluate("() => window.jupyterapp.shell.activateById('jupyter-mvc-versions')")
        page.evaluate("() => window.jupyterapp.commands.execute('jupyter-mvc:refresh')")
        rows = page.locator("#jupyter-mvc-versions .jp-mvc-version")
        rows.nth(3).wait_for()
        assert page.locator("#jupyter-mvc-versions .jp-mvc-branch", has_text="l2-reg").count() == 1
        page.locator(".jp-OutputArea .mvc-timeline").last.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "demo.png"))

        # Check out the oldest version from the sidebar; the kernel's weights change.
        before = page.evaluate(KERNEL_EVAL, "float(W.sum())")
        oldest = rows.last.locator(".jp-mvc-subject").inner_text()
        rows.last.locator(".jp-mvc-checkout").click()
        page.wait_for_function(
            f"() => document.querySelector('.jp-Dialog') || ({CURRENT_SUBJECT})() === {json.dumps(oldest)}"
        )
        if page.locator(".jp-Dialog").count():
            page.locator(".jp-Dialog .jp-mod-accept").click()  # discard: the test changed nothing we keep
        page.wait_for_function(f"() => ({CURRENT_SUBJECT})() === {json.dumps(oldest)}")
        assert page.evaluate(KERNEL_EVAL, "float(W.sum())") != before

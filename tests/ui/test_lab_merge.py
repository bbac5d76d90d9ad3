"""The Versions sidebar's merge in JupyterLab, in a real headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright): a project whose branch `exp` changed the array
`w` that main changed too shows "Merge into main" on exp's row; a click stops on the
conflict and shows a panel with w, its kind and both sides, and a choice (ours / theirs /
average / task-arithmetic); choosing "theirs" and "Merge with these choices" makes the
merge version (two parents) appear at the top of the list, the note says what the merge
did and that the kernel is unchanged. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import pytest

from tests.support.lab_server import running_server
from tests.support.lab_ui import (
    ARTIFACTS,
    READY,
    browser_page,
    lab_project,
    require_browser,
)

require_browser()  # skips the module, saying why, without Playwright, Chromium or JupyterLab


SIDEBAR = "#jupyter-mvc-versions"


@pytest.fixture
def lab(tmp_path):
    import numpy as np

    import jupyter_mvc

    root = lab_project(tmp_path, "merge.ipynb", ["w = None"])
    # main: base then ours; exp (from base): theirs. Both changed w: a conflict.
    jupyter_mvc.commit({"w": np.zeros(4), "lr": 0.1}, "base", path=root)
    jupyter_mvc.branch("exp", path=root)
    jupyter_mvc.checkout("exp", path=root)
    theirs = jupyter_mvc.commit({"w": np.full(4, 3.0), "lr": 0.1}, "exp: w is three", path=root).id
    jupyter_mvc.checkout("main", path=root)
    ours = jupyter_mvc.commit({"w": np.ones(4), "lr": 0.1}, "main: w is one", path=root).id
    with running_server(root, tmp_path / "server", lab=True) as base:
        yield base, root, ours, theirs


@pytest.fixture
def page(lab):
    with browser_page("merge-last.png") as page:
        yield page


def test_merge_a_conflicting_branch_from_the_sidebar(lab, page):
    import jupyter_mvc

    base, root, ours, theirs = lab
    page.goto(f"{base}lab/tree/merge.ipynb")
    page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext")
    assert page.evaluate(READY) == "merge.ipynb"
    page.evaluate("() => window.jupyterapp.shell.activateById('jupyter-mvc-versions')")
    rows = page.locator(f"{SIDEBAR} .jp-mvc-version")
    rows.nth(2).wait_for()
    subjects = rows.locator(".jp-mvc-subject").all_inner_texts()  # the two tips: same second, either order
    assert sorted(subjects[:2]) == ["exp: w is three", "main: w is one"] and subjects[2] == "base"

    # Only exp's row offers the merge; main is the current branch.
    merge = page.locator(f"{SIDEBAR} .jp-mvc-merge")
    assert merge.count() == 1
    assert merge.inner_text() == "Merge into main" and merge.get_attribute("data-branch") == "exp"
    assert page.locator(f"{SIDEBAR} .jp-mvc-version[data-id='{theirs}'] .jp-mvc-merge").count() == 1

    # The merge stops on w: a panel lists it with both sides and the choices.
    merge.click()
    panel = page.locator(f"{SIDEBAR} .jp-mvc-merge-panel")
    panel.wait_for()
    assert (
        panel.locator(".jp-mvc-merge-title")
        .inner_text()
        .startswith("Merging exp into main stopped: 1 conflict. Nothing was written.")
    )
    conflicts = panel.locator(".jp-mvc-conflict")
    assert conflicts.count() == 1
    assert conflicts.locator(".jp-mvc-conflict-names").inner_text() == "w"
    assert conflicts.locator(".jp-mvc-conflict-kind").inner_text() == "changed on both sides"
    detail = conflicts.locator(".jp-mvc-conflict-detail").inner_text()
    assert f"ours   {ours[:8]} w: ndarray" in detail and f"theirs {theirs[:8]} w: ndarray" in detail
    assert "max |Δ| ours vs theirs 2" in detail
    choice = conflicts.locator("select.jp-mvc-conflict-choice")
    values = choice.locator("option").evaluate_all("os => os.map(o => o.value)")
    assert values == ["", "ours", "theirs", "average", "task-arithmetic"]
    assert panel.locator(".jp-mvc-merge-hint").inner_text() == (
        "The kernel is unchanged; check out the merged version to load it."
    )
    resolve = panel.locator(".jp-mvc-merge-resolve")
    assert resolve.inner_text() == "Merge with these choices" and resolve.is_disabled()  # nothing chosen yet
    assert panel.locator(".jp-mvc-merge-cancel").is_visible()
    assert jupyter_mvc.resolve("HEAD", path=root) == ours  # nothing was written
    page.screenshot(path=str(ARTIFACTS / "merge-conflict.png"))

    # Take theirs: the merge version (two parents) tops the list; the note says what it did.
    choice.select_option("theirs")
    assert resolve.is_enabled()
    resolve.click()
    page.wait_for_function(
        f"() => document.querySelector('{SIDEBAR} .jp-mvc-version .jp-mvc-subject')?.textContent"
        " === 'Merge exp into main'"
    )
    assert not panel.is_visible()
    note = page.locator(f"{SIDEBAR} .jp-mvc-note")
    page.wait_for_function(
        f"() => /has two parents/.test(document.querySelector('{SIDEBAR} .jp-mvc-note').textContent)"
    )
    text = note.inner_text()
    assert text.startswith(f"Merged {theirs[:8]} into {ours[:8]}: version ") and "has two parents." in text
    assert "theirs (--take)" in text and "The kernel is unchanged; check out the merged version to load it." in text
    assert "jp-mvc-error" not in (note.get_attribute("class") or "")
    merged = jupyter_mvc.info("HEAD", path=root)
    assert merged.parents == (ours, theirs) and merged.subject == "Merge exp into main"
    assert jupyter_mvc.load("HEAD", "w", path=root).tolist() == [3.0] * 4
    top = rows.first
    assert top.get_attribute("data-id") == merged.id and "jp-mvc-current" in (top.get_attribute("class") or "")
    assert rows.count() == 4
    subjects = rows.locator(".jp-mvc-subject").all_inner_texts()
    assert subjects[0] == "Merge exp into main" and subjects[3] == "base"
    assert sorted(subjects[1:3]) == ["exp: w is three", "main: w is one"]
    # exp is merged now: no more merge button; the graph draws two edges from the merge.
    assert merge.count() == 0
    assert page.locator(f"{SIDEBAR} .jp-mvc-graph .jp-mvc-edge").count() == 4
    page.screenshot(path=str(ARTIFACTS / "merge-done.png"))

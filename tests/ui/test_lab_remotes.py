"""The Versions sidebar's remote row in JupyterLab, in a real headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright): a project without a remote shows the hint; with
a shared-folder remote (file://) and one version not pushed yet it shows "Push ↑1", a
click pushes it (a busy indicator while it runs) and the count goes to 0; a teammate's
version arrives with Fetch ("Pull ↓1") and Pull; a refused push shows its message in the
sidebar's error area. Screenshots go to test-artifacts/ui/."""

from __future__ import annotations

import json

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


# Record every text the busy indicator shows (it may be up for less than a poll).
WATCH_BUSY = """() => {
  window.__mvcBusy = [];
  const busy = document.querySelector('#jupyter-mvc-versions .jp-mvc-busy');
  const seen = () => { if (!busy.hidden) window.__mvcBusy.push(busy.textContent); };
  new MutationObserver(seen).observe(busy, {attributes: true, childList: true, subtree: true, characterData: true});
}"""

SIDEBAR = "#jupyter-mvc-versions"


def text_is(selector: str, text: str) -> str:
    return f"() => document.querySelector({json.dumps(selector)})?.textContent === {json.dumps(text)}"


@pytest.fixture
def lab(tmp_path):
    from jupyter_mvc import api

    root = lab_project(tmp_path, "shared.ipynb", ["x = 1"])
    api.commit({"x": 1}, "first", path=root)  # one local version, not pushed anywhere
    with running_server(root, tmp_path / "server", lab=True) as base:
        yield base, root


@pytest.fixture
def page(lab):
    with browser_page("remotes-last.png") as page:
        yield page


def test_push_fetch_and_pull_from_the_sidebar(lab, page, tmp_path):
    from jupyter_mvc import api

    base, root = lab
    page.goto(f"{base}lab/tree/shared.ipynb")
    page.wait_for_function("() => window.jupyterapp?.shell?.currentWidget?.sessionContext")
    assert page.evaluate(READY) == "shared.ipynb"
    page.evaluate("() => window.jupyterapp.shell.activateById('jupyter-mvc-versions')")
    rows = page.locator(f"{SIDEBAR} .jp-mvc-version")
    rows.first.wait_for()

    # No remote yet: a one-line hint, no buttons.
    hint = page.locator(f"{SIDEBAR} .jp-mvc-sync-hint")
    hint.wait_for()
    assert hint.inner_text() == "Add a remote: %mv_remote add origin URL"
    assert not page.locator(f"{SIDEBAR} .jp-mvc-push").is_visible()

    # With a remote (an empty shared folder), the one version is ahead of it.
    remote = tmp_path / "remote"
    remote.mkdir()
    api.remote_add("origin", remote.as_uri(), path=root)
    page.locator(f"{SIDEBAR} .jp-mvc-refresh").click()
    push, pull = page.locator(f"{SIDEBAR} .jp-mvc-push"), page.locator(f"{SIDEBAR} .jp-mvc-pull")
    page.wait_for_function(text_is(f"{SIDEBAR} .jp-mvc-push", "Push ↑1"))
    assert pull.inner_text() == "Pull ↓0" and not hint.is_visible()
    assert page.locator(f"{SIDEBAR} .jp-mvc-remote-name").inner_text() == "origin"
    assert page.locator(f"{SIDEBAR} .jp-mvc-sync-meta").inner_text() == "origin: not fetched yet"
    page.screenshot(path=str(ARTIFACTS / "remotes-ahead.png"))

    # Push: busy while it runs (buttons disabled), then the count is 0 and the remote has main.
    page.evaluate(WATCH_BUSY)
    push.click()
    page.wait_for_function(text_is(f"{SIDEBAR} .jp-mvc-push", "Push ↑0"))
    assert page.evaluate("() => window.__mvcBusy")[0].startswith("Pushing to origin…")
    assert push.is_enabled() and not page.locator(f"{SIDEBAR} .jp-mvc-busy").is_visible()
    head = api.head(path=root).version
    assert (remote / "refs" / "heads" / "main").read_text().strip() == head
    note = page.locator(f"{SIDEBAR} .jp-mvc-note")
    assert "Pushed 1 version(s)" in note.inner_text() and "jp-mvc-error" not in (note.get_attribute("class") or "")
    meta = page.locator(f"{SIDEBAR} .jp-mvc-sync-meta").inner_text()
    assert meta.startswith(f"origin/main at {head[:8]}") and "synced just now" in meta
    page.screenshot(path=str(ARTIFACTS / "remotes-pushed.png"))

    # A teammate pushes a version: Fetch shows it as Pull ↓1, Pull brings it into the list.
    teammate = tmp_path / "teammate"
    api.clone(remote.as_uri(), teammate)
    api.commit({"x": 2}, "teammate's", path=teammate)
    api.push(path=teammate)
    page.locator(f"{SIDEBAR} .jp-mvc-fetch").click()
    page.wait_for_function(text_is(f"{SIDEBAR} .jp-mvc-pull", "Pull ↓1"))
    assert push.inner_text() == "Push ↑0"
    pull.click()
    page.wait_for_function(text_is(f"{SIDEBAR} .jp-mvc-pull", "Pull ↓0"))
    rows.nth(1).wait_for()
    assert rows.locator(".jp-mvc-subject").all_inner_texts() == ["teammate's", "first"]
    assert "main: fast-forward" in note.inner_text()

    # Both sides add a version: the push is refused, and the sidebar says what to do.
    api.commit({"x": 3}, "theirs again", path=teammate)
    api.push(path=teammate)
    api.commit({"x": 4}, "ours", path=root)
    page.locator(f"{SIDEBAR} .jp-mvc-refresh").click()
    page.wait_for_function(text_is(f"{SIDEBAR} .jp-mvc-push", "Push ↑1"))
    push.click()
    page.wait_for_function(f"() => document.querySelector('{SIDEBAR} .jp-mvc-note.jp-mvc-error')")
    assert "rejected" in note.inner_text() and "fetch and merge first" in note.inner_text()
    assert push.is_enabled()
    page.screenshot(path=str(ARTIFACTS / "remotes-rejected.png"))

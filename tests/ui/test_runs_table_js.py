"""The runs table's front-end (jupyter_mvc/widgets/runs.js) in a real headless Chromium,
without JupyterLab: it draws the JSON view present/runs.py builds, a header click sorts
best first (a loss ascending, an accuracy descending) and a second click flips it,
versions without the value stay last, the ★ marks the best values, and the checkbox
shows the columns that are the same everywhere. The model is a small stand-in for
anywidget's (get/set/save_changes/on)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_mvc.objects import VersionInfo
from jupyter_mvc.present.runs import runs_table, runs_view

CHROMIUM = os.environ.get("MVC_CHROMIUM", "/usr/bin/chromium")
RUNS_JS = Path(__file__).resolve().parents[2] / "jupyter_mvc" / "widgets" / "runs.js"
ORIGIN = "http://mvc.test"

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
if not Path(CHROMIUM).exists():
    pytest.skip(
        f"no Chromium at {CHROMIUM}: apt-get install -y chromium (or set MVC_CHROMIUM)", allow_module_level=True
    )

PAGE = """<!doctype html><html><head><meta charset="utf-8"></head><body><div id="root"></div>
<script type="module">
import widget from "./runs.js";
const state = %s;
const handlers = {};
window.sent = [];
const model = {
  get: (k) => state[k],
  set: (k, v) => { state[k] = v; (handlers["change:" + k] || []).forEach((f) => f()); },
  save_changes: () => window.sent.push({ sort: state.sort, descending: state.descending, all: state.all_columns }),
  on: (e, f) => { (handlers[e] = handlers[e] || []).push(f); },
  off: () => {},
};
widget.render({ model, el: document.getElementById("root") });
window.ready = true;
</script></body></html>"""


def info(sha: str, t: int, **metrics) -> VersionInfo:
    return VersionInfo(id=sha * 40, parents=(), message=f"run {sha}", author="A", time=t, metrics=metrics)


@pytest.fixture
def page():
    infos = [info("c", 3, loss=0.4, acc=0.9), info("b", 2, loss=0.3, acc=0.85), info("a", 1, acc=0.8)]
    params = {s * 40: {"lr": lr, "epochs": 5} for s, lr in (("c", 1.0), ("b", 0.5), ("a", 0.1))}
    state = {**runs_view(runs_table(infos, params)), "all_columns": False, "error": ""}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            pg = browser.new_page()
            errors: list[str] = []
            pg.on("pageerror", lambda e: errors.append(str(e)))
            pg.route(
                f"{ORIGIN}/page.html", lambda r: r.fulfill(body=PAGE % json.dumps(state), content_type="text/html")
            )
            pg.route(f"{ORIGIN}/runs.js", lambda r: r.fulfill(body=RUNS_JS.read_text(), content_type="text/javascript"))
            pg.goto(f"{ORIGIN}/page.html")
            pg.wait_for_function("window.ready === true", timeout=30_000)
            yield pg
            assert errors == []
        finally:
            browser.close()


def rows(pg) -> list[list[str]]:
    return pg.eval_on_selector_all("tr", "trs => trs.map(t => [...t.children].map(c => c.textContent))")


def test_headers_sort_best_first_and_flip_and_the_toggle_shows_constant_columns(page):
    table = rows(page)
    assert table[0] == ["version", "message", "loss ↓", "acc ↑", "lr"]  # epochs: the same everywhere
    assert [r[0][:8] for r in table[1:]] == ["cccccccc", "bbbbbbbb", "aaaaaaaa"]
    assert table[2][2] == "★ 0.3" and table[1][3] == "★ 0.9" and table[3][2] == ""
    page.click("th:has-text('loss')")
    table = rows(page)
    assert [r[0][:8] for r in table[1:]] == ["bbbbbbbb", "cccccccc", "aaaaaaaa"]  # lowest loss first, none last
    assert table[0][2] == "loss ↓ ▲"
    page.click("th:has-text('loss')")
    assert [r[0][:8] for r in rows(page)[1:]] == ["cccccccc", "bbbbbbbb", "aaaaaaaa"]  # flipped; none still last
    page.click("th:has-text('acc')")
    assert [r[0][:8] for r in rows(page)[1:]] == ["cccccccc", "bbbbbbbb", "aaaaaaaa"]  # highest accuracy first
    page.click("th:has-text('lr')")
    assert [r[0][:8] for r in rows(page)[1:]] == ["aaaaaaaa", "bbbbbbbb", "cccccccc"]  # a param: ascending
    assert page.evaluate("window.sent") == [
        {"sort": "loss", "descending": False, "all": False},
        {"sort": "loss", "descending": True, "all": False},
        {"sort": "acc", "descending": True, "all": False},
        {"sort": "lr", "descending": False, "all": False},
    ]
    assert "epochs" in page.inner_text(".mvc-foot")
    page.click("input[type=checkbox]")
    assert rows(page)[0] == ["version", "message", "loss ↓", "acc ↑", "lr ▲", "epochs"]
    assert page.evaluate("window.sent.at(-1).all") is True

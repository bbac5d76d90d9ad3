"""The runs table widget (`%mv_runs` in a notebook) over a real repository: its synced
state, a simulated front-end (set_state, as the browser's header clicks send), refreshing
after commits, and the other widgets' best marks following a repository's metric goal."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("anywidget", reason="anywidget is not installed (pip install anywidget)")

import jupyter_mvc  # noqa: E402
from jupyter_mvc.errors import RevisionError  # noqa: E402
from jupyter_mvc.widgets import curves_widget, runs_widget, timeline_widget  # noqa: E402
from jupyter_mvc.widgets.runs import Runs  # noqa: E402


@pytest.fixture
def runs(repo):
    """a: lr 0.1 (loss 0.5, acc 0.80), b: lr 0.5 (loss 0.3, acc 0.85), c: lr 1.0 (loss 0.4,
    acc 0.90); epochs 5 everywhere. Committed through the API (so followed tags move)."""
    out = {}
    for key, lr, loss, acc in (("a", 0.1, 0.5, 0.80), ("b", 0.5, 0.3, 0.85), ("c", 1.0, 0.4, 0.90)):
        info = jupyter_mvc.commit(
            {"w": np.full(4, lr)},
            f"lr {lr}",
            metrics={"loss": [1.0, loss], "acc": acc},
            params={"lr": lr, "epochs": 5},
            path=repo,
        )
        out[key] = info.id
    return out


def static_html(w) -> str:
    bundle = w._repr_mimebundle_()
    return (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]


def order(w) -> list[str]:
    return [r["id"] for r in w.rows]


def test_the_widget_sends_every_column_rows_newest_first_and_the_best_by_direction(repo, runs):
    w = runs_widget(repo)
    assert isinstance(w, Runs)
    assert [(c["name"], c["kind"], c["goal"], c["constant"]) for c in w.columns] == [
        ("acc", "metric", "max", False),
        ("loss", "metric", "min", False),
        ("epochs", "param", None, True),
        ("lr", "param", None, False),
    ]
    assert order(w) == [runs["c"], runs["b"], runs["a"]]
    assert w.best == {"loss": [runs["b"]], "acc": [runs["c"]]}  # params: never
    assert w.rows[0]["marks"] == ["HEAD -> main"] and w.rows[0]["text"]["loss"] == "0.4"
    assert w.sort == "" and not w.all_columns


def test_a_header_click_sorts_and_python_keeps_the_order(repo, runs):
    w = runs_widget(repo)
    w.set_state({"sort": "loss", "descending": False})  # what the browser sends for a click on "loss ↓"
    assert order(w) == [runs["b"], runs["c"], runs["a"]] and w.table.sort == "loss"
    w.set_state({"sort": "loss", "descending": True})  # a second click flips
    assert order(w) == [runs["a"], runs["c"], runs["b"]]
    w.sort_by("acc")  # best first: the highest accuracy
    assert order(w) == [runs["c"], runs["b"], runs["a"]] and w.descending is True
    w.set_state({"sort": "", "descending": False})  # back to history order
    assert order(w) == [runs["c"], runs["b"], runs["a"]]
    w.set_state({"sort": "nope", "descending": False})
    assert "no version shown has a metric or param by that name" in w.error


def test_the_all_columns_toggle_and_the_static_form(repo, runs):
    w = runs_widget(repo, sort="loss")
    html = static_html(w)
    assert "epochs" not in html.split("<table")[1].split("</tr>")[0] and "same in every version: epochs" in html
    assert len(re.findall("★", html)) == 2
    w.set_state({"all_columns": True})  # the checkbox
    html = static_html(w)
    assert "epochs" in html.split("</tr>")[0]
    assert runs_widget(repo, all_columns=True).table.hidden == ()


def test_the_widget_refreshes_after_commits_and_follows_a_metric_goal(repo, runs):
    w = runs_widget(repo, sort="acc")
    new = jupyter_mvc.commit({"w": np.zeros(4)}, "lr 2.0", metrics={"loss": 0.1, "acc": 0.5}, path=repo)
    assert order(w)[-1] == new.id and w.best["loss"] == [new.id]  # no explicit refresh; sort kept
    jupyter_mvc.metric_goal("acc", "min", path=repo)
    w.refresh()
    assert w.best["acc"] == [new.id] and order(w)[0] == runs["c"]  # the explicit sort direction is kept
    assert {c["name"]: c["goal"] for c in w.columns}["acc"] == "min"


def test_revisions_limits_errors_and_an_empty_repository(repo, runs):
    assert order(runs_widget(repo, ["HEAD~2", "HEAD"])) == [runs["a"], runs["c"]]
    assert len(runs_widget(repo, limit=2).rows) == 2
    with pytest.raises(RevisionError):
        runs_widget(repo, ["nope"])


def test_an_empty_repository_gives_an_empty_table(repo):
    w = runs_widget(repo)
    assert w.rows == [] and w.columns == []


def test_curves_and_timeline_mark_the_best_by_the_repository_goal_and_show_best_tags(repo, runs):
    c = curves_widget(repo, [runs["a"], runs["b"], runs["c"]], metric="loss")
    assert c.table["best"] == {"acc": [2], "loss (last)": [1]}
    assert "lr ↑" not in c.table_html.value and "lr ↓" not in c.table_html.value  # params are never ranked
    jupyter_mvc.metric_goal("loss", "max", path=repo)
    c = curves_widget(repo, [runs["a"], runs["b"], runs["c"]], metric="loss")
    assert c.table["best"]["loss (last)"] == [0]
    jupyter_mvc.tag_best("loss", path=repo)
    t = timeline_widget(repo)
    rows = {r["id"]: r for r in t.graph.rows}
    assert rows[runs["a"]]["tags"] == ["best-loss"] and rows[runs["a"]]["best"] == ["loss"]
    assert rows[runs["c"]]["best"] == ["acc"]


def test_the_front_end_code_is_offline_and_sorts_by_the_goal():
    text = Runs._esm.read_text() if hasattr(Runs._esm, "read_text") else str(Runs._esm)
    assert "export default" in text
    assert not re.search(r"\bimport\b[^;]*['\"](https?:)?//", text), "no CDN imports"
    assert 'c.goal === "max"' in text  # a first click sorts best first


def test_mv_runs_in_a_notebook_front_end_displays_the_widget(shell, monkeypatch):
    import IPython.display

    from jupyter_mvc.magics import runs as runs_magics

    shown = []
    monkeypatch.setattr(runs_magics, "in_frontend", lambda shell: True)  # as under ipykernel
    monkeypatch.setattr(IPython.display, "display", shown.append)
    for lr, loss in ((0.1, 0.5), (0.5, 0.3)):
        shell(f"w = {lr}")
        shell(f'%mv_commit w -m "lr {lr}" --metric loss={loss} --param lr={lr}')
    assert shell("%mv_runs --sort loss -n 5") == ""
    (w,) = shown
    assert isinstance(w, Runs) and w.sort == "loss" and w.rows[0]["values"]["loss"] == 0.3
    assert "version" in shell("%mv_runs --text") and len(shown) == 1  # --text prints instead

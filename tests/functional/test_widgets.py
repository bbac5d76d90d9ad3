"""The timeline and curves widgets over real Git repositories: their synced state, a
simulated front-end (set_state, as the browser's messages do), and their actions."""

from __future__ import annotations

import re

import numpy as np
import pytest

pytest.importorskip("anywidget", reason="anywidget is not installed (pip install anywidget)")

from jupyter_mvc.errors import RevisionError  # noqa: E402
from jupyter_mvc.widgets import curves_widget, refresh_all, timeline_widget  # noqa: E402
from jupyter_mvc.widgets.timeline import Timeline, TimelineGraph  # noqa: E402


def train_run(repo, lr: float, message: str, epochs: int = 5):
    loss = [round(2.0 / (1 + lr * e), 6) for e in range(epochs)]
    return repo.commit(
        {"w": np.full(8, lr), "b": np.zeros(2)},
        message,
        metrics={"loss": loss, "mse": [x / 4 for x in loss], "test_acc": round(0.8 + lr / 10, 4)},
        params={"lr": lr},
    )


@pytest.fixture
def history(repo):
    """main: lr 0.1 -> lr 0.5 (tag good) -> lr 1.0 ; branch l2 from the lr 0.5 version."""
    a = train_run(repo, 0.1, "lr 0.1")
    b = train_run(repo, 0.5, "lr 0.5")
    repo.refs.create_tag("good")
    c = train_run(repo, 1.0, "lr 1.0")
    repo.refs.create_branch("l2", b.id)
    repo.refs.switch_branch("l2")
    d = repo.commit(
        {"w": np.full(8, 0.25), "b": np.zeros(2)},
        "l2 run",
        metrics={"loss": [1.0, 0.5], "test_acc": 0.9},
        params={"lr": 0.5, "l2": 0.001},
    )
    return {"a": a.id, "b": b.id, "c": c.id, "d": d.id}


def rows_by_id(t):
    return {r["id"]: r for r in t.graph.rows}


def test_timeline_state_has_every_version_with_lanes_marks_and_the_head_selected(repo, history):
    t = timeline_widget(repo)
    rows = rows_by_id(t)
    assert set(rows) == set(history.values())
    assert rows[history["d"]]["head"] and rows[history["d"]]["branches"] == ["l2"]
    assert rows[history["c"]]["branches"] == ["main"] and rows[history["b"]]["tags"] == ["good"]
    assert rows[history["c"]]["lane"] != rows[history["d"]]["lane"] and t.graph.lanes == 2
    assert rows[history["b"]]["lane"] == rows[history["a"]]["lane"]
    assert rows[history["c"]]["metrics"]["test_acc"] == 0.9
    # the current version is selected and its details are shown
    assert t.graph.selected == history["d"]
    assert t.details["params"] == {"lr": 0.5, "l2": 0.001}
    assert {v["name"] for v in t.details["variables"]} == {"w", "b"}
    assert t.details["diff"]["params"] == {"l2": [None, 0.001]}
    assert [v["name"] for v in t.details["diff"]["variables"]] == ["w"]  # b did not change
    assert "on branch <b>l2</b>" in t.header.value and "4</b> versions" in t.header.value
    assert "0.001" in t.details_html.value


def test_a_front_end_click_selects_a_version_and_shows_its_details(repo, history):
    t = timeline_widget(repo)
    t.graph.set_state({"selected": history["a"]})  # what the browser's click sends
    assert t.details["info"]["id"] == history["a"]
    assert t.details["diff"] is None and "no parent" in t.details_html.value
    assert t.details["series"]["loss"]["points"] == 5 and t.details["metrics"]["scalars"]["test_acc"] == 0.81
    t.graph.set_state({"selected": history["c"]})
    assert t.details["diff"]["old"]["short_id"] == history["b"][:8]
    tensors = t.details["diff"]["variables"][0]["tensors"]
    assert tensors[0]["changed"] == 8 and tensors[0]["max_abs_delta"] == pytest.approx(0.5)


def test_shift_click_compares_and_overlays_both_versions_curves(repo, history):
    t = timeline_widget(repo)
    t.graph.set_state({"selected": history["c"]})
    t.graph.set_state({"compare": history["a"]})
    assert t.curves is not None and t.extra.children == (t.curves,)
    lines = t.curves.figure.axes[0].get_lines()
    assert [line.get_label().split()[0] for line in lines] == [history["a"][:8], history["c"][:8]]
    assert "lr" in t.details_html.value and "0.1 → 1" in t.details_html.value
    assert t.compare_picker.value == history["a"]


def test_check_out_button_calls_the_kernel_callback_and_refreshes(repo, history):
    calls = []

    def on_checkout(rev):
        calls.append(rev)
        repo.checkout(rev)  # what %mv_checkout does to HEAD
        return f"Checked out {rev[:8]}"

    t = timeline_widget(repo, on_checkout=on_checkout)
    t.graph.set_state({"selected": history["b"]})
    t.checkout_button.click()
    assert calls == [history["b"]]
    assert t.status.value == f"Checked out {history['b'][:8]}"
    assert rows_by_id(t)[history["b"]]["head"] and not rows_by_id(t)[history["d"]]["head"]


def test_without_a_kernel_callback_check_out_is_disabled_and_says_why(repo, history):
    t = timeline_widget(repo)
    assert t.checkout_button.disabled
    assert "%mv_checkout" in t.checkout()


@pytest.mark.slow  # several seconds: kept out of `make test-fast`
def test_pages_and_load_more_keep_the_front_end_small(repo):
    for i in range(45):
        repo.commit({"x": np.arange(3) + i}, f"step {i}", metrics={"loss": 1.0 / (i + 1)})
    t = Timeline(repo, limit=30, page_size=12)
    assert len(t.graph.rows) == 12 and t.state["pages"] == 3 and "30+" in t.header.value
    assert t.newer.disabled and not t.older.disabled and t.more.layout.display is None
    t.older.click()
    assert t.graph.rows[0]["id"] == t.infos[12].id and t.page == 1
    t.more.click()
    assert t.state["total"] == 45 and t.more.layout.display == "none"
    t.select("HEAD~40")  # turns to the page that holds it
    assert t.page == 40 // 12 and t.graph.selected == repo.resolve("HEAD~40")


@pytest.mark.slow  # several seconds: kept out of `make test-fast`
def test_widgets_follow_commits_made_in_the_same_kernel(repo, history):
    t = timeline_widget(repo)
    c = curves_widget(repo, ["HEAD"])
    new = train_run(repo, 2.0, "lr 2.0")
    assert new.id not in rows_by_id(t)
    alive = refresh_all()
    assert alive >= 2
    assert new.id in rows_by_id(t) and t.graph.selected == history["d"]  # the selection stays
    assert new.id in [value for _, value in c.version_picker.options]
    t.close()
    c.close()
    assert refresh_all() == alive - 2  # closed widgets are dropped


def test_widgets_refresh_by_themselves_after_api_commits_and_checkouts(repo, history):
    import numpy as np

    import jupyter_mvc

    t = timeline_widget(repo)
    info = jupyter_mvc.commit({"w": np.zeros(3)}, "through the api", path=repo.root)
    assert info.id in rows_by_id(t)  # no explicit refresh_all()
    jupyter_mvc.checkout(history["d"], path=repo.root)
    assert rows_by_id(t)[history["d"]]["head"]  # the HEAD mark moved
    t.close()


def test_curves_overlay_the_chosen_metric_and_mark_the_best(repo, history):
    c = curves_widget(repo, ["HEAD~1", "main", "l2"], metric="loss")
    lines = c.figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == [
        f"{history['b'][:8]} HEAD~1",
        f"{history['c'][:8]} main",
        f"{history['d'][:8]} l2",
    ]
    assert list(lines[1].get_ydata()) == [round(2.0 / (1 + e), 6) for e in range(5)]
    assert c.figure.axes[0].get_ylabel() == "loss"
    assert bytes(c.image.value).startswith(b"\x89PNG")
    # best: highest test_acc is the lr 1.0 run (0.9 too for l2: a tie shares the star)
    assert c.table["best"]["test_acc"] == [1, 2]
    assert len(re.findall("★", c.table_html.value)) == sum(len(v) for v in c.table["best"].values())
    # the front-end picks another metric: the figure follows
    c.metric_picker.value = "mse"
    assert c.figure.axes[0].get_ylabel() == "mse"
    assert len(c.figure.axes[0].get_lines()) == 2 and "l2" in c.message.value  # l2 run logged no mse
    c.version_picker.value = (history["a"],)
    assert len(c.figure.axes[0].get_lines()) == 1
    bundle = c._repr_mimebundle_()
    assert "image/png" in bundle and "application/vnd.jupyter.widget-view+json" in bundle


def test_a_bad_revision_is_a_clear_error(repo, history):
    with pytest.raises(RevisionError, match="no branch, tag, remote branch or version id 'nope'"):
        curves_widget(repo, ["nope"])


def test_an_empty_repository_shows_an_empty_timeline(repo):
    t = timeline_widget(repo)
    assert t.graph.rows == [] and t.details is None and "0</b> versions" in t.header.value


def test_a_path_works_as_well_as_a_repo(git_repo, repo, history):
    t = timeline_widget(str(git_repo))
    assert len(t.graph.rows) == 4


def test_the_front_end_code_is_offline():
    esm = TimelineGraph._esm
    text = esm.read_text() if hasattr(esm, "read_text") else str(esm)
    assert "export default" in text
    assert not re.search(r"\bimport\b[^;]*['\"](https?:)?//", text), "no CDN imports"

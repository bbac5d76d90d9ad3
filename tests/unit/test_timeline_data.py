"""Timeline layout and compare-table choices from fixed data: no git, no widgets."""

from __future__ import annotations

import pytest

from jupyter_mvc.objects import Manifest, Version, VersionInfo
from jupyter_mvc.present.fmt import age, lower_is_better
from jupyter_mvc.present.graph import layout, topo_order
from jupyter_mvc.widgets import curves_data
from jupyter_mvc.widgets.timeline_data import page_of, rows_html, timeline_state


def v(sha: str, *parents: str, t: int = 1000, **kw) -> VersionInfo:
    return VersionInfo(
        id=sha * 40 if len(sha) == 1 else sha,
        parents=tuple(p * 40 if len(p) == 1 else p for p in parents),
        message=kw.pop("message", f"version {sha}"),
        author="A",
        time=t,
        **kw,
    )


def lanes_by_id(rows):
    return {r["id"][0]: r["lane"] for r in rows}


def test_linear_history_is_one_lane_of_straight_edges():
    infos = [v("c", "b"), v("b", "a"), v("a")]
    rows, edges, width = layout(infos)
    assert [r["id"][0] for r in rows] == ["c", "b", "a"]
    assert width == 1
    assert [e["points"] for e in edges] == [[[0, 0], [0, 1]], [[0, 1], [0, 2]]]


def test_a_branch_gets_its_own_lane_and_bends_into_its_fork_point():
    # main: a - b - d ; experiment: b - c   (newest first: d, c, b, a)
    infos = [v("d", "b", branches=("main",)), v("c", "b", branches=("experiment",)), v("b", "a"), v("a")]
    rows, edges, width = layout(infos)
    lanes = lanes_by_id(rows)
    assert width == 2
    assert lanes["d"] == lanes["b"] == lanes["a"] == 0 and lanes["c"] == 1
    fork = next(e for e in edges if e["points"][0] == [1, 1])
    assert fork["points"] == [[1, 1], [0, 2]]  # c (row 1, lane 1) -> b (row 2, lane 0)


def test_a_merge_steps_its_second_parent_into_a_new_lane():
    infos = [v("m", "d", "c"), v("d", "b"), v("c", "b"), v("b")]
    rows, edges, width = layout(infos)
    lanes = lanes_by_id(rows)
    assert lanes["m"] == 0 and lanes["d"] == 0 and lanes["c"] == 1
    second = [e for e in edges if e["points"][0] == [0, 0] and e["points"][-1] == [1, 2]]
    assert second == [{"lane": 1, "points": [[0, 0], [1, 1], [1, 2]]}]
    assert width == 2


def test_lanes_are_reused_so_width_is_branches_alive_at_once():
    # 50 short-lived branches off a long main: never more than two lanes alive at once.
    infos, main = [], []
    for i in range(50):
        main.append(f"{i:040x}")
    for i in reversed(range(50)):
        parents = (main[i - 1],) if i else ()
        infos.append(v(main[i], *parents, t=2 * i))
        if i:
            infos.append(v(f"{i:038x}ff", main[i - 1], t=2 * i - 1))
    _, _, width = layout(infos)
    assert width == 2


def test_children_come_before_parents_even_when_the_log_says_otherwise():
    # git log over two tips orders by date only: a same-second parent can come first.
    infos = [v("b", "a"), v("a"), v("c", "b")]
    assert [i.id[0] for i in topo_order(infos)] == ["c", "b", "a"]
    rows, _, _ = layout(infos)
    assert [r["id"][0] for r in rows] == ["c", "b", "a"]


def test_a_parent_beyond_the_loaded_history_runs_off_the_bottom():
    infos = [v("c", "b"), v("b", "a")]  # "a" was not loaded (limit)
    _, edges, _ = layout(infos)
    assert edges[-1]["points"] == [[0, 1], [0, 2]]


def test_thousands_of_versions_send_one_page_only():
    n = 5000
    ids = [f"{i:040x}" for i in range(n)]
    infos = [v(ids[i], *((ids[i - 1],) if i else ()), t=i, metrics={"loss": 1.0 / (i + 1)}) for i in reversed(range(n))]
    state = timeline_state(infos, page=3, page_size=40, now=n)
    assert state["total"] == n and state["pages"] == 125 and state["page"] == 3
    assert len(state["rows"]) == 40
    assert state["rows"][0]["id"] == ids[n - 1 - 120] and state["rows"][0]["row"] == 0
    assert all(any(0 <= p[1] < 40 for p in e["points"]) or e["points"][0][1] < 40 for e in state["edges"])
    assert len(state["edges"]) == 41  # 40 rows' edges, plus the one arriving from the page above
    assert page_of(infos, ids[0], 40) == 124
    assert timeline_state(infos, page=999, page_size=40)["page"] == 124  # clamped, not empty


def test_page_rows_carry_marks_metrics_and_age():
    infos = [
        v("b", "a", t=1000, branches=("main",), tags=("v1",), is_head=True, metrics={"loss": 0.123456789}),
        v("a", t=400),
    ]
    state = timeline_state(infos, now=1000 + 7200, current_branch="main")
    top = state["rows"][0]
    assert top["head"] and top["current"] and top["branches"] == ["main"] and top["tags"] == ["v1"]
    assert top["metrics"] == {"loss": 0.1235} and top["age"] == "2 h ago" and top["short"] == "bbbbbbbb"
    html = rows_html(state)
    assert "tag: v1" in html and "bbbbbbbb" in html and "2 versions" in html


def test_empty_history_is_an_empty_page():
    state = timeline_state([])
    assert state["rows"] == [] and state["total"] == 0 and state["pages"] == 1


@pytest.mark.parametrize(
    "seconds,text", [(0, "just now"), (9, "just now"), (59, "59 s ago"), (61, "1 min ago"), (90000, "1 d ago")]
)
def test_age(seconds, text):
    assert age(seconds) == text


@pytest.mark.parametrize(
    "name,lower",
    [
        ("loss", True),
        ("val_loss", True),
        ("model.loss_curve", True),
        ("mse", True),
        ("test_acc", False),
        ("f1", False),
        ("error_rate", True),
        ("r2", False),
    ],
)
def test_which_way_is_better(name, lower):
    assert lower_is_better(name) is lower


def version(sha: str, params: dict, scalars: dict, series: dict) -> Version:
    info = v(sha, message=f"run {sha}")
    return Version(
        info=info,
        manifest=Manifest({}),
        metrics={"scalars": scalars, "series": series},
        params=params,
        env={},
        files=(),
    )


def test_compare_table_marks_the_best_value_of_each_metric_column():
    runs = [
        version("a", {"lr": 0.1}, {"acc": 0.90}, {"loss": [[0, 2.0], [1, 0.5]]}),
        version("b", {"lr": 1.0}, {"acc": 0.95}, {"loss": [[0, 2.0], [1, 0.7]]}),
        version("c", {"lr": 0.5}, {"acc": 0.95}, {"loss": [[0, 2.0], [1, None]]}),
    ]
    table = curves_data.compare_table(runs, ["HEAD~2", "HEAD~1", "HEAD"])
    assert [c["name"] for c in table["columns"]] == ["lr", "acc", "loss (last)"]
    assert table["best"] == {"acc": [1, 2], "loss (last)": [0]}  # ties share the star
    assert "lr" not in table["best"]  # params have no better or worse
    assert table["rows"][2]["values"]["loss (last)"] == 2.0  # a missing value falls back to the last finite
    assert table["rows"][0]["label"] == "aaaaaaaa HEAD~2"


def test_curves_pick_loss_first_and_skip_versions_without_the_series():
    runs = [
        version("a", {}, {}, {"mse": [[0, 1.0]], "loss": [[0, 3.0], [1, 2.0]]}),
        version("b", {}, {}, {"mse": [[0, 0.5]]}),
    ]
    assert curves_data.pick_metric(runs, None) == "loss"
    assert curves_data.series_names(runs) == ["mse", "loss"]  # shared by most first
    lines = curves_data.curves(runs, ["a", "b"], "loss")
    assert [(line["steps"], line["values"]) for line in lines] == [([0, 1], [3.0, 2.0])]

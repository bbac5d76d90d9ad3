"""The runs table (present/runs.py) from fixed versions: which columns show, how rows sort,
which values are best, and its text and JSON forms. No git."""

from __future__ import annotations

import pytest

from jupyter_mvc.errors import InvalidNameError
from jupyter_mvc.objects import Manifest, Version, VersionInfo
from jupyter_mvc.present.runs import best_tag_line, runs_lines, runs_table, runs_view
from jupyter_mvc.repo.goals import BestTag


def info(sha: str, t: int, tags=(), branches=(), head=False, **metrics) -> VersionInfo:
    return VersionInfo(
        id=sha * 40,
        parents=(),
        message=f"run {sha}",
        author="A",
        time=t,
        metrics=metrics,
        tags=tuple(tags),
        branches=tuple(branches),
        is_head=head,
    )


@pytest.fixture
def runs():
    """Newest first, as the log gives them. `epochs` and `opt` are the same everywhere."""
    infos = [
        info("c", 3, branches=("main",), head=True, loss=0.4, acc=0.90),
        info("b", 2, tags=("good",), loss=0.3, acc=0.85),
        info("a", 1, loss=0.5, acc=0.80),
    ]
    params = {
        "c" * 40: {"lr": 1.0, "epochs": 5, "opt": {"name": "adam", "beta": 0.9}},
        "b" * 40: {"lr": 0.5, "epochs": 5, "opt": {"name": "adam", "beta": 0.9}},
        "a" * 40: {"lr": 0.1, "epochs": 5, "opt": {"name": "adam", "beta": 0.9}},
    }
    return infos, params


def ids(table) -> str:
    return "".join(i.id[0] for i in table.versions)


def test_columns_that_are_the_same_everywhere_are_hidden_unless_all_columns(runs):
    table = runs_table(*runs)
    assert [c.name for c in table.shown] == ["loss", "acc", "lr"]
    assert table.hidden == ("epochs", "opt.name", "opt.beta")  # nested params flatten to a.b
    everything = runs_table(*runs, all_columns=True)
    assert [c.name for c in everything.shown] == ["loss", "acc", "lr", "epochs", "opt.name", "opt.beta"]
    assert everything.hidden == ()
    assert {c.name: c.kind for c in table.columns}["lr"] == "param"
    assert {c.name: c.goal for c in table.columns} == {
        "loss": "min",
        "acc": "max",
        "lr": None,  # params are never ranked
        "epochs": None,
        "opt.name": None,
        "opt.beta": None,
    }


def test_a_value_missing_in_one_version_is_a_difference_and_one_version_shows_everything(runs):
    infos, params = runs
    params = {**params, "a" * 40: {"lr": 0.1, "opt": {"name": "adam", "beta": 0.9}}}  # no epochs
    assert "epochs" in [c.name for c in runs_table(infos, params).shown]
    single = runs_table(infos[:1], params)
    assert [c.name for c in single.shown] == ["loss", "acc", "lr", "epochs", "opt.name", "opt.beta"]


def test_history_order_by_default_and_sorting_is_best_first_by_the_goal(runs):
    assert ids(runs_table(*runs)) == "cba"
    by_loss = runs_table(*runs, sort="loss")
    assert ids(by_loss) == "bca" and by_loss.descending is False  # lowest loss first
    by_acc = runs_table(*runs, sort="acc")
    assert ids(by_acc) == "cba" and by_acc.descending is True  # highest accuracy first
    assert ids(runs_table(*runs, sort="lr")) == "abc"  # a param: ascending
    assert ids(runs_table(*runs, sort="loss", descending=True)) == "acb"
    assert ids(runs_table(*runs, sort="acc", goals={"acc": "min"})) == "abc"  # the repository's goal


def test_versions_without_the_sort_value_go_last_in_both_directions(runs):
    infos, params = runs
    infos = [*infos, info("d", 0, acc=0.99)]  # no loss
    assert ids(runs_table(infos, params, sort="loss")) == "bcad"
    assert ids(runs_table(infos, params, sort="loss", descending=True)) == "acbd"


def test_the_sort_column_shows_even_when_constant_and_a_bad_one_names_the_columns(runs):
    table = runs_table(*runs, sort="epochs")
    assert "epochs" in [c.name for c in table.shown]
    with pytest.raises(InvalidNameError, match="no version shown has a metric or param by that name.*loss, acc, lr"):
        runs_table(*runs, sort="nope")


def test_best_values_follow_the_goal_and_ties_share(runs):
    infos, params = runs
    assert runs_table(infos, params).best == {"loss": ("b" * 40,), "acc": ("c" * 40,)}
    assert runs_table(infos, params, goals={"loss": "max"}).best["loss"] == ("a" * 40,)
    tie = [*infos, info("d", 0, loss=0.3)]
    assert set(runs_table(tie, params).best["loss"]) == {"b" * 40, "d" * 40}
    assert runs_table(infos[:1], params).best == {}  # one value is not a comparison


def test_whole_versions_work_too():
    def version(sha, t, params, scalars, series):
        return Version(
            info=info(sha, t),
            manifest=Manifest({}),
            metrics={"scalars": scalars, "series": series},
            params=params,
            env={},
            files=(),
        )

    table = runs_table(
        [
            version("b", 2, {"lr": 0.5}, {"acc": 0.9}, {"loss": [[0, 1.0], [1, 0.2]]}),
            version("a", 1, {"lr": 0.1}, {"acc": 0.8}, {"loss": [[0, 1.0], [1, 0.6]]}),
        ]
    )
    assert table.values["b" * 40] == {"acc": 0.9, "loss": 0.2, "lr": 0.5}  # a series: its last value
    assert table.best == {"acc": ("b" * 40,), "loss": ("b" * 40,)}


def test_text_puts_the_version_first_marks_best_and_says_what_is_hidden(runs):
    lines = runs_lines(runs_table(*runs, sort="loss"), current_branch="main")
    assert lines[0].split() == ["version", "message", "loss", "↓", "acc", "↑", "lr"]  # params: no arrow
    assert lines[1].startswith("bbbbbbbb (tag: good)") and "0.3 ★" in lines[1]
    assert lines[2].startswith("cccccccc (HEAD -> main)") and "0.9 ★" in lines[2]
    assert lines[3].startswith("aaaaaaaa") and "★" not in lines[3]
    assert lines[4].startswith("3 versions") and "sorted by loss, lowest first (best first)" in lines[4]
    assert lines[5] == "Same in every version (hidden; --all-columns shows them): epochs, opt.name, opt.beta"
    # numbers stay aligned whether or not they carry the star
    assert lines[1].index("0.3") + 3 == lines[2].index("0.4") + 3 == lines[3].index("0.5") + 3
    assert runs_lines(runs_table([], {})) == ["No versions yet: %mv_commit -m 'message' makes the first."]


def test_text_escapes_what_versions_hold():
    infos = [info("b", 2, **{"lo\x1bss": 0.1}), info("a", 1, **{"lo\x1bss": 0.2})]
    text = "\n".join(runs_lines(runs_table(infos, {"b" * 40: {"p": "x\x1b[2J"}, "a" * 40: {"p": "y"}})))
    assert "\x1b" not in text and "\\x1b" in text


def test_the_json_view_sends_every_column_with_its_flags(runs):
    view = runs_view(runs_table(*runs, sort="acc"), current_branch="main")
    assert [(c["name"], c["kind"], c["goal"], c["constant"]) for c in view["columns"]][:3] == [
        ("loss", "metric", "min", False),
        ("acc", "metric", "max", False),
        ("lr", "param", None, False),
    ]
    assert {c["name"]: c["header"] for c in view["columns"]}["loss"] == "loss ↓"
    assert [r["short"] for r in view["rows"]] == ["cccccccc", "bbbbbbbb", "aaaaaaaa"]
    assert view["rows"][0]["marks"] == ["HEAD -> main"] and view["rows"][0]["text"]["opt.beta"] == "0.9"
    assert view["best"] == {"loss": ["b" * 40], "acc": ["c" * 40]}
    assert view["sort"] == "acc" and view["descending"] is True and view["hidden"] == ["epochs", "opt.name", "opt.beta"]


def test_best_tag_lines():
    v = info("b", 2, loss=0.3)
    assert best_tag_line(BestTag("best-loss", "loss", "min", v, 0.3, None, 3)) == (
        "Tagged bbbbbbbb as best-loss: loss=0.3, the lowest of 3 versions."
    )
    assert "(moved from aaaaaaaa)" in best_tag_line(BestTag("best-loss", "loss", "min", v, 0.3, "a" * 40, 3))
    assert best_tag_line(BestTag("best-acc", "acc", "max", v, 0.9, "b" * 40, 1)).startswith(
        "best-acc is already on bbbbbbbb: acc=0.9, the highest of 1 version."
    )
    assert "each commit with a better loss moves it" in best_tag_line(
        BestTag("best-loss", "loss", "min", v, 0.3, "b" * 40, 3, following=True)
    )
    assert "no version has it yet" in best_tag_line(BestTag("best-loss", "loss", "min", None, None, None, 0, True))


def test_a_param_named_like_a_metric_gets_its_own_column():
    infos = [info("b", 2), info("a", 1, lr=0.9)]  # `lr` is a metric of the older version only
    table = runs_table(infos, {"b" * 40: {"lr": 0.5}, "a" * 40: {"lr": 0.1}})
    assert [(c.name, c.kind) for c in table.columns] == [("lr", "metric"), ("lr (param)", "param")]
    assert table.values["b" * 40] == {"lr (param)": 0.5} and table.values["a" * 40] == {"lr": 0.9, "lr (param)": 0.1}

"""Issue 17 through the faces, over real Git repositories: `%mv_runs` in the real IPython
shell and `mvc runs`, `mvc metric-goal` / `%mv_metric_goal` changing which value is best
everywhere, `--best` tags, and `--follow-best` moving a tag only on improvement.

The `shell` fixture (the real IPython shell) lives in tests/functional/conftest.py."""

from __future__ import annotations

import json

import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc import cli
from jupyter_mvc.widgets import curves_data, timeline_data


def three_runs(shell) -> list[str]:
    """lr 0.1 (loss 0.5, acc 0.80) -> lr 0.5 (loss 0.3, acc 0.85) -> lr 1.0 (loss 0.4, acc 0.90);
    epochs=5 in all three. Returns their ids, oldest first."""
    ids = []
    for w, lr, loss, acc in ((1, 0.1, 0.5, 0.80), (2, 0.5, 0.3, 0.85), (3, 1.0, 0.4, 0.90)):
        shell(f"w = {w}")
        shell(f'%mv_commit w -m "lr {lr}" --metric loss={loss} --metric acc={acc} --param lr={lr} --param epochs=5')
        ids.append(jupyter_mvc.resolve("HEAD"))
    return ids


def mvc(capsys, *argv) -> str:
    capsys.readouterr()
    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def row_of(lines: list[str], sha: str) -> str:
    return next(line for line in lines if line.startswith(sha[:8]))


# -- %mv_runs / mvc runs ----------------------------------------------------------------------
def test_mv_runs_prints_a_table_of_the_runs_in_the_shell(shell):
    a, b, c = three_runs(shell)
    lines = shell("%mv_runs").splitlines()
    assert lines[0].split() == ["version", "message", "loss", "↓", "acc", "↑", "lr"]  # epochs: same everywhere
    assert [line[:8] for line in lines[1:4]] == [c[:8], b[:8], a[:8]]  # newest first
    assert row_of(lines, c).startswith(f"{c[:8]} (HEAD -> main)") and "lr 1.0" in row_of(lines, c)
    assert "0.3 ★" in row_of(lines, b) and "0.9 ★" in row_of(lines, c)  # lowest loss, highest accuracy
    assert "★" not in row_of(lines, a)
    assert lines[-1] == "Same in every version (hidden; --all-columns shows them): epochs"

    everything = shell("%mv_runs --all-columns").splitlines()
    assert everything[0].split()[-2:] == ["epochs", "lr"] and "Same in every version" not in everything[-1]


def test_mv_runs_sorts_best_first_by_the_metric_and_takes_revisions_and_limits(shell):
    a, b, c = three_runs(shell)
    by_loss = shell("%mv_runs --sort loss").splitlines()
    assert [line[:8] for line in by_loss[1:4]] == [b[:8], c[:8], a[:8]]
    assert "sorted by loss, lowest first (best first)" in by_loss[4]
    by_acc = shell("%mv_runs --sort acc").splitlines()
    assert [line[:8] for line in by_acc[1:4]] == [c[:8], b[:8], a[:8]]
    by_acc_asc = shell("%mv_runs --sort acc --asc").splitlines()
    assert [line[:8] for line in by_acc_asc[1:4]] == [a[:8], b[:8], c[:8]]
    two = shell("%mv_runs HEAD~2 HEAD").splitlines()
    assert [line[:8] for line in two[1:3]] == [a[:8], c[:8]] and two[3].startswith("2 versions")
    assert shell("%mv_runs -n 1").splitlines()[2].startswith("1 version")
    err, _ = shell.error("%mv_runs --sort nope")
    assert "bad column name 'nope'" in str(err) and "loss, acc, epochs, lr" in str(err)


def test_mvc_runs_prints_the_same_table(shell, capsys, git_repo):
    a, b, c = three_runs(shell)
    out = mvc(capsys, "-C", str(git_repo), "runs", "--sort", "loss", "--all-columns").splitlines()
    assert out[0].split() == ["version", "message", "loss", "↓", "acc", "↑", "epochs", "lr"]
    assert out[1].startswith(b[:8]) and "0.3 ★" in out[1]


# -- metric goals -----------------------------------------------------------------------------
def test_mvc_metric_goal_changes_the_best_in_runs_compare_table_timeline_and_details(shell, capsys, git_repo):
    a, b, c = three_runs(shell)
    assert "acc: min (lower is better, set for this repository)" in mvc(
        capsys, "-C", str(git_repo), "metric-goal", "acc", "min"
    )
    config = json.loads((git_repo / ".git" / "mvc" / "config.json").read_text())
    assert config["metric_goals"] == {"acc": "min"}
    assert jupyter_mvc.metric_goal("acc") == "min" and jupyter_mvc.metric_goal("loss") == "min"
    # the runs table
    lines = shell("%mv_runs").splitlines()
    assert lines[0].split()[4:6] == ["acc", "↓"] and "0.8 ★" in row_of(lines, a) and "★" not in row_of(lines, c)
    # the compare table (curves widget's data) and the timeline rows
    versions = [jupyter_mvc.show(sha) for sha in (a, b, c)]
    table = curves_data.compare_table(versions, ["a", "b", "c"], jupyter_mvc.metric_goals())
    assert table["best"]["acc"] == [0] and table["best"]["loss"] == [1]
    rows = {
        r["id"]: r
        for r in timeline_data.timeline_state(jupyter_mvc.log(all=True), goals=jupyter_mvc.metric_goals())["rows"]
    }
    assert rows[a]["best"] == ["acc"] and rows[b]["best"] == ["loss"] and rows[c]["best"] == []
    # back to the name's judgement
    assert "acc: max (higher is better, judged by its name)" in mvc(
        capsys, "-C", str(git_repo), "metric-goal", "acc", "auto"
    )
    assert jupyter_mvc.metric_goals() == {}


def test_metric_goal_rules_the_details_pane_series_best(repo):
    jupyter_mvc.commit({"w": np.zeros(2)}, "curve", metrics={"val_score": [0.5, 0.2, 0.3]}, path=repo)
    details = timeline_data.version_details(repo, "HEAD")
    assert details["series"]["val_score"]["best"] == 0.5
    assert "best 0.5 (highest)" in timeline_data.details_html(details)
    jupyter_mvc.metric_goal("val_score", "min", path=repo)
    details = timeline_data.version_details(repo, "HEAD")
    assert details["series"]["val_score"]["best"] == 0.2
    assert "best 0.2 (lowest)" in timeline_data.details_html(details)


def test_mv_metric_goal_sets_lists_and_refuses_a_bad_goal(shell):
    assert shell("%mv_metric_goal").startswith("No metric goals set")
    three_runs(shell)
    assert (
        shell("%mv_metric_goal val_score min").strip() == "val_score: min (lower is better, set for this repository)."
    )
    assert shell("%mv_metric_goal loss").strip() == "loss: min (lower is better, judged by its name)."
    assert shell("%mv_metric_goal").split() == ["val_score", "min"]
    with pytest.raises(ValueError, match="neither min nor max"):
        jupyter_mvc.metric_goal("val_score", "up")


# -- best tags --------------------------------------------------------------------------------
def test_tag_best_tags_the_lowest_loss_and_the_highest_accuracy(shell, capsys, git_repo):
    a, b, c = three_runs(shell)
    out = shell("%mv_tag --best loss")
    assert out.strip() == f"Tagged {b[:8]} as best-loss: loss=0.3, the lowest of 3 versions."
    assert shell("%mv_tag --best acc").strip() == f"Tagged {c[:8]} as best-acc: acc=0.9, the highest of 3 versions."
    assert jupyter_mvc.tags() == {"best-loss": b, "best-acc": c}
    assert "is already on" in shell("%mv_tag --best loss")
    # the CLI and the API, with a name of one's own
    assert f"Tagged {b[:8]} as champion" in mvc(capsys, "-C", str(git_repo), "tag", "--best", "loss", "champion")
    assert jupyter_mvc.tag_best("acc", "top").version.id == c
    # a goal of the repository's own turns it around; the tag moves
    jupyter_mvc.metric_goal("acc", "min")
    moved = jupyter_mvc.tag_best("acc")
    assert moved.version.id == a and moved.previous == c and jupyter_mvc.tags()["best-acc"] == a
    err, _ = shell.error("%mv_tag --best nope")
    assert "no version has it" in str(err) and "loss, acc" in str(err)


def test_follow_best_moves_the_tag_only_when_a_commit_improves_the_metric(shell):
    a, b, c = three_runs(shell)
    out = shell("%mv_tag --follow-best loss")
    assert f"best-loss follows the lowest loss: on {b[:8]}" in out and "%mv_tag --unfollow loss stops it" in out
    assert json.loads((jupyter_mvc.data_dir() / "config.json").read_text())["follow_best"] == {"loss": "best-loss"}

    def commit(loss=None) -> str:
        shell(f"w = {np.random.default_rng().integers(1 << 30)}")
        shell('%mv_commit w -m "run"' + (f" --metric loss={loss}" if loss is not None else ""))
        return jupyter_mvc.resolve("HEAD")

    commit(0.35)  # worse
    assert jupyter_mvc.tags()["best-loss"] == b
    commit(0.3)  # a tie: the first to reach it keeps the tag
    assert jupyter_mvc.tags()["best-loss"] == b
    commit()  # no loss at all
    assert jupyter_mvc.tags()["best-loss"] == b
    better = commit(0.2)
    assert jupyter_mvc.tags()["best-loss"] == better
    shell("w = -1")
    assert "Best so far: moved tag best-loss here." in shell('%mv_commit w -m "best yet" --metric loss=0.15')
    better = jupyter_mvc.resolve("HEAD")
    assert "tag: best-loss" in shell("%mv_log").splitlines()[0]  # a tag like any other
    # the Python API's commits move it too, and the returned info already says so
    info = jupyter_mvc.commit({"w": np.ones(3)}, "from a script", metrics={"loss": 0.1})
    assert jupyter_mvc.tags()["best-loss"] == info.id and "best-loss" in info.tags
    # stop following: the tag stays where it is
    assert "best-loss no longer follows loss" in shell("%mv_tag --unfollow loss")
    commit(0.01)
    assert jupyter_mvc.tags()["best-loss"] == info.id


def test_follow_best_of_an_accuracy_moves_up_and_waits_for_a_first_value(repo):
    r = jupyter_mvc.follow_best("val_acc", path=repo)
    assert r.version is None and r.following and "best-val_acc" not in jupyter_mvc.tags(path=repo)
    first = jupyter_mvc.commit({"w": np.zeros(2)}, "one", metrics={"val_acc": 0.7}, path=repo)
    assert jupyter_mvc.tags(path=repo)["best-val_acc"] == first.id  # the first value gets the tag
    jupyter_mvc.commit({"w": np.ones(2)}, "two", metrics={"val_acc": 0.6}, path=repo)
    assert jupyter_mvc.tags(path=repo)["best-val_acc"] == first.id
    third = jupyter_mvc.commit({"w": np.full(2, 2.0)}, "three", metrics={"val_acc": 0.8}, path=repo)
    assert jupyter_mvc.tags(path=repo)["best-val_acc"] == third.id
    assert jupyter_mvc.followed_best(path=repo) == {"val_acc": "best-val_acc"}
    timeline = timeline_data.timeline_state(jupyter_mvc.log(all=True, path=repo))
    assert next(r for r in timeline["rows"] if r["id"] == third.id)["tags"] == ["best-val_acc"]


def test_a_damaged_config_never_fails_a_commit(repo):
    jupyter_mvc.follow_best("loss", path=repo)
    (repo.mvc_dir / "config.json").write_text('{"follow_best": {"loss": "../../HEAD"}, "metric_goals": [1]}')
    info = jupyter_mvc.commit({"w": np.zeros(2)}, "one", metrics={"loss": 0.7}, path=repo)
    assert info.tags == () and jupyter_mvc.metric_goals(path=repo) == {}
    (repo.mvc_dir / "config.json").write_text("{not json")
    jupyter_mvc.commit({"w": np.ones(2)}, "two", metrics={"loss": 0.1}, path=repo)


def test_a_followed_tag_moved_by_another_writer_meanwhile_is_not_overwritten_with_a_worse_one(repo):
    from jupyter_mvc.repo import goals

    jupyter_mvc.commit({"w": np.zeros(2)}, "one", metrics={"loss": 0.5}, path=repo)
    jupyter_mvc.follow_best("loss", path=repo)
    best = repo.commit({"w": np.ones(2)}, "another kernel's", metrics={"loss": 0.1})  # not yet tagged
    mine = repo.commit({"w": np.full(2, 2.0)}, "mine", metrics={"loss": 0.3})
    real = repo.git.update_ref
    raced = []

    def racing(ref, new, old, reason="jupyter_mvc"):
        if ref.endswith("/best-loss") and not raced:  # the other kernel's hook lands first
            raced.append(real(ref, best.id, old, "the other kernel"))
        return real(ref, new, old, reason)

    repo.git.update_ref = racing
    try:
        goals.after_commit(repo, mine)
    finally:
        repo.git.update_ref = real
    assert raced == [True] and repo.refs.tags()["best-loss"] == best.id

"""Merging versions with real repositories: disjoint changes merge cleanly, a variable
changed on both sides stops the merge (nothing written) until --take or a weight strategy
resolves it, co-variable groups merge as units, the notebook merges through nbdime, and
the merge has two parents, drawn as a merge."""

from __future__ import annotations

import json

import nbformat
import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc.errors import InvalidValueError, MergeConflictError
from jupyter_mvc.present import history


def _setup(path, base: dict, ours: dict, theirs: dict, **kw):
    """main: base then ours; branch exp (from base): theirs. Back on main."""
    jupyter_mvc.commit(base, "base", path=path, **kw.get("base_kw", {}))
    jupyter_mvc.branch("exp", path=path)
    jupyter_mvc.checkout("exp", path=path)
    jupyter_mvc.commit(theirs, "theirs", path=path, **kw.get("theirs_kw", {}))
    jupyter_mvc.checkout("main", path=path)
    jupyter_mvc.commit(ours, "ours", path=path, **kw.get("ours_kw", {}))


def test_disjoint_changes_merge_cleanly_with_two_parents(git_repo):
    _setup(git_repo, {"a": np.zeros(3), "b": np.zeros(3), "c": 1}, {"a": np.ones(3)}, {"b": np.full(3, 2.0)})
    ours, theirs = jupyter_mvc.resolve("main", path=git_repo), jupyter_mvc.resolve("exp", path=git_repo)
    result = jupyter_mvc.merge("exp", path=git_repo)
    assert result.outcome == "merged" and result.version.parents == (ours, theirs)
    assert result.taken == {"a": "ours", "b": "theirs", "c": "both"}
    assert jupyter_mvc.load("HEAD", "a", path=git_repo).tolist() == [1.0, 1.0, 1.0]
    assert jupyter_mvc.load("HEAD", "b", path=git_repo).tolist() == [2.0, 2.0, 2.0]
    assert jupyter_mvc.load("HEAD", "c", path=git_repo) == 1
    params = jupyter_mvc.show("HEAD", path=git_repo).params["merge"]
    assert params["ours"] == ours and params["theirs"] == theirs and params["variables"]["b"] == "theirs"
    assert jupyter_mvc.head(path=git_repo).branch == "main"
    # drawn as a merge, like `git log --graph`
    lines = history.log_lines(jupyter_mvc.log(path=git_repo, all=True), "main")
    assert len(lines) == 6 and lines[0].startswith("* ") and "Merge exp into main" in lines[0], lines
    assert lines[1] == "|\\" and lines[4] == "|/" and lines[5].startswith("* ") and "base" in lines[5], lines
    assert sorted(line[:4] for line in lines[2:4]) == ["* | ", "| * "], lines
    assert jupyter_mvc.merge("exp", path=git_repo).outcome == "up to date"


def test_a_conflict_stops_before_anything_is_written_and_take_resolves_it(git_repo):
    _setup(git_repo, {"w": np.zeros(4)}, {"w": np.ones(4)}, {"w": np.full(4, 3.0)}, ours_kw={"metrics": {"acc": 0.9}})
    head = jupyter_mvc.resolve("HEAD", path=git_repo)
    with pytest.raises(MergeConflictError) as stopped:
        jupyter_mvc.merge("exp", path=git_repo)
    text = str(stopped.value)
    assert stopped.value.names == ["w"] and "w: changed on both sides" in text
    assert "ours" in text and "theirs" in text and "shape=[4]" in text and "acc=0.9" in text
    assert "max |Δ| ours vs theirs 2" in text and "--take w=ours" in text
    assert jupyter_mvc.resolve("HEAD", path=git_repo) == head and len(jupyter_mvc.log(path=git_repo, all=True)) == 3
    result = jupyter_mvc.merge("exp", take={"w": "theirs"}, path=git_repo)
    assert result.taken == {"w": "theirs (--take)"}
    assert jupyter_mvc.load("HEAD", "w", path=git_repo).tolist() == [3.0] * 4


def test_delete_here_and_change_there_is_a_conflict(git_repo):
    jupyter_mvc.commit({"w": np.zeros(2), "keep": 1}, "base", path=git_repo)
    jupyter_mvc.branch("exp", path=git_repo)
    jupyter_mvc.checkout("exp", path=git_repo)
    jupyter_mvc.commit({"w": np.ones(2)}, "change w", path=git_repo)
    jupyter_mvc.checkout("main", path=git_repo)
    jupyter_mvc.rm(["w"], path=git_repo)
    with pytest.raises(MergeConflictError, match="w: deleted here, changed there"):
        jupyter_mvc.merge("exp", path=git_repo)
    result = jupyter_mvc.merge("exp", take={"w": "ours"}, path=git_repo)
    assert "w" not in jupyter_mvc.show("HEAD", path=git_repo).manifest.variables
    assert result.taken["keep"] == "both"


def test_a_co_variable_group_merges_as_one_unit(git_repo):
    """x and y share one array (a group): ours changes only x's side of the group, theirs
    changes y; a merge must not pair ours' x with theirs' y."""
    shared = np.zeros(3)
    _setup(
        git_repo,
        {"x": shared, "y": {"weights": shared}},
        {"x": (s1 := np.ones(3)), "y": {"weights": s1}},
        {"x": (s2 := np.full(3, 5.0)), "y": {"weights": s2, "extra": 1}},
    )
    with pytest.raises(MergeConflictError) as stopped:
        jupyter_mvc.merge("exp", path=git_repo)
    assert stopped.value.names == ["x", "y"]
    with pytest.raises(InvalidValueError, match="different sides"):
        jupyter_mvc.merge("exp", take={"x": "ours", "y": "theirs"}, path=git_repo)
    jupyter_mvc.merge("exp", take={"x": "theirs"}, path=git_repo)  # one member names the side for the group
    objs = jupyter_mvc.checkout("HEAD", path=git_repo).objects
    assert objs["x"].tolist() == [5.0] * 3 and objs["y"]["extra"] == 1
    assert objs["y"]["weights"] is objs["x"], "the group's identity survives the merge"


def test_weight_strategies_give_the_expected_arrays_and_refuse_mismatches(git_repo):
    rng = np.random.default_rng(0)
    base, ours, theirs = (rng.standard_normal((3, 4)).astype(np.float32) for _ in range(3))
    _setup(git_repo, {"w": base, "v": np.zeros(2)}, {"w": ours, "v": np.zeros(3)}, {"w": theirs, "v": np.ones(2)})
    with pytest.raises(InvalidValueError, match=r"shapes \(3,\) \(ours\), \(2,\) \(theirs\)"):
        jupyter_mvc.merge("exp", strategy={"w": "average", "v": "average"}, path=git_repo)
    head = jupyter_mvc.resolve("HEAD", path=git_repo)
    jupyter_mvc.merge("exp", strategy={"w": "average"}, take={"v": "ours"}, path=git_repo)
    got = jupyter_mvc.load("HEAD", "w", path=git_repo)
    expected = ((ours.astype(np.float64) + theirs.astype(np.float64)) / 2).astype(np.float32)
    assert got.dtype == np.float32 and np.array_equal(got, expected)
    # the same merge with task arithmetic, from a fresh branch at the same point
    jupyter_mvc.branch("again", head, path=git_repo)
    jupyter_mvc.checkout("again", path=git_repo)
    jupyter_mvc.merge("exp", strategy={"w": "task-arithmetic"}, take={"v": "ours"}, path=git_repo)
    b64, o64, t64 = (a.astype(np.float64) for a in (base, ours, theirs))
    expected = (b64 + (o64 - b64) + (t64 - b64)).astype(np.float32)
    assert np.array_equal(jupyter_mvc.load("HEAD", "w", path=git_repo), expected)
    assert jupyter_mvc.show("HEAD", path=git_repo).params["merge"]["variables"]["w"] == "task-arithmetic"


def test_bad_options_say_what_is_accepted(git_repo):
    _setup(git_repo, {"w": np.zeros(2)}, {"w": np.ones(2)}, {"w": np.full(2, 2.0)})
    with pytest.raises(InvalidValueError, match="expected ours or theirs"):
        jupyter_mvc.merge("exp", take={"w": "mine"}, path=git_repo)
    with pytest.raises(InvalidValueError, match="neither side has that variable"):
        jupyter_mvc.merge("exp", take={"nope": "ours"}, path=git_repo)
    with pytest.raises(InvalidValueError, match="expected average or task-arithmetic"):
        jupyter_mvc.merge("exp", strategy={"w": "max"}, path=git_repo)


def _notebook(*sources: str) -> bytes:
    """Cells keep their ids across edits, as in a real notebook (nbdime matches cells by them)."""
    cells = [nbformat.v4.new_code_cell(s, id=f"cell-{i}") for i, s in enumerate(sources)]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode()


def test_the_notebook_merges_through_nbdime(git_repo):
    pytest.importorskip("nbdime")
    _setup(
        git_repo,
        {"a": 1, "b": 1},
        {"a": 2},
        {"b": 2},
        base_kw={"files": {"notebook.ipynb": _notebook("a = 1", "b = 1")}},
        ours_kw={"files": {"notebook.ipynb": _notebook("a = 2", "b = 1")}},
        theirs_kw={"files": {"notebook.ipynb": _notebook("a = 1", "b = 1", "plot(b)")}},
    )
    result = jupyter_mvc.merge("exp", path=git_repo)
    assert any("merged cell by cell with nbdime" in n for n in result.notes), result.notes
    merged = json.loads(jupyter_mvc.read_file("HEAD", "notebook.ipynb", path=git_repo))
    assert ["".join(c["source"]) for c in merged["cells"]] == ["a = 2", "b = 1", "plot(b)"]


def test_a_notebook_conflict_keeps_ours_and_stores_theirs_beside_it(git_repo):
    pytest.importorskip("nbdime")
    _setup(
        git_repo,
        {"a": 1, "b": 1},
        {"a": 2},
        {"b": 2},
        base_kw={"files": {"notebook.ipynb": _notebook("a = 1")}},
        ours_kw={"files": {"notebook.ipynb": _notebook("a = 2")}},
        theirs_kw={"files": {"notebook.ipynb": _notebook("a = 3")}},
    )
    result = jupyter_mvc.merge("exp", path=git_repo)
    assert any("notebook.theirs.ipynb" in n for n in result.notes)
    assert b"a = 2" in jupyter_mvc.read_file("HEAD", "notebook.ipynb", path=git_repo)
    assert b"a = 3" in jupyter_mvc.read_file("HEAD", "notebook.theirs.ipynb", path=git_repo)


def test_fast_forward_when_ours_is_behind(git_repo):
    jupyter_mvc.commit({"a": 1}, "base", path=git_repo)
    jupyter_mvc.branch("exp", path=git_repo)
    jupyter_mvc.checkout("exp", path=git_repo)
    tip = jupyter_mvc.commit({"a": 2}, "ahead", path=git_repo).id
    jupyter_mvc.checkout("main", path=git_repo)
    result = jupyter_mvc.merge("exp", path=git_repo)
    assert result.outcome == "fast-forward" and jupyter_mvc.resolve("main", path=git_repo) == tip


def test_a_conflict_compares_only_the_conflicting_variables(git_repo):
    """The "max |Δ|" lines come from a diff of just the conflicting names: a large
    variable changed on one side only is neither loaded nor compared."""
    _setup(
        git_repo,
        {"w": np.zeros(4), "big": np.zeros(1000)},
        {"w": np.ones(4), "big": np.ones(1000)},
        {"w": np.full(4, 3.0)},
    )
    with jupyter_mvc.open_repo(git_repo) as repo:
        only = repo.diff("main", "exp", names=["w"])
        assert [c.name for c in only.variables] == ["w"] and only.variables[0].tensors
        assert {c.name for c in repo.diff("main", "exp").variables} == {"w", "big"}
    with pytest.raises(MergeConflictError) as stopped:
        jupyter_mvc.merge("exp", path=git_repo)
    assert stopped.value.names == ["w"] and "max |Δ| ours vs theirs 2" in str(stopped.value)
    assert "big" not in str(stopped.value)

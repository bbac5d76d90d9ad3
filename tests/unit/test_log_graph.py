"""The text graph of `mvc log` / `%mv_log`: lanes, and git-style connector lines where a
merge opens a lane (`|\\`) and where a lane joins its parent (`|/`)."""

from __future__ import annotations

from jupyter_mvc.objects import VersionInfo
from jupyter_mvc.present import history


def _v(sha: str, *parents: str, t: int = 0) -> VersionInfo:
    return VersionInfo(id=sha * 40, parents=tuple(p * 40 for p in parents), message=sha, author="a", time=t)


def test_a_linear_history_has_no_connectors():
    lines = history.log_lines([_v("c", "b"), _v("b", "a"), _v("a")], "main", now=0)
    assert [line[:2] for line in lines] == ["* ", "* ", "* "]


def test_two_branches_join_their_base():
    lines = history.log_lines([_v("c", "a"), _v("b", "a"), _v("a")], "main", now=0)
    assert [line[:4] for line in lines] == ["* cc", "| * ", "|/", "* aa"]


def test_a_merge_opens_a_lane_and_it_joins_again():
    infos = [_v("m", "c", "b"), _v("c", "a"), _v("b", "a"), _v("a")]
    lines = history.log_lines(infos, "main", now=0)
    assert [line[:4] for line in lines] == ["* mm", "|\\", "* | ", "| * ", "|/", "* aa"]


def test_suffixes_attach_to_their_version_not_to_connectors():
    infos = [_v("m", "c", "b"), _v("c", "a"), _v("b", "a"), _v("a")]
    lines = history.log_lines(infos, "main", now=0, suffix={"b" * 40: "  [signed]"})
    assert [line.endswith("[signed]") for line in lines] == [False, False, False, True, False, False]


def test_the_one_lane_shortcut_draws_what_the_layout_draws(monkeypatch):
    chains = [
        [_v("c", "b"), _v("b", "a"), _v("a")],
        [_v("c", "b"), _v("b", "a")],  # a limited log: the last parent is not listed
        [_v("c", "b")],
        [],
    ]
    for infos in chains:
        assert history._one_chain(infos)
        shortcut = history.graph_columns(infos)
        with monkeypatch.context() as m:
            m.setattr(history, "_one_chain", lambda infos: False)
            assert history.graph_columns(infos) == shortcut
    # two roots, a skipped parent, a merge: not one chain
    for infos in ([_v("b"), _v("a")], [_v("c", "a"), _v("b", "a"), _v("a")], [_v("m", "c", "b"), _v("c"), _v("b")]):
        assert not history._one_chain(infos)

"""Co-variables: variables that share referents are stored as one pickle (one group), so
the identity between them survives a checkout; each keeps its own manifest entry. Through
the real IPython shell and real Git repositories."""

from __future__ import annotations

import pytest

from jupyter_mvc import api
from jupyter_mvc.errors import InvalidValueError
from jupyter_mvc.repo.groups import find_groups


def test_two_names_for_one_list_come_back_as_one_object(shell):
    shell("a = [1, [2, 3]]\nb = a\ninner = a[1]\nalone = [1, [2, 3]]")
    shell('%mv_commit -m "aliases"')
    entries = api.show("HEAD").manifest.variables
    assert entries["a"].group == entries["b"].group == entries["inner"].group is not None
    assert set(entries["a"].members) == {"a", "b", "inner"} and entries["alone"].group is None
    assert entries["a"].streams == entries["b"].streams and entries["a"].skeleton == entries["b"].skeleton
    # each member keeps its own entry: type, summary, a content id of its own value
    assert entries["inner"].summary != entries["a"].summary
    assert entries["a"].codec == "pickle5"  # as it would be stored alone, so status compares it alone
    assert entries["a"].content_id == api.fingerprint([1, [2, 3]], "a", codec="pickle5")

    shell("del a, b, inner")
    out = shell("%mv_checkout HEAD")
    assert "Restored as one group (they share objects, which stay shared): a, b, inner" in out, out
    assert shell("print(b is a, inner is a[1], alone is a)") == "True True False\n"
    assert "Nothing changed" in shell("%mv_status")


def test_checking_out_one_member_restores_its_group(shell):
    shell("a = [1]\nb = a\nother = 5")
    shell('%mv_commit -m "one"')
    shell("a = [9]\nb = [8]")  # both rebound: the checkout must put back one shared list
    out = shell("%mv_checkout HEAD b --force")
    assert "Restored: b, a" in out or "Restored: a, b" in out, out
    assert "Restored as one group" in out
    assert shell("print(a is b, a)") == "True [1]\n"


def test_the_dirty_guard_covers_the_whole_group(shell):
    shell("a = [1]\nb = a")
    shell('%mv_commit -m "one"')
    shell("a = [2]")  # a is not named below, but restoring b would overwrite it
    error, _ = shell.error("%mv_checkout HEAD b")
    assert "a" in str(error)


def test_a_dataframe_and_a_view_of_it_are_one_group(shell):
    pytest.importorskip("pandas")
    shell(
        "import pandas as pd, numpy as np\n"
        "df = pd.DataFrame({'x': np.arange(10.0), 'y': np.arange(10.0) * 2})\n"
        "head = df.iloc[:4]\nframes = {'all': df}"
    )
    shell('%mv_commit df head frames -m "frame and view"')
    entries = api.show("HEAD").manifest.variables
    assert entries["df"].group is not None and entries["df"].group == entries["head"].group == entries["frames"].group
    assert entries["df"].type.endswith("DataFrame") and entries["head"].summary != entries["df"].summary
    shell("del df, head, frames")
    out = shell("%mv_checkout HEAD head")
    assert "Restored as one group" in out, out
    assert shell("print(frames['all'] is df, head.equals(df.iloc[:4]))") == "True True\n"


def test_naming_one_member_commits_the_group_and_a_split_is_refused(shell, git_repo):
    shell("a = [1]\nb = a")
    shell('%mv_commit a b -m "both"')
    shell("a.append(2)")
    out = shell('%mv_commit a -m "a named"')  # b shares a's list: it comes along
    assert "2 variables (a, b)" in out, out
    with pytest.raises(InvalidValueError) as exc:  # the API cannot add b's new value by itself
        api.commit({"a": [3]}, "split", path=git_repo)
    assert "split the group" in str(exc.value) and "rm b" in str(exc.value)
    info = api.rm(["b"], path=git_repo)
    assert info.variables == ("a",)
    shell("del a, b")
    shell("%mv_checkout HEAD")
    assert shell.ns["a"] == [1, 2] and "b" not in shell.ns


def test_unrelated_and_immutable_values_do_not_group():
    shared = "a string everybody may hold"
    objects = {"p": [shared, 1, None, int], "q": (shared, 1, None, int), "r": {"k": shared}}
    assert find_groups(objects) == []
    x = {"k": [1]}
    assert find_groups({"x": x, "y": [x], "z": 3}) == [("x", "y")]

"""A version is the whole tracked state, like a Git tree: a commit that names some
variables updates those and carries the others forward by reference (zero bytes); only
`rm` stops tracking one. Through the real IPython shell and real Git repositories."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jupyter_mvc import api, cli
from jupyter_mvc.errors import VariableNotFoundError


def store_bytes(git_repo) -> int:
    """Bytes of every object the chunk store holds, loose, packed or delta (what committing
    data costs)."""
    root = git_repo / ".git" / "mvc"
    return sum(
        p.stat().st_size
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] in ("objects", "packs", "deltas")
    )


def test_commits_naming_different_variables_carry_the_others(shell, git_repo):
    shell("import numpy as np\na = np.arange(200_000.0)\nb = np.ones(150_000)\nc = [1, 2, 3]")
    shell('%mv_commit a -m "a"')
    shell('%mv_commit b -m "b"')
    before = store_bytes(git_repo)
    out = shell('%mv_commit c -m "c"')
    added = store_bytes(git_repo) - before

    assert "1 variable (c)" in out and "Carried forward unchanged (no bytes): 2 variables (a, b)" in out, out
    assert added < 10_000, added  # only c's bytes: a (1.6 MB) and b (1.2 MB) cost nothing
    head, parent = api.show("HEAD"), api.show("HEAD~1")
    assert set(head.manifest.variables) == {"a", "b", "c"}
    assert set(head.info.variables) == {"a", "b", "c"}  # the trailer lists the full snapshot
    for name in ("a", "b"):
        entry, old = head.manifest.variables[name], parent.manifest.variables[name]
        assert (entry.content_id, entry.skeleton, entry.streams) == (old.content_id, old.skeleton, old.streams)
        assert entry.carried_from is not None
    assert head.manifest.variables["a"].carried_from == api.resolve("HEAD~2")  # where its bytes were written
    assert head.manifest.variables["c"].carried_from is None
    raw = json.loads(api.read_file("HEAD", "manifest.json"))
    assert raw["schema"] == 2 and {v["name"]: "carried_from" in v for v in raw["variables"]} == {
        "a": True,
        "b": True,
        "c": False,
    }

    changed = [(c.name, c.status) for c in api.diff("HEAD~1", "HEAD").changed()]
    assert changed == [("c", "added")]
    assert "c" in shell("%mv_diff") and "removed" not in shell("%mv_diff")

    shell("del a, b, c")
    out = shell("%mv_checkout HEAD")
    assert {"a", "b", "c"} <= set(shell.ns)
    assert np.array_equal(shell.ns["a"], np.arange(200_000.0)) and shell.ns["c"] == [1, 2, 3]


def test_a_commit_of_everything_carries_a_deleted_variable_and_rm_removes_it(shell, git_repo):
    shell("x = [1, 2]\ny = {'k': 1}\nscratch = 'tmp'")
    shell('%mv_commit -m "all"')
    shell("del scratch\ny['k'] = 2")
    out = shell('%mv_commit -m "again"')
    assert "Carried forward unchanged (no bytes): 1 variable (scratch)" in out, out
    assert set(api.show("HEAD").manifest.variables) == {"x", "y", "scratch"}
    assert [(c.name, c.status) for c in api.diff("HEAD~1", "HEAD").changed()] == [("y", "changed")]

    error, _ = shell.error("%mv_rm nope")
    assert "no variable 'nope'" in str(error) and "scratch, x, y" in str(error)
    out = shell('%mv_rm scratch -m "scratch is gone"')
    assert "no longer tracks scratch (2 variables left)" in out, out
    head = api.show("HEAD")
    assert set(head.manifest.variables) == {"x", "y"} and head.info.message == "scratch is gone"
    assert "history.py" in head.files  # the files carry over
    assert [(c.name, c.status) for c in api.diff("HEAD~1", "HEAD").changed()] == [("scratch", "removed")]
    out = shell('%mv_commit x -m "x only"')
    assert "scratch" not in api.show("HEAD").manifest.variables  # removed stays removed


def test_api_and_cli_rm(repo, git_repo, capsys):
    repo.commit({"p": np.zeros(3), "q": 1, "r": "s"}, "three")
    info = api.rm(["q"], path=git_repo)
    assert info.variables == ("p", "r") and info.message == "rm q"
    with pytest.raises(VariableNotFoundError) as exc:
        api.rm(["q"], path=git_repo)
    assert exc.value.available == ["p", "r"]
    assert cli.main(["-C", str(git_repo), "rm", "r", "-m", "no r"]) == 0
    assert "no longer tracks r (1 left)" in capsys.readouterr().out
    assert api.info("HEAD", path=git_repo).variables == ("p",)
    assert cli.main(["-C", str(git_repo), "rm", "zzz"]) == 1
    assert "no variable 'zzz'" in capsys.readouterr().err


def test_carry_false_writes_only_the_given_variables(repo):
    repo.commit({"a": 1, "b": 2}, "two")
    info = repo.commit({"a": 3}, "one", carry=False)
    assert info.variables == ("a",)
    assert [(c.name, c.status) for c in repo.diff("HEAD~1", "HEAD").changed()] == [
        ("a", "changed"),
        ("b", "removed"),
    ]


def test_a_commit_that_loses_the_race_carries_what_the_winner_added(repo):
    """Two kernels commit at once: the loser's version is rebuilt on the winner's, so the
    snapshot keeps the winner's variable instead of dropping it."""
    from jupyter_mvc.repo import Repo

    repo.commit({"base": 1}, "base")
    other = Repo.open(repo.root, create=False)
    original = repo.git.update_ref
    raced = []

    def update_ref(ref, new, old, reason="jupyter_mvc"):
        if not raced:  # another kernel lands its commit just before ours
            raced.append(other.commit({"theirs": 2}, "theirs"))
        return original(ref, new, old, reason)

    repo.git.update_ref = update_ref
    try:
        mine = repo.commit({"mine": 3}, "mine")
    finally:
        repo.git.update_ref = original
        other.close()
    assert mine.parents == (raced[0].id,)
    assert set(repo.manifest(mine.id).variables) == {"base", "theirs", "mine"}
    assert repo.load("HEAD", "theirs") == 2 and repo.load("HEAD", "mine") == 3

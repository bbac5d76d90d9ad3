"""History over the project's own Git remote (a bare repository): a push to object
storage also pushes refs/mvc/* there, atomically, with a lease, never forced; a Git
remote whose ref another history moved is refused and reported, and keeps its ref."""

from __future__ import annotations

import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc import cli
from tests.support.git import git


@pytest.fixture
def project(tmp_path):
    bare = tmp_path / "team.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    a = tmp_path / "alice"
    a.mkdir()
    git(a, "init", "-q", "-b", "main")
    git(a, "remote", "add", "gitorigin", str(bare))
    data = tmp_path / "data"
    data.mkdir()
    jupyter_mvc.commit({"w": np.zeros(3)}, "first", path=a)
    jupyter_mvc.remote_add("origin", data.as_uri(), git="gitorigin", path=a)
    return a, bare, data


def test_a_push_also_puts_the_history_on_the_git_remote(project, capsys):
    a, bare, _ = project
    report = jupyter_mvc.push(path=a)
    assert report.git_remote == "gitorigin" and report.git_refused == {}
    head = jupyter_mvc.resolve("HEAD", path=a)
    assert git(bare, "rev-parse", "refs/mvc/heads/main").strip() == head
    assert "first" in git(bare, "log", "--format=%s", "refs/mvc/heads/main")
    assert git(bare, "for-each-ref", "refs/heads").strip() == "", "the user's branches are never touched"
    jupyter_mvc.commit({"w": np.ones(3)}, "second", path=a)
    jupyter_mvc.tag("v2", path=a)
    assert cli.main(["-C", str(a), "push", "--tags"]) == 0
    assert "History also on Git remote gitorigin" in capsys.readouterr().out
    assert git(bare, "rev-parse", "refs/mvc/heads/main").strip() == jupyter_mvc.resolve("HEAD", path=a)
    assert git(bare, "rev-parse", "refs/mvc/tags/v2").strip() == jupyter_mvc.resolve("v2", path=a)


def test_a_git_ref_on_another_history_is_refused_and_kept(project, tmp_path):
    a, bare, _ = project
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "f").write_text("x")
    git(other, "add", "f")
    git(other, "commit", "-q", "-m", "someone else's history")
    git(other, "push", "-q", str(bare), "HEAD:refs/mvc/heads/main")
    theirs = git(bare, "rev-parse", "refs/mvc/heads/main").strip()
    report = jupyter_mvc.push(path=a)
    assert report.moved, "the object store, the source of truth, still moved"
    assert list(report.git_refused) == ["refs/mvc/heads/main"]
    assert "does not descend from" in report.git_refused["refs/mvc/heads/main"]
    assert git(bare, "rev-parse", "refs/mvc/heads/main").strip() == theirs, "nothing forced"


def test_a_git_remote_the_project_lacks_is_refused_when_added(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    jupyter_mvc.open_repo(a).close()
    with pytest.raises(ValueError, match="git remote add nope URL"):
        jupyter_mvc.remote_add("origin", (tmp_path).as_uri(), git="nope", path=a)


def test_git_itself_refuses_a_stale_lease_and_the_refusal_is_read_not_assumed(project):
    """The window between reading the Git remote's ref and pushing: another push moved it.
    git refuses the lease ("stale info"), and push_leased reports it."""
    a, bare, _ = project
    jupyter_mvc.push(path=a)
    first = jupyter_mvc.resolve("HEAD", path=a)
    second = jupyter_mvc.commit({"w": np.ones(3)}, "second", path=a).id
    with jupyter_mvc.open_repo(a) as repo:
        stale = "0" * 39 + "1"  # not what the Git remote holds
        refused = repo.git.push_leased("gitorigin", {"refs/mvc/heads/main": second}, {"refs/mvc/heads/main": stale})
        assert list(refused) == ["refs/mvc/heads/main"] and "stale" in refused["refs/mvc/heads/main"]
        assert git(bare, "rev-parse", "refs/mvc/heads/main").strip() == first
        assert repo.git.push_leased("gitorigin", {"refs/mvc/heads/main": second}, {"refs/mvc/heads/main": first}) == {}
    assert git(bare, "rev-parse", "refs/mvc/heads/main").strip() == second

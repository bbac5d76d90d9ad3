"""The remote verbs through their faces: %mv_remote/%mv_push/%mv_fetch/%mv_pull in the
real IPython shell, and `mvc remote/push/clone/pull` from the CLI, on a shared-folder
remote (file://)."""

from __future__ import annotations

import numpy as np

import jupyter_mvc
from jupyter_mvc import cli


def test_magics_push_fetch_and_pull(shell, tmp_path):
    remote = tmp_path / "remote"
    remote.mkdir()
    shell("import numpy as np\nw = np.arange(6.0)")
    shell('%mv_commit w -m "first"')
    out = shell(f"%mv_remote add origin {remote.as_uri()}")
    assert f"Added remote origin: {remote.as_uri()}" in out
    assert "origin" in shell("%mv_remote") and remote.as_uri() in shell("%mv_remote")
    out = shell("%mv_push")
    assert "origin/main: (none) -> " in out and "Pushed 1 version(s)" in out
    assert "Everything up to date on origin." in shell("%mv_push")

    teammate = tmp_path / "teammate"
    jupyter_mvc.clone(remote.as_uri(), teammate)
    jupyter_mvc.commit({"w": np.arange(6.0) * 2}, "teammate doubles w", path=teammate)
    jupyter_mvc.push(path=teammate)

    out = shell("%mv_fetch")
    assert "origin/main: " in out
    assert "teammate doubles w" in shell("%mv_log origin/main -n 1")
    out = shell("%mv_pull")
    assert "main: fast-forward" in out and "%mv_checkout main" in out
    shell("%mv_checkout main --force")
    assert shell.ip.user_ns["w"].tolist() == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]


def test_magic_errors_are_one_line_with_the_fix(shell):
    err, _ = shell.error("%mv_push nowhere")
    assert "no remote named 'nowhere'" in str(err) and "mvc remote add" in str(err)
    err, _ = shell.error("%mv_remote add origin")
    assert "give a URL" in str(err)


def test_cli_clone_push_pull(tmp_path, capsys):
    a = tmp_path / "a"
    a.mkdir()
    remote = tmp_path / "remote"
    remote.mkdir()
    jupyter_mvc.commit({"x": np.ones(3)}, "ones", path=a)
    assert cli.main(["-C", str(a), "remote", "add", "origin", remote.as_uri()]) == 0
    assert cli.main(["-C", str(a), "push"]) == 0
    b = tmp_path / "b"
    assert cli.main(["clone", remote.as_uri(), str(b)]) == 0
    out = capsys.readouterr().out
    assert f"Cloned {remote.as_uri()} into {b}" in out and "On branch main" in out
    jupyter_mvc.commit({"x": np.zeros(3)}, "zeros", path=b)
    assert cli.main(["-C", str(b), "push"]) == 0
    assert cli.main(["-C", str(a), "pull"]) == 0
    assert "main: fast-forward" in capsys.readouterr().out
    assert cli.main(["-C", str(a), "push", "nowhere"]) == 1
    assert "no remote named 'nowhere'" in capsys.readouterr().err


def test_a_clone_inside_a_project_is_a_project_of_its_own(tmp_path):
    outer = tmp_path / "outer"
    outer.mkdir()
    jupyter_mvc.commit({"x": 1}, "outer's", path=outer)
    remote = tmp_path / "remote"
    remote.mkdir()
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=outer)
    jupyter_mvc.push(path=outer)
    inner = outer / "sub" / "clone"
    jupyter_mvc.clone(remote.as_uri(), inner)
    assert (inner / ".git").is_dir()
    assert jupyter_mvc.data_dir(path=inner).parent == inner / ".git"
    assert [r.name for r in jupyter_mvc.remotes(path=outer)] == ["origin"]


def test_a_path_that_does_not_exist_is_refused_not_replaced_by_its_parent(tmp_path):
    import pytest

    from jupyter_mvc.errors import NotARepositoryError

    with pytest.raises(NotARepositoryError, match="does not exist"):
        jupyter_mvc.commit({"x": 1}, "nowhere", path=tmp_path / "missing")
    assert not (tmp_path / ".git").exists()


def test_fsck_of_a_lazy_clone_counts_unfetched_chunks_instead_of_calling_them_missing(tmp_path, capsys):
    a = tmp_path / "a"
    a.mkdir()
    jupyter_mvc.commit({"w": np.arange(10_000.0)}, "w", path=a)
    remote = tmp_path / "remote"
    remote.mkdir()
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=a)
    jupyter_mvc.push(path=a)
    b = tmp_path / "b"
    jupyter_mvc.clone(remote.as_uri(), b)
    report = jupyter_mvc.fsck(path=b)
    assert report.ok and report.not_fetched > 0 and report.objects == 0
    assert cli.main(["-C", str(b), "fsck"]) == 0
    assert "not fetched yet" in capsys.readouterr().out
    jupyter_mvc.load("HEAD", "w", path=b)
    after = jupyter_mvc.fsck(path=b)
    assert after.ok and after.not_fetched == 0 and after.objects == report.not_fetched
    (remote / "packs").rename(tmp_path / "gone")  # the remote lost them: a fresh clone's chunks are now damage
    c = tmp_path / "c"
    import shutil

    shutil.copytree(b, c)
    for obj in (c / ".git" / "mvc" / "objects").rglob("*"):
        if obj.is_file():
            obj.chmod(0o644)
            obj.unlink()
    shutil.rmtree(c / ".git" / "mvc" / "remotes" / "origin" / "packs")
    assert not jupyter_mvc.fsck(path=c).ok

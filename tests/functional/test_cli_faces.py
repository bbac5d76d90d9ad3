"""The `mvc` command speaks its own language (issue 17): outside a repository it says where
it looked and how to start (`mvc init`), its errors name its own commands and flags, and
`mvc export` writes DataFrames and Series to .csv/.parquet without replacing a file unless
--force. Run in-process (cli.main) against real Git repositories."""

from __future__ import annotations

import pickle
import sys

import numpy as np
import pytest

from jupyter_mvc import cli
from jupyter_mvc.errors import ExportError
from jupyter_mvc.export import export


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    return rc, out.out, out.err


class Unlisted:
    """A class no allow-list names: loading it needs trust."""

    def __init__(self, v):
        self.v = v


# -- outside a repository, and mvc init ------------------------------------------------------------
def test_outside_a_repository_it_says_where_it_looked_and_how_to_start(tmp_path, capsys):
    folder = tmp_path / "plain"
    folder.mkdir()
    rc, _, err = run(capsys, "-C", folder, "log")
    assert rc == 1
    assert f"no jupyter_mvc versions here: {folder} is not inside a Git repository" in err
    assert "mvc init" in err and "%mv_commit" in err and "create=True" not in err


def test_mvc_init_makes_a_repository_and_says_so(tmp_path, capsys):
    rc, out, _ = run(capsys, "-C", tmp_path, "init", "project")
    assert rc == 0 and "Created a Git repository at" in out and str(tmp_path / "project") in out
    assert (tmp_path / "project" / ".git").is_dir()
    rc, out, _ = run(capsys, "-C", tmp_path / "project", "log")
    assert rc == 0 and out == ""
    (tmp_path / "project" / "sub").mkdir()
    rc, out, _ = run(capsys, "-C", tmp_path / "project" / "sub", "init")
    assert rc == 0 and "already inside the Git repository at" in out and "Created" not in out
    assert not (tmp_path / "project" / "sub" / ".git").exists()


# -- the CLI's own flags -------------------------------------------------------------------------------
def test_a_refused_branch_delete_names_the_cli_flag_and_it_works(repo, capsys):
    repo.commit({"x": 1}, "base")
    repo.refs.create_branch("exp")
    repo.refs.switch_branch("exp")
    repo.commit({"x": 2}, "only on exp")
    repo.refs.switch_branch("main")
    rc, _, err = run(capsys, "-C", repo.root, "branch", "-d", "exp")
    assert rc == 1 and "mvc branch -D exp" in err
    assert "%mv_branch" not in err and "force=True" not in err
    rc, out, _ = run(capsys, "-C", repo.root, "branch", "-D", "exp")
    assert rc == 0 and "deleted branch exp" in out and "exp" not in repo.refs.branches()


def test_an_untrusted_class_names_mvc_trust_and_the_commands_trust_flag(repo, capsys, tmp_path):
    repo.commit({"obj": Unlisted(3)}, "custom")
    rc, _, err = run(capsys, "-C", repo.root, "export", "HEAD", "obj", "-o", tmp_path / "obj.pkl")
    name = f"{Unlisted.__module__}.Unlisted"
    assert rc == 1 and f"mvc trust {name}" in err and "--trust" in err
    assert "allow=[" not in err and "trust=True" not in err and "--allow" not in err
    rc, _, _ = run(capsys, "-C", repo.root, "export", "HEAD", "obj", "-o", tmp_path / "obj.pkl", "--trust")
    assert rc == 0 and pickle.loads((tmp_path / "obj.pkl").read_bytes()).v == 3


def test_a_mistyped_revision_is_guessed_on_the_command_line(repo, capsys):
    repo.commit({"x": 1}, "base")
    repo.refs.create_branch("dropout-exp")
    rc, _, err = run(capsys, "-C", repo.root, "show", "dropout_exp")
    assert rc == 1 and "Did you mean 'dropout-exp'?" in err


# -- export: tables, and never over a file without --force --------------------------------------
@pytest.fixture
def tables(repo):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"]}, index=pd.Index([10, 20, 30], name="id"))
    s = pd.Series([0.5, 0.25], name="score")
    repo.commit({"df": df, "s": s, "w": np.arange(3.0)}, "tables")
    return repo, df, s


def test_export_writes_dataframes_and_series_to_csv_and_parquet(tables, tmp_path, capsys):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    repo, df, s = tables
    for fmt in ("csv", "parquet"):
        rc, out, err = run(capsys, "-C", repo.root, "export", "HEAD", "df", "-o", tmp_path / f"df.{fmt}")
        assert rc == 0, err
        assert "wrote df of" in out
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "df.csv", index_col="id"), df)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "df.parquet"), df)
    assert run(capsys, "-C", repo.root, "export", "HEAD", "s", "-o", tmp_path / "s.parquet")[0] == 0
    assert pd.read_parquet(tmp_path / "s.parquet")["score"].tolist() == [0.5, 0.25]
    assert run(capsys, "-C", repo.root, "export", "HEAD", "s", "-o", tmp_path / "s.csv")[0] == 0
    assert pd.read_csv(tmp_path / "s.csv", index_col=0)["score"].tolist() == [0.5, 0.25]
    rc, _, err = run(capsys, "-C", repo.root, "export", "HEAD", "w", "-o", tmp_path / "w.csv")
    assert rc == 1 and "not a pandas DataFrame or Series" in err and not (tmp_path / "w.csv").exists()


def test_export_refuses_to_replace_a_file_without_force(tables, tmp_path, capsys):
    repo, df, _ = tables
    target = tmp_path / "df.csv"
    target.write_text("keep me")
    rc, _, err = run(capsys, "-C", repo.root, "export", "HEAD", "df", "-o", target)
    assert rc == 1 and "the file exists" in err and "--force" in err and "overwrite=True" not in err
    assert target.read_text() == "keep me"
    rc, _, err = run(capsys, "-C", repo.root, "export", "HEAD", "df", "-o", target, "--force")
    assert rc == 0, err
    assert target.read_text().startswith("id,a,b")


def test_the_export_function_keeps_files_unless_overwrite(tmp_path):
    target = tmp_path / "w.npy"
    export(np.arange(3), "w", target)
    with pytest.raises(ExportError, match="the file exists.*overwrite=True"):
        export(np.arange(4), "w", target)
    assert np.load(target).tolist() == [0, 1, 2]
    export(np.arange(4), "w", target, overwrite=True)
    assert np.load(target).tolist() == [0, 1, 2, 3]


def test_parquet_without_pyarrow_says_how_to_install_it(tmp_path, monkeypatch):
    pd = pytest.importorskip("pandas")
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow -> ImportError
    with pytest.raises(ExportError, match=r"needs pyarrow.*pip install pyarrow.*\.csv"):
        export(pd.DataFrame({"a": [1]}), "df", tmp_path / "df.parquet")
    assert not (tmp_path / "df.parquet").exists()

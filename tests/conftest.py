"""Shared fixtures: every test runs with a pinned Git identity and HOME, so no user config
leaks in, and gets real temporary Git repositories."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

PINNED_ENV = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@pytest.fixture(autouse=True)
def pinned_git_env(monkeypatch, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for k, v in PINNED_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    yield


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def git_repo(tmp_path) -> Path:
    """An empty Git repository (no commits) in a temp folder."""
    path = tmp_path / "project"
    path.mkdir()
    git(path, "init", "-q", "-b", "master")
    return path


@pytest.fixture
def repo(git_repo):
    from jupyter_mvc.repo import Repo

    r = Repo.open(git_repo, create=False)
    yield r
    r.close()

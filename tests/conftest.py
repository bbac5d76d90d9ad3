"""Shared fixtures: every test runs with a pinned Git identity and HOME, so no user config
leaks in, and gets real temporary Git repositories. Also: the marks of each tier (folder)
and the `requires_torch` skip.

Fixtures live in conftest.py files (this one, and tests/<tier>/conftest.py for a tier's
own); plain helpers live in tests/support/. Test modules never import from conftest.py
or from another test module.

Markers (registered in pyproject.toml, `--strict-markers`):
  slow            more than a few seconds (servers, kernels, the bench, kill loops)
  ui              JupyterLab in headless Chromium (tests/ui)
  kernel          starts real Jupyter kernels (nbclient / jupyter_client)
  server          starts a real jupyter_server / JupyterLab process
  requires_torch  skipped, with an install hint, when PyTorch is not importable
`make test-fast` runs `-m "not slow and not ui and not kernel"` over unit + functional.

How marks are applied: a tier's marks come from its folder, here in
pytest_collection_modifyitems (TIER_MARKS), so every file dropped into tests/ui or
tests/integration gets them without anyone remembering a `pytestmark` line. Marks that
belong to one module or test in a mixed folder (slow, server, kernel, requires_torch)
are written in that module: a `pytestmark = ...` line, or `@pytest.mark...` on the test.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from tests.support.git import git

TORCH_PIN = "torch==2.13.0"  # the CPU build the Makefile installs
REQUIRES_TORCH_REASON = f"PyTorch is not installed (pip install {TORCH_PIN})"

# tests/<folder>/... -> marks added to every test collected under it.
TIER_MARKS = {
    "ui": ("ui", "slow", "server"),
    "integration": ("kernel", "slow"),
}


class _HideTorch(importlib.abc.MetaPathFinder):
    """MVC_TEST_HIDE_TORCH=1: `import torch` (and torch.*) fails as if PyTorch were not
    installed, so the torch-less path can be tested on a machine that has torch:

        MVC_TEST_HIDE_TORCH=1 .venv/bin/python -m pytest -p no:cacheprovider tests/unit ...

    Only for proving that path (requires_torch tests skip, the rest run). It hides torch
    in this pytest process only: subprocesses (kernels, servers, `python -m bench`) still
    see it, so use it with the unit / functional / reliability tiers."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "torch" or fullname.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {fullname!r} (hidden by MVC_TEST_HIDE_TORCH)", name=fullname)
        return None


if os.environ.get("MVC_TEST_HIDE_TORCH") == "1":
    if "torch" in sys.modules:
        raise RuntimeError("MVC_TEST_HIDE_TORCH=1 but torch was imported before tests/conftest.py")
    sys.meta_path.insert(0, _HideTorch())


def torch_available() -> bool:
    try:
        return importlib.util.find_spec("torch") is not None
    except ImportError:  # hidden (MVC_TEST_HIDE_TORCH) or a broken install
        return False


def pytest_collection_modifyitems(config, items):
    tests_root = Path(__file__).resolve().parent
    have_torch = torch_available()
    for item in items:
        try:
            tier = Path(str(item.path)).resolve().relative_to(tests_root).parts[0]
        except ValueError:
            tier = None
        for name in TIER_MARKS.get(tier, ()):
            item.add_marker(getattr(pytest.mark, name))
        if not have_torch and item.get_closest_marker("requires_torch"):
            item.add_marker(pytest.mark.skip(reason=REQUIRES_TORCH_REASON))


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
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)  # trust lists live there: never the real one
    for k, v in PINNED_ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("GIT_DIR", raising=False)
    monkeypatch.delenv("GIT_WORK_TREE", raising=False)
    yield


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

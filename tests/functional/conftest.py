"""Fixtures for the functional tier (real Git repositories, the real IPython shell)."""

from __future__ import annotations

import pytest

from tests.support.shell import Shell


@pytest.fixture
def shell(git_repo, monkeypatch, capsys):
    """The real global IPython shell, chdir'ed into an empty Git repository, with a fresh
    `%load_ext jupyter_mvc` (per-kernel state) and an empty cell history."""
    from IPython.testing import globalipapp

    import jupyter_mvc

    monkeypatch.chdir(git_repo)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    globalipapp.start_ipython()
    ip = globalipapp.get_ipython()  # the one global shell (start_ipython returns it once)
    ip.reset(new_session=False)
    # a fresh kernel's executed cells: earlier tests' cells must not leak into history.py
    ip.history_manager.input_hist_raw[:] = [""]
    ip.history_manager.input_hist_parsed[:] = [""]
    ip.run_cell("%load_ext jupyter_mvc")
    jupyter_mvc.load_ipython_extension(ip)  # fresh per-kernel state for every test
    yield Shell(ip, capsys)
    ip.run_cell("%mv_autocommit off")
    jupyter_mvc.unload_ipython_extension(ip)
    ip.reset(new_session=False)


@pytest.fixture(scope="module")
def rest_server(tmp_path_factory):
    """One real jupyter_server with the extension for a module, over an empty root (each
    test makes its own project folder in it); call it with tests.support.lab_server.call_api."""
    pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (pip install -e '.[test]')")
    from tests.support.lab_server import API_TOKEN, running_server

    root = tmp_path_factory.mktemp("root")
    with running_server(root, tmp_path_factory.mktemp("server"), token=API_TOKEN) as base:
        yield base, root

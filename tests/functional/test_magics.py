"""The magics through a real IPython shell in temporary Git repos: round trips for numpy,
pandas, scikit-learn and PyTorch objects, the dirty-checkout refusal, secrets, metrics and
curves, provenance, completion and the one-line errors.

The `shell` fixture (the real IPython shell) lives in tests/functional/conftest.py."""

from __future__ import annotations

import pytest


def _api(shell):
    import jupyter_mvc.api as api

    return api


# -- round trips -------------------------------------------------------------------------------
def test_numpy_and_pandas_round_trip_bit_for_bit(shell):
    pytest.importorskip("numpy")
    pytest.importorskip("pandas")
    shell(
        "import numpy as np, pandas as pd\n"
        "a = np.random.default_rng(0).normal(size=(300, 40)).astype('float32')\n"
        "df = pd.DataFrame({'x': np.arange(5), 'y': list('abcde')})"
    )
    original_a, original_df = shell.ns["a"].copy(), shell.ns["df"].copy()
    out = shell('%mv_commit -m "data v1"')
    assert "Committed" in out and "a" in out and "df" in out
    shell("a[0, 0] = 99\ndf.loc[0, 'y'] = 'zzz'\ndf2 = df")
    shell("%mv_checkout HEAD --force")
    assert shell.ns["a"].tobytes() == original_a.tobytes() and shell.ns["a"].dtype == original_a.dtype
    assert shell.ns["df"].equals(original_df)


def test_sklearn_model_round_trip_with_curves_and_params(shell):
    pytest.importorskip("sklearn")
    shell(
        "import numpy as np, warnings\n"
        "from sklearn.neural_network import MLPRegressor\n"
        "X = np.random.default_rng(1).normal(size=(60, 3)); y = X @ [1.0, -2.0, 0.5]\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')\n"
        "    model = MLPRegressor(hidden_layer_sizes=(8,), max_iter=15, random_state=0).fit(X, y)"
    )
    before = shell.ns["model"].predict(shell.ns["X"])
    shell('%mv_commit model X -m "mlp"')
    version = _api(shell).show("HEAD")
    curve = version.metrics["series"]["model.loss_curve"]
    assert [v for _, v in curve] == pytest.approx(shell.ns["model"].loss_curve_)
    assert version.params["model.hidden_layer_sizes"] == repr((8,))
    assert version.params["model.max_iter"] == 15
    shell("model.coefs_[0][:] = 0")
    shell("%mv_checkout HEAD model --force")
    assert (shell.ns["model"].predict(shell.ns["X"]) == before).all()


@pytest.mark.requires_torch
def test_torch_module_round_trip(shell):
    shell(
        "import torch\ntorch.manual_seed(0)\nnet = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())\n"
        "w = torch.randn(5, 5, dtype=torch.bfloat16)"
    )
    state = {k: v.clone() for k, v in shell.ns["net"].state_dict().items()}
    w = shell.ns["w"].clone()
    shell('%mv_commit net w -m "torch"')
    shell("with torch.no_grad():\n    net[0].weight.add_(1.0)\nw.zero_()")
    with pytest.raises(Exception, match="would overwrite"):
        shell("%mv_checkout HEAD")
    shell("%mv_checkout HEAD --force")
    import torch

    for k, v in shell.ns["net"].state_dict().items():
        assert torch.equal(v, state[k])
    assert shell.ns["w"].dtype == torch.bfloat16 and torch.equal(shell.ns["w"], w)


# -- dirty checkout ------------------------------------------------------------------------
def test_dirty_checkout_is_refused_and_lists_the_variables(shell):
    shell("x = [1, 2, 3]\ny = {'a': 1}")
    shell('%mv_commit -m "one"')
    shell("x.append(4)")
    shell('%mv_commit x y -m "two"')
    shell("x.append(5)")
    exc, _err = shell.error("%mv_checkout HEAD~1")
    assert "x" in str(exc) and "--force" in str(exc) and "'y'" not in str(exc)
    assert shell.ns["x"] == [1, 2, 3, 4, 5]  # nothing was touched
    out = shell("%mv_checkout HEAD~1 --force")
    assert shell.ns["x"] == [1, 2, 3]
    assert "Restored: " in out and "x" in out


def test_clean_checkout_and_partial_restore_are_not_refused(shell):
    shell("x = 1\ny = 2")
    shell('%mv_commit -m "one"')
    shell("x = 10")
    shell('%mv_commit -m "two"')
    out = shell("%mv_checkout HEAD~1 x")  # x is stored in "two": nothing is lost
    assert shell.ns["x"] == 1 and "Left alone" in out and "y" in out
    shell("%mv_checkout main x")  # x now holds a stored value from "one": still not dirty
    assert shell.ns["x"] == 10


def test_checkout_new_branch_and_log_shows_it(shell):
    shell("x = 1")
    shell('%mv_commit -m "base" --metric acc=0.5')
    shell("x = 2")
    shell('%mv_commit -m "second" --metric acc=0.75')
    out = shell("%mv_checkout HEAD~1 -b experiment")
    assert "branch experiment" in out and shell.ns["x"] == 1
    shell("x = 3")
    shell('%mv_commit -m "on experiment"')
    shell("%mv_tag best main")
    log = shell("%mv_log --all --text")
    lines = log.splitlines()
    assert len(lines) == 4 and lines[2] == "|/"  # the second branch joins its base, as git log --graph draws it
    # same-second commits on two branches may list in either order
    assert "(HEAD -> experiment)" in next(line for line in lines if "on experiment" in line)
    assert "base" in lines[3]
    second = next(line for line in lines if "second" in line)
    assert "main" in second and "tag: best" in second and "acc=0.75" in second
    assert "| " in log or " |" in log  # two lanes: the branches diverge
    assert "* experiment" in shell("%mv_branch")


# -- what a commit takes --------------------------------------------------------------------
def test_commit_without_names_skips_code_secrets_and_unpicklables(shell):
    shell(
        "import os, threading\n"
        "def f():\n    pass\n"
        "class C:\n    pass\n"
        # a password read at run time: a literal one in a cell is refused (test_credential_literals_in_cells)
        "data = [1, 2]\napi_token = 'abc123'\nDB_PASSWORD = os.environ.get('MVC_TEST_PW', '')\n"
        "lock = threading.Lock()\n_private = 5"
    )
    out = shell('%mv_commit -m "all"')
    version = _api(shell).show("HEAD")
    assert set(version.manifest.variables) == {"data"}
    assert "Left out (names look like secrets): DB_PASSWORD, api_token" in out
    assert "Skipped (cannot be serialised): lock" in out
    # named: included, all or nothing, with a warning
    out = shell('%mv_commit data api_token -m "named"')
    assert "Warning" in out and "api_token" in out
    assert set(_api(shell).show("HEAD").manifest.variables) == {"data", "api_token"}
    exc, _ = shell.error('%mv_commit data lock -m "bad"')
    assert "lock" in str(exc) and "Nothing was committed" in str(exc)
    assert len(_api(shell).log()) == 2


def test_metrics_logged_and_given_land_in_the_version(shell):
    shell(
        "import jupyter_mvc\nfor i, l in enumerate([0.9, 0.5, 0.3]):\n    jupyter_mvc.log_metric('loss', l, step=i * 10)\nx = 1"
    )
    shell('%mv_commit -m "trained" --metric acc=0.93 --param lr=0.01 --param optimizer=adam --param layers=[8,4]')
    v = _api(shell).show("HEAD")
    assert v.metrics["series"]["loss"] == [[0, 0.9], [10, 0.5], [20, 0.3]]
    assert v.metrics["scalars"]["acc"] == 0.93
    assert v.params == {"lr": 0.01, "optimizer": "adam", "layers": [8, 4]}
    out = shell("%mv_plot HEAD --metric loss --text")
    assert "loss: 3 points, 0.9 -> 0.3" in out
    shell('%mv_commit -m "again"')
    assert "loss" not in _api(shell).show("HEAD").metrics.get("series", {})  # logged series are consumed


@pytest.mark.slow  # importing Keras alone takes seconds
@pytest.mark.requires_torch  # Keras runs on its torch backend here
def test_keras_history_curves_are_captured(shell, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    shell(
        "import keras, numpy as np\n"
        "m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]); m.compile('sgd', 'mse')\n"
        "hist = m.fit(np.ones((8, 3)), np.ones(8), epochs=3, verbose=0)\nw = m.get_weights()"
    )
    shell('%mv_commit -m "keras"')
    series = _api(shell).show("HEAD").metrics["series"]
    assert [v for _, v in series["hist.loss"]] == pytest.approx(shell.ns["hist"].history["loss"])


def test_lightgbm_evals_result_is_captured(shell):
    pytest.importorskip("lightgbm")
    shell(
        "import numpy as np, lightgbm as lgb\n"
        "X = np.random.default_rng(0).normal(size=(80, 3)); y = X[:, 0] * 2\n"
        "Xv = X[:20] + 0.1; yv = y[:20]\n"
        "gbm = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(X, y, eval_set=[(Xv, yv)])"
    )
    shell('%mv_commit gbm -m "gbm"')
    v = _api(shell).show("HEAD")
    assert len(v.metrics["series"]["gbm.valid_0.l2"]) == 5
    assert v.params["gbm.n_estimators"] == 5


def test_executed_cells_and_environment_are_stored(shell):
    shell("x = 41\nx += 1")
    out = shell('%mv_commit -m "cells"')
    assert "Not captured: the notebook file" in out
    repo = _api(shell).open_repo(".")
    history = repo.read_file("HEAD", "history.py").decode()
    assert "x = 41\nx += 1" in history and '%mv_commit -m "cells"' in history
    env = repo.show("HEAD").env
    assert env["python"] and "code_commit" in env


def test_notebook_file_is_stored_and_restored_recoverably(shell, git_repo, monkeypatch):
    nb = git_repo / "analysis.ipynb"
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "v": 1}')
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    shell("x = 1")
    out = shell('%mv_commit -m "with notebook"')
    assert "Not captured" not in out
    repo = _api(shell).open_repo(".")
    assert b'"v": 1' in repo.read_file("HEAD", "notebook.ipynb")
    nb.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5, "v": 2}')
    out = shell("%mv_checkout HEAD --notebook")
    assert '"v": 1' in nb.read_text()
    backups = list((repo.mvc_dir / "notebook-backups").iterdir())
    assert len(backups) == 1 and '"v": 2' in backups[0].read_text()
    assert str(backups[0]) in out
    assert len(_api(shell).log()) == 1  # restoring committed nothing


# -- status and autocommit --------------------------------------------------------------------
def test_status_reports_changed_new_and_missing(shell):
    shell("a = [1]\nb = 2\nc = 3")
    shell('%mv_commit -m "abc"')
    assert "Nothing changed (3 variables unchanged)" in shell("%mv_status")
    shell("a.append(2)\ndel c\nd = 4")
    out = shell("%mv_status")
    assert "changed:   a" in out and "new:       d" in out and "missing:   c" in out
    assert "unchanged: b" in out


def test_autocommit_commits_after_cells_that_change_tracked_variables(shell):
    shell("x = 1\ny = 2")
    shell('%mv_commit x -m "track x"')
    shell("%mv_autocommit on")
    shell("y = 3")  # not tracked: no commit
    assert len(_api(shell).log()) == 1
    out = shell("x = 5")
    log = _api(shell).log()
    assert len(log) == 2 and "Autocommitted" in out
    assert log[0].subject == f"autocommit after In[{shell.ip.execution_count - 1}]: x = 5"
    assert _api(shell).load("HEAD", "x") == 5
    shell("%mv_autocommit off")
    shell("x = 6")
    assert len(_api(shell).log()) == 2


# -- parsing, errors, help, completion -------------------------------------------------------
def test_quoting_and_expansion_work_as_typed(shell):
    shell("lr = 0.25\nx = 1")
    shell('%mv_commit -m "two words, lr={lr}"')
    assert _api(shell).log()[0].subject == "two words, lr=0.25"
    shell("%mv_commit x -m 'it''s single'")
    assert _api(shell).log()[0].subject == "its single"


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("%mv_checkout nope", "unknown revision 'nope'"),
        ("%mv_commit ghost -m x", "no variable named 'ghost'"),
        ("%mv_commit x", "needs a message"),
        ("%mv_commit -m 'unclosed", "Close the quote"),
        ("%mv_commit x -m m --metric acc=high", "not a number"),
        ("%mv_checkout HEAD ghost", "has no variable 'ghost'"),
        ("%mv_log --bogus", "See %mv_log? for usage"),
        ("%mv_branch main", "already exists"),
    ],
)
def test_user_mistakes_give_one_line_errors(shell, cell, expected):
    shell("x = 1")
    shell('%mv_commit -m "base"')
    exc, _ = shell.error(cell)
    assert expected in str(exc)


def test_nothing_to_commit_and_not_a_repository(shell, tmp_path, monkeypatch):
    exc, _ = shell.error('%mv_commit -m "empty"')
    assert "nothing to commit" in str(exc)
    elsewhere = tmp_path / "not_a_repo"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    exc, _ = shell.error("%mv_log")
    assert "not inside a Git repository" in str(exc)


def test_every_magic_has_help_with_examples(shell):
    for name in (
        "mv_commit",
        "mv_log",
        "mv_checkout",
        "mv_diff",
        "mv_branch",
        "mv_tag",
        "mv_status",
        "mv_autocommit",
        "mv_plot",
    ):
        doc = shell.ip.find_line_magic(name).__doc__
        assert "Examples" in doc and f"%{name}" in doc, name


def test_diff_shows_changed_arrays(shell):
    shell("import numpy as np\nw = np.zeros(100)\nkeep = 'same'")
    shell('%mv_commit -m "zeros" --param lr=0.1')
    shell("w[:10] = 0.5")
    shell('%mv_commit -m "edited" --param lr=0.2')
    out = shell("%mv_diff")
    assert "~ w" in out and "10/100 elements changed" in out and "max |Δ| 0.5" in out
    assert "params: lr: 0.1 -> 0.2" in out and "unchanged: keep" in out


def _complete(shell, line: str) -> list[str]:
    """Completions at the end of `line`, through the API kernels and the terminal use."""
    from IPython.core.completer import provisionalcompleter

    with provisionalcompleter():
        return [c.text for c in shell.ip.Completer.completions(line, len(line))]


def test_completion_offers_revisions_branches_tags_and_variables(shell):
    shell("model = 1\nmodel_b = 2")
    shell('%mv_commit -m "one"')
    shell("%mv_branch experiment\n%mv_tag prod")
    short = _api(shell).log()[0].short_id
    assert {"HEAD", "main", "experiment", "prod", short} == set(_complete(shell, "%mv_checkout "))
    assert _complete(shell, "%mv_checkout exp") == ["experiment"]
    assert _complete(shell, "%mv_diff HEAD pr") == ["prod"]
    assert set(_complete(shell, "%mv_commit mod")) == {"model", "model_b"}
    assert set(_complete(shell, "%mv_checkout HEAD ")) == {"model", "model_b"}  # the version's variables
    assert _complete(shell, "%mv_checkout HEAD --fo") == ["--force"]
    assert _complete(shell, "%mv_branch -d ex") == ["experiment"]
    assert set(_complete(shell, "%mv_autocommit o")) == {"on", "off"}
    shell("untracked_model = 3")
    assert set(_complete(shell, "%mv_rm ")) == {"model", "model_b"}  # what HEAD tracks, not every variable
    assert _complete(shell, "%mv_reproduce ex") == ["experiment"]


def test_commit_refuses_a_credential_typed_in_a_cell_until_confirmed(shell):
    key = "AKIA" + "IOSFODNN7EXAMPLE"  # split so this file holds no credential-shaped string
    shell(f"aws_key_id = '{key}'")
    shell("weights = [1, 2, 3]")
    err, _ = shell.error('%mv_commit weights -m "try"')
    assert "history.py line" in str(err) and "AWS access key id" in str(err) and key not in str(err)
    assert "--allow-secrets" in str(err)
    out = shell('%mv_commit weights -m "confirmed" --allow-secrets')
    assert "Committed" in out


def test_leaving_a_detached_version_behind_is_announced(shell):
    shell("a = 1")
    shell('%mv_commit a -m "one"')
    shell("a = 2")
    shell('%mv_commit a -m "two"')
    shell("%mv_checkout HEAD~1")
    shell("a = 3")
    out = shell('%mv_commit a -m "detached work"')
    assert "detached HEAD" in out
    out = shell("%mv_checkout main")
    assert "left version" in out and "%mv_branch NAME" in out
    assert shell.ns["a"] == 2

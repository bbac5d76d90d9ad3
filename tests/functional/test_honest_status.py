""" "Changed" means changed: after `%mv_commit` and `%mv_checkout HEAD --force`, every
supported kind of value reads as unchanged (in `%mv_status`, in the dirty-checkout guard,
in the status the JupyterLab status bar asks for), while a real change still reads as
changed. Through the real IPython shell (tests/functional/conftest.py).

A restored estimator pickles differently from the original (its numpy scalars no longer
share the dtype object the original stream memoized), so these fail when status compares
by the stored id alone."""

from __future__ import annotations

import sys
import time

import pytest

np = pytest.importorskip("numpy")

DATA = "import numpy as np\nX = np.random.default_rng(0).normal(size=(80, 4)); y = X @ [1.0, -2.0, 0.5, 3.0]\n"

# name -> (setup cell, a cell that really changes it)
CASES = {
    "ridge": (
        "from sklearn.linear_model import Ridge\nridge = Ridge(alpha=0.5).fit(X, y)",
        "ridge = Ridge(alpha=5.0).fit(X, y)",
    ),
    "gbr": (
        "from sklearn.ensemble import GradientBoostingRegressor\n"
        "gbr = GradientBoostingRegressor(n_estimators=5, random_state=0).fit(X, y)",
        "gbr = GradientBoostingRegressor(n_estimators=6, random_state=0).fit(X, y)",
    ),
    "forest": (
        "from sklearn.ensemble import RandomForestClassifier\n"
        "forest = RandomForestClassifier(n_estimators=4, random_state=0).fit(X, y > 0)",
        "forest.fit(X, y > 1)",
    ),
    "bunch": (
        "from sklearn.datasets import load_iris\nbunch = load_iris()",
        "bunch.data[0, 0] += 1.0",
    ),
    "frame": (
        "import pandas as pd\n"
        "frame = pd.DataFrame({'x': np.arange(6.0), 'label': pd.Categorical(list('abcabc')), 's': list('uvwxyz')})",
        "frame.loc[2, 'x'] = -1.0",
    ),
    "array": ("array = np.arange(1000.0).reshape(10, 100)", "array[3, 7] = 0.5"),
    "box": (
        "box = {'weights': np.ones(5), 'steps': [1, 2, 3], 'name': 'run', 'nested': ({'lr': 0.1},)}",
        "box['steps'].append(4)",
    ),
    "point": (
        "class Point:\n    def __init__(self, x, y):\n        self.x, self.y = x, np.float64(y)\npoint = Point(1, 2.5)",
        "point.y = np.float64(3.5)",
    ),
}
TORCH = {
    "tensor": ("import torch\ntorch.manual_seed(0)\ntensor = torch.randn(4, 3)", "tensor[0, 0] = 9.0"),
    "net": (
        "import torch\ntorch.manual_seed(0)\nnet = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())",
        "with torch.no_grad():\n    net[0].weight[0, 0] += 1.0",
    ),
    "opt": (
        "import torch\ntorch.manual_seed(0)\nlin = torch.nn.Linear(4, 1)\n"
        "opt = torch.optim.Adam(lin.parameters(), lr=0.01)\n"
        "lin(torch.ones(2, 4)).sum().backward(); opt.step()",
        "opt.param_groups[0]['lr'] = 0.5",
    ),
}
NEEDS = {"ridge": "sklearn", "gbr": "sklearn", "forest": "sklearn", "bunch": "sklearn", "frame": "pandas"}


def params():
    out = [pytest.param((name, *cells), id=name) for name, cells in CASES.items()]
    out += [pytest.param((name, *cells), id=name, marks=pytest.mark.requires_torch) for name, cells in TORCH.items()]
    return out


def status_of(shell) -> dict:
    """What the JupyterLab status bar gets: the comm's reply to a status request."""
    from jupyter_mvc.magics import comm

    session = shell.ip._jupyter_mvc[0]
    reply = comm.handle(session, {"id": 1, "action": "status"})
    assert reply["ok"], reply
    return reply["result"]


@pytest.fixture(params=params())
def committed(request, shell, monkeypatch):
    name, setup, change = request.param
    pytest.importorskip(NEEDS.get(name, "numpy"))
    if name in TORCH:
        pytest.importorskip("torch")
    shell(DATA + setup)
    if name == "point":  # in a kernel the namespace is __main__'s; IPython's test shell has its own
        monkeypatch.setattr(sys.modules["__main__"], "Point", shell.ns["Point"], raising=False)
    out = shell(f'%mv_commit -m "{name}"')
    assert "Skipped" not in out, out
    return shell, name, change


@pytest.mark.slow  # waits 2.1 s per type: no encoding may depend on the time
def test_a_checked_out_value_is_unchanged_and_a_second_checkout_is_not_refused(committed):
    shell, name, _change = committed
    shell("%mv_checkout HEAD --force --trust")
    time.sleep(2.1)  # no encoding may depend on the time (zip archives stamp 2-second steps)
    out = shell("%mv_status")
    assert "Nothing changed" in out, out
    st = status_of(shell)
    assert name in st["unchanged"] and not (st["changed"] or st["new"] or st["missing"]), st
    out = shell("%mv_checkout HEAD --trust")  # not --force: the guard must not refuse
    assert "Checked out" in out and name in out, out
    assert "Nothing changed" in shell("%mv_status")


@pytest.mark.slow  # waits 2.1 s per type
def test_a_committed_value_is_unchanged_until_it_changes(committed):
    shell, name, change = committed
    time.sleep(2.1)
    assert "Nothing changed" in shell("%mv_status")
    shell(change)
    out = shell("%mv_status")
    assert "changed:" in out and name in out.split("changed:")[1].splitlines()[0], out
    error, _ = shell.error("%mv_checkout HEAD --trust")
    assert name in str(error)


def test_a_real_change_after_a_checkout_is_reported_and_guarded(committed):
    shell, name, change = committed
    shell("%mv_checkout HEAD --force --trust")
    shell(change)
    st = status_of(shell)
    assert name in st["changed"], st
    error, _ = shell.error("%mv_checkout HEAD --trust")
    assert name in str(error)
    shell("%mv_checkout HEAD --force --trust")
    assert "Nothing changed" in shell("%mv_status")

"""%mv_autocommit in a real kernel driven by nbclient: it versions new variables worth
versioning by the rules of `%mv_commit` with no names (a secret-looking name never, an
unpicklable value skipped and said once), and a cell that changes nothing commits nothing,
a fitted estimator and a class defined in
the notebook (`__main__`) included."""

from __future__ import annotations

import pytest

from tests.support.outputs import cell_text

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("sklearn")

CELLS = [
    "%load_ext jupyter_mvc",
    "import numpy as np, time\nfrom sklearn.linear_model import Ridge\n"
    "X = np.random.default_rng(0).normal(size=(40, 3)); y = X @ [1.0, 2.0, -1.0]",
    '%mv_commit -m "data"',
    "%mv_autocommit on",
    "model = Ridge(alpha=0.5).fit(X, y)",  # 4: a new model: committed
    "time.sleep(2.1)\nprint('model alpha', model.alpha)",  # 5: changes nothing
    "api_token = 'tok-' + 'x' * 8",  # 6: a secret: nothing to commit
    "class Scaler:\n    def __init__(self, k):\n        self.k = k\n\nscaler = Scaler(np.float64(2.0))",  # 7
    "import threading\nlock = threading.Lock()\nsteps = 1",  # 8: lock skipped and said
    "steps = 2",  # 9: committed; lock not said again
    "print(len(X))",  # 10: changes nothing (lock is no reason)
    "%mv_checkout HEAD --force --trust",
    "time.sleep(2.1)\n%mv_status",  # 12
    "print('after checkout')",  # 13: changes nothing
]


def test_autocommit_in_a_kernel(git_repo):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(git_repo)}}
    )
    client.execute()
    out = [cell_text(c) for c in nb.cells]
    assert [i for i, c in enumerate(nb.cells) if any(o.output_type == "error" for o in c.outputs)] == [], out

    from jupyter_mvc import api

    committed = [i for i, o in enumerate(out) if "Autocommitted" in o]
    assert committed == [4, 7, 8, 9], out
    log = api.log(path=git_repo)
    assert len(log) == 5  # "data" and the four autocommits
    assert [v.subject.split(":")[0] for v in log[:4]] == [
        f"autocommit after In[{n}]"
        for n in (10, 9, 8, 5)  # execution counts start at 1
    ]
    head = api.show("HEAD", path=git_repo).manifest.variables
    assert set(head) == {"X", "y", "model", "scaler", "steps"}
    assert all("api_token" not in api.show(v.id, path=git_repo).manifest.variables for v in log)
    assert "Left out (cannot be serialised): lock" in out[8]
    assert "lock" not in out[9] and "Left out (names look like secrets)" not in out[9]
    assert api.load("HEAD", "steps", path=git_repo) == 2
    assert "model" in api.show(log[3].id, path=git_repo).manifest.variables
    assert "  changed:" not in out[12] and "missing:" not in out[12], out[12]
    assert "new:       lock" in out[12]

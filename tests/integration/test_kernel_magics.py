"""The magics in a real kernel driven by nbclient, as a notebook runs them: commit with the
notebook file and executed cells, the dirty-checkout refusal, checkout, log and completion."""

from __future__ import annotations

import json

import pytest

from tests.support.outputs import cell_text

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.requires_torch  # the kernel imports torch (tier marks: tests/conftest.py)

CELLS = [
    "%load_ext jupyter_mvc",
    "import numpy as np, torch, jupyter_mvc\n"
    "w = np.arange(12.0).reshape(3, 4)\nnet = torch.nn.Linear(2, 2)\napi_key = 'hidden'\n"
    "for step, loss in enumerate([1.0, 0.6, 0.4]):\n    jupyter_mvc.log_metric('loss', loss, step=step)",
    '%mv_commit -m "first in a kernel"',
    "w[0, 0] = -1.0",
    "%mv_checkout HEAD",  # refused: w changed since the commit (the cell errors)
    "print('w still edited:', w[0, 0])",
    "%mv_checkout HEAD --force\nprint('w restored:', w[0, 0])",
    "%mv_log --text",
    "from IPython.core.completer import provisionalcompleter\n"
    "with provisionalcompleter():\n"
    "    print('completions:', sorted(c.text for c in get_ipython().Completer.completions('%mv_checkout ', 13)))",
    "%mv_log",  # in a kernel: the timeline widget
    "%mv_plot HEAD --metric loss",  # in a kernel: the curves widget
]


def test_magics_in_a_kernel(git_repo, monkeypatch):
    nb_path = git_repo / "train.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, nb_path)
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb_path))  # what jupyter_server would set
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(git_repo)}}
    )
    client.execute()
    out = [cell_text(c) for c in nb.cells]

    assert "Committed" in out[2] and "Left out (names look like secrets): api_key" in out[2]
    # The file was found and stored; nbclient ran cells after it was saved, and no front-end
    # handed over a live document, so the commit says the file may predate them.
    assert "could not be read" not in out[2] and "no notebook behind this kernel" not in out[2]
    assert "Not captured: the notebook as on screen: the file stored was saved at" in out[2]
    assert out[4].startswith("UsageError: checking out HEAD would overwrite w")
    assert "Traceback" not in out[4]
    assert "w still edited: -1.0" in out[5]
    assert "w restored: 0.0" in out[6]
    assert "(HEAD -> main) first in a kernel" in out[7] and "loss=0.4" in out[7]

    from jupyter_mvc import api

    repo = api.open_repo(git_repo, create=False)
    version = repo.show("HEAD")
    assert set(version.manifest.variables) == {"w", "net", "step", "loss"}  # loop variables are state too
    assert version.metrics["series"]["loss"] == [[0, 1.0], [1, 0.6], [2, 0.4]]
    saved = json.loads(repo.read_file("HEAD", "notebook.ipynb"))
    assert "".join(saved["cells"][2]["source"]) == '%mv_commit -m "first in a kernel"'
    history = repo.read_file("HEAD", "history.py").decode()
    assert "w = np.arange(12.0).reshape(3, 4)" in history and "%mv_commit" in history
    assert version.env["packages"].get("torch") and version.env["python"]
    short = version.info.short_id
    assert f"completions: {sorted(['HEAD', 'main', short])}" in out[8]
    assert repo.load("HEAD", "w")[0, 0] == 0.0
    for cell in nb.cells[9:11]:
        if not _has_widgets():
            pytest.skip("jupyter_mvc.widgets (anywidget) is not importable here")
        kinds = [o.output_type for o in cell.outputs]
        assert "error" not in kinds, cell_text(cell)
        assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in cell.outputs)


def _has_widgets() -> bool:
    try:
        import anywidget  # noqa: F401

        import jupyter_mvc.widgets  # noqa: F401
    except ImportError:
        return False
    return True

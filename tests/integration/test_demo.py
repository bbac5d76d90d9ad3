"""demo.ipynb end to end through a real kernel (nbclient), as `make demo` runs it: in a
temporary folder, never touching the source tree. The executed notebook must hold the
widgets' state (timeline rows, curves image) and the figures."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for module in ("nbclient", "ipykernel", "sklearn", "anywidget"):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[test]')", allow_module_level=True)

sys.path.insert(0, str(ROOT / "tools"))
import run_demo  # noqa: E402


def widget_states(nb) -> dict:
    return nb.metadata["widgets"][run_demo.WIDGET_STATE]["state"]


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    source = ROOT / "demo.ipynb"
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    result = run_demo.run(source, timeout=300, workdir=tmp_path_factory.mktemp("demo"))
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before, "the demo must not modify demo.ipynb"
    return result


def test_demo_runs_without_errors(executed):
    assert executed.error is None, executed.error
    summary = executed.summary()
    assert summary["executed"] == summary["code cells"] and summary["errors"] == 0


def test_demo_made_its_versions_in_its_own_repository(executed):
    import jupyter_mvc

    versions = jupyter_mvc.log(all=True, path=executed.workdir)
    subjects = {v.subject for v in versions}
    assert {
        "softmax GD lr=0.05",
        "softmax GD lr=0.5",
        "softmax GD lr=2.0",
        "L2 1e-3 at lr=0.5",
        "fine-tune best at lr=0.1",
    } <= subjects
    torch_present = importlib.util.find_spec("torch") is not None
    assert ("MLP 64-32-10 in PyTorch" in subjects) == torch_present
    assert (executed.workdir / ".git").is_dir()  # created next to the notebook, not in the repo


def test_executed_notebook_holds_the_timeline_state(executed):
    graphs = [
        m["state"] for m in widget_states(executed.notebook).values() if "rows" in m["state"] and "edges" in m["state"]
    ]
    assert graphs, "no timeline graph model in the saved widget state"
    final = max(graphs, key=lambda s: len(s["rows"]))
    import jupyter_mvc

    ids = {v.id for v in jupyter_mvc.log(all=True, path=executed.workdir)}
    assert {r["id"] for r in final["rows"]} == ids
    assert final["lanes"] >= 2  # main and its branches
    assert final["selected"] in ids and "export default" in final["_esm"]


def test_executed_notebook_holds_the_figures(executed):
    plots = [c for c in executed.notebook.cells if c.cell_type == "code" and "%mv_plot" in c.source]
    images = [o["data"]["image/png"] for c in plots for o in c.outputs if "image/png" in o.get("data", {})]
    assert images and base64.b64decode(images[0]).startswith(b"\x89PNG")
    image_models = [m for m in widget_states(executed.notebook).values() if m["model_name"] == "ImageModel"]
    assert image_models, "no figure in the saved widget state"


def test_the_runner_fails_on_a_broken_notebook(tmp_path):
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    broken = tmp_path / "broken.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("print('ok')"), new_code_cell("1 / 0")]), broken)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "run_demo.py"), str(broken)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 1
    assert "ZeroDivisionError" in proc.stderr and "FAILED" in proc.stderr
    assert not list(tmp_path.glob("*.executed.ipynb"))  # it ran in its own temp folder

"""`reproduce` with real kernels: versions made by running a notebook through nbclient
(the magics in a real kernel), then re-run by jupyter_mvc.reproduce in a fresh kernel.
Also the magic inside a kernel, the CLI's exit status, and demo.ipynb's last version."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("sklearn")

ROOT = Path(__file__).resolve().parents[2]
# This fixture is module-scoped (one notebook run for all tests), so it pins what
# tests/conftest.py's function-scoped pinned_git_env would.
IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Committer",
    "GIT_COMMITTER_EMAIL": "committer@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}

CELLS = [
    "%load_ext jupyter_mvc",  # In[1]
    # In[2]: seeded data and a tiny model (numpy gradient descent and a scikit-learn one)
    "import numpy as np\nfrom sklearn.linear_model import LogisticRegression\n"
    "rng = np.random.default_rng(0)\nX = rng.normal(size=(80, 3))\n"
    "y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)\n"
    "w = np.zeros(3)\nfor _ in range(100):\n    w -= 0.1 * X.T @ (1 / (1 + np.exp(-X @ w)) - y) / len(y)\n"
    "clf = LogisticRegression(C=0.5).fit(X, y)\nacc = float(clf.score(X, y))\nlabels = {'neg', 'pos'}",
    '%mv_commit w clf acc labels -m "seeded" --metric acc={acc}',  # In[3]
    "noise = np.random.rand(3)\nw2 = w + noise",  # In[4]: NOT seeded
    '%mv_commit w w2 -m "unseeded"',  # In[5]
    "1 / 0",  # In[6]: raises
    "after = w * 2",  # In[7]
    '%mv_commit after -m "after a failure"',  # In[8]
    "%mv_reproduce HEAD~2",  # In[9]: the magic, in the user's kernel
]


def _text(cell) -> str:
    return "".join(o.get("text", "") if o.output_type == "stream" else f"{o.ename}: {o.evalue}" for o in cell.outputs)


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reproduce") / "project"
    folder.mkdir()
    (folder / "data.csv").write_text("a,b\n1,2\n")  # a working-tree file the copy must carry
    nb_path = folder / "train.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbformat.write(nb, nb_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(tmp_path_factory.mktemp("home")))
        for k, v in IDENTITY.items():
            mp.setenv(k, v)
        mp.setenv("JPY_SESSION_NAME", str(nb_path))
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}
        )
        client.execute()
    outputs = [_text(c) for c in nb.cells]
    assert "Committed" in outputs[2] and "Committed" in outputs[7], outputs
    assert "ZeroDivisionError" in outputs[5]
    return folder, outputs


def _child_kernels() -> set[int]:
    """This process's child kernel processes (Linux /proc)."""
    me, out = str(os.getpid()), set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if fields[1] == me and b"ipykernel" in cmdline:
            out.add(int(stat.parent.name))
    return out


def test_a_seeded_version_reproduces_bit_for_bit(project):
    import jupyter_mvc

    folder, _ = project
    before = _tree_digest(folder)
    kernels = _child_kernels()
    report = jupyter_mvc.reproduce("HEAD~2", path=folder)
    assert _child_kernels() <= kernels, "the reproduction's kernel is stopped, not left running"
    assert _tree_digest(folder) == before, "reproduce must not change the user's folder (its .git included)"
    by_name = {v.name: v for v in report.variables}
    assert set(by_name) == {"w", "clf", "acc", "labels"}
    assert all(v.status == "reproduced" for v in report.variables), report.variables
    assert by_name["w"].detail == "bit-identical"
    assert [(m.name, m.status) for m in report.metrics] == [("acc", "reproduced")]
    assert report.failed_cells == () and report.ok
    assert report.cells_run == 3  # In[1..3]; the version's history stops at its commit
    assert report.replayed_magics == (
        "%load_ext jupyter_mvc",
        '%mv_commit w clf acc labels -m "seeded" --metric acc={acc}',
    )
    assert report.seconds > 0 and report.warnings == ()
    assert len(jupyter_mvc.log(path=folder)) == 3, "the run wrote no version into the user's history"


def test_an_unseeded_random_number_is_reported_as_differing(project):
    import jupyter_mvc

    folder, _ = project
    report = jupyter_mvc.reproduce("HEAD~1", path=folder)
    by_name = {v.name: v for v in report.variables}
    assert by_name["w"].status == "reproduced"
    assert by_name["w2"].status == "differs"
    assert by_name["w2"].max_delta is not None and 0 < by_name["w2"].max_delta < 1
    assert "max |Δ|" in by_name["w2"].detail
    assert not report.ok


def test_a_cell_that_raises_is_reported_and_the_rest_still_runs(project):
    import jupyter_mvc

    folder, _ = project
    report = jupyter_mvc.reproduce("HEAD", path=folder)
    assert [(f.cell, f.error) for f in report.failed_cells] == [(6, "ZeroDivisionError: division by zero")]
    by_name = {v.name: v for v in report.variables}
    assert by_name["after"].status == "reproduced"  # the cells after the failing one ran
    assert not report.ok


def test_a_tolerance_turns_a_small_difference_into_reproduced(project):
    import jupyter_mvc

    folder, _ = project
    report = jupyter_mvc.reproduce("HEAD~1", path=folder, tolerance=1.0)
    w2 = next(v for v in report.variables if v.name == "w2")
    assert w2.status == "reproduced" and w2.detail.startswith("within tolerance")


def test_the_magic_prints_the_table_in_a_kernel(project):
    _, outputs = project
    text = outputs[8]
    assert "Traceback" not in text and "Error" not in text, text
    assert "3/4 variables reproduced" not in text
    assert "4/4 variables reproduced" in text and "OK: everything reproduced." in text
    assert "w         reproduced  bit-identical" in text


def test_the_cli_exits_1_when_a_variable_differs(project, capsys):
    from jupyter_mvc import cli

    folder, _ = project
    assert cli.main(["-C", str(folder), "reproduce", "HEAD~2"]) == 0
    assert cli.main(["-C", str(folder), "reproduce", "HEAD~1", "--timeout", "120"]) == 1
    out = capsys.readouterr().out
    assert "w2        differs" in out and "NOT reproduced" in out


def test_a_checkout_of_a_hand_typed_id_loads_from_the_users_repository(project, tmp_path):
    """A replayed `%mv_checkout 1a2b3c4d` of a version the run itself never made (an id
    typed by hand) is loaded read-only from the user's repository, with a warning; the
    cells after it then run from the same state the user had."""
    import shutil

    import jupyter_mvc

    folder = tmp_path / "copy"  # the module's project stays as the other tests expect it
    shutil.copytree(project[0], folder, symlinks=True)
    seeded = jupyter_mvc.info("HEAD~2", path=folder)
    assert seeded.subject == "seeded"
    nb_path = folder / "hand_typed.ipynb"
    cells = [
        "%load_ext jupyter_mvc",
        f"%mv_checkout {seeded.short_id} w --force",
        "w3 = w * 3",
        '%mv_commit w3 -m "from a typed id"',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, nb_path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JPY_SESSION_NAME", str(nb_path))
        nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(folder)}}
        ).execute()
    assert "Committed" in _text(nb.cells[3]), [_text(c) for c in nb.cells]
    before = _tree_digest(folder)
    report = jupyter_mvc.reproduce("HEAD", path=nb_path)
    assert _tree_digest(folder) == before
    by_name = {v.name: v for v in report.variables}
    assert (by_name["w3"].status, by_name["w3"].detail) == ("reproduced", "bit-identical")
    assert len(report.warnings) == 1 and f"{seeded.short_id!r} is not a version the run made" in report.warnings[0]


@pytest.mark.requires_torch
def test_demo_last_version_reproduces(tmp_path):
    """demo.ipynb, run as tests/integration/test_demo.py runs it, then its last version
    (the seeded PyTorch MLP; the version also carries W and b) re-run: every variable and
    the metric come back bit for bit. W and b are the hard part: the demo fine-tuned them
    from a CHECKED-OUT version (`%mv_checkout -b fine-tune {best.short_id}`, `best` found
    by asking the version store, `jupyter_mvc.log`); the replay's own commits build the
    run's history, so it finds and checks out its own equivalent of `best`."""
    for module in ("anywidget",):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import run_demo
    finally:
        sys.path.remove(str(ROOT / "tools"))
    result = run_demo.run(ROOT / "demo.ipynb", timeout=300, workdir=tmp_path)
    assert result.error is None, result.error
    import jupyter_mvc

    assert jupyter_mvc.info("HEAD", path=tmp_path).subject == "MLP 64-32-10 in PyTorch"
    before = _tree_digest(tmp_path)
    report = jupyter_mvc.reproduce("HEAD", path=tmp_path / "demo.ipynb")
    assert _tree_digest(tmp_path) == before
    by_name = {v.name: v for v in report.variables}
    assert set(by_name) == {"W", "b", "net"}
    assert all(v.detail == "bit-identical" for v in report.variables), report.variables
    assert [(m.name, m.status) for m in report.metrics] == [("test_acc", "reproduced")]
    assert report.failed_cells == () and report.warnings == () and report.ok
    assert any(m.startswith("%mv_checkout -b fine-tune") for m in report.replayed_magics)
    assert os.path.isdir(tmp_path / ".git")

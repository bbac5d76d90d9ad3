"""Rules of the project that tools enforce: one version source, the public API's surface,
and the import-linter layers contract (shown failing on a real upward import)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import jupyter_mvc

ROOT = Path(__file__).resolve().parents[2]


def test_one_version_source_python_and_lab_extension_agree():
    package_json = json.loads((ROOT / "labextension" / "package.json").read_text())
    assert package_json["version"] == jupyter_mvc.__version__
    from importlib.metadata import version

    assert version("jupyter_mvc") == jupyter_mvc.__version__  # hatch reads __init__.py


def test_the_package_exports_exactly_the_api():
    from jupyter_mvc import api

    assert set(jupyter_mvc._API) == set(api.__all__)
    for name in api.__all__:
        assert getattr(jupyter_mvc, name) is getattr(api, name)
    assert "pending_metrics" not in api.__all__ and "clear_metrics" not in api.__all__


@pytest.mark.slow
def test_layers_contract_fails_when_a_lower_layer_imports_a_face(tmp_path):
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if lint_imports is None:
        pytest.skip("import-linter is not installed (pip install -e '.[lint]')")
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT / "jupyter_mvc", copy / "jupyter_mvc", ignore=shutil.ignore_patterns("labextension", "__pycache__")
    )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    def run() -> subprocess.CompletedProcess:
        return subprocess.run(
            [lint_imports, "--config", str(tmp_path / "pyproject.toml"), "--no-cache"],
            cwd=tmp_path,
            env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
        )

    kept = run()
    assert kept.returncode == 0, kept.stdout + kept.stderr
    chunks = copy / "jupyter_mvc" / "store" / "chunks.py"
    chunks.write_text(chunks.read_text() + "\nfrom .. import magics  # an upward import\n")
    broken = run()
    assert broken.returncode != 0
    assert "BROKEN" in broken.stdout and "jupyter_mvc.store.chunks -> jupyter_mvc.magics" in broken.stdout

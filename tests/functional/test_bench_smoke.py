"""The benchmark's smoke mode runs end to end, so `python -m bench` cannot rot.

Checks the JSON holds every measurement with positive numbers (no timing asserts: speed is
what the benchmark reports, not what a test can promise on a shared machine)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow  # runs `python -m bench --smoke` in a subprocess

TIMED = [
    "floor.write_fsync",
    "floor.read_warm",
    "floor.read_warm_fresh_memory",
    "floor.blake3_1thread",
    "floor.blake3_threads",
    "alt.pickle_dump",
    "alt.pickle_load_warm",
    "alt.git_add_commit",
    "ours.commit_first",
    "ours.recommit_unchanged",
    "ours.recommit_edit_1pct",
    "ours.checkout_warm",
    "ours.checkout_lazy_warm",
    "notebook.commit_first",
    "notebook.commit_changed_contiguous",
    "notebook.commit_changed_scattered",
    "notebook.checkout_warm",
    "notebook.checkout_lazy_warm",
    "history.log",
    "history.cli_log_1000",
    "history.git_log_1000",
    "store.fsck",
    "store.gc",
    "startup.ipython_shell",
    "startup.import_jupyter_mvc",
    "kernel.cell_plain",
    "kernel.cell_autocommit",
    "kernel.status",
    "kernel.status_verify",
    "frame.arrow_write_fsync",
    "frame.arrow_read",
    "frame.pickle_dumps",
    "frame.commit_first",
    "frame.recommit_10_rows",
    "frame.load_warm",
    "chain.recommit_1pct_scattered",
    "chain.full_warm",
    "chain.tip_warm",
    "chain.deepest_old_warm",
]
COLD = [
    "floor.read_cold",
    "floor.read_cold_fresh_memory",
    "alt.pickle_load_cold",
    "ours.checkout_cold",
    "notebook.checkout_cold",
    "ours.checkout_lazy_cold",
    "ours.checkout_lazy_cold_touch_all",
    "chain.full_cold",
    "chain.tip_cold",
    "chain.deepest_old_cold",
]
TORCH = ["alt.torch_save", "alt.torch_load_warm", "alt.safetensors_load_warm", "alt.safetensors_open_warm"]
# Skippable only while the magics (written in parallel) do not import yet.
NEEDS_MAGICS = ["history.mv_log", "history.mv_log_all", "startup.load_ext"]


@pytest.fixture(scope="module")
def smoke(tmp_path_factory) -> dict:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    pytest.importorskip("sklearn", reason="the notebook-state benchmark fits a random forest")
    out = tmp_path_factory.mktemp("bench") / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "targets:" in proc.stdout  # the table reached the terminal
    return json.loads(out.read_text())


def _check_timed(entry: dict, name: str) -> None:
    assert entry["median_s"] > 0, name
    assert entry["n"] >= 1 and len(entry["runs_s"]) == entry["n"], name
    assert all(t > 0 for t in entry["runs_s"]), name


def test_every_measurement_is_present_and_positive(smoke):
    m = smoke["measurements"]
    expected = list(TIMED)
    if smoke["machine"]["drop_caches"]:
        expected += COLD
    if smoke["config"]["model_kind"] == "torch":
        expected += TORCH
        if smoke["machine"]["drop_caches"]:
            expected += ["alt.torch_load_cold", "alt.torch_load_mmap_cold_touch_all", "alt.safetensors_load_cold"]
    for name in expected:
        assert name in m, f"missing measurement {name}"
        _check_timed(m[name], name)
    for name in NEEDS_MAGICS:
        if "skipped" in m[name]:
            assert "jupyter_mvc.magics" in m[name]["skipped"]
            from jupyter_mvc.magics import register  # noqa: F401 - skipping is only fair if this fails
        else:
            _check_timed(m[name], name)


def test_bytes_and_memory_are_measured(smoke):
    m, model_bytes = smoke["measurements"], smoke["config"]["model_bytes"]
    assert model_bytes > 0
    # a first commit stores at least the model; a 1 % edit stores something, but less
    assert m["ours.commit_first"]["bytes_added"] >= model_bytes
    assert 0 < m["ours.recommit_edit_1pct"]["bytes_added"] < model_bytes
    assert m["ours.recommit_unchanged"]["bytes_added"] < m["ours.recommit_edit_1pct"]["bytes_added"]
    assert m["notebook.commit_first"]["bytes_added"] > 0
    assert m["alt.git_add_commit"]["bytes_added"] > 0
    assert m["history.log"]["versions"] == smoke["config"]["versions"]
    assert m["history.log_scale"]["versions"] == smoke["config"]["scale_versions"]
    if "output_lines" in m["history.mv_log_all"]:  # one line per version, at least
        assert m["history.mv_log_all"]["output_lines"] >= smoke["config"]["versions"]
    assert m["ours.checkout_warm"]["failed"] == 0 and m["notebook.checkout_warm"]["failed"] == 0
    if Path("/proc/self/clear_refs").exists():
        for name in ("ours.commit_first", "ours.checkout_warm"):
            assert m[name]["peak_extra_bytes"] is not None and m[name]["peak_extra_bytes"] >= 0, name


def test_ratios_and_targets_are_reported(smoke):
    ratios = smoke["ratios"]
    for label in (
        "commit_first / write+fsync",
        "recommit_1% / write+fsync",
        "checkout_warm / read_warm",
        "commit_first / git add+commit",
    ):
        assert ratios[label] > 0, label
    targets = {t["target"]: t for t in smoke["targets"]}
    assert "first commit / write+fsync floor" in targets
    assert targets["tip of a 20-commit 1% chain / full version"]["value"] > 0
    assert ratios["chain tip warm / full version warm"] > 0
    assert smoke["measurements"]["chain.tip_warm"]["delta_files_opened"] == 0  # the tip rebuilds no chain
    assert smoke["measurements"]["chain.deepest_old_warm"]["delta_files_opened"] > 0
    assert all(t["met"] is None for t in targets.values())  # smoke sizes are not judged
    assert smoke["machine"]["cores"] >= 1 and smoke["mode"] == "smoke"

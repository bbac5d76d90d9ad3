"""`python -m bench.against_release [--release COMMIT]`: the same commit and warm checkout
of a 512 MiB torch model and of notebook state (a 200 MB array + a 100-tree random forest),
timed with this tree's package and with a released one (exported from Git with
`git archive` into a temporary folder), each in a fresh process on an empty repository.
Medians of 5 warm checkouts. Shows what a change costs against the release, on one
machine, in one run."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_WORKLOAD = r"""
import json, sys, time
import numpy as np, torch
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
import jupyter_mvc as mvc

torch.manual_seed(0)
model = torch.nn.Sequential(*[torch.nn.Linear(2048, 2048) for _ in range(32)])  # 512 MiB
X, y = make_classification(2000, 20, random_state=0)
notebook = {"rf": RandomForestClassifier(100, random_state=0).fit(X, y),
            "arr": np.random.default_rng(0).random(25_000_000)}
out = {"package": mvc.__file__}
for name, objs in (("model", {"model": model}), ("notebook", notebook)):
    t = time.perf_counter(); mvc.commit(objs, name); out[name + ".commit"] = time.perf_counter() - t
    runs = []
    for _ in range(5):
        t = time.perf_counter(); mvc.checkout("HEAD"); runs.append(time.perf_counter() - t)
    out[name + ".checkout_warm"] = sorted(runs)[2]
print(json.dumps(out))
"""


def run(package_parent: Path, work: Path) -> dict:
    work.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    env = {
        **os.environ,
        "PYTHONPATH": str(package_parent),
        "GIT_AUTHOR_NAME": "bench",
        "GIT_AUTHOR_EMAIL": "bench@example.com",
        "GIT_COMMITTER_NAME": "bench",
        "GIT_COMMITTER_EMAIL": "bench@example.com",
    }
    done = subprocess.run(
        [sys.executable, "-c", _WORKLOAD], cwd=work, env=env, check=True, capture_output=True, text=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.against_release")
    parser.add_argument("--release", default="64206c9", help="the released commit to compare with (0.1.0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        released = Path(tmp) / "released"
        released.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", args.release, "jupyter_mvc"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(released)], input=archive, check=True)
        old = run(released, Path(tmp) / "old")
        new = run(ROOT, Path(tmp) / "new")
    print(f"{'measurement':<26}{'release':>10}{'this tree':>11}{'ratio':>8}")
    for key in ("model.commit", "model.checkout_warm", "notebook.commit", "notebook.checkout_warm"):
        print(f"{key:<26}{old[key]:>9.3f}s{new[key]:>10.3f}s{new[key] / old[key]:>7.2f}x")


if __name__ == "__main__":
    main()

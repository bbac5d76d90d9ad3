"""The `mvc` console command, run as a real subprocess."""

import json
import pickle
import shutil
import struct
import subprocess
import sys

import numpy as np
import pytest

from jupyter_mvc.repo import Repo


def mvc(cwd, *args):
    exe = shutil.which("mvc") or None
    cmd = [exe, *args] if exe else [sys.executable, "-m", "jupyter_mvc.cli", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


@pytest.fixture
def history(repo):
    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    repo.commit({"w": w, "cfg": {"lr": 0.1}}, "baseline", metrics={"acc": 0.81}, params={"lr": 0.1})
    w2 = w.copy()
    w2[0, 0] = 100
    repo.commit({"w": w2, "cfg": {"lr": 0.2}}, "tuned", metrics={"acc": 0.9}, params={"lr": 0.2})
    repo.refs.create_tag("best")
    return repo, w, w2


def test_log_show_diff(history):
    repo, w, w2 = history
    r = mvc(repo.root, "log")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and "HEAD -> main" in lines[0] and "tag: best" in lines[0] and "tuned" in lines[0]
    assert "acc=0.9" in lines[0] and "baseline" in lines[1]
    r = mvc(repo.root, "show", "HEAD~1")
    assert r.returncode == 0 and "baseline" in r.stdout and "shape=[3, 4]" in r.stdout and "lr = 0.1" in r.stdout
    r = mvc(repo.root, "diff", "HEAD~1", "best")
    assert r.returncode == 0
    # One wording with %mv_diff (present/text.py).
    assert (
        "~ w" in r.stdout
        and "w: 1/12 elements changed, max |Δ| 100" in r.stdout
        and "params: lr: 0.1 -> 0.2" in r.stdout
    )


def test_log_and_load_without_remotes_import_no_remote_layer(history):
    # `mvc log`, and a serving process's load, in a project without remotes: the remote
    # layer (object-store clients, crypto) and the runs table stay unimported.
    repo, w, _w2 = history
    code = (
        "import sys, contextlib, io, numpy as np\n"
        "from jupyter_mvc import cli, api\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    assert cli.main(['log']) == 0\n"
        "assert 'tuned' in out.getvalue()\n"
        "assert np.array_equal(api.load('HEAD~1', 'w'), np.arange(12, dtype=np.float32).reshape(3, 4))\n"
        "heavy = ('jupyter_mvc.sharing', 'jupyter_mvc.ranking', 'jupyter_mvc.remote.transport', 'obstore')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "api.remotes(path='.')  # a team verb still resolves, on first use\n"
        "print('jupyter_mvc.sharing' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], cwd=repo.root, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["[]", "True"]


@pytest.mark.slow  # several seconds: kept out of `make test-fast`
def test_export_formats(history, tmp_path):
    repo, w, w2 = history
    assert mvc(repo.root, "export", "HEAD~1", "w", "-o", str(tmp_path / "w.npy")).returncode == 0
    assert np.load(tmp_path / "w.npy", allow_pickle=False).tobytes() == w.tobytes()
    assert mvc(repo.root, "export", "HEAD", "cfg", "-o", str(tmp_path / "cfg.pkl")).returncode == 0
    assert pickle.loads((tmp_path / "cfg.pkl").read_bytes()) == {"lr": 0.2}
    r = mvc(repo.root, "export", "HEAD", "cfg", "-o", str(tmp_path / "cfg.npy"))
    assert r.returncode == 1 and "not one array" in r.stderr and not (tmp_path / "cfg.npy").exists()
    r = mvc(repo.root, "export", "HEAD", "w", "-o", str(tmp_path / "w.txt"))
    assert r.returncode == 1 and "unknown file type" in r.stderr


@pytest.mark.slow
@pytest.mark.requires_torch
def test_export_safetensors_of_a_torch_module(repo, tmp_path):
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1)).to(torch.bfloat16)
    repo.commit({"net": net, "w": np.ones((2, 2), dtype=np.float32)}, "net")
    out = tmp_path / "net.safetensors"
    r = mvc(repo.root, "export", "HEAD", "net", "-o", str(out))
    assert r.returncode == 0, r.stderr
    raw = out.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8 : 8 + n])
    assert header["0.weight"]["dtype"] == "BF16" and header["0.weight"]["shape"] == [2, 3]
    safetensors_torch = pytest.importorskip("safetensors.torch")
    loaded = safetensors_torch.load_file(str(out))
    for k, v in net.state_dict().items():
        assert torch.equal(loaded[k].view(torch.int16), v.view(torch.int16))
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    assert mvc(repo.root, "export", "HEAD", "w", "-o", str(tmp_path / "w.safetensors")).returncode == 0
    assert np.array_equal(safetensors_numpy.load_file(str(tmp_path / "w.safetensors"))["w"], np.ones((2, 2)))


@pytest.mark.slow  # several seconds: kept out of `make test-fast`
def test_fsck_gc_branch_tag_trust(history):
    repo, *_ = history
    r = mvc(repo.root, "fsck")
    assert r.returncode == 0 and "checked 2 versions" in r.stdout and r.stdout.strip().endswith("ok")
    orphan = repo.store.put(b"x" * 100)
    r = mvc(repo.root, "gc", "--grace", "0")
    assert r.returncode == 0 and "removed 1 objects" in r.stdout and not repo.store.has(orphan.chunks[0])
    assert mvc(repo.root, "branch", "exp", "HEAD~1").returncode == 0
    r = mvc(repo.root, "branch")
    assert "* main" in r.stdout and "  exp" in r.stdout
    assert mvc(repo.root, "tag", "-d", "best").returncode == 0
    assert "best" not in mvc(repo.root, "tag").stdout
    assert mvc(repo.root, "trust", "argparse.Namespace").returncode == 0
    assert "argparse.Namespace" in Repo.open(repo.root).config.trusted_globals()


@pytest.mark.parametrize(
    "args,expected",
    [
        (["show", "nope"], "unknown revision 'nope'"),
        (["diff", "HEAD~5"], "unknown revision 'HEAD~5'"),
        (["export", "HEAD", "missing", "-o", "x.npy"], "has no variable 'missing'"),
        (["branch", "bad name"], "bad branch name"),
        (["tag", "best"], "already exists"),
    ],
)
def test_errors_are_one_clear_line(history, args, expected):
    repo, *_ = history
    r = mvc(repo.root, *args)
    assert r.returncode == 1 and expected in r.stderr and "Traceback" not in r.stderr


def test_outside_a_repository(tmp_path):
    r = mvc(tmp_path, "log")
    assert r.returncode == 1 and "not inside a Git repository" in r.stderr

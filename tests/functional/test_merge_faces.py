"""%mv_merge in the real IPython shell (a torch model and its optimizer merge as one
group; weight averaging of two fine-tunes of one nn.Module), and `mvc merge` resolving a
diverged pull from a remote."""

from __future__ import annotations

import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc import cli
from jupyter_mvc.errors import DivergedError


@pytest.mark.requires_torch
def test_a_model_and_its_optimizer_merge_as_one_group(shell):
    shell(
        "import torch\ntorch.manual_seed(0)\nnet = torch.nn.Linear(3, 2)\n"
        "opt = torch.optim.SGD(net.parameters(), lr=0.1)"
    )
    shell('%mv_commit net opt -m "base"')
    shell("%mv_branch exp")
    step = "opt.zero_grad(); net(torch.ones(1, 3)).sum().backward(); opt.step()"
    shell(f"{step}")
    shell('%mv_commit net opt -m "ours: one step"')
    shell("%mv_checkout exp --force")
    shell(f"{step}\n{step}")
    shell('%mv_commit net opt -m "theirs: two steps"')
    theirs_weight = shell.ip.user_ns["net"].weight.detach().clone()
    shell("%mv_checkout main --force")
    err, _ = shell.error("%mv_merge exp")
    assert "net, opt: changed on both sides" in str(err) and "--take net=ours" in str(err)
    out = shell("%mv_merge exp --take net=theirs --checkout --force")
    assert "has two parents" in out and "theirs (--take)  net, opt" in out
    ns = shell.ip.user_ns
    assert ns["opt"].param_groups[0]["params"][0] is ns["net"].weight, "the optimizer drives the merged model"
    assert ns["net"].weight.detach().equal(theirs_weight)


@pytest.mark.requires_torch
def test_average_of_two_fine_tunes_of_one_module(shell):
    shell("import torch\ntorch.manual_seed(0)\nnet = torch.nn.Linear(4, 2)")
    shell('%mv_commit net -m "base"')
    shell("%mv_branch exp")
    shell("with torch.no_grad(): net.weight += 1.0")
    shell('%mv_commit net -m "ours"')
    ours = shell.ip.user_ns["net"].state_dict()
    ours = {k: v.clone() for k, v in ours.items()}
    shell("%mv_checkout exp --force")
    shell("with torch.no_grad(): net.weight -= 3.0; net.bias += 2.0")
    shell('%mv_commit net -m "theirs"')
    theirs = {k: v.clone() for k, v in shell.ip.user_ns["net"].state_dict().items()}
    shell("%mv_checkout main --force")
    out = shell("%mv_merge exp --strategy net=average")
    assert "average" in out and "%mv_checkout HEAD" in out
    import torch

    merged = jupyter_mvc.load("HEAD", "net", path=".")
    for key in ("weight", "bias"):
        expected = ((ours[key].double() + theirs[key].double()) / 2).float()
        assert torch.equal(merged.state_dict()[key], expected), key
    err, _ = shell.error("%mv_merge exp --strategy net")
    assert "expected NAME=VALUE" in str(err)


def test_a_diverged_pull_is_resolved_by_merging_the_remote_branch(tmp_path, capsys):
    remote = tmp_path / "remote"
    remote.mkdir()
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    jupyter_mvc.commit({"x": np.zeros(2), "y": np.zeros(2)}, "base", path=a)
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=a)
    jupyter_mvc.push(path=a)
    jupyter_mvc.clone(remote.as_uri(), b)
    jupyter_mvc.commit({"x": np.ones(2)}, "a changes x", path=a)
    jupyter_mvc.push(path=a)
    jupyter_mvc.commit({"y": np.ones(2)}, "b changes y", path=b)
    with pytest.raises(DivergedError, match="merge origin/main"):
        jupyter_mvc.pull(path=b)
    assert cli.main(["-C", str(b), "merge", "origin/main"]) == 0
    assert "has two parents" in capsys.readouterr().out
    assert jupyter_mvc.push(path=b).moved
    jupyter_mvc.pull(path=a)
    assert jupyter_mvc.load("HEAD", "x", path=a).tolist() == [1.0, 1.0]
    assert jupyter_mvc.load("HEAD", "y", path=a).tolist() == [1.0, 1.0]
    assert cli.main(["-C", str(b), "merge", "origin/main", "--take", "x"]) == 1
    assert "expected NAME=VALUE" in capsys.readouterr().err

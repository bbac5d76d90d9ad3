"""Resume training from a version in a fresh kernel: a model, its AdamW optimizer and a
cosine LR schedule committed together come back as one group (the optimizer holds the
model's own parameters, the schedule that optimizer), so N more steps give bit-identical
weights to N more steps in the kernel that committed them. Real kernels via nbclient."""

from __future__ import annotations

import pytest

from tests.support.outputs import cell_text

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

pytestmark = pytest.mark.requires_torch

STEPS = 7
SETUP = (
    "import torch\n"
    "torch.manual_seed(1)\n"
    "X = torch.randn(64, 5); Y = (X @ torch.randn(5, 1)).tanh()\n"
    "def train(net, opt, sched, steps):\n"
    "    for i in range(steps):\n"
    "        batch = slice((i * 16) % 64, (i * 16) % 64 + 16)\n"
    "        opt.zero_grad()\n"
    "        torch.nn.functional.mse_loss(net(X[batch]), Y[batch]).backward()\n"
    "        opt.step(); sched.step()\n"
)
FIRST = [
    "%load_ext jupyter_mvc",
    SETUP,
    "torch.manual_seed(0)\n"
    "net = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))\n"
    "opt = torch.optim.AdamW(net.parameters(), lr=0.05, weight_decay=0.01)\n"
    "sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=20)\n"
    "train(net, opt, sched, 5)",
    '%mv_commit net opt sched -m "after 5 steps"',
    f"train(net, opt, sched, {STEPS})\n"
    "torch.save({k: v.clone() for k, v in net.state_dict().items()}, 'expected.pt')\n"
    "print('lr', opt.param_groups[0]['lr'])",
]


def second(version: str) -> list[str]:
    return [
        "%load_ext jupyter_mvc",
        SETUP,
        f"%mv_checkout {version}",
        "print('shared:', opt.param_groups[0]['params'][0] is net[0].weight, sched.optimizer is opt)",
        f"train(net, opt, sched, {STEPS})\n"
        "expected = torch.load('expected.pt')\n"
        "same = all(torch.equal(v.view(torch.uint8), expected[k].view(torch.uint8)) "
        "for k, v in net.state_dict().items())\n"
        "print('bit-identical:', same, 'lr', opt.param_groups[0]['lr'])",
    ]


def _run(cells: list[str], where) -> list[str]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(where)}}
    )
    client.execute()
    return [cell_text(cell) for cell in nb.cells]


def test_training_resumes_bit_identically_in_a_fresh_kernel(git_repo, monkeypatch):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    first = _run(FIRST, git_repo)
    assert "Committed" in first[3] and "3 variables (net, opt, sched)" in first[3], first[3]
    assert "Error" not in first[4], first[4]

    from jupyter_mvc import api

    version = api.show("HEAD", path=git_repo)
    entries = version.manifest.variables
    assert entries["net"].group == entries["opt"].group == entries["sched"].group is not None
    assert entries["opt"].streams == entries["net"].streams  # one stream set for the group

    out = _run(second(version.info.short_id), git_repo)
    assert "Restored as one group (they share objects, which stay shared): net, opt, sched" in out[2], out[2]
    assert "shared: True True" in out[3], out[3]
    assert "bit-identical: True" in out[4], out[4]
    assert out[4].split("lr")[-1] == first[4].split("lr")[-1]  # the schedule resumed where it was

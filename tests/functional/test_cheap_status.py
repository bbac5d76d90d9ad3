"""Status between cells hashes only what may have changed: a torch model whose tensors'
in-place counters, skeleton and small buffers are as they were is not hashed again, yet
every real change still reads as changed. Through the real IPython shell; hashing is
watched by wrapping `Repo.fingerprint` (it still runs)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytestmark = pytest.mark.requires_torch

MODEL = (
    "import torch\ntorch.manual_seed(0)\n"
    "net = torch.nn.Sequential(torch.nn.Linear(256, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256))\n"
    "opt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
    "small = torch.arange(10.0)\n"
)


@pytest.fixture
def hashed(monkeypatch):
    """The names hashed by a codec's fingerprint, in order."""
    from jupyter_mvc.repo import Repo

    names: list[str] = []
    real = Repo.fingerprint

    def spy(self, obj, name="obj", codec=None):
        names.append(name)
        return real(self, obj, name, codec)

    monkeypatch.setattr(Repo, "fingerprint", spy)
    return names


def status(shell, **kw):
    return shell.ip._jupyter_mvc[0].status(**kw)


@pytest.fixture
def committed(shell):
    shell(MODEL)
    shell('%mv_commit net opt small -m "model"')
    return shell


def test_an_untouched_model_is_not_hashed_again(committed, hashed):
    committed("x = 1 + 1")  # a cell that does not touch the model
    st = status(committed)
    assert {"net", "opt", "small"} <= set(st.unchanged), st
    assert hashed == [], hashed
    assert status(committed, verify=True).unchanged == st.unchanged
    assert "net" in hashed  # --verify hashes


def test_an_optimizer_step_reads_as_changed(committed, hashed):
    committed("net(torch.ones(2, 256)).sum().backward(); opt.step()")
    st = status(committed)
    assert "net" in st.changed, st
    assert "net" in hashed
    del hashed[:]
    assert "net" in status(committed).changed  # the changed value's fingerprint is kept too
    assert "net" not in hashed


@pytest.mark.parametrize(
    "change",
    [
        "with torch.no_grad():\n    net[0].weight[3, 4] += 1.0",  # in place on a parameter
        "with torch.no_grad():\n    net[0].weight.view(-1)[7] = 5.0",  # through a view
        "net[0].weight.data = torch.zeros(512, 256)",  # a new storage
        "net[0].weight.requires_grad_(False)",  # not the data, but the value
        "net.training = False",  # the skeleton
        "net[2] = torch.nn.Linear(512, 256)",  # a new module in its place
        "small[0] = 3.0",
        "small = torch.arange(10.0) * 2",
        "opt.param_groups[0]['lr'] = 0.5",
    ],
)
def test_each_kind_of_change_reads_as_changed(committed, change):
    committed(change)
    st = status(committed)
    assert st.changed, (change, st)
    assert set(st.changed) == set(status(committed, verify=True).changed), change


def test_a_write_through_data_is_found_by_verify_and_guarded(committed):
    """torch does not count writes through `.data`: the checkout guard hashes in full."""
    committed("net[0].weight.data[0, 0] = 42.0")
    assert "net" in status(committed, verify=True).changed
    out = committed("%mv_status --verify")
    assert "net" in out.split("changed:")[1].splitlines()[0], out
    error, _ = committed.error("%mv_checkout HEAD")
    assert "net" in str(error)


def test_large_numpy_buffers_are_still_hashed_each_time(shell, hashed):
    shell("import numpy as np\nbig = np.zeros(1 << 19)\n")  # 4 MiB: over what a witness hashes
    shell('%mv_commit big -m "big"')
    del hashed[:]
    assert "big" in status(shell).unchanged
    assert hashed == ["big"]
    shell("big[5] = 1.0")
    assert "big" in status(shell).changed


def test_autocommit_skips_untouched_cells_without_reading_the_repository(committed, monkeypatch):
    from jupyter_mvc import api

    calls: list[str] = []
    real = api.status
    monkeypatch.setattr(api, "status", lambda *a, **kw: calls.append("status") or real(*a, **kw))
    committed("%mv_autocommit on")
    assert committed("y = 2") == ""  # the first quiet cell still compares once
    calls.clear()
    assert committed("z = 3") == ""
    assert calls == []  # nothing it compares changed: not even a status
    out = committed("net(torch.ones(2, 256)).sum().backward(); opt.step()")
    assert out.startswith("Autocommitted") and "(net, opt, small)" in out, out
    assert calls == ["status"]
    log = committed("%mv_log --text")
    assert "autocommit after" in log, log

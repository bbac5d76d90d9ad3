"""`load(rev, name, mmap=True)` and `%mv_checkout --lazy`: arrays and tensors are the
store's chunk files and packs mapped in place (seen in /proc/self/maps), equal to what was
committed, private (writing to them changes nothing stored), rebuilt where a chunk is a
delta, and unmapped once nothing uses them."""

from __future__ import annotations

import gc
import sys

import pytest

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mapping chunk files in place is Linux's")


def mapped_bytes(repo) -> int:
    """How many bytes of this store's files (loose chunks and packs) the process maps now
    (the kernel merges adjacent mappings of one pack into one line: lines do not count chunks)."""
    root = str(repo.store.root) + "/"
    total = 0
    with open("/proc/self/maps") as f:
        for line in f:
            if root in line:
                start, end = line.split()[0].split("-")
                total += int(end, 16) - int(start, 16)
    return total


@pytest.fixture
def big(repo):
    rng = np.random.default_rng(0)
    values = {"w": rng.standard_normal(3 << 20), "small": np.arange(10)}  # w: 24 MiB, 12 chunks
    info = repo.commit(values, "big")
    return repo, info, values


def test_a_lazy_load_maps_the_chunk_files_and_equals_the_commit(big):
    from jupyter_mvc import api

    repo, info, values = big
    before = mapped_bytes(repo)
    w = api.load(info.id, "w", path=repo, mmap=True)
    stream = repo.manifest(info.id).variables["w"].streams[0]
    assert len(stream.chunks) == 12 and all(repo.store.packs.find(c) for c in stream.chunks)  # a pack
    assert mapped_bytes(repo) - before == stream.size
    assert w.dtype == values["w"].dtype and np.array_equal(w, values["w"])
    assert np.array_equal(api.load(info.id, "small", path=repo, mmap=True), values["small"])
    del w
    gc.collect()
    assert mapped_bytes(repo) == before  # unmapped with the last array using it


def test_writing_to_a_lazy_array_changes_nothing_stored(big):
    from jupyter_mvc import api

    repo, info, values = big
    w = api.load(info.id, "w", path=repo, mmap=True)
    w[:1000] = 7.0
    assert np.array_equal(api.load(info.id, "w", path=repo), values["w"])
    assert api.fsck(path=repo).ok


def test_a_chunk_kept_as_a_delta_is_rebuilt_into_the_mapping(big):
    from jupyter_mvc import api

    repo, _info, values = big
    edited = values["w"].copy()
    edited[::50_000] += 1.0  # scattered: each chunk is stored as a delta against its parent
    info = repo.commit({"w": edited}, "scattered edit")
    chunks = repo.manifest(info.id).variables["w"].streams[0].chunks
    later = edited.copy()
    later[7::50_000] += 1.0
    repo.commit({"w": later}, "the next edit")  # `info` is no tip now: its tip copies go
    assert any(repo.store.is_delta(c) for c in chunks)
    before = mapped_bytes(repo)
    w = api.load(info.id, "w", path=repo, mmap=True)
    assert np.array_equal(w, edited)
    rebuilt = sum(repo.store.is_delta(c) for c in chunks)
    assert rebuilt > 0
    assert mapped_bytes(repo) - before == (len(chunks) - rebuilt) * repo.store.chunk_size


def test_a_resized_chunk_is_refused_by_name_on_the_lazy_path_too(big):
    from jupyter_mvc.errors import MvcError

    repo, info, _values = big
    chunk = repo.manifest(info.id).variables["w"].streams[0].chunks[3]
    where = repo.store.full_location(chunk)
    where.path.chmod(0o644)
    with open(where.path, "r+b") as f:
        f.truncate(where.offset + 1000)
    with pytest.raises(MvcError, match="w"):
        repo.load(info.id, "w", lazy=True)


@pytest.mark.requires_torch
def test_mv_checkout_lazy_puts_mapped_tensors_in_the_kernel(shell):
    pytest.importorskip("torch")
    shell(
        "import torch\ntorch.manual_seed(0)\n"
        "net = torch.nn.Sequential(torch.nn.Linear(1024, 1024), torch.nn.Linear(1024, 1024))\n"
        "sd = {k: v.clone() for k, v in net.state_dict().items()}\n"
    )
    shell('%mv_commit sd -m "weights"')
    shell("del sd")
    out = shell("%mv_checkout HEAD sd --lazy")
    assert "sd" in out, out
    ns = shell.ns
    repo_objects = None
    from jupyter_mvc.repo import Repo

    with Repo.open(".", create=False) as repo:
        repo_objects = str(repo.store.root) + "/"
    with open("/proc/self/maps") as f:
        assert any(repo_objects in line for line in f)
    for k, v in ns["net"].state_dict().items():
        assert ns["sd"][k].equal(v), k
    assert "Nothing changed" in shell("%mv_status")


@pytest.mark.requires_torch
def test_map_location_puts_tensors_on_the_device_asked_for(repo):
    torch = pytest.importorskip("torch")
    from jupyter_mvc import api

    torch.manual_seed(0)
    net = torch.nn.Linear(64, 32)
    info = repo.commit({"net": net, "sd": {k: v.detach().clone() for k, v in net.state_dict().items()}}, "net")
    assert api.load(info.id, "sd", path=repo)["weight"].device.type == "cpu"
    for where in ("meta", {"cpu": "meta"}, torch.device("meta")):
        sd = api.load(info.id, "sd", path=repo, map_location=where)
        assert sd["weight"].device.type == "meta" and sd["weight"].shape == (32, 64), where
        restored = api.load(info.id, "net", path=repo, map_location=where)  # a pickled module
        assert isinstance(restored.weight, torch.nn.Parameter) and restored.weight.device.type == "meta"
    assert api.load(info.id, "sd", path=repo, map_location={"cuda:0": "meta"})["weight"].device.type == "cpu"
    result = api.checkout(info.id, path=repo, map_location="meta")
    assert result.objects["net"].weight.device.type == "meta"
    from jupyter_mvc.errors import VariableLoadError

    with pytest.raises(VariableLoadError, match="sd"):
        api.load(info.id, "sd", path=repo, map_location="nowhere:7")


@pytest.mark.requires_torch
def test_mv_checkout_device_moves_tensors(shell):
    pytest.importorskip("torch")
    shell("import torch\nsd = {'w': torch.ones(3, 4)}")
    shell('%mv_commit sd -m "w"')
    shell("%mv_checkout HEAD sd --device meta --force")
    assert shell.ns["sd"]["w"].device.type == "meta"

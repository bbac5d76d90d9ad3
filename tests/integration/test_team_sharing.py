"""Two data scientists share versions through a remote: a shared folder (file://) and a
real S3 server on loopback (moto). A commits a model and pushes; B clones, loads it bit
for bit, edits 1 % and pushes; A pulls. Both push to one branch at once: exactly one
wins, the other is told to merge, nothing is lost. Loading one small variable of a large
version fetches that variable's chunks only."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc.errors import DivergedError, PushRejectedError, RemoteError, UnsafeRemoteError

MiB = 1 << 20


@pytest.fixture(params=["folder", pytest.param("s3", marks=pytest.mark.server)])
def remote_url(request, tmp_path, monkeypatch):
    """A fresh, empty remote of each kind."""
    if request.param == "folder":
        folder = tmp_path / "shared-remote"
        folder.mkdir()
        return folder.as_uri()
    s3 = request.getfixturevalue("s3")
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    return s3.url(f"team-{request.node.name.split('[')[0][-20:]}")


def _project(path):
    path.mkdir()
    jupyter_mvc.open_repo(path).close()
    return path


def test_two_people_share_a_model(remote_url, tmp_path):
    a = _project(tmp_path / "alice")
    rng = np.random.default_rng(0)
    weights = rng.standard_normal(4 * MiB // 8)  # 4 MiB: two chunks
    jupyter_mvc.commit({"weights": weights, "lr": 0.1}, "baseline", path=a)
    jupyter_mvc.remote_add("origin", remote_url, path=a)
    first = jupyter_mvc.push(path=a)
    assert first.moved == {"heads/main": (None, jupyter_mvc.resolve("HEAD", path=a))}
    assert first.bytes_uploaded >= weights.nbytes and first.versions == 1
    assert jupyter_mvc.push(path=a).up_to_date

    b = tmp_path / "bob"
    cloned = jupyter_mvc.clone(remote_url, b)
    assert cloned.branch == "main" and cloned.branches == ("main",)
    got = jupyter_mvc.load("HEAD", "weights", path=b)
    assert got.dtype == weights.dtype and got.tobytes() == weights.tobytes()
    assert jupyter_mvc.resolve("origin/main", path=b) == jupyter_mvc.resolve("HEAD", path=a)

    edited = got.copy()
    edited[: len(edited) // 100] += 1.0  # 1 % of the model, in one place
    jupyter_mvc.commit({"weights": edited}, "bob tunes", path=b)
    second = jupyter_mvc.push(path=b)
    assert second.versions == 1 and second.chunks == 1, second  # the lr and the untouched chunk stay put
    assert second.bytes_uploaded <= 2 * MiB

    pulled = jupyter_mvc.pull(path=a)
    assert pulled.outcome == "fast-forward" and pulled.new == jupyter_mvc.resolve("HEAD", path=b)
    assert jupyter_mvc.load("HEAD", "weights", path=a).tobytes() == edited.tobytes()
    assert jupyter_mvc.load("HEAD", "lr", path=a) == 0.1  # carried forward through the remote
    assert jupyter_mvc.pull(path=a).outcome == "up to date"


def test_a_race_to_one_branch_has_one_winner_and_loses_nothing(remote_url, tmp_path):
    a = _project(tmp_path / "alice")
    jupyter_mvc.commit({"x": np.arange(10)}, "base", path=a)
    jupyter_mvc.remote_add("origin", remote_url, path=a)
    jupyter_mvc.push(path=a)
    b = tmp_path / "bob"
    jupyter_mvc.clone(remote_url, b)
    mine = jupyter_mvc.commit({"x": np.arange(10) * 2}, "alice's idea", path=a).id
    theirs = jupyter_mvc.commit({"x": np.arange(10) * 3}, "bob's idea", path=b).id
    results: dict[str, object] = {}
    barrier = threading.Barrier(2)

    def push(who, where):
        barrier.wait()
        try:
            results[who] = jupyter_mvc.push(path=where)
        except PushRejectedError as exc:
            results[who] = exc

    threads = [threading.Thread(target=push, args=(w, p)) for w, p in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rejected = [w for w, r in results.items() if isinstance(r, PushRejectedError)]
    assert len(rejected) == 1, results
    assert "fetch and merge first" in str(results[rejected[0]])
    winner_tip = mine if rejected == ["b"] else theirs
    loser = b if rejected == ["b"] else a
    check = tmp_path / "carol"
    jupyter_mvc.clone(remote_url, check)
    assert jupyter_mvc.resolve("HEAD", path=check) == winner_tip
    # the loser keeps its version, and pulling says to merge rather than dropping it
    assert jupyter_mvc.resolve("HEAD", path=loser) in (mine, theirs)
    with pytest.raises(DivergedError, match="merge origin/main"):
        jupyter_mvc.pull(path=loser)


def test_loading_one_small_variable_fetches_only_its_chunks(remote_url, tmp_path):
    a = _project(tmp_path / "alice")
    big = np.random.default_rng(1).standard_normal(24 * MiB // 8)
    small = np.arange(1000, dtype=np.float64)
    jupyter_mvc.commit({"big": big, "small": small}, "big and small", path=a)
    jupyter_mvc.remote_add("origin", remote_url, path=a)
    jupyter_mvc.push(path=a)
    b = tmp_path / "bob"
    jupyter_mvc.clone(remote_url, b)
    with jupyter_mvc.open_repo(b) as repo:
        assert repo.store.fetch_missing is not None
        got = jupyter_mvc.load("HEAD", "small", path=repo)
        fetched = repo.store.fetch_missing.fetched_bytes
    assert np.array_equal(got, small)
    assert 0 < fetched < 64 * 1024, fetched  # the small array and its skeleton, not 24 MiB
    stored = sum(p.stat().st_size for p in (b / ".git" / "mvc" / "objects").rglob("*") if p.is_file())
    assert stored < MiB
    report = jupyter_mvc.fetch(prefetch=True, path=b)
    assert report.prefetched_bytes >= big.nbytes
    assert jupyter_mvc.load("HEAD", "big", path=b).tobytes() == big.tobytes()
    with jupyter_mvc.open_repo(b) as repo:  # a remote pack's worth of chunks lands as a local pack
        chunks = repo.manifest(repo.resolve("HEAD")).variables["big"].streams[0].chunks
        assert all(repo.store.packs.find(c) for c in chunks) and not any(repo.store.has_loose(c) for c in chunks)


def test_tags_travel_and_never_move(remote_url, tmp_path):
    a = _project(tmp_path / "alice")
    jupyter_mvc.commit({"x": 1}, "one", path=a)
    jupyter_mvc.tag("v1", path=a)
    jupyter_mvc.remote_add("origin", remote_url, path=a)
    jupyter_mvc.push(tags=True, path=a)
    b = tmp_path / "bob"
    jupyter_mvc.clone(remote_url, b)
    assert jupyter_mvc.tags(path=b) == jupyter_mvc.tags(path=a)
    jupyter_mvc.commit({"x": 2}, "two", path=b)
    jupyter_mvc.delete_tag("v1", path=b)
    jupyter_mvc.tag("v1", path=b)  # the same name on another version
    with pytest.raises(PushRejectedError, match="tags never move"):
        jupyter_mvc.push(tags=True, path=b)


def test_a_push_killed_half_way_resumes_without_resending(tmp_path):
    """The pushing process dies (os._exit, no cleanup) right after its third pack; run
    again, the push skips the finished packs and completes."""
    import subprocess
    import sys

    a = _project(tmp_path / "alice")
    data = np.random.default_rng(2).standard_normal(8 * MiB // 8)
    jupyter_mvc.commit({"data": data}, "eight MiB", path=a)
    remote = tmp_path / "remote"
    remote.mkdir()
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=a)
    script = f"""
import os
import jupyter_mvc
from jupyter_mvc.remote import packs, sync
packs.PACK_TARGET = 1 << 20  # eight packs
real = sync.packs.encode_index
sent = []
def encode_then_die(index):
    sent.append(index)
    if len(sent) > 3:
        os._exit(137)  # killed: the fourth pack's index never lands
    return real(index)
packs.encode_index = encode_then_die
sync._UPLOADS = 1
jupyter_mvc.push(path={str(a)!r})
"""
    died = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert died.returncode == 137, died.stderr
    assert jupyter_mvc.fetch(path=a).branches == {}  # no ref moved: nothing half-published
    indexes = list((remote / "packs").glob("*.idx"))
    assert len(indexes) == 3
    from jupyter_mvc.remote import packs

    packs.PACK_TARGET, saved = 1 << 20, packs.PACK_TARGET
    try:
        report = jupyter_mvc.push(path=a)
    finally:
        packs.PACK_TARGET = saved
    # five chunks (four of 2 MiB and the skeleton), one pack each: three had landed
    assert report.chunks_already_there == 3 and report.chunks == 2 and report.packs == 2
    assert report.bytes_uploaded <= 2 * 2 * MiB
    b = tmp_path / "bob"
    jupyter_mvc.clone(remote.as_uri(), b, prefetch=True)
    assert jupyter_mvc.load("HEAD", "data", path=b).tobytes() == data.tobytes()


@pytest.mark.server
def test_a_server_that_ignores_conditional_writes_is_refused(s3, no_conditional_proxy, tmp_path, monkeypatch):
    for key, value in s3.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL", no_conditional_proxy.endpoint)
    a = _project(tmp_path / "alice")
    with pytest.raises(UnsafeRemoteError, match="--accept-unsafe"):
        jupyter_mvc.remote_add("origin", s3.url("unsafe"), path=a)
    assert jupyter_mvc.remotes(path=a) == []
    remote = jupyter_mvc.remote_add("origin", s3.url("unsafe"), accept_unsafe=True, path=a)
    assert remote.unsafe


def test_bad_remotes_say_what_to_fix(tmp_path):
    a = _project(tmp_path / "alice")
    with pytest.raises(RemoteError, match="file:///"):
        jupyter_mvc.remote_add("origin", "relative/folder", path=a)
    with pytest.raises(ValueError, match="credentials"):
        jupyter_mvc.remote_add("origin", "s3://AKIAKEY:secret@bucket/x", path=a)
    with pytest.raises(LookupError, match="mvc remote add"):
        jupyter_mvc.push("nowhere", path=a)

"""Damaged and crafted data: each problem is reported with the variable and version it
hurts, the rest of the version still loads, and nothing crafted runs or escapes."""

import json
import os
import pickle

import numpy as np
import pytest

from jupyter_mvc.errors import CorruptObjectError, InvalidObjectIdError, ManifestError, UntrustedDataError
from jupyter_mvc.repo.maintenance import fsck
from tests.support.git import git


@pytest.fixture
def version(repo):
    good = np.arange(5000.0)
    victim = np.random.default_rng(2).random(200_000)
    sha = repo.commit({"good": good, "victim": victim, "cfg": {"a": 1}}, "v").id
    return repo, sha, good


def _victim_oid(repo, sha):
    return repo.manifest(sha).variables["victim"].streams[0].chunks[0]


def _damage(path, how):
    os.chmod(path, 0o644)
    if how == "truncate":
        path.write_bytes(path.read_bytes()[:1000])
    elif how == "delete":
        path.unlink()
    elif how == "flip":
        raw = bytearray(path.read_bytes())
        raw[-1] ^= 0xFF
        path.write_bytes(bytes(raw))


@pytest.mark.parametrize("how,words", [("truncate", "truncated"), ("delete", "missing"), ("flip", "corrupt")])
def test_damaged_chunk_reported_with_variable_and_version(version, how, words):
    repo, sha, good = version
    oid = _victim_oid(repo, sha)
    _damage(repo.store.path(oid), how)
    result = repo.checkout(sha)
    assert set(result.objects) == {"good", "cfg"} and result.objects["good"].tobytes() == good.tobytes()
    err = result.failed["victim"]
    assert isinstance(err, CorruptObjectError) and words in str(err)
    assert "'victim'" in str(err) and sha[:8] in str(err)
    report = fsck(repo)
    assert [(p.version, p.variable, p.oid) for p in report.problems] == [(sha, "victim", oid)]
    assert words in report.problems[0].why


def _craft_version(repo, manifest_bytes: bytes, parent: str, message="crafted") -> str:
    """Write a version with a hand-made manifest, as a hostile or broken pusher could."""
    gr = repo.git
    tree = gr.write_tree(
        {
            "manifest.json": gr.write_blob(manifest_bytes),
            "metrics.json": gr.write_blob(b"{}"),
            "params.json": gr.write_blob(b"{}"),
        }
    )
    sha = gr.write_commit(tree, [parent], message)
    git(repo.root, "update-ref", "refs/mvc/heads/crafted", sha)
    return sha


def test_damaged_manifest_is_reported(version):
    repo, sha, _ = version
    bad = _craft_version(repo, b"{not json", sha)
    with pytest.raises(ManifestError, match=bad[:8]):
        repo.checkout(bad)
    report = fsck(repo)
    assert len(report.problems) == 1 and report.problems[0].version == bad
    assert repo.checkout(sha).objects["cfg"] == {"a": 1}  # the good version is unaffected


@pytest.mark.parametrize("oid", ["../../../etc/passwd", "/etc/passwd", "ab/../../x" + "0" * 54, "Z" * 64, "0" * 63])
def test_manifest_path_tricks_are_refused(version, oid):
    repo, sha, _ = version
    manifest = json.loads(repo.git.read_file(sha, "manifest.json"))
    manifest["variables"][0]["skeleton"]["chunks"] = [oid]
    bad = _craft_version(repo, json.dumps(manifest).encode(), sha)
    with pytest.raises(InvalidObjectIdError):
        repo.checkout(bad)
    assert not fsck(repo).ok


def test_crafted_pickle_in_a_version_does_not_run(version, tmp_path):
    repo, sha, _ = version
    marker = tmp_path / "PWNED"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Evil(), protocol=5)
    stream = repo.store.put(payload)
    manifest = json.loads(repo.git.read_file(sha, "manifest.json"))
    entry = manifest["variables"][0]
    entry.update(codec="pickle5", skeleton=stream.to_json(), streams=[], buffers=[])
    bad = _craft_version(repo, json.dumps(manifest).encode(), sha)
    name = entry["name"]
    result = repo.checkout(bad, [name])
    assert isinstance(result.failed[name], UntrustedDataError)
    assert "system" in str(result.failed[name]) and "allow=" in str(result.failed[name])
    with pytest.raises(UntrustedDataError):
        repo.load(bad, name)
    assert not marker.exists()

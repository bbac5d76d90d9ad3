"""fsck and gc of a remote (a shared folder): a killed push leaves packs no ref needs; gc
removes them only past the grace period; fsck finds a truncated pack and a missing one,
and with --data a damaged chunk, each named."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import jupyter_mvc
from jupyter_mvc import cli

MiB = 1 << 20


def _shared(tmp_path):
    a = tmp_path / "alice"
    a.mkdir()
    jupyter_mvc.commit({"w": np.arange(100_000, dtype=np.float64)}, "w", path=a)
    remote = tmp_path / "remote"
    remote.mkdir()
    jupyter_mvc.remote_add("origin", remote.as_uri(), path=a)
    jupyter_mvc.push(path=a)
    return a, remote


def test_gc_removes_what_a_killed_push_left_only_after_the_grace_period(tmp_path):
    a, remote = _shared(tmp_path)
    jupyter_mvc.commit({"big": np.random.default_rng(0).standard_normal(4 * MiB // 8)}, "big", path=a)
    script = f"""
import os, jupyter_mvc
from jupyter_mvc.remote import history
history.publish_ref = lambda *a, **k: os._exit(137)  # killed just before the ref moves
jupyter_mvc.push(path={str(a)!r})
"""
    assert subprocess.run([sys.executable, "-c", script]).returncode == 137
    packs_before = sorted(p.name for p in (remote / "packs").glob("*.pack"))
    assert len(packs_before) == 2
    young = jupyter_mvc.remote_gc(path=a)
    assert young.packs_removed == 0 and young.packs_too_young == 1 and young.packs_kept == 1
    assert jupyter_mvc.remote_fsck(path=a).ok
    gone = jupyter_mvc.remote_gc(grace_seconds=0, path=a)
    assert gone.packs_removed == 1 and gone.bytes_freed >= 4 * MiB
    assert len(list((remote / "packs").glob("*.pack"))) == 1 and len(list((remote / "packs").glob("*.idx"))) == 1
    report = jupyter_mvc.remote_fsck(data=True, path=a)
    assert report.ok and report.chunks_checked == report.chunks_reachable > 0
    assert jupyter_mvc.push(path=a).chunks > 0  # the push after gc sends what gc removed
    assert jupyter_mvc.remote_fsck(data=True, path=a).ok


def test_fsck_names_a_truncated_pack_a_missing_one_and_a_damaged_chunk(tmp_path, capsys):
    a, remote = _shared(tmp_path)
    (pack,) = (remote / "packs").glob("*.pack")
    data = bytearray(pack.read_bytes())
    data[100] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    assert jupyter_mvc.remote_fsck(path=a).ok  # same size: only the data check sees it
    damaged = jupyter_mvc.remote_fsck(data=True, path=a)
    assert not damaged.ok and "do not match its id" in damaged.problems[0]
    pack.write_bytes(bytes(data[:-10]))
    assert cli.main(["-C", str(a), "fsck", "--remote", "origin"]) == 1
    out = capsys.readouterr().out
    assert f"packs/{pack.name}" in out and "its index needs" in out
    pack.unlink()
    report = jupyter_mvc.remote_fsck(path=a)
    assert any("missing" in p for p in report.problems) and any("in no pack" in p for p in report.problems)


def test_after_another_members_gc_a_push_does_not_trust_its_stale_index_cache(tmp_path):
    a, remote = _shared(tmp_path)
    b = tmp_path / "bob"
    jupyter_mvc.clone(remote.as_uri(), b)
    extra = np.random.default_rng(1).standard_normal(MiB // 8)
    script = f"""
import os, numpy as np, jupyter_mvc
from jupyter_mvc.remote import history
jupyter_mvc.commit({{"extra": np.random.default_rng(1).standard_normal({MiB // 8})}}, "extra", path={str(b)!r})
history.publish_ref = lambda *a, **k: os._exit(137)
jupyter_mvc.push(path={str(b)!r})
"""
    assert subprocess.run([sys.executable, "-c", script]).returncode == 137  # bob's packs landed, no ref
    jupyter_mvc.remote_gc(grace_seconds=0, path=a)  # alice collects them
    report = jupyter_mvc.push(path=b)  # bob's cache still lists the removed pack
    assert report.chunks > 0
    assert jupyter_mvc.remote_fsck(data=True, path=a).ok
    c = tmp_path / "carol"
    jupyter_mvc.clone(remote.as_uri(), c)
    assert jupyter_mvc.load("HEAD", "extra", path=c).tobytes() == extra.tobytes()

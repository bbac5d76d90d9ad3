"""A numpy memmap is committed from its file chunk by chunk: the process's private memory
does not grow with it. Proved in a fresh process under RLIMIT_DATA (private writable
memory: heap, anonymous mappings, thread stacks; not the file's pages, which the kernel
can drop) capped at what it used before plus 256 MiB, while the memmap is 768 MiB."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

np = pytest.importorskip("numpy")
pytestmark = pytest.mark.slow  # writes a 768 MiB file and hashes it

SCRIPT = textwrap.dedent("""
    import resource, sys
    import numpy as np
    from jupyter_mvc.repo import Repo

    def data_bytes():
        for line in open("/proc/self/status"):
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024

    m = np.memmap(sys.argv[1], dtype=np.float32, mode="r")
    repo = Repo.open(sys.argv[2], create=True)
    repo.commit({"warm": np.arange(10)}, "start the store's threads first")
    cap = data_bytes() + (256 << 20)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    try:
        np.ones(m.size, dtype=np.float32)  # what a copy would need: refused under the cap
    except MemoryError:
        pass
    else:
        sys.exit("the cap does not hold back a copy of the memmap")
    info = repo.commit({"m": m}, "the memmap")
    entry = repo.manifest(info.id).variables["m"]
    print(entry.codec, entry.size)
""")


def test_a_memmap_commits_without_private_memory_growing_with_it(tmp_path, git_repo):
    if sys.platform != "linux":
        pytest.skip("RLIMIT_DATA counting private memory is Linux's")
    path = tmp_path / "big.f32"
    rows = 768 << 18  # 768 MiB of float32
    m = np.memmap(path, dtype=np.float32, mode="w+", shape=(rows,))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 1 << 24):
        m[start : start + (1 << 24)] = rng.standard_normal(min(1 << 24, rows - start), dtype=np.float32)
    m.flush()
    del m
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(path), str(git_repo)],
        capture_output=True,
        text=True,
        env={"MALLOC_ARENA_MAX": "2", "PATH": "/usr/bin:/bin"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout
    codec, size = proc.stdout.split()
    assert codec == "data1" and int(size) >= 768 << 20

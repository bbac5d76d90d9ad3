"""Several processes writing and reading one repository at once."""

import subprocess
import sys
import textwrap

from jupyter_mvc.repo.maintenance import fsck
from tests.support.git import git

WRITER = textwrap.dedent("""
    import sys, numpy as np
    from jupyter_mvc.repo import Repo
    repo = Repo.open(sys.argv[1], create=False)
    who, n = sys.argv[2], int(sys.argv[3])
    for i in range(n):
        repo.commit({"w": np.full(20000, i, dtype=np.int64), "who": who}, f"{who} {i}")
""")

READER = textwrap.dedent("""
    import sys, numpy as np
    from jupyter_mvc.repo import Repo
    repo = Repo.open(sys.argv[1], create=False)
    seen = set()
    for _ in range(int(sys.argv[2])):
        for v in repo.log(limit=5):
            if v.id in seen:
                continue
            r = repo.checkout(v.id, move_head=False)
            assert not r.failed, r.failed
            who, i = v.subject.split()
            assert r.objects["who"] == who and (r.objects["w"] == int(i)).all(), v.subject
            seen.add(v.id)
    print(len(seen))
""")


def test_writers_and_readers_at_once(repo):
    repo.commit({"w": __import__("numpy").zeros(1), "who": "base"}, "base 0")
    n = 25
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(repo.root), who, str(n)])
        for who in ("alice", "bob", "carol")
    ]
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(repo.root), "40"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert [w.wait(timeout=600) for w in writers] == [0, 0, 0]
    out, err = reader.communicate(timeout=600)
    assert reader.returncode == 0, err
    assert int(out) >= 1  # the reader loaded versions while they were being written
    subjects = [v.subject for v in repo.log()]
    assert len(subjects) == 3 * n + 1 and len(set(subjects)) == len(subjects)
    for who in ("alice", "bob", "carol"):  # each writer's commits are all there, in order
        mine = [s for s in reversed(subjects) if s.startswith(who)]
        assert mine == [f"{who} {i}" for i in range(n)]
    assert fsck(repo).ok
    assert git(repo.root, "rev-list", "--count", "refs/mvc/heads/main").strip() == str(3 * n + 1)

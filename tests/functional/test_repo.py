"""The version store through Repo/API in real Git repositories."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import jupyter_mvc
from jupyter_mvc.errors import (
    CorruptObjectError,
    InvalidNameError,
    InvalidValueError,
    NotARepositoryError,
    NothingToCommitError,
    RefDeleteRefusedError,
    RefExistsError,
    RevisionError,
    SerializationError,
    VariableNotFoundError,
)
from jupyter_mvc.repo import Repo
from jupyter_mvc.repo.maintenance import fsck, gc
from tests.support.git import git


def test_commit_log_show_checkout_round_trip(repo):
    w = np.random.default_rng(0).random((100, 10))
    v1 = repo.commit(
        {"w": w, "cfg": {"lr": 0.1}},
        "baseline",
        metrics={"acc": 0.8, "loss": [1.0, 0.5]},
        params={"lr": 0.1},
        files={"notebook.ipynb": "{}", "history.py": "w = 1\n"},
    )
    w2 = w * 2
    v2 = repo.commit({"w": w2}, "doubled", metrics={"acc": 0.9})
    log = repo.log()
    assert [v.id for v in log] == [v2.id, v1.id]
    assert log[0].branches == ("main",) and log[0].is_head and log[1].parents == ()
    assert log[1].metrics == {"acc": 0.8, "loss": 0.5} and log[1].variables == ("w", "cfg")
    shown = repo.show(v1.id[:7])
    assert shown.params == {"lr": 0.1}
    assert shown.metrics["series"]["loss"] == [[0, 1.0], [1, 0.5]]
    assert {"manifest.json", "metrics.json", "params.json", "env.json", "notebook.ipynb", "history.py"} <= set(
        shown.files
    )
    assert shown.env["python"] and "numpy" in shown.env["packages"]
    assert repo.read_file(v1.id, "history.py") == b"w = 1\n"
    out = repo.checkout("HEAD~1").objects
    assert out["w"].tobytes() == w.tobytes() and out["cfg"] == {"lr": 0.1}
    assert jupyter_mvc.load("HEAD", "w", path=repo.root).tobytes() == w.tobytes()  # HEAD moved back
    assert repo.load("main", "w").tobytes() == w2.tobytes()


def test_revision_syntax(repo):
    ids = [repo.commit({"i": i}, f"v{i}").id for i in range(4)]
    repo.refs.create_tag("best", ids[1])
    repo.refs.create_branch("exp", ids[2])
    assert repo.resolve("HEAD") == ids[3]
    assert repo.resolve("HEAD~2") == ids[1] and repo.resolve("HEAD^") == ids[2] and repo.resolve("HEAD^^") == ids[1]
    assert repo.resolve("main~3") == ids[0] and repo.resolve("best") == ids[1] and repo.resolve("exp~1") == ids[1]
    assert repo.resolve(ids[0][:6]) == ids[0] and repo.resolve(ids[0]) == ids[0]


@pytest.mark.parametrize(
    "bad", ["nope", "HEAD~99", "HEAD~x", "", "  ", "-rf", "main:foo", "abc", "best~", "../x", "a b", "HEAD@{1}"]
)
def test_bad_revisions_give_clear_errors(repo, bad):
    repo.commit({"x": 1}, "one")
    repo.refs.create_tag("best")
    with pytest.raises(RevisionError) as err:
        repo.resolve(bad)
    assert "unknown revision" in str(err.value) and "HEAD~N" in str(err.value)


def test_user_commit_is_not_a_version(repo, git_repo):
    (git_repo / "code.py").write_text("x = 1\n")
    git(git_repo, "add", "code.py")
    git(git_repo, "commit", "-qm", "code")
    user_sha = git(git_repo, "rev-parse", "HEAD").strip()
    repo.commit({"x": 1}, "one")
    with pytest.raises(RevisionError, match="not a jupyter_mvc version"):
        repo.resolve(user_sha[:10])
    assert repo.show().env["code_commit"] == user_sha


def test_no_versions_yet(repo):
    assert repo.log() == []
    with pytest.raises(RevisionError, match="no versions yet"):
        repo.resolve("HEAD")


def test_branches_and_tags(repo):
    base = repo.commit({"x": 1}, "base").id
    repo.refs.create_branch("exp")
    repo.refs.switch_branch("exp")
    exp = repo.commit({"x": 2}, "on exp").id
    assert repo.refs.current_branch() == "exp" and repo.refs.branches() == {"main": base, "exp": exp}
    assert repo.log("main")[0].id == base and repo.log()[0].id == exp
    assert {v.id for v in repo.log(all=True)} == {base, exp}
    with pytest.raises(RefExistsError):
        repo.refs.create_branch("exp")
    with pytest.raises(RefDeleteRefusedError, match="current branch"):
        repo.refs.delete_branch("exp")
    repo.refs.switch_branch("main")
    with pytest.raises(RefDeleteRefusedError, match="would be lost"):
        repo.refs.delete_branch("exp")
    repo.refs.create_tag("keep", "exp")
    repo.refs.delete_branch("exp")
    assert "exp" not in repo.refs.branches() and repo.refs.tags() == {"keep": exp}
    for bad in ("a b", "x..y", "-x", "HEAD", "x~1", "", "a:b"):
        with pytest.raises(InvalidNameError):
            repo.refs.create_branch(bad)
    with pytest.raises(RevisionError):
        repo.refs.switch_branch("missing")
    repo.refs.delete_tag("keep")
    assert repo.refs.tags() == {}


def test_checkout_detached_then_commit_and_new_branch(repo):
    v1 = repo.commit({"x": 1}, "one").id
    v2 = repo.commit({"x": 2}, "two").id
    r = repo.checkout(v1[:8])
    assert r.objects == {"x": 1} and r.moved_head and repo.refs.current_branch() is None and repo.refs.head() == v1
    v3 = repo.commit({"x": 3}, "detached work").id
    assert repo.refs.head() == v3 and repo.refs.branches()["main"] == v2
    r = repo.checkout("main")
    assert r.branch == "main" and repo.refs.current_branch() == "main"
    assert r.left_behind == v3  # the detached commit is on no branch: say so
    r = repo.checkout(v3, new_branch="rescued")
    assert repo.refs.current_branch() == "rescued" and repo.refs.branches()["rescued"] == v3
    assert r.left_behind is None
    partial = repo.checkout("main", ["x"])
    assert not partial.moved_head and repo.refs.current_branch() == "rescued"
    same = repo.checkout("HEAD")
    assert not same.moved_head and repo.refs.current_branch() == "rescued"


def test_one_read_of_the_refs_agrees_with_asking_each_question(repo, git_repo):
    # Refs.view() (one for-each-ref, what log uses) against head()/current_branch()/branches()/tags()
    # through every state HEAD can be in: unborn, on a branch, detached, on an unborn branch, damaged.
    from jupyter_mvc.errors import DamagedHeadError

    def agree():
        view = repo.refs.view()
        asked = (repo.refs.current_branch(), repo.refs.head(), repo.refs.branches(), repo.refs.tags())
        assert (view.current_branch, view.head, view.branches, view.tags) == asked
        return view

    assert agree().head is None
    v1 = repo.commit({"x": 1}, "one").id
    v2 = repo.commit({"x": 2}, "two").id
    repo.refs.create_tag("t", v1)
    assert agree().decorations() == {v2: (["main"], []), v1: ([], ["t"])}
    repo.checkout(v1)
    assert agree().current_branch is None
    git(git_repo, "symbolic-ref", "refs/mvc/HEAD", "refs/mvc/heads/unborn")
    assert agree().current_branch == "unborn"
    git(git_repo, "symbolic-ref", "refs/mvc/HEAD", "refs/heads/master")
    with pytest.raises(DamagedHeadError):
        repo.refs.view()
    with pytest.raises(DamagedHeadError):
        repo.log()


def test_bad_names_and_inputs(repo):
    with pytest.raises(NothingToCommitError):
        repo.commit({}, "nothing")
    with pytest.raises(InvalidValueError, match="bad commit message '  ': it is empty"):
        repo.commit({"x": 1}, "  ")
    with pytest.raises(InvalidNameError, match="identifier"):
        repo.commit({"not a name": 1}, "m")
    with pytest.raises(InvalidNameError, match="file"):
        repo.commit({"x": 1}, "m", files={"../escape": "x"})
    with pytest.raises(InvalidValueError, match="bad metric 'acc' 'high': it is not a number"):
        repo.commit({"x": 1}, "m", metrics={"acc": "high"})
    repo.commit({"x": 1}, "m")
    with pytest.raises(VariableNotFoundError, match="has no variable 'y'.*it has: x"):
        repo.load("HEAD", "y")
    with pytest.raises(VariableNotFoundError):
        repo.checkout("HEAD", ["x", "y"])
    assert repo.log()[0].subject == "m" and len(repo.log()) == 1  # the failures left no version


def test_not_a_repository(tmp_path):
    with pytest.raises(NotARepositoryError, match="not inside a Git repository"):
        Repo.open(tmp_path, create=False)
    with pytest.raises(NotARepositoryError, match="does not exist"):
        Repo.open(tmp_path / "missing" / "nb.ipynb", create=False)
    nb = tmp_path / "analysis.ipynb"
    nb.write_text("{}")
    created = Repo.open(nb, create=True)
    assert created.created and (tmp_path / ".git").is_dir()
    assert not Repo.open(nb).created


def test_failed_commit_leaves_no_trace(repo):
    import threading

    repo.commit({"x": 1}, "one")
    before_objects = set(repo.store.iter_oids())
    before_refs = git(repo.root, "for-each-ref")
    with pytest.raises(SerializationError, match=r"bad\['lock'\]"):
        repo.commit({"big": np.ones(1 << 20), "bad": {"lock": threading.Lock()}}, "two")
    assert set(repo.store.iter_oids()) == before_objects
    assert git(repo.root, "for-each-ref") == before_refs


def test_user_repository_is_never_touched(repo, git_repo):
    (git_repo / "a.txt").write_text("committed\n")
    git(git_repo, "add", "a.txt")
    git(git_repo, "commit", "-qm", "user work")
    git(git_repo, "checkout", "-qb", "feature")
    (git_repo / "a.txt").write_text("unstaged change\n")
    (git_repo / "b.txt").write_text("staged\n")
    git(git_repo, "add", "b.txt")
    (git_repo / "c.txt").write_text("untracked\n")

    def snapshot():
        return (
            git(git_repo, "rev-parse", "HEAD"),
            git(git_repo, "symbolic-ref", "HEAD"),
            git(git_repo, "for-each-ref", "refs/heads", "refs/tags"),
            git(git_repo, "status", "--porcelain"),
            (git_repo / ".git" / "index").read_bytes(),
            git(git_repo, "diff"),
            git(git_repo, "diff", "--cached"),
            sorted(p.name for p in git_repo.iterdir()),
            (git_repo / "a.txt").read_text(),
        )

    before = snapshot()
    repo.commit({"w": np.arange(10)}, "one")
    repo.refs.create_branch("exp")
    repo.refs.create_tag("t1")
    repo.commit({"w": np.arange(11)}, "two")
    repo.checkout("HEAD~1")
    repo.checkout("main")
    repo.diff("HEAD~1")
    gc(repo, grace_seconds=0)
    assert snapshot() == before
    # plain git sees the versions in their own namespace
    assert git(git_repo, "log", "--format=%s", "refs/mvc/heads/main").splitlines() == ["two", "one"]


@pytest.mark.slow  # several seconds: kept out of `make test-fast`
def test_dedup_recommit_and_one_percent_edit(repo):
    chunk = repo.store.chunk_size
    a = np.random.default_rng(0).random(256 * 1024 * 1024 // 8)  # 256 MiB
    repo.commit({"a": a, "small": [1, 2]}, "first")

    def size() -> int:
        return sum(repo.store.stored_size(o) for o in repo.store.iter_oids())

    first = size()
    assert first >= a.nbytes
    repo.commit({"a": a, "small": [1, 2]}, "unchanged")
    assert size() == first  # recommit adds no data
    n = a.size // 100
    start = a.size // 3
    a[start : start + n] += 1.0  # 1 % of the array, one slice
    repo.commit({"a": a}, "edited")
    added = size() - first
    edited_bytes = n * 8
    rounded = (edited_bytes // chunk + 2) * chunk  # the region rounded out to whole chunks
    assert edited_bytes <= added <= rounded
    assert repo.load("HEAD", "a").tobytes() == a.tobytes()


def test_flipped_byte_detected_by_checkout_and_fsck(repo):
    good = np.arange(1000.0)
    victim = np.random.default_rng(1).random(100_000)
    v = repo.commit({"good": good, "victim": victim}, "one").id
    entry = repo.manifest(v).variables["victim"]
    oid = entry.streams[0].chunks[0]
    path = repo.store.path(oid)
    raw = bytearray(path.read_bytes())
    raw[123] ^= 0x40
    os.chmod(path, 0o644)
    path.write_bytes(bytes(raw))
    result = repo.checkout("HEAD")
    assert result.objects["good"].tobytes() == good.tobytes()
    err = result.failed["victim"]
    assert isinstance(err, CorruptObjectError) and "'victim'" in str(err) and v[:8] in str(err)
    with pytest.raises(CorruptObjectError, match="victim"):
        repo.load("HEAD", "victim")
    report = fsck(repo)
    assert not report.ok
    assert [(p.version, p.variable, p.oid) for p in report.problems] == [(v, "victim", oid)]
    r = subprocess.run([sys.executable, "-m", "jupyter_mvc.cli", "fsck"], cwd=repo.root, capture_output=True, text=True)
    assert r.returncode == 1 and "victim" in r.stdout and v[:8] in r.stdout


def test_gc_keeps_everything_reachable(repo):
    keep = repo.commit({"a": np.arange(100_000.0)}, "keep").id
    repo.refs.create_branch("side")
    repo.refs.switch_branch("side")
    side = repo.commit({"b": np.ones(50_000)}, "side").id
    repo.refs.switch_branch("main")
    tagged_base = repo.commit({"c": np.zeros(70_000)}, "tagged").id
    repo.refs.create_tag("t")
    git(repo.root, "update-ref", "refs/mvc/heads/main", keep)  # drop "tagged" from main: tag keeps it
    orphan = repo.store.put(np.full(90_000, 7.0))
    report = gc(repo, grace_seconds=0)
    assert report.objects_removed == len(orphan.chunks)
    assert not any(repo.store.has(o) for o in orphan.chunks)
    assert fsck(repo).ok
    assert repo.load(keep, "a").sum() == np.arange(100_000.0).sum()
    assert repo.load(side, "b").sum() == 50_000 and repo.load("t", "c").shape == (70_000,)
    assert repo.load(tagged_base, "c").shape == (70_000,)
    fresh = repo.store.put(np.full(10, 3.0))
    assert gc(repo).objects_removed == 0 and repo.store.has(fresh.chunks[0])  # grace protects commits in flight


@pytest.mark.requires_torch
def test_diff_reports_variables_params_metrics_and_deltas(repo):
    import torch

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 2))
    w = np.zeros(1000)
    repo.commit({"net": net, "w": w, "gone": 1, "same": "s"}, "a", params={"lr": 0.1, "bs": 32}, metrics={"acc": 0.5})
    with torch.no_grad():
        net[1].weight[0, 0] += 0.25
    w2 = w.copy()
    w2[:10] = 3.0
    repo.commit(  # carry=False: a version holding only these (the default carries "gone" forward)
        {"net": net, "w": w2, "new": [1], "same": "s"},
        "b",
        params={"lr": 0.2, "bs": 32},
        metrics={"acc": 0.7},
        carry=False,
    )
    d = repo.diff("HEAD~1", "HEAD")
    status = {c.name: c.status for c in d.variables}
    assert status == {"gone": "removed", "net": "changed", "new": "added", "same": "unchanged", "w": "changed"}
    net_change = next(c for c in d.variables if c.name == "net")
    assert [(t.path, t.changed, round(t.max_abs_delta, 6)) for t in net_change.tensors] == [("1.weight", 1, 0.25)]
    w_change = next(c for c in d.variables if c.name == "w")
    assert (w_change.tensors[0].changed, w_change.tensors[0].max_abs_delta) == (10, 3.0)
    assert d.params == {"lr": (0.1, 0.2)} and d.metrics == {"acc": (0.5, 0.7)}


CONCURRENT_WRITER = textwrap.dedent("""
    import sys, numpy as np
    from jupyter_mvc.repo import Repo
    repo = Repo.open(sys.argv[1], create=False)
    for i in range(int(sys.argv[3])):
        repo.commit({"w": np.full(1000, i), "who": sys.argv[2]}, f"{sys.argv[2]} {i}")
""")


def test_two_processes_committing_at_once_lose_nothing(repo):
    repo.commit({"x": 0}, "base")
    n = 15
    procs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT_WRITER, str(repo.root), who, str(n)])
        for who in ("alice", "bob")
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0]
    subjects = [v.subject for v in repo.log()]
    assert len(subjects) == 2 * n + 1
    assert sorted(subjects[:-1]) == sorted(f"{w} {i}" for w in ("alice", "bob") for i in range(n))
    assert fsck(repo).ok
    assert git(repo.root, "rev-list", "--count", "refs/mvc/heads/main").strip() == str(2 * n + 1)


def test_trust_allow_list_per_repository(repo):
    # argparse.Namespace is not on the safe-load list
    import argparse

    repo.commit({"ns": argparse.Namespace(a=1)}, "ns")
    with pytest.raises(Exception, match="argparse.Namespace"):
        repo.load("HEAD", "ns")
    assert repo.load("HEAD", "ns", allow=["argparse.Namespace"]).a == 1
    repo.config.trust("argparse.Namespace")
    assert repo.load("HEAD", "ns").a == 1
    with pytest.raises(InvalidNameError):
        repo.config.trust("no dots")

"""Malformed and crafted versions through the repository, the kernel session (real IPython
shell), the comm and the widgets: history views show what they can and never raise a
TypeError or KeyError, checkout assigns only names a kernel may hold, and a crafted
refs/mvc/HEAD can never move the user's branch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from jupyter_mvc import api
from jupyter_mvc.errors import DamagedHeadError, ManifestError
from jupyter_mvc.repo import Repo, maintenance
from jupyter_mvc.repo import repository as repository_module
from tests.support.git import git

BAD_METRICS = {
    "scalars": [1, 2],
    "series": {"loss": "abc", "acc": [[0, 0.5], "x", [1], [2, None], [True, 1], [3, "y"], [4, 0.75]], "n": None},
}


def _craft(
    repo: Repo,
    parent: str,
    *,
    manifest: dict | None = None,
    files: dict[str, bytes] | None = None,
    message: str = "crafted",
    ref: str = "refs/mvc/heads/main",
) -> str:
    """A version written with plumbing: the parent's files, some replaced."""
    gr = repo.git
    blobs = {name: gr.read_file(parent, name) or b"" for name in gr.file_names(parent)}
    if manifest is not None:
        blobs["manifest.json"] = json.dumps(manifest).encode()
    blobs.update(files or {})
    sha = gr.write_commit(gr.write_tree({n: gr.write_blob(b) for n, b in blobs.items()}), [parent], message)
    git(repo.root, "update-ref", ref, sha)
    return sha


@pytest.fixture
def malformed(repo):
    """HEAD~1: a normal version; HEAD: the same variables with metrics/params/env of the
    wrong types and a manifest whose summaries are not dicts and with one damaged entry."""
    base = repo.commit({"w": np.arange(6.0), "cfg": {"lr": 0.1}}, "base", metrics={"acc": 0.5, "loss": [0.9, 0.5]})
    manifest = json.loads(repo.git.read_file(base.id, "manifest.json"))
    for v in manifest["variables"]:
        v["summary"] = ["not", "a", "dict"]
    manifest["variables"].append({"name": "broken", "size": "12"})
    sha = _craft(
        repo,
        base.id,
        manifest=manifest,
        files={
            "metrics.json": json.dumps(BAD_METRICS).encode(),
            "params.json": b'{"lr": NaN, "nested": {"a": [1, {"b": Infinity}]}}',
            "env.json": b"[1, 2, 3]",
        },
        message='malformed\n\nMvc-Summary: {"variables": "w", "metrics": [1, 2]}',
    )
    return repo, base.id, sha


def test_show_and_diff_give_the_format_whatever_the_files_hold(malformed):
    repo, base, sha = malformed
    v = repo.show(sha)
    assert v.metrics == {"scalars": {}, "series": {"acc": [[0, 0.5], [2, None], [4, 0.75]]}}
    assert v.params == {"lr": None, "nested": {"a": [1, {"b": None}]}} and v.env == {}
    assert {e.summary == {} for e in v.manifest.variables.values()} == {True}
    assert v.info.variables == () and v.info.metrics == {}
    d = repo.diff(base, sha)
    assert d.metrics == {"acc": (0.5, None)} and d.params == {"nested": (None, {"a": [1, {"b": None}]})}
    assert {c.name: c.status for c in d.variables} == {"w": "unchanged", "cfg": "unchanged"}


def test_a_damaged_entry_fails_alone_on_every_repository_path(malformed):
    repo, _base, sha = malformed
    result = repo.checkout(sha)
    assert set(result.objects) == {"w", "cfg"} and set(result.failed) == {"broken"}
    err = result.failed["broken"]
    assert isinstance(err, ManifestError) and "'broken'" in str(err) and sha[:8] in str(err)
    with pytest.raises(ManifestError, match="'broken'"):
        repo.load(sha, "broken")
    assert repo.checkout(sha, ["broken", "w"]).failed.keys() == {"broken"}
    problems = maintenance.fsck(repo).problems
    assert [(p.version, p.variable) for p in problems] == [(sha, "broken")]


def test_oversized_json_files_read_as_nothing_and_files_are_capped(malformed, monkeypatch):
    repo, base, sha = malformed
    monkeypatch.setattr(repository_module, "JSON_LIMIT", 64)
    big = _craft(repo, base, files={"params.json": json.dumps({"p": "x" * 100}).encode(), "notebook.ipynb": b"{}" * 50})
    assert repo.show(big).params == {}
    monkeypatch.setattr(repository_module, "FILE_LIMIT", 10)
    with pytest.raises(Exception, match="over the 10-byte limit"):
        repo.read_file(big, "notebook.ipynb")
    monkeypatch.setattr(repository_module, "MANIFEST_LIMIT", 100)
    with pytest.raises(ManifestError, match="over the 100-byte limit"):
        repo.manifest(big)


def test_magics_text_views_of_a_malformed_version(shell, malformed):
    repo, base, sha = malformed
    out = shell("%mv_log --text")
    assert "malformed" in out and "base" in out
    out = shell(f"%mv_diff {base[:8]} {sha[:8]}")
    assert "metrics: acc: 0.5 -> None" in out
    out = shell(f"%mv_plot {base[:8]} {sha[:8]} --text")
    assert "loss: 2 points" in out and "acc: 7 points" not in out and "acc: 3 points" in out
    out = shell(f"%mv_checkout {sha[:8]} --force")
    assert "Restored: w, cfg" in out and "Not restored: broken:" in out
    assert shell.ns["cfg"] == {"lr": 0.1}


def test_checkout_assigns_only_names_a_kernel_may_hold(shell, repo):
    base = repo.commit({"keep": 1, "other": 2}, "base")
    manifest = json.loads(repo.git.read_file(base.id, "manifest.json"))
    template = next(v for v in manifest["variables"] if v["name"] == "other")
    hostile = [
        "__builtins__",
        "get_ipython",
        "In",
        "Out",
        "exit",
        "quit",
        "_",
        "__",
        "___",
        "_ih",
        "_oh",
        "_dh",
        "_private",
        "class",
        "not an identifier",
        "a\x1b[2Jb",
    ]
    manifest["variables"] += [dict(template, name=n) for n in hostile]
    sha = _craft(repo, base.id, manifest=manifest, message="reserved names")
    before = {n: shell.ns.get(n) for n in ("__builtins__", "get_ipython", "In", "Out", "exit", "quit", "_ih")}
    out = shell(f"%mv_checkout {sha[:8]} --force")
    assert shell.ns["keep"] == 1 and shell.ns["other"] == 2
    assert all(shell.ns.get(n) is v for n, v in before.items())
    assert "_private" not in shell.ns and "\x1b" not in out
    for n in hostile:
        shown = n.replace("\x1b", "\\x1b")
        assert f"Not restored: {shown}:" in out, n
    assert "the kernel reserves it" in out and "Python keyword" in out and "not a Python identifier" in out
    session = shell.ip._jupyter_mvc[0]
    assert "In" not in session.state.tracked and session.state.tracked == {"keep", "other"}
    err, _ = shell.error(f"%mv_checkout {sha[:8]} nope")
    assert "no variable 'nope'" in str(err)
    out = shell(f"%mv_checkout {sha[:8]} In keep --force")  # named explicitly: still refused
    assert "Not restored: In:" in out and shell.ns.get("In") is before["In"]


def test_comm_checkout_reports_refused_names_and_never_raises(shell, malformed):
    from jupyter_mvc.magics import comm

    repo, _base, sha = malformed
    session = shell.ip._jupyter_mvc[0]
    reply = comm.handle(session, {"id": 1, "action": "checkout", "rev": sha, "force": True})
    assert (
        reply["ok"] and reply["result"]["failed"].keys() == {"broken"} and reply["result"]["restored"] == ["w", "cfg"]
    )
    json.dumps(reply, allow_nan=False)


def test_a_crafted_head_never_moves_the_users_branch(shell, repo):
    git(repo.root, "commit", "-q", "--allow-empty", "-m", "user")
    master = git(repo.root, "rev-parse", "master").strip()
    repo.commit({"x": 1}, "first")
    for target in ("refs/heads/master", "refs/mvc/tags/x", "refs/mvc/heads"):
        git(repo.root, "symbolic-ref", "refs/mvc/HEAD", target)
        with pytest.raises(DamagedHeadError, match="git symbolic-ref refs/mvc/HEAD refs/mvc/heads/main"):
            repo.commit({"x": 2}, "would move it")
        shell.ns["y"] = 3
        err, _ = shell.error('%mv_commit y -m "would move it"')
        assert target in str(err) and "git symbolic-ref" in str(err)
        assert git(repo.root, "rev-parse", "master").strip() == master
    with pytest.raises(ValueError, match="only writes refs under refs/mvc/"):
        repo.git.update_ref("refs/heads/master", master, master)
    git(repo.root, "symbolic-ref", "refs/mvc/HEAD", "refs/mvc/heads/main")
    assert repo.commit({"x": 2}, "after the fix").subject == "after the fix"
    assert git(repo.root, "rev-parse", "master").strip() == master


def test_timeline_and_curves_widgets_on_a_malformed_version(malformed):
    pytest.importorskip("anywidget")
    from jupyter_mvc.widgets.curves import Curves
    from jupyter_mvc.widgets.timeline import Timeline

    repo, base, sha = malformed
    t = Timeline(repo)
    t.select(sha)
    assert t.status.value == "" and "broken" not in t.details_html.value and "cfg" in t.details_html.value
    assert t.compare(base) is not None and t.status.value == ""
    c = Curves(repo, [base, sha], metric="loss")
    assert "mvc-error" not in c.message.value and len(c.lines) == 1  # the malformed one has no loss points
    c.metric_picker.value = "acc"
    assert "mvc-error" not in c.message.value
    assert api.show(sha, path=repo).metrics["series"]["acc"][-1] == [4, 0.75]

"""Hostile versions, victims in fresh processes: a version built by hand (manifests, chunks,
refs written with Git plumbing, as a teammate's push or a copied store could deliver
them) is loaded by every face in a process of its own. Each must exit as expected, never
by a signal, name the variable it refuses, and still load the other variables.

The crafted version `hostile` (on top of `base`) holds:
  good, cfg          loadable variables, unchanged from `base`
  weights            changed from `base`; its pickle calls an allow-listed function that
                     raises pytest's `Skipped` (a BaseException) while loading
  bomb               its pickle raises a custom BaseException subclass while loading
  truncated          its chunk file was cut to 10 bytes
  huge               its manifest declares one 2 GiB chunk for a 10-byte file
  __builtins__       valid data under a name the kernel reserves
  not an identifier  valid data under a name no namespace can hold
  wrongtypes         a manifest entry of the wrong JSON types
and a commit message, metric name and variable name with terminal escape sequences.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from jupyter_mvc.repo import Repo
from tests.support.git import git

ALLOW = ["_pytest.outcomes.skip", "hostile_mod.detonate"]
LOADABLE = {"good", "cfg"}
REFUSED = {"weights", "bomb", "truncated", "huge", "not an identifier", "wrongtypes"}
ESC_NAME = "evil\x1b[2Jname"
MESSAGE = "hostile \x1b[31mRED\x1b]0;pwned\x07 done"

HOSTILE_MODULE = '''
class Bomb(BaseException):
    """Not an Exception: a loader that catches only Exception lets it through."""


def detonate(*args):
    raise Bomb("detonated while loading")
'''


def _global_call(module: str, name: str, arg: str) -> bytes:
    """A pickle that calls module.name(arg) on load (GLOBAL + REDUCE, by hand)."""
    return b"\x80\x02c" + f"{module}\n{name}\n".encode() + pickle.dumps((arg,), protocol=2)[2:-1] + b"R."


def _commit(repo: Repo, manifest: dict, parent: str, message: str, metrics: bytes = b"{}") -> str:
    gr = repo.git
    tree = gr.write_tree(
        {
            "manifest.json": gr.write_blob(json.dumps(manifest).encode()),
            "metrics.json": gr.write_blob(metrics),
            "params.json": gr.write_blob(b"[1, 2]"),  # not an object
            "env.json": gr.write_blob(b'"x"'),
        }
    )
    return gr.write_commit(tree, [parent], message)


@pytest.fixture
def hostile(git_repo, tmp_path):
    """(project folder, base id, hostile id, env for the victim processes)."""
    mods = tmp_path / "mods"
    mods.mkdir()
    (mods / "hostile_mod.py").write_text(HOSTILE_MODULE)
    git(git_repo, "commit", "-q", "--allow-empty", "-m", "the user's own commit")
    repo = Repo.open(git_repo, create=False)
    base = repo.commit(
        {"good": np.arange(10.0), "cfg": {"a": 1}, "weights": np.ones(3), "tmpl": 5}, "base", metrics={"acc": 0.5}
    ).id
    manifest = json.loads(repo.git.read_file(base, "manifest.json"))
    by_name = {v["name"]: v for v in manifest["variables"]}
    tmpl = by_name.pop("tmpl")

    def pickled(name: str, payload: bytes, summary: dict | None = None) -> dict:
        stream = repo.store.put(payload).to_json()
        return dict(tmpl, name=name, codec="pickle5", skeleton=stream, streams=[], buffers=[], summary=summary or {})

    truncated = pickled("truncated", pickle.dumps(list(range(5000)), protocol=5))
    chunk = repo.store.path(truncated["skeleton"]["chunks"][0])
    os.chmod(chunk, 0o644)
    chunk.write_bytes(chunk.read_bytes()[:10])
    tiny = repo.store.put(b"0123456789").chunks[0]
    huge = dict(tmpl, name="huge", skeleton={"size": 2 << 30, "chunk_size": 2 << 30, "chunks": [tiny]})
    manifest["variables"] = [
        by_name["good"],
        by_name["cfg"],
        pickled("weights", _global_call("_pytest.outcomes", "skip", "boom"), {"shape": [3], "dtype": "float64"}),
        pickled("bomb", _global_call("hostile_mod", "detonate", "x")),
        truncated,
        huge,
        dict(tmpl, name="__builtins__"),
        dict(tmpl, name="not an identifier"),
        dict(tmpl, name=ESC_NAME),
        {"name": "wrongtypes", "type": 5, "size": "x", "skeleton": []},
    ]
    metrics = json.dumps({"scalars": [1, 2], "series": {"loss": "abc", "acc": [[0, 0.5], "x", [1]]}}).encode()
    trailer = 'Mvc-Summary: {"variables":["good"],"metrics":{"\\u001b[2Jm":1.5}}'
    sha = _commit(repo, manifest, base, f"{MESSAGE}\n\n{trailer}", metrics)
    git(git_repo, "update-ref", "refs/mvc/heads/main", sha)
    repo.close()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(mods), os.environ.get("PYTHONPATH", "")])}
    return git_repo, base, sha, env


def victim(cwd: Path, code: str, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python process; it must end by itself, not by a signal."""
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert r.returncode >= 0, f"killed by signal {signal.Signals(-r.returncode).name}: {r.stderr[-2000:]}"
    return r


def mvc(cwd: Path, env: dict, *args: str) -> subprocess.CompletedProcess:
    exe = shutil.which("mvc", path=str(Path(sys.executable).parent))
    cmd = [exe, *args] if exe else [sys.executable, "-m", "jupyter_mvc.cli", *args]
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode >= 0, f"killed by signal {-r.returncode}: {r.stderr[-2000:]}"
    assert "Traceback" not in r.stderr, r.stderr
    return r


def _last_json(stdout: str) -> dict:
    return json.loads(stdout.strip().splitlines()[-1])


# -- each variable loads or fails on its own, on every load path --------------------------------
def test_api_checkout_load_and_diff_in_a_fresh_process(hostile):
    root, base, sha, env = hostile
    r = victim(
        root,
        f"""
        import json, jupyter_mvc as m
        r = m.checkout({sha!r}, allow={ALLOW!r})
        out = {{"loaded": sorted(r.objects), "failed": {{k: [type(v).__name__, str(v)] for k, v in r.failed.items()}}}}
        out["good"] = r.objects["good"].tolist()
        loads = {{}}
        for name in ("weights", "bomb", "truncated", "huge", "wrongtypes", "not an identifier"):
            try:
                m.load({sha!r}, name, allow={ALLOW!r})
                loads[name] = "loaded"
            except m.MvcError as exc:
                loads[name] = str(exc)
        out["loads"] = loads
        trusted = {{}}
        for name in ("weights", "bomb"):  # trust=True: plain pickle, nothing below the repository catches
            try:
                m.load({sha!r}, name, trust=True)
            except m.MvcError as exc:
                trusted[name] = [type(exc).__name__, str(exc)]
        out["trusted"] = trusted
        d = m.diff({base!r}, {sha!r}, allow={ALLOW!r})
        out["diff"] = {{c.name: [c.status, c.new, len(c.tensors)] for c in d.variables}}
        print(json.dumps(out))
        """,
        env,
    )
    assert r.returncode == 0, r.stderr
    out = _last_json(r.stdout)
    assert set(out["loaded"]) >= LOADABLE and out["good"] == list(range(10))
    assert REFUSED <= set(out["failed"]) and ESC_NAME in out["failed"]
    for name in REFUSED:
        kind, message = out["failed"][name]
        assert repr(name) in message and sha[:8] in message, (name, message)
        assert "\n" not in message
    assert "Skipped: boom" in out["failed"]["weights"][1] and "Bomb: detonated" in out["failed"]["bomb"][1]
    assert out["trusted"]["bomb"][0] == "VariableLoadError" and "Bomb: detonated" in out["trusted"]["bomb"][1]
    assert out["trusted"]["weights"][0] == "VariableLoadError" and "Skipped: boom" in out["trusted"]["weights"][1]
    assert "truncated" in out["failed"]["truncated"][1] and "2147483648" in out["failed"]["huge"][1]
    assert "not a Python identifier" in out["failed"]["not an identifier"][1]
    assert "'size'" in out["failed"]["wrongtypes"][1]
    for name, message in out["loads"].items():
        assert repr(name) in message and sha[:8] in message, (name, message)
    # diff: summaries without numbers for the variable that does not load
    assert out["diff"]["weights"] == ["changed", {"shape": [3], "dtype": "float64"}, 0]
    assert out["diff"]["good"][0] == "unchanged"


def test_kernel_checkout_magic_and_comm_in_a_fresh_process(hostile):
    root, _base, sha, env = hostile
    r = victim(
        root,
        f"""
        import json
        from IPython.core.interactiveshell import InteractiveShell
        from jupyter_mvc.magics import comm
        ip = InteractiveShell.instance()
        ip.run_cell("%load_ext jupyter_mvc")
        builtins_before = ip.user_ns["__builtins__"]
        res = ip.run_cell("%mv_checkout {sha[:8]} --force --allow _pytest.outcomes.skip --allow hostile_mod.detonate")
        ns = ip.user_ns
        out = {{"error": repr(res.error_in_exec), "good": ns["good"].tolist(), "cfg": ns["cfg"],
               "builtins_kept": ns["__builtins__"] is builtins_before,
               "leaked": sorted(n for n in ("weights", "bomb", "truncated", "huge", "wrongtypes") if n in ns)}}
        session = ip._jupyter_mvc[0]  # the KernelSession %load_ext installed (the comm target's)
        reply = comm.handle(session, {{"id": 7, "action": "checkout", "rev": {sha!r}, "force": True}})
        out["comm"] = {{"ok": reply["ok"], "failed": sorted(reply["result"]["failed"]) if reply["ok"] else reply}}
        print(json.dumps(out))
        """,
        env,
    )
    assert r.returncode == 0, r.stderr
    out = _last_json(r.stdout)
    assert out["error"] == "None" and out["good"] == list(range(10)) and out["cfg"] == {"a": 1}
    assert out["builtins_kept"] and out["leaked"] == []
    printed = r.stdout
    for name in ("weights", "bomb", "truncated", "huge", "wrongtypes", "__builtins__", "not an identifier"):
        assert f"Not restored: {name}:" in printed, name
    assert "\x1b" not in printed and "evil\\x1b[2Jname" in printed
    assert out["comm"]["ok"] is True
    assert {"weights", "bomb", "__builtins__", "not an identifier"} <= set(out["comm"]["failed"])


def test_cli_show_diff_export_log_in_fresh_processes(hostile, tmp_path):
    root, base, sha, env = hostile
    show = mvc(root, env, "show", sha)
    assert show.returncode == 0
    assert "\x1b" not in show.stdout and "\x07" not in show.stdout
    assert "hostile \\x1b[31mRED\\x1b]0;pwned\\x07 done" in show.stdout
    assert "evil\\x1b[2Jname" in show.stdout and "good" in show.stdout
    assert "series: acc (1 points)" in show.stdout and "loss" not in show.stdout  # wrong types dropped
    diff = mvc(root, env, "diff", base, sha)
    assert diff.returncode == 0 and "~ weights" in diff.stdout and "shape=[3] dtype=float64" in diff.stdout
    assert "\x1b" not in diff.stdout and "evil\\x1b[2Jname" in diff.stdout
    log = mvc(root, env, "log")
    assert log.returncode == 0 and "\x1b" not in log.stdout and "\x07" not in log.stdout
    assert "hostile \\x1b[31mRED\\x1b]0;pwned\\x07 done" in log.stdout and "\\x1b[2Jm=1.5" in log.stdout
    for name in ("weights", "truncated", "huge", "wrongtypes", "not an identifier"):
        r = mvc(root, env, "export", sha, name, "-o", str(tmp_path / "out.pkl"))
        assert r.returncode == 1 and repr(name) in r.stderr and sha[:8] in r.stderr, (name, r.stderr)
    r = mvc(root, env, "export", sha, "good", "-o", str(tmp_path / "good.npy"))
    assert r.returncode == 0 and np.load(tmp_path / "good.npy").tolist() == list(range(10))
    fsck = mvc(root, env, "fsck")
    assert fsck.returncode == 1 and "\x1b" not in fsck.stdout
    assert "'wrongtypes'" in fsck.stdout and "'huge'" in fsck.stdout and "'truncated'" in fsck.stdout


def test_a_summary_trailer_nested_too_deep_to_parse_is_ignored_not_a_crash(git_repo):
    # json.loads raises RecursionError (not ValueError) on 100,000 opening brackets
    repo = Repo.open(git_repo, create=False)
    base = repo.commit({"x": 1}, "base").id
    manifest = json.loads(repo.git.read_file(base, "manifest.json"))
    sha = _commit(repo, manifest, base, "deep trailer\n\nMvc-Summary: " + "[" * 100_000)
    git(git_repo, "update-ref", "refs/mvc/heads/main", sha)
    assert [(i.message, i.variables) for i in repo.log()] == [("deep trailer", ()), ("base", ("x",))]
    repo.close()
    log = mvc(git_repo, dict(os.environ), "log")
    assert log.returncode == 0 and "deep trailer" in log.stdout and "base" in log.stdout


def test_a_message_or_author_holding_control_separators_reads_as_written(git_repo, monkeypatch):
    # log once split git's output on \x1e and \x1f: a version typed with them broke every log
    repo = Repo.open(git_repo, create=False)
    base = repo.commit({"x": 1}, "base").id
    manifest = json.loads(repo.git.read_file(base, "manifest.json"))
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Eve\x1fMallory")
    message = "one\x1etwo\x1fthree\n\nbody\x1e"
    sha = _commit(repo, manifest, base, message)
    git(git_repo, "update-ref", "refs/mvc/heads/main", sha)
    newest, oldest = repo.log()
    assert (newest.id, newest.message, newest.author, newest.parents) == (sha, message, "Eve\x1fMallory", (base,))
    assert oldest.id == base and oldest.message == "base"
    repo.close()
    log = mvc(git_repo, dict(os.environ), "log")
    assert log.returncode == 0 and "one\\x1etwo\\x1fthree" in log.stdout and "base" in log.stdout


def test_timeline_widget_details_and_diff_in_a_fresh_process(hostile):
    root, base, sha, env = hostile
    r = victim(
        root,
        f"""
        import json
        from jupyter_mvc import api
        from jupyter_mvc.widgets.timeline import Timeline
        t = Timeline(api.open_repo(".", create=False))
        t.select({sha!r})
        details, status = t.details_html.value, t.status.value
        diff = t.compare({base!r})
        t.plot([{base!r}, {sha!r}])
        print(json.dumps({{"details": details, "status": status, "after": t.status.value,
                          "diff": diff and sorted(v["name"] for v in diff["variables"]),
                          "curves": t.curves is not None and t.curves.message.value}}))
        """,
        env,
    )
    assert r.returncode == 0, r.stderr
    out = _last_json(r.stdout)
    assert out["status"] == "" and out["after"] == "", out
    assert "weights" in out["details"] and "good" in out["details"]
    assert "weights" in out["diff"] and "mvc-error" not in (out["curves"] or "")


@pytest.mark.slow
@pytest.mark.server
def test_server_answers_4xx_and_keeps_serving(hostile, tmp_path, monkeypatch):
    import urllib.error
    import urllib.request

    from tests.support.lab_server import running_server

    root, base, sha, env = hostile
    token = "hostile-versions-token"
    monkeypatch.setenv("PYTHONPATH", env["PYTHONPATH"])  # the server process sees hostile_mod too
    for name in ALLOW:  # the user trusts them, so the server's diff really runs the hostile pickles
        assert mvc(root, env, "trust", name).returncode == 0

    def get(base_url: str, endpoint: str, **params: str) -> tuple[int, dict]:
        query = "&".join(f"{k}={urllib.request.quote(v)}" for k, v in params.items())
        req = urllib.request.Request(
            f"{base_url}jupyter-mvc/{endpoint}?{query}", headers={"Authorization": f"token {token}"}
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            text = err.read().decode()
            assert "Traceback" not in text, text
            return err.code, json.loads(text)

    with running_server(root, tmp_path / "server", token=token) as url:
        status, version = get(url, "version", path=".", rev=sha)
        assert status == 200
        assert {"good", "weights", "huge", ESC_NAME} <= {v["name"] for v in version["variables"]}
        assert version["params"] == {} and version["series"].keys() == {"acc"}
        status, diff = get(url, "diff", path=".", old=base, new=sha)
        assert status == 200
        weights = next(v for v in diff["variables"] if v["name"] == "weights")
        assert weights["tensors"] == [] and weights["new_line"] == "shape=[3] dtype=float64"
        big = _big_manifest_version(root)
        status, reply = get(url, "version", path=".", rev=big)
        assert 400 <= status < 500 and big[:8] in reply["message"] and "limit" in reply["message"]
        status, reply = get(url, "diff", path=".", old=sha, new=big)
        assert 400 <= status < 500 and "limit" in reply["message"]
        status, log = get(url, "log", path=".", all="1")  # still serving
        assert status == 200 and any(v["id"] == sha for v in log["versions"])
        assert "\x1b" in next(v["subject"] for v in log["versions"] if v["id"] == sha)  # JSON: as stored


# -- sizes are checked before anything is read or allocated -------------------------------------
def _big_manifest_version(root: Path, size: int = 100 << 20) -> str:
    """A version whose manifest.json is `size` bytes of JSON (a list of spaces), on a tag."""
    blob = (
        subprocess.run(
            ["git", "hash-object", "-w", "--stdin"],
            cwd=root,
            input=b"[" + b" " * (size - 2) + b"]",
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    tree = (
        subprocess.run(
            ["git", "mktree"],
            cwd=root,
            input=f"100644 blob {blob}\tmanifest.json\n".encode(),
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .strip()
    )
    sha = git(root, "commit-tree", tree, "-m", "a 100 MiB manifest").strip()
    git(root, "update-ref", "refs/mvc/tags/big", sha)
    return sha


def test_a_100_mib_manifest_is_refused_unread(hostile):
    root, _base, sha, env = hostile
    big = _big_manifest_version(root)
    r = victim(
        root,
        f"""
        import json, resource, jupyter_mvc as m
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        out = {{}}
        for what, call in (("show", lambda: m.show("big")), ("checkout", lambda: m.checkout("big")),
                           ("load", lambda: m.load("big", "x"))):
            try:
                call()
                out[what] = "no error"
            except m.MvcError as exc:
                out[what] = [type(exc).__name__, str(exc)]
        out["grew_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        out["other"] = sorted(m.checkout({sha!r}).objects)
        print(json.dumps(out))
        """,
        env,
    )
    assert r.returncode == 0, r.stderr
    out = _last_json(r.stdout)
    for what in ("show", "checkout", "load"):
        kind, message = out[what]
        assert kind == "ManifestError" and big[:8] in message and "limit" in message, out
    assert out["grew_kib"] < 50 * 1024, out  # the 100 MiB blob was never read
    assert LOADABLE <= set(out["other"])  # other versions are unaffected
    r = mvc(root, env, "show", "big")
    assert r.returncode == 1 and "over the 67108864-byte limit" in r.stderr
    assert mvc(root, env, "log", "--all").returncode == 0


# -- refs/mvc/HEAD must not steer a commit onto the user's branch -------------------------------
def test_head_pointing_at_the_users_branch_is_refused(hostile):
    root, _base, _sha, env = hostile
    master = git(root, "rev-parse", "refs/heads/master").strip()
    git(root, "symbolic-ref", "refs/mvc/HEAD", "refs/heads/master")
    r = victim(
        root,
        """
        import jupyter_mvc as m
        try:
            m.commit({"x": 1}, "would move master")
            print("COMMITTED")
        except m.MvcError as exc:
            print(type(exc).__name__, exc)
        """,
        env,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("DamagedHeadError") and "git symbolic-ref refs/mvc/HEAD refs/mvc/heads/main" in r.stdout
    r = mvc(root, env, "log")
    assert r.returncode == 1 and "refs/heads/master" in r.stderr and "git symbolic-ref" in r.stderr
    assert git(root, "rev-parse", "refs/heads/master").strip() == master  # the user's branch never moved
    assert git(root, "for-each-ref", "--format=%(refname)", "refs/heads/").split() == ["refs/heads/master"]
    git(root, "symbolic-ref", "refs/mvc/HEAD", "refs/mvc/heads/main")  # the fix the message gives
    r = victim(root, "import jupyter_mvc as m; print(m.commit({'x': 1}, 'after the fix').short_id)", env)
    assert r.returncode == 0 and r.stdout.strip()
    assert git(root, "rev-parse", "refs/heads/master").strip() == master


# -- gc removes only what the store made, never through a symbolic link -------------------------
def test_gc_does_not_follow_symlinks_out_of_the_store(hostile, tmp_path):
    root, _base, _sha, env = hostile
    mvc_dir = root / ".git" / "mvc"
    outside = tmp_path / "outside"
    outside.mkdir()
    # Names gc would remove if it found them inside the store: an old temp file, an object.
    temp_name = "." + "a" * 40 + ".123.deadbeef.tmp"
    victims = [outside / temp_name, outside / ("c" * 62), outside / "important.txt"]
    for v in victims:
        v.write_text("keep me")
        os.utime(v, (1, 1))
    (mvc_dir / "tmp").mkdir(exist_ok=True)
    shutil.rmtree(mvc_dir / "tmp")
    (mvc_dir / "tmp").symlink_to(outside, target_is_directory=True)
    (mvc_dir / "objects" / "ab").symlink_to(outside, target_is_directory=True)
    (mvc_dir / "deltas" / "cd").mkdir(parents=True, exist_ok=True)
    (mvc_dir / "deltas" / "cd" / ("c" * 62)).symlink_to(outside / ("c" * 62))
    r = mvc(root, env, "gc", "--grace", "0")
    assert r.returncode == 0, r.stderr
    assert all(v.exists() and v.read_text() == "keep me" for v in victims)
    assert (mvc_dir / "tmp").is_symlink()
    # and the store itself still works
    assert victim(root, "import jupyter_mvc as m; print(sorted(m.checkout('HEAD~1').objects))", env).returncode == 0


def test_victims_finish_quickly_on_a_2_gib_declaration(hostile):
    """The 2 GiB chunk is refused from its file size: no 2 GiB buffer, no long read."""
    root, _base, sha, env = hostile
    start = time.monotonic()
    r = victim(
        root,
        f"""
        import resource, jupyter_mvc as m
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            m.load({sha!r}, "huge")
        except m.MvcError as exc:
            print(type(exc).__name__, "huge" in str(exc))
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
        """,
        env,
    )
    assert r.returncode == 0, r.stderr
    first, grew = r.stdout.strip().splitlines()
    assert first == "CorruptObjectError True" and int(grew) < 64 * 1024
    assert time.monotonic() - start < 60

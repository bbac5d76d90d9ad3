"""The server extension's remote endpoints (remotes, progress, push, pull, fetch) against a
real jupyter_server process, real Git repositories and a shared-folder remote (file://):
ahead/behind before and after a push, a teammate's version fetched then pulled, the
refusals (diverged, rejected, unknown remote) as clear JSON errors, and the progress a
running push reports."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (pip install -e '.[test]')")

from jupyter_mvc import api  # noqa: E402
from tests.support.git import git  # noqa: E402
from tests.support.lab_server import call_api  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.slow]  # one real jupyter_server for the module


def project(root, name, tmp_path, versions=("first",)):
    """root/<name>: a Git repository with a notebook and `versions`, and a remote 'origin'
    in tmp_path/<name>-remote (an empty folder). Returns (project, remote folder)."""
    proj = root / name
    proj.mkdir()
    git(proj, "init", "-q", "-b", "master")
    (proj / "nb.ipynb").write_text("{}")
    for i, subject in enumerate(versions):
        api.commit({"x": np.arange(4.0) + i}, subject, path=proj)
    remote = tmp_path / f"{name}-remote"
    remote.mkdir()
    api.remote_add("origin", remote.as_uri(), path=proj)
    return proj, remote


def origin(base, path):
    status, data = call_api(base, "remotes", {"path": path})
    assert status == 200, data
    assert [r["name"] for r in data["remotes"]][:1] == ["origin"], data
    return data, data["remotes"][0]


def test_counts_before_and_after_a_push_then_a_teammates_version_is_fetched_and_pulled(rest_server, tmp_path):
    base, root = rest_server
    proj, remote = project(root, "flow", tmp_path)
    head = api.head(path=proj).version

    data, o = origin(base, "flow/nb.ipynb")
    assert data["branch"] == "main" and data["operation"] is None
    assert o["url"] == remote.as_uri() and o["unsafe"] is False
    assert (o["ahead"], o["behind"], o["tracking"], o["branches"], o["heard_at"]) == (1, 0, None, {}, None)

    status, reply = call_api(base, "push", body={"path": "flow/nb.ipynb", "remote": "origin"})
    assert status == 200, reply
    assert reply["op"] == "push" and reply["remote"] == "origin"
    assert reply["report"]["moved"] == {"heads/main": [None, head]} and reply["report"]["versions"] == 1
    assert "Pushed 1 version(s)" in reply["message"] and f"origin/main: (none) -> {head[:8]}" in reply["message"]
    assert (remote / "refs" / "heads" / "main").read_text().strip() == head

    data, o = origin(base, "flow")
    assert (o["ahead"], o["behind"], o["tracking"], o["branches"]) == (0, 0, head, {"main": head})
    assert isinstance(o["heard_at"], float) and o["heard_at"] <= time.time()
    op = data["operation"]
    assert (op["op"], op["remote"], op["running"], op["error"]) == ("push", "origin", False, None)
    assert op["finished"] >= op["started"]

    status, reply = call_api(base, "push", body={"path": "flow"})  # remote defaults to origin
    assert status == 200 and reply["report"]["moved"] == {} and "Everything up to date" in reply["message"]

    # A teammate clones, adds a version and pushes it: unseen here until a fetch.
    teammate = tmp_path / "teammate"
    api.clone(remote.as_uri(), teammate)
    theirs = api.commit({"x": np.zeros(4)}, "teammate's", path=teammate).id
    api.push(path=teammate)
    _, o = origin(base, "flow")
    assert (o["ahead"], o["behind"]) == (0, 0)

    status, reply = call_api(base, "fetch", body={"path": "flow", "remote": "origin"})
    assert status == 200, reply
    assert reply["report"]["branches"] == {"main": [head, theirs]}
    assert f"origin/main: {head[:8]} -> {theirs[:8]}" in reply["message"]
    _, o = origin(base, "flow")
    assert (o["ahead"], o["behind"], o["tracking"]) == (0, 1, theirs)

    status, reply = call_api(base, "pull", body={"path": "flow", "remote": "origin"})
    assert status == 200, reply
    report = reply["report"]
    assert (report["outcome"], report["branch"], report["old"], report["new"]) == ("fast-forward", "main", head, theirs)
    assert report["fetch"]["remote"] == "origin"
    assert "main: fast-forward" in reply["message"] and "%mv_checkout main" in reply["message"]
    _, o = origin(base, "flow")
    assert (o["ahead"], o["behind"]) == (0, 0)
    _, log = call_api(base, "log", {"path": "flow"})
    assert log["versions"][0]["subject"] == "teammate's" and log["versions"][0]["id"] == theirs

    status, reply = call_api(base, "pull", body={"path": "flow"})
    assert status == 200 and reply["report"]["outcome"] == "up to date"


def test_refusals_are_json_errors_that_say_the_fix(rest_server, tmp_path):
    base, root = rest_server
    proj, remote = project(root, "diverged", tmp_path)
    assert call_api(base, "push", body={"path": "diverged"})[0] == 200
    teammate = tmp_path / "teammate"
    api.clone(remote.as_uri(), teammate)
    api.commit({"x": np.ones(4)}, "theirs", path=teammate)
    api.push(path=teammate)
    api.commit({"x": np.full(4, 7.0)}, "ours", path=proj)

    status, err = call_api(base, "push", body={"path": "diverged"})
    assert status == 409 and err["error"] == "conflict", err
    assert "rejected" in err["message"] and "fetch and merge first" in err["message"]
    data, o = origin(base, "diverged")
    assert data["operation"]["op"] == "push" and data["operation"]["error"] == err["message"]
    assert o["heard_at"] is not None  # from the first push; a refused one changes nothing

    status, err = call_api(base, "pull", body={"path": "diverged"})
    assert status == 409 and "have diverged" in err["message"] and "merge origin/main" in err["message"], err
    _, o = origin(base, "diverged")  # the pull's fetch saw the teammate's version
    assert (o["ahead"], o["behind"]) == (1, 1)

    status, err = call_api(base, "fetch", body={"path": "diverged", "remote": "nowhere"})
    assert status == 404 and "no remote named 'nowhere'" in err["message"] and "remote add" in err["message"], err
    status, err = call_api(base, "push", body={"remote": "origin"})
    assert status == 400 and "missing parameter 'path'" in err["message"]
    status, err = call_api(base, "remotes", {"path": "nope.ipynb"})
    assert status == 404 and "no file or folder" in err["message"]

    # A remote this version cannot read: the remote's error, as a 502 naming it and the fix.
    newer = tmp_path / "newer"
    newer.mkdir()
    api.remote_add("newer", newer.as_uri(), path=proj)
    (newer / "jupyter_mvc-remote.json").write_text('{"format": 99}')
    status, err = call_api(base, "fetch", body={"path": "diverged", "remote": "newer"})
    assert status == 502 and err["error"] == "remote_error", err
    assert newer.as_uri() in err["message"] and "format 99" in err["message"] and "pip install -U" in err["message"]
    data, o = origin(base, "diverged")  # 'origin' first, then by name
    assert [r["name"] for r in data["remotes"]] == ["origin", "newer"]


def test_a_project_without_remotes_has_none(rest_server, tmp_path):
    base, root = rest_server
    proj = root / "alone"
    proj.mkdir()
    git(proj, "init", "-q")
    status, data = call_api(base, "remotes", {"path": "alone"})
    assert status == 200 and data == {"branch": "main", "remotes": [], "operation": None}
    status, err = call_api(base, "push", body={"path": "alone"})
    assert status == 404 and "no remote named 'origin'" in err["message"]


def test_progress_is_polled_while_a_push_runs(rest_server, tmp_path):
    base, root = rest_server
    proj, remote = project(root, "big", tmp_path, versions=())
    rng = np.random.default_rng(0)
    api.commit({"w": rng.random(6_000_000)}, "48 MB of noise", path=proj)  # incompressible

    result: dict = {}
    pusher = threading.Thread(target=lambda: result.update(reply=call_api(base, "push", body={"path": "big"})))
    pusher.start()
    seen = []
    while pusher.is_alive():
        status, data = call_api(base, "progress", {"path": "big"})
        assert status == 200, data
        if data["operation"] is not None:
            seen.append(data["operation"])
        time.sleep(0.02)
    pusher.join()
    status, reply = result["reply"]
    assert status == 200 and reply["report"]["bytes_uploaded"] > 40_000_000, reply

    running = [op for op in seen if op["running"]]
    assert running, f"no poll saw the push running ({len(seen)} polls)"
    assert all(op["op"] == "push" and op["remote"] == "origin" and op["finished"] is None for op in running)
    moving = [op["done"] for op in running if op["what"] == "push"]
    assert moving == sorted(moving)  # bytes only go up
    _, data = call_api(base, "progress", {"path": "big"})
    final = data["operation"]
    assert final["running"] is False and final["what"] == "push" and final["total"] > 40_000_000
    assert final["done"] >= final["total"] * 0.9

    # While one runs, a second operation on the repository is refused.
    from jupyter_mvc.server.handlers import BadRequest
    from jupyter_mvc.server.remotes import Syncs

    syncs = Syncs()
    op = syncs.start("/repo", "push", "origin")
    with pytest.raises(BadRequest) as refused:
        syncs.start("/repo", "fetch", "origin")
    assert refused.value.status_code == 409 and "a push with origin is already running" in refused.value.message
    syncs.finish("/repo", op, None)
    syncs.start("/repo", "fetch", "origin")  # after it finished: fine

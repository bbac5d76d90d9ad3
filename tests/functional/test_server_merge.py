"""The server extension's merge endpoint against a real jupyter_server process and real Git
repositories: a clean merge is a version with two parents in the log reply; a conflict is
a 409 whose conflicts are structured (names, kind, detail lines, the strategies that can
resolve it) and writes nothing; posting again with `take` or `strategy` resolves it; bad
choices are clear JSON errors."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (pip install -e '.[test]')")

from jupyter_mvc import api  # noqa: E402
from tests.support.git import git  # noqa: E402
from tests.support.lab_server import call_api  # noqa: E402

pytestmark = [pytest.mark.server, pytest.mark.slow]  # one real jupyter_server for the module


def project(root, name, base: dict, ours: dict, theirs: dict):
    """root/<name>: main has `base` then `ours`; branch exp (from base) has `theirs`; the
    current branch is main. Returns (project, ours id, theirs id)."""
    proj = root / name
    proj.mkdir()
    git(proj, "init", "-q", "-b", "master")
    (proj / "nb.ipynb").write_text("{}")
    api.commit(base, "base", path=proj)
    api.branch("exp", path=proj)
    api.checkout("exp", path=proj)
    theirs_id = api.commit(theirs, "theirs", path=proj).id
    api.checkout("main", path=proj)
    ours_id = api.commit(ours, "ours", path=proj).id
    return proj, ours_id, theirs_id


def test_a_clean_merge_is_a_version_with_two_parents_in_the_log(rest_server):
    base, root = rest_server
    proj, ours, theirs = project(
        root, "clean", {"a": np.zeros(3), "b": np.zeros(3)}, {"a": np.ones(3)}, {"b": np.full(3, 2.0)}
    )
    status, reply = call_api(base, "merge", body={"path": "clean/nb.ipynb", "rev": "exp"})
    assert status == 200, reply
    assert set(reply) == {"outcome", "version", "taken", "notes", "message"}
    assert reply["outcome"] == "merged" and reply["taken"] == {"a": "ours", "b": "theirs"}
    merged = reply["version"]
    assert merged["parents"] == [ours, theirs] and merged["subject"] == "Merge exp into main"
    assert merged["branches"] == ["main"] and merged["is_head"] is True
    assert isinstance(reply["notes"], list)
    assert reply["message"].startswith(
        f"Merged {theirs[:8]} into {ours[:8]}: version {merged['short_id']} has two parents."
    )
    assert api.load("HEAD", "b", path=proj).tolist() == [2.0] * 3

    status, log = call_api(base, "log", {"path": "clean/nb.ipynb", "all": "1"})
    assert status == 200, log
    top = log["versions"][0]
    assert (top["id"], top["parents"], top["is_head"], log["branch"]) == (merged["id"], [ours, theirs], True, "main")
    assert {v["subject"] for v in log["versions"]} == {"Merge exp into main", "ours", "theirs", "base"}
    assert log["lanes"] == 2  # the merge is drawn with both sides

    status, again = call_api(base, "merge", body={"path": "clean", "rev": "exp"})
    assert status == 200 and again["outcome"] == "up to date", again
    assert again["version"]["id"] == merged["id"] and again["message"] == f"Already up to date with {theirs[:8]}."


def test_a_conflict_is_a_409_listing_each_conflict_and_take_resolves_it(rest_server):
    base, root = rest_server
    proj, ours, theirs = project(
        root, "conflict", {"w": np.zeros(4), "k": 1}, {"w": np.ones(4)}, {"w": np.full(4, 3.0)}
    )
    status, err = call_api(base, "merge", body={"path": "conflict/nb.ipynb", "rev": "exp"})
    assert status == 409, err
    assert set(err) == {"error", "message", "conflicts"} and err["error"] == "MergeConflictError"
    assert "1 conflict(s); nothing was written, the kernel is unchanged" in err["message"]
    assert "--take w=ours" in err["message"]
    [conflict] = err["conflicts"]
    assert conflict["names"] == ["w"] and conflict["kind"] == "changed on both sides"
    assert conflict["strategies"] == ["average", "task-arithmetic"]
    detail = conflict["detail"]
    assert detail[0].startswith(f"ours   {ours[:8]} w: ndarray") and detail[1].startswith(f"theirs {theirs[:8]} w:")
    assert any(line.startswith("max |Δ| ours vs theirs 2") for line in detail), detail
    # Nothing was written.
    assert api.resolve("HEAD", path=proj) == ours and len(api.log(path=proj, all=True)) == 3

    status, reply = call_api(base, "merge", body={"path": "conflict", "rev": "exp", "take": {"w": "theirs"}})
    assert status == 200, reply
    assert reply["outcome"] == "merged" and reply["taken"] == {"w": "theirs (--take)", "k": "both"}
    assert reply["version"]["parents"] == [ours, theirs]
    assert "theirs (--take)" in reply["message"]
    assert api.load("HEAD", "w", path=proj).tolist() == [3.0] * 4
    status, log = call_api(base, "log", {"path": "conflict", "all": "1"})
    assert log["versions"][0]["parents"] == [ours, theirs]


def test_a_strategy_combines_the_weights_of_a_conflict(rest_server):
    base, root = rest_server
    proj, ours, theirs = project(root, "average", {"w": np.zeros(2)}, {"w": np.full(2, 2.0)}, {"w": np.full(2, 4.0)})
    status, reply = call_api(base, "merge", body={"path": "average", "rev": "exp", "strategy": {"w": "average"}})
    assert status == 200, reply
    assert reply["taken"] == {"w": "average"} and reply["version"]["parents"] == [ours, theirs]
    assert api.load("HEAD", "w", path=proj).tolist() == [3.0, 3.0]


def test_a_conflict_no_strategy_can_resolve_offers_none(rest_server):
    base, root = rest_server
    proj = root / "deleted"
    proj.mkdir()
    git(proj, "init", "-q", "-b", "master")
    api.commit({"w": np.zeros(2), "keep": 1}, "base", path=proj)
    api.branch("exp", path=proj)
    api.checkout("exp", path=proj)
    api.commit({"w": np.ones(2)}, "change w", path=proj)
    api.checkout("main", path=proj)
    api.rm(["w"], path=proj)
    status, err = call_api(base, "merge", body={"path": "deleted", "rev": "exp"})
    assert status == 409, err
    assert err["conflicts"] == [
        {
            "names": ["w"],
            "kind": "deleted here, changed there",
            "detail": err["conflicts"][0]["detail"],
            "strategies": [],
        }
    ]
    status, err = call_api(base, "merge", body={"path": "deleted", "rev": "exp", "strategy": {"w": "average"}})
    assert status == 400 and "take" in err["message"], err
    status, reply = call_api(base, "merge", body={"path": "deleted", "rev": "exp", "take": {"w": "ours"}})
    assert status == 200 and reply["taken"]["keep"] == "both" and "w" not in reply["taken"], reply


def test_bad_requests_are_json_errors_that_say_the_fix(rest_server):
    base, root = rest_server
    proj, ours, _ = project(root, "bad", {"w": np.zeros(2)}, {"w": np.ones(2)}, {"w": np.full(2, 3.0)})
    cases = [
        ({"path": "bad"}, 400, "missing parameter 'rev'"),
        ({"path": "bad", "rev": "no-such-branch"}, 404, "unknown revision 'no-such-branch'"),
        ({"path": "bad", "rev": "exp", "take": "w=theirs"}, 400, "'take' must be a JSON object"),
        ({"path": "bad", "rev": "exp", "take": {"w": 1}}, 400, "'take' must be a JSON object"),
        ({"path": "bad", "rev": "exp", "take": {"w": "mine"}}, 400, "expected ours or theirs"),
        ({"path": "bad", "rev": "exp", "take": {"nope": "ours"}}, 400, "neither side has that variable"),
        ({"path": "bad", "rev": "exp", "strategy": {"w": "median"}}, 400, "expected average or task-arithmetic"),
        ({"path": "../outside", "rev": "exp"}, 403, "outside the server root"),
    ]
    for body, code, text in cases:
        status, err = call_api(base, "merge", body=body)
        assert status == code and set(err) == {"error", "message"} and text in err["message"], (body, status, err)
    assert api.resolve("HEAD", path=proj) == ours  # none of them wrote anything

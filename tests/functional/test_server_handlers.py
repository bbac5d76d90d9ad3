"""The server extension's JSON handlers, against a real jupyter_server process and real
Git repositories: success paths, every bad-input case (4xx JSON with a clear message,
never a 500 page), authentication and XSRF on POST."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (pip install -e '.[test]')")

from jupyter_mvc import api  # noqa: E402
from jupyter_mvc.repo import Repo  # noqa: E402
from tests.support.git import git  # noqa: E402
from tests.support.lab_server import call_api, running_server  # noqa: E402

TOKEN = "test-token-for-handlers"

pytestmark = [pytest.mark.server, pytest.mark.slow]  # one real jupyter_server for the module


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One server for the module over a root with: proj/ (a Git repo with versions on two
    branches, a tag, a notebook), plain/ (not a repository), empty/ (Git, no versions)."""
    root = tmp_path_factory.mktemp("root")
    proj = root / "proj"
    proj.mkdir()
    git(proj, "init", "-q", "-b", "master")
    (proj / "nb.ipynb").write_text("{}")
    api.commit({"x": 1, "lr": 0.1}, "first", path=proj, metrics={"acc": 0.5})
    api.commit({"x": 2, "lr": 0.1}, "second", path=proj, metrics={"acc": 0.75})
    repo = Repo.open(proj, create=False)
    repo.refs.create_tag("best")
    repo.refs.create_branch("exp", "HEAD~1")
    repo.refs.switch_branch("exp")
    repo.commit({"x": 3, "lr": 0.2}, "experiment")
    repo.refs.switch_branch("main")
    repo.close()
    (root / "plain").mkdir()
    (root / "plain" / "a.ipynb").write_text("{}")
    (root / "empty").mkdir()
    git(root / "empty", "init", "-q")
    with running_server(root, tmp_path_factory.mktemp("server"), token=TOKEN) as base:
        yield base


def call(base, endpoint, params=None, **kw):
    return call_api(base, endpoint, params, token=TOKEN, **kw)


def test_log_lists_versions_with_graph_metrics_and_tags(server):
    status, data = call(server, "log", {"path": "proj/nb.ipynb", "all": 1})
    assert status == 200
    by_subject = {v["subject"]: v for v in data["versions"]}
    assert set(by_subject) == {"first", "second", "experiment"}
    assert by_subject["second"]["tags"] == ["best"]
    assert by_subject["second"]["branches"] == ["main"] and by_subject["second"]["is_head"]
    assert by_subject["experiment"]["branches"] == ["exp"]
    assert by_subject["second"]["metrics"] == {"acc": 0.75}
    assert sorted(by_subject["first"]["variables"]) == ["lr", "x"]
    # Two branches diverge from "first": two lanes, the tips in different ones.
    assert data["lanes"] == 2
    assert by_subject["second"]["lane"] != by_subject["experiment"]["lane"]
    assert by_subject["second"]["parents"] == [by_subject["first"]["id"]]
    assert data["branch"] == "main" and data["head"] == by_subject["second"]["id"]


def test_log_of_current_branch_and_limit(server):
    _, data = call(server, "log", {"path": "proj"})
    assert [v["subject"] for v in data["versions"]] == ["second", "first"]
    _, data = call(server, "log", {"path": "proj", "limit": 1})
    assert [v["subject"] for v in data["versions"]] == ["second"]


def test_log_of_repository_without_versions_is_empty(server):
    status, data = call(server, "log", {"path": "empty"})
    assert status == 200 and data["versions"] == [] and data["head"] is None


def test_version_details(server):
    status, data = call(server, "version", {"path": "proj/nb.ipynb", "rev": "HEAD~1"})
    assert status == 200
    assert data["info"]["subject"] == "first"
    names = {v["name"]: v for v in data["variables"]}
    assert names["x"]["size"] > 0 and "int" in names["x"]["type"]
    assert data["metrics"]["scalars"] == {"acc": 0.5}
    assert "manifest.json" in data["files"]


def test_diff_of_two_versions(server):
    status, data = call(server, "diff", {"path": "proj", "old": "HEAD~1", "new": "exp"})
    assert status == 200
    changes = {c["name"]: c["status"] for c in data["variables"]}
    assert changes == {"x": "changed", "lr": "changed"}
    assert data["metrics"] == {"acc": [0.5, None]}  # "experiment" logged no metrics
    assert data["params"] == {}
    assert data["old"]["subject"] == "first" and data["new"]["subject"] == "experiment"


def test_post_tag_creates_a_tag(server):
    status, data = call(server, "tag", body={"path": "proj", "name": "first-run", "rev": "HEAD~1"})
    assert status == 201 and data["version"]["subject"] == "first"
    _, log = call(server, "log", {"path": "proj"})
    assert {v["subject"]: v["tags"] for v in log["versions"]}["first"] == ["first-run"]


@pytest.mark.parametrize(
    "endpoint,params,code,words",
    [
        ("log", {}, 400, "missing parameter 'path'"),
        ("log", {"path": "nope/nb.ipynb"}, 404, "no file or folder"),
        ("log", {"path": "../etc"}, 403, "outside the server root"),
        ("log", {"path": "proj/../../"}, 403, "outside the server root"),
        ("log", {"path": "/etc/passwd"}, 400, "relative to the server root"),
        ("log", {"path": "plain/a.ipynb"}, 404, "not inside a Git repository"),
        ("log", {"path": "proj", "limit": "ten"}, 400, "not a whole number"),
        ("version", {"path": "proj", "rev": "nosuchbranch"}, 404, "unknown revision"),
        ("version", {"path": "proj", "rev": "HEAD~9"}, 404, "HEAD~9"),
        ("version", {"path": "empty", "rev": "HEAD"}, 404, "no versions yet"),
        ("diff", {"path": "proj"}, 400, "missing parameter 'old'"),
        ("diff", {"path": "proj", "old": "zzz"}, 404, "unknown revision"),
    ],
)
def test_bad_input_gets_clear_4xx(server, endpoint, params, code, words):
    status, data = call(server, endpoint, params)
    assert status == code, data
    assert words in data["message"], data["message"]


@pytest.mark.parametrize(
    "body,code,words",
    [
        (b"not json", 400, "not JSON"),
        (b"[" * 5000, 400, "not JSON"),
        ([1, 2], 400, "JSON object"),
        ({"path": "proj"}, 400, "missing parameter 'name'"),
        ({"path": "proj", "name": "best"}, 409, "already exists"),
        ({"path": "proj", "name": "bad name.."}, 400, "bad tag name"),
        ({"path": "proj", "name": "t1", "rev": "nope"}, 404, "unknown revision"),
        ({"path": "../x", "name": "t1"}, 403, "outside the server root"),
    ],
)
def test_bad_tag_requests_get_clear_4xx(server, body, code, words):
    status, data = call(server, "tag", body=body)
    assert status == code, data
    assert words in data["message"], data["message"]


def test_requests_without_credentials_are_refused(server):
    status, _ = call(server, "log", {"path": "proj"}, auth=False)
    assert status == 403
    status, _ = call(server, "tag", body={"path": "proj", "name": "anon"}, auth=False)
    assert status == 403


def test_cookie_authenticated_post_needs_the_xsrf_token(server):
    # Log in as a browser does (token in the URL once), then use only the cookie.
    with urllib.request.urlopen(f"{server}api/status?token={TOKEN}", timeout=30) as resp:
        cookies = [c.split(";")[0] for c in resp.headers.get_all("Set-Cookie")]
    login = "; ".join(c for c in cookies if c.startswith("username-"))
    assert login, cookies
    body = {"path": "proj", "name": "via-cookie"}
    status, data = call(server, "tag", body=body, auth=False, headers={"Cookie": login})
    assert status == 403, data
    xsrf = "0123456789abcdef"  # double-submit: the cookie and the header must match
    status, data = call(
        server, "tag", body=body, auth=False, headers={"Cookie": f"{login}; _xsrf={xsrf}", "X-XSRFToken": xsrf}
    )
    assert status == 201, data

"""The JSON keys the JupyterLab extension reads (labextension/src/wire.ts, its one file of
wire types) against what the server really sends: a real jupyter_server over a real
repository, every REST reply's keys compared with its `export interface`.

A key wire.ts declares that the server does not send fails (the TypeScript would read
`undefined`); a key the server sends that wire.ts does not declare fails too (declare it,
so the front-end's types stay the whole contract). Optional keys (`key?:`) may be absent.
The comm replies' interfaces are listed below for the session layer's comm test."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

WIRE_TS = Path(__file__).resolve().parents[2] / "labextension" / "src" / "wire.ts"


# -- a small parser of wire.ts's `export interface` blocks ---------------------------------


@dataclass
class Interface:
    name: str
    required: set[str] = field(default_factory=set)
    optional: set[str] = field(default_factory=set)
    extends: list[str] = field(default_factory=list)

    @property
    def keys(self) -> set[str]:
        return self.required | self.optional


_HEAD = re.compile(r"export\s+interface\s+(\w+)\s*(?:<[^{]*?>)?\s*(?:extends\s+([\w\s,<>]+?))?\s*\{")
_MEMBER = re.compile(r"^\s*(?:readonly\s+)?(['\"]?)(\w+)\1\s*(\?)?\s*:", re.S)


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _members(body: str) -> list[str]:
    """The body split at the `;` (or newline-ended lines) that are not inside a nested type."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch in "{[(<":
            depth += 1
        elif ch in "}])" or (ch == ">" and body[i - 1] != "="):
            depth -= 1
        elif ch == ";" and depth == 0:
            out.append(body[start:i])
            start = i + 1
    out.append(body[start:])
    return [m for m in out if m.strip()]


def parse_interfaces(text: str) -> dict[str, Interface]:
    """name -> Interface (own keys plus those of the interfaces it extends)."""
    text = _strip_comments(text)
    found: dict[str, Interface] = {}
    for head in _HEAD.finditer(text):
        depth, i = 1, head.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
        iface = Interface(head.group(1))
        if head.group(2):
            iface.extends = [re.sub(r"<.*", "", b).strip() for b in head.group(2).split(",")]
        for member in _members(text[head.end() : i - 1]):
            m = _MEMBER.match(member)
            assert m, f"wire.ts: cannot read the member {member.strip()!r} of {iface.name}"
            (iface.optional if m.group(3) else iface.required).add(m.group(2))
        found[iface.name] = iface
    for iface in found.values():  # bases first: resolve extends transitively
        seen, todo = set(), list(iface.extends)
        while todo:
            base = found[todo.pop()]
            if base.name not in seen:
                seen.add(base.name)
                iface.required |= base.required
                iface.optional |= base.optional
                todo += base.extends
    return found


@pytest.fixture(scope="module")
def wire() -> dict[str, Interface]:
    return parse_interfaces(WIRE_TS.read_text())


def test_parser_reads_keys_optional_keys_extends_and_nested_types():
    src = """
    // a comment: not: a key
    export interface IBase { id: string; }
    export interface IThing<T> extends IBase {
      /** doc: comment */
      name: string;
      opt?: number | null;
      nested: { inner: string; other?: number };
      series?: Record<
        string,
        { points: number }
      >;
      pairs: [number, string][];
    }
    """
    found = parse_interfaces(src)
    thing = found["IThing"]
    assert thing.required == {"id", "name", "nested", "pairs"}
    assert thing.optional == {"opt", "series"}


# -- REST: every interface, where its JSON is in a real reply -------------------------------

TOKEN = "test-token-for-wire-keys"

# interface -> where a real reply holds one: (method, endpoint, params or body, path into
# the JSON; an int indexes a list, "*" takes every item of a list or every value of a dict).
REST = {
    "ILog": [("GET", "log", {"path": "proj/nb.ipynb", "all": "1"}, ())],
    "ILogEntry": [("GET", "log", {"path": "proj/nb.ipynb", "all": "1"}, ("versions", "*"))],
    "IVersionInfo": [
        ("GET", "version", {"path": "proj", "rev": "HEAD"}, ("info",)),
        ("GET", "diff", {"path": "proj", "old": "HEAD~1", "new": "HEAD"}, ("old",)),
        ("GET", "diff", {"path": "proj", "old": "HEAD~1", "new": "HEAD"}, ("new",)),
        ("POST", "tag", {"path": "proj", "name": "wire-tag", "rev": "HEAD~1"}, ("version",)),
    ],
    "IVersion": [("GET", "version", {"path": "proj", "rev": "HEAD"}, ())],
    "IVariable": [("GET", "version", {"path": "proj", "rev": "HEAD"}, ("variables", "*"))],
    "IMetrics": [("GET", "version", {"path": "proj", "rev": "HEAD"}, ("metrics",))],
    "IDiff": [("GET", "diff", {"path": "proj", "old": "HEAD~1", "new": "HEAD"}, ())],
    "IVariableChange": [("GET", "diff", {"path": "proj", "old": "HEAD~1", "new": "HEAD"}, ("variables", "*"))],
    "ITensorDelta": [
        ("GET", "diff", {"path": "proj", "old": "HEAD~1", "new": "HEAD"}, ("variables", "*", "tensors", "*"))
    ],
    "ITagReply": [("POST", "tag", {"path": "proj", "name": "wire-tag-2", "rev": "HEAD"}, ())],
    "IErrorReply": [
        ("GET", "version", {"path": "proj", "rev": "no-such-rev"}, ()),
        ("GET", "log", {"path": "plain"}, ()),
        ("POST", "push", {"path": "proj", "remote": "nowhere"}, ()),
    ],
    # Remotes: the fixture's project has 'origin' (a shared folder) and pushed to it once
    # through the server, so `operation` is there.
    "IRemotes": [("GET", "remotes", {"path": "proj/nb.ipynb"}, ())],
    "IRemoteState": [("GET", "remotes", {"path": "proj/nb.ipynb"}, ("remotes", "*"))],
    "IOperation": [
        ("GET", "remotes", {"path": "proj"}, ("operation",)),
        ("GET", "progress", {"path": "proj"}, ("operation",)),
    ],
    "IProgress": [("GET", "progress", {"path": "proj/nb.ipynb"}, ())],
    "ISyncReply": [
        ("POST", "push", {"path": "proj", "remote": "origin"}, ()),
        ("POST", "fetch", {"path": "proj", "remote": "origin"}, ()),
        ("POST", "pull", {"path": "proj", "remote": "origin"}, ()),
    ],
    "IPushReport": [("POST", "push", {"path": "proj", "remote": "origin"}, ("report",))],
    "IFetchReport": [
        ("POST", "fetch", {"path": "proj", "remote": "origin"}, ("report",)),
        ("POST", "pull", {"path": "proj", "remote": "origin"}, ("report", "fetch")),
    ],
    "IPullReport": [("POST", "pull", {"path": "proj", "remote": "origin"}, ("report",))],
    # Merge: merge/ has main and two branches from its base, `side` (merges cleanly: the
    # first post merges, later ones are 'up to date') and `exp` (conflicts on w: always 409).
    "IMergeReply": [("POST", "merge", {"path": "merge/nb.ipynb", "rev": "side"}, ())],
    "IMergeConflictReply": [("POST", "merge", {"path": "merge", "rev": "exp"}, ())],
    "IMergeConflict": [("POST", "merge", {"path": "merge", "rev": "exp"}, ("conflicts", "*"))],
}

# Interfaces found in error replies (4xx); every other one is in a 200.
ERRORS = {"IErrorReply", "IMergeConflictReply", "IMergeConflict"}

# The kernel comm's interfaces (checked by test_comm_reply_keys_match_wire_ts below).
COMM = {
    "ICommRequest": "request",
    "ICommSuccess": "success",
    "ICommError": "error",
    "IStatusResult": "status",
    "ICommitResult": "commit",
    "ICheckoutResult": "checkout",
    "INotebookResult": "notebook",
    "ICommProgress": "progress",  # messages before a reply (test_comm_progress_keys_match_wire_ts)
    "IStepProgress": "progress step",
}


def test_every_interface_in_wire_ts_is_checked(wire):
    """A new interface in wire.ts gets an entry here (REST or COMM), so it is pinned."""
    unlisted = set(wire) - set(REST) - set(COMM)
    assert not unlisted, f"add these wire.ts interfaces to REST or COMM in {Path(__file__).name}: {sorted(unlisted)}"
    gone = (set(REST) | set(COMM)) - set(wire)
    assert not gone, f"no longer in wire.ts, remove from {Path(__file__).name}: {sorted(gone)}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A server over proj/ (a Git repository with two versions of an array, scalars, a
    metric series, a param, and a remote 'origin' it pushed to through the server), merge/
    (main, and branches `side` and `exp` to merge into it) and plain/ (no repository)."""
    pytest.importorskip("jupyter_server", reason="jupyter_server is not installed (pip install -e '.[test]')")
    import numpy as np

    from jupyter_mvc import api
    from tests.support.git import git
    from tests.support.lab_server import running_server

    root = tmp_path_factory.mktemp("root")
    proj = root / "proj"
    proj.mkdir()
    git(proj, "init", "-q", "-b", "master")
    (proj / "nb.ipynb").write_text("{}")
    api.commit({"w": np.arange(6.0), "lr": 0.1}, "first", path=proj, metrics={"acc": 0.5, "loss": [0.9, 0.5]})
    api.commit({"w": np.arange(6.0) * 2, "lr": 0.2}, "second", path=proj, metrics={"acc": 0.75, "loss": [0.8, 0.3]})
    api.remote_add("origin", tmp_path_factory.mktemp("remote").as_uri(), path=proj)
    merge = root / "merge"
    merge.mkdir()
    git(merge, "init", "-q", "-b", "master")
    (merge / "nb.ipynb").write_text("{}")
    api.commit({"w": np.zeros(3), "b": np.zeros(2)}, "base", path=merge)
    for branch, change in (("side", {"b": np.ones(2)}), ("exp", {"w": np.full(3, 3.0)})):
        api.branch(branch, path=merge)
        api.checkout(branch, path=merge)
        api.commit(change, branch, path=merge)
        api.checkout("main", path=merge)
    api.commit({"w": np.ones(3)}, "ours", path=merge)
    (root / "plain").mkdir()
    (root / "plain" / "a.ipynb").write_text("{}")
    with running_server(root, tmp_path_factory.mktemp("server"), token=TOKEN) as base:
        status, reply = call(base, "POST", "push", {"path": "proj", "remote": "origin"})
        assert status == 200, reply
        yield base


def call(base: str, method: str, endpoint: str, params: dict) -> tuple[int, object]:
    """(status, parsed JSON) of one request; 4xx replies are returned, not raised."""
    headers = {"Authorization": f"token {TOKEN}"}
    url, data = base + "jupyter-mvc/" + endpoint, None
    if method == "GET":
        url += "?" + "&".join(f"{k}={urllib.request.quote(v)}" for k, v in params.items())
    else:
        data = json.dumps(params).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def objects_at(data: object, path: tuple) -> list[dict]:
    items = [data]
    for step in path:
        nxt = []
        for item in items:
            if step == "*":
                nxt += list(item.values()) if isinstance(item, dict) else list(item)
            else:
                nxt.append(item[step])
        items = nxt
    return items


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REST))
def test_rest_reply_keys_match_wire_ts(server, wire, name):
    iface = wire[name]
    checked = 0
    for method, endpoint, params, path in REST[name]:
        status, data = call(server, method, endpoint, params)
        assert (status >= 400) == (name in ERRORS), f"{method} {endpoint} {params}: {status} {data}"
        where = f"{method} {endpoint}" + "".join(f"[{p!r}]" for p in path)
        for obj in objects_at(data, path):
            assert isinstance(obj, dict), f"{where}: expected a JSON object for {name}, got {obj!r}"
            sent = set(obj)
            not_sent = iface.required - sent
            assert not not_sent, (
                f"wire.ts {name} reads {sorted(not_sent)}, which {where} does not send (it sends {sorted(sent)})"
            )
            undeclared = sent - iface.keys
            assert not undeclared, (
                f"{where} sends {sorted(undeclared)}, which wire.ts {name} does not declare: add them to the interface"
            )
            checked += 1
    assert checked, f"no {name} found in the replies: give the fixture repository one"


def test_rest_keys_are_all_required(wire):
    """`?` is for keys a reply may really omit; every REST reply sends all of its keys."""
    optional = {f"{n}.{k}" for n in REST for k in wire[n].optional}
    assert not optional, f"REST keys marked optional in wire.ts: {sorted(optional)}"


# -- the kernel comm ---------------------------------------------------------------------------

# The comm contract, as wire.ts declares it (the front-end side of the comm test below).
COMM_CONTRACT = {
    "ICommRequest": {"id", "action", "rev", "message", "names", "force", "allow", "path", "content", "progress"},
    "INotebookResult": {"stored"},
    "ICommProgress": {"id", "progress"},
    "IStepProgress": {"what", "done", "total"},
    "ICommSuccess": {"id", "ok", "result"},
    "ICommError": {"id", "ok", "error", "message", "names"},
    "IStatusResult": {"version", "branch", "changed", "unchanged", "new", "missing", "message"},
    "ICommitResult": {
        "id",
        "short_id",
        "branch",
        "variables",
        "skipped",
        "secrets",
        "not_captured",
        "metrics",
        "size",
        "added",
        "message",
    },
    "ICheckoutResult": {
        "id",
        "short_id",
        "branch",
        "restored",
        "left_alone",
        "failed",
        "untrusted",
        "left_behind",
        "message",
    },
}


def test_comm_interfaces_declare_the_contract(wire):
    for name, keys in COMM_CONTRACT.items():
        assert wire[name].keys == keys, (name, sorted(wire[name].keys))
    assert wire["ICommRequest"].optional == {"rev", "message", "names", "force", "allow", "path", "content", "progress"}
    assert wire["ICommError"].optional == {"names"}


def test_comm_reply_keys_match_wire_ts(wire, shell):
    """The real comm handler of a real IPython shell's session: each action's reply and
    `result` carry exactly the keys wire.ts declares; a refused checkout is a
    DirtyCheckoutError with `names`, which the sidebar's dialog reads."""
    from jupyter_mvc.magics.comm import handle

    session = shell.ip._jupyter_mvc[0]
    shell("x = [1]\ny = 2")
    replies = {
        "commit": handle(session, {"id": 1, "action": "commit", "message": "one", "names": ["x", "y"]}),
        "status": handle(session, {"id": 2, "action": "status"}),
    }
    first = replies["commit"]["result"]["id"]
    replies["checkout"] = handle(session, {"id": 3, "action": "checkout", "rev": first})
    live = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    replies["notebook"] = handle(session, {"id": 6, "action": "notebook", "path": "nb.ipynb", "content": live})
    expected = {action: name for name, action in COMM.items()}
    for action, reply in replies.items():
        assert set(reply) == wire["ICommSuccess"].keys and reply["ok"] is True, reply
        assert set(reply["result"]) == wire[expected[action]].keys, (action, sorted(reply["result"]))
    shell("x.append(2)")
    refused = handle(session, {"id": 4, "action": "checkout", "rev": first})
    assert set(refused) == wire["ICommError"].keys and refused["ok"] is False
    assert refused["error"] == "DirtyCheckoutError" and refused["names"] == ["x"]
    bad = handle(session, {"id": 5, "action": "launch"})
    assert set(bad) == wire["ICommError"].keys - wire["ICommError"].optional and bad["error"] == "BadRequest"


def test_comm_progress_keys_match_wire_ts(wire, shell):
    """A commit or checkout asked for progress sends ICommProgress messages (its request's
    id, an IStepProgress) before its reply; one not asked sends none."""
    from jupyter_mvc.magics.comm import handle

    session = shell.ip._jupyter_mvc[0]
    shell("import numpy as np\nbig = np.ones(1 << 20)")  # 8 MiB: several chunks
    sent: list[dict] = []
    reply = handle(session, {"id": 7, "action": "commit", "message": "m", "progress": True}, send=sent.append)
    assert reply["ok"] is True and sent, reply
    reply = handle(session, {"id": 8, "action": "checkout", "rev": "HEAD", "progress": True}, send=sent.append)
    assert reply["ok"] is True, reply
    for message in sent:
        assert set(message) == wire["ICommProgress"].keys and message["id"] in (7, 8), message
        assert set(message["progress"]) == wire["IStepProgress"].keys, message
    stages = [(m["id"], m["progress"]["what"]) for m in sent]
    assert (7, "serialising") in stages and (7, "storing") in stages and (8, "loading") in stages, stages
    last = [m["progress"] for m in sent if m["id"] == 8][-1]
    assert last["done"] == last["total"] > 8 << 20, last
    quiet: list[dict] = []
    handle(session, {"id": 9, "action": "commit", "message": "again", "names": ["big"]}, send=quiet.append)
    assert quiet == []

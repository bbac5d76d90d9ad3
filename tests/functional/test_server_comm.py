"""The kernel end of the JupyterLab sidebar: the "jupyter_mvc" comm target, driven from a
real kernel client the way the front-end drives it (comm_open, then comm_msg requests)."""

from __future__ import annotations

import uuid

import pytest

from tests.support.git import git

jupyter_client = pytest.importorskip("jupyter_client", reason="jupyter_client is not installed")
pytest.importorskip("ipykernel", reason="ipykernel is not installed")

TIMEOUT = 60

pytestmark = [pytest.mark.kernel, pytest.mark.slow]  # a real ipykernel per test


@pytest.fixture
def kernel(git_repo):
    km = jupyter_client.KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(git_repo))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run(kc, code: str) -> str:
    """Execute `code`; its stdout."""
    out: list = []
    reply = kc.execute_interactive(code, timeout=TIMEOUT, output_hook=out.append)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(m["content"].get("text", "") for m in out if m["msg_type"] == "stream")


def open_comm(kc) -> str:
    comm_id = uuid.uuid4().hex
    kc.shell_channel.send(kc.session.msg("comm_open", {"comm_id": comm_id, "target_name": "jupyter_mvc", "data": {}}))
    return comm_id


def request(kc, comm_id: str, data: dict) -> dict:
    kc.shell_channel.send(kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data}))
    while True:
        reply = kc.get_iopub_msg(timeout=TIMEOUT)
        if reply["msg_type"] == "comm_close" and reply["content"]["comm_id"] == comm_id:
            raise AssertionError("the kernel closed the comm: is the target registered?")
        if reply["msg_type"] == "comm_msg" and reply["content"]["comm_id"] == comm_id:
            return reply["content"]["data"]


def test_commit_status_checkout_over_the_comm(kernel, git_repo):
    run(kernel, "%load_ext jupyter_mvc\nx = 1")
    comm = open_comm(kernel)
    hostile = "one'); raise SystemExit #\" {x} $x"
    first = request(kernel, comm, {"id": 1, "action": "commit", "message": hostile, "names": ["x"]})
    assert first["id"] == 1 and first["ok"], first
    assert first["result"]["variables"] == ["x"]
    # The message is stored as typed: it reached the kernel as data, not code.
    subject = git(git_repo, "log", "-1", "--format=%s", "refs/mvc/heads/main").strip()
    assert subject == hostile
    run(kernel, "x = 2")
    st = request(kernel, comm, {"id": 2, "action": "status"})
    assert st["ok"] and st["result"]["changed"] == ["x"], st
    second = request(kernel, comm, {"id": 3, "action": "commit", "message": "two", "names": ["x"]})
    assert second["ok"], second
    back = request(kernel, comm, {"id": 4, "action": "checkout", "rev": first["result"]["id"]})
    assert back["ok"], back
    assert run(kernel, "print(x)").strip().endswith("1")


def test_checkout_refuses_to_discard_changes_unless_forced(kernel):
    run(kernel, "%load_ext jupyter_mvc\nx = 1\n%mv_commit x -m one\nx = 2\n%mv_commit x -m two\nx = 99")
    comm = open_comm(kernel)
    refused = request(kernel, comm, {"id": 1, "action": "checkout", "rev": "HEAD~1"})
    assert not refused["ok"] and "would overwrite x" in refused["message"]
    # The sidebar decides on the error type and its names, never on the wording.
    assert refused["error"] == "DirtyCheckoutError" and refused["names"] == ["x"]
    assert run(kernel, "print(x)").strip().endswith("99")
    forced = request(kernel, comm, {"id": 2, "action": "checkout", "rev": "HEAD~1", "force": True})
    assert forced["ok"], forced
    assert run(kernel, "print(x)").strip().endswith("1")


@pytest.mark.parametrize(
    "data,words",
    [
        ({"action": "launch"}, "unknown action"),
        ({"action": "commit"}, "'message' field must be a non-empty string"),
        ({"action": "commit", "message": "m", "names": "x"}, "'names' must be a list"),
        ({"action": "checkout", "rev": "nope"}, "unknown revision"),
    ],
)
def test_bad_requests_get_error_replies(kernel, data, words):
    run(kernel, "%load_ext jupyter_mvc\nx = 1\n%mv_commit x -m one")
    comm = open_comm(kernel)
    reply = request(kernel, comm, {"id": 7, **data})
    assert reply["id"] == 7 and not reply["ok"]
    assert words in reply["message"], reply["message"]

"""Refusals speak the language of where they appear: the magic names its own --allow flag,
the comm hands the sidebar exactly the classes a "Trust and retry" would trust."""

from __future__ import annotations

import pytest


def test_magic_refusal_names_the_allow_flag_and_the_flag_works(shell):
    shell("import argparse\nns = argparse.Namespace(a=1)\nx = 5")
    shell('%mv_commit ns x -m "with a namespace"')
    shell("ns = None; x = 0")
    out = shell("%mv_checkout HEAD --force")
    assert "Restored: x" in out and shell.ns["x"] == 5
    assert "Not restored: ns: refused to load 'argparse.Namespace'" in out
    assert "--allow argparse.Namespace" in out and "allow=[" not in out
    assert shell.ns["ns"] is None
    out = shell("%mv_checkout HEAD ns --allow argparse.Namespace --force")
    assert "Restored: ns" in out and shell.ns["ns"].a == 1


def test_comm_reports_untrusted_classes_and_retries_with_them(shell):
    from jupyter_mvc.magics.comm import handle

    session = shell.ip._jupyter_mvc[0]
    shell("import argparse\nns = argparse.Namespace(a=1)\nx = 5")
    first = handle(session, {"id": 1, "action": "commit", "message": "one", "names": ["ns", "x"]})["result"]["id"]
    shell("ns = None")
    refused = handle(session, {"id": 2, "action": "checkout", "rev": first, "force": True})
    assert refused["ok"] and refused["result"]["untrusted"] == {"ns": "argparse.Namespace"}
    assert "ns" in refused["result"]["failed"] and refused["result"]["restored"] == ["x"]
    retried = handle(
        session, {"id": 3, "action": "checkout", "rev": first, "force": True, "allow": ["argparse.Namespace"]}
    )
    assert retried["ok"] and retried["result"]["untrusted"] == {} and shell.ns["ns"].a == 1
    bad = handle(session, {"id": 4, "action": "checkout", "rev": first, "allow": "argparse.Namespace"})
    assert bad["ok"] is False and bad["error"] == "BadRequest" and "'allow' must be a list" in bad["message"]


@pytest.mark.parametrize("magic", ["%mv_diff HEAD HEAD", "%mv_log"])
def test_views_do_not_need_trust(shell, magic):
    shell("import argparse\nns = argparse.Namespace(a=1)")
    shell('%mv_commit ns -m "namespace"')
    assert "refused" not in shell(magic)

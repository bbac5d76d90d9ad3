"""A commit stores the notebook as it is on screen: the live document the front-end hands
over before a cell runs, else the saved file with a caveat when cells ran after saving."""

from __future__ import annotations

import json
import os
import time

from jupyter_mvc import api


def _notebook(cells: list[str]) -> dict:
    return {
        "cells": [
            {"cell_type": "code", "source": c, "metadata": {}, "outputs": [], "execution_count": None, "id": f"c{i}"}
            for i, c in enumerate(cells)
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def test_the_live_document_is_stored_not_the_saved_file(shell, git_repo, monkeypatch):
    from jupyter_mvc.magics.comm import handle

    saved = git_repo / "nb.ipynb"
    saved.write_text(json.dumps(_notebook(["%load_ext jupyter_mvc"])))
    monkeypatch.setenv("JPY_SESSION_NAME", str(saved))
    session = shell.ip._jupyter_mvc[0]
    live = _notebook(["%load_ext jupyter_mvc", "x = 1", "y = x + 1", "%mv_commit x y -m on-screen"])
    reply = handle(session, {"id": -1, "action": "notebook", "path": "nb.ipynb", "content": live})
    assert reply["ok"] and reply["result"]["stored"] > 0
    shell("x = 1\ny = x + 1")
    out = shell("%mv_commit x y -m on-screen")
    assert "Not captured" not in out
    stored = json.loads(api.read_file("HEAD", "notebook.ipynb", path=git_repo))
    assert [c["source"] for c in stored["cells"]] == [c["source"] for c in live["cells"]]


def test_a_file_saved_before_cells_ran_is_stored_with_a_caveat(shell, git_repo, monkeypatch):
    saved = git_repo / "nb.ipynb"
    saved.write_text(json.dumps(_notebook(["%load_ext jupyter_mvc"])))
    old = time.time() - 120
    os.utime(saved, (old, old))
    monkeypatch.setenv("JPY_SESSION_NAME", str(saved))
    shell("x = 1")  # a cell that ran after the file was saved
    out = shell("%mv_commit x -m from-file")
    assert "the file stored was saved at" in out and "before cells that ran since" in out
    assert (
        json.loads(api.read_file("HEAD", "notebook.ipynb", path=git_repo))["cells"][0]["source"]
        == "%load_ext jupyter_mvc"
    )
    saved.touch()  # saved again after the cells: no caveat
    shell("x = 2")
    saved.touch()
    assert "before cells that ran since" not in shell("%mv_commit x -m saved")


def test_bad_live_documents_are_refused(shell):
    from jupyter_mvc.magics.comm import handle

    session = shell.ip._jupyter_mvc[0]
    bad = handle(session, {"id": 1, "action": "notebook", "path": "nb.ipynb", "content": {"cells": "x"}})
    assert bad["ok"] is False and bad["error"] == "BadRequest" and "'content' must be a notebook" in bad["message"]

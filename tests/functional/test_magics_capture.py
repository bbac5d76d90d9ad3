"""What a whole-namespace commit picks up (jupyter_mvc.capture), and the plain functions the
widget button and the JupyterLab comm call instead of spliced code."""
from __future__ import annotations

import os
import types

import pytest

from jupyter_mvc import capture

from .test_magics import shell  # noqa: F401  (the real-IPython fixture)


@pytest.mark.parametrize("name, value, secret", [
    ("api_token", "x", True), ("HF_TOKEN", "x", True), ("db_password", "x", True),
    ("openai_api_key", "x", True), ("aws_secret_access_key", "x", True), ("credentials", {}, True),
    ("tokenizer", "x", False), ("n_tokens", 5, False), ("author", "x", False),
    ("msg", "ghp_" + "a" * 36, True), ("note", "sk-" + "b" * 24, True), ("note", "plain text", False),
])
def test_secret_like_names_and_values(name, value, secret):
    assert capture.looks_secret(name, value) is secret


def test_select_keeps_state_and_leaves_out_code_and_shell_names():
    class Model:
        pass

    ns = {"np": os, "f": lambda: 1, "Model": Model, "In": [], "Out": {}, "_": 1, "_i3": "x",
          "m": Model(), "xs": [1, 2], "password": "p", "gen": (i for i in range(3)),
          "hidden_one": 5}
    sel = capture.select(ns, hidden={"hidden_one"})
    assert set(sel.objects) == {"m", "xs"} and sel.secrets == ["password"]
    assert not capture.worth_versioning("mod", types.ModuleType("mod"))


def test_curves_and_params_from_a_real_sklearn_model():
    sklearn = pytest.importorskip("sklearn.ensemble")
    import numpy as np

    X = np.random.default_rng(0).normal(size=(50, 2))
    model = sklearn.GradientBoostingRegressor(n_estimators=7, random_state=0).fit(X, X[:, 0])
    curves = capture.model_curves({"gb": model, "plain": [1, 2]})
    assert curves == {"gb.train_score": pytest.approx(model.train_score_.tolist())}
    params = capture.model_params({"gb": model})
    assert params["gb.n_estimators"] == 7 and params["gb.random_state"] == 0


def test_unfitted_models_and_odd_objects_do_not_break_capture():
    pytest.importorskip("sklearn")
    from sklearn.neural_network import MLPClassifier

    objs = {"unfitted": MLPClassifier(), "cls": MLPClassifier, "s": "text", "d": {"history": 1}}
    assert capture.model_curves(objs) == {}
    assert "cls.alpha" not in capture.model_params(objs)


def test_widget_button_and_comm_functions_return_messages(shell):  # noqa: F811
    ops = getattr(shell.ip, "_jupyter_mvc")[0]
    shell("x = [1]")
    result = ops.commit("from the comm", ["x"])
    assert result["variables"] == ["x"] and result["short_id"] in result["message"]
    shell("x.append(2)")
    refused = ops.checkout_message(result["id"])
    assert refused.startswith("Not checked out:") and "x" in refused
    assert shell.ns["x"] == [1, 2]
    result = ops.checkout(result["id"], ["x"], force=True)
    assert result["restored"] == ["x"] and shell.ns["x"] == [1]


def test_log_prints_text_when_widgets_are_missing_even_in_a_frontend(shell, monkeypatch):  # noqa: F811
    import sys

    import jupyter_mvc

    monkeypatch.setitem(sys.modules, "jupyter_mvc.widgets", None)  # import fails like when absent
    monkeypatch.delattr(jupyter_mvc, "widgets", raising=False)  # ...even if a test imported it
    from jupyter_mvc.magics import commands

    monkeypatch.setattr(commands, "_in_frontend", lambda _shell: True)
    shell("x = 1")
    shell('%mv_commit -m "text fallback"')
    assert "text fallback" in shell("%mv_log")

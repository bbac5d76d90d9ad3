"""What a whole-namespace commit picks up (jupyter_mvc.capture), and the plain functions the
widget button and the JupyterLab comm call instead of spliced code."""

from __future__ import annotations

import os
import types

import pytest

from jupyter_mvc import capture


@pytest.mark.parametrize(
    "name, value, secret",
    [
        ("api_token", "x", True),
        ("HF_TOKEN", "x", True),
        ("db_password", "x", True),
        ("openai_api_key", "x", True),
        ("aws_secret_access_key", "x", True),
        ("credentials", {}, True),
        ("tokenizer", "x", False),
        ("n_tokens", 5, False),
        ("author", "x", False),
        ("msg", "ghp_" + "a" * 36, True),
        ("note", "sk-" + "b" * 24, True),
        ("note", "plain text", False),
    ],
)
def test_secret_like_names_and_values(name, value, secret):
    assert capture.looks_secret(name, value) is secret


def test_select_keeps_state_and_leaves_out_code_and_shell_names():
    class Model:
        pass

    ns = {
        "np": os,
        "f": lambda: 1,
        "Model": Model,
        "In": [],
        "Out": {},
        "_": 1,
        "_i3": "x",
        "m": Model(),
        "xs": [1, 2],
        "password": "p",
        "gen": (i for i in range(3)),
        "hidden_one": 5,
    }
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


def test_session_reports_and_the_widget_button(shell):
    from jupyter_mvc.errors import DirtyCheckoutError

    session, (magics, *_other_groups) = shell.ip._jupyter_mvc[:2]
    shell("x = [1]")
    report = session.commit("from the session", ["x"])
    assert report.variables == ("x",) and report.branch == "main" and report.version.subject == "from the session"
    shell("x.append(2)")
    with pytest.raises(DirtyCheckoutError) as refused:
        session.checkout(report.version.id)
    assert refused.value.names == ["x"] and shell.ns["x"] == [1, 2]
    said = magics.checkout_message(report.version.id)  # the timeline's button
    assert said.startswith("Not checked out:") and "would overwrite x" in said
    back = session.checkout(report.version.id, ["x"], force=True)
    assert back.restored == ("x",) and back.names_given and shell.ns["x"] == [1]


def test_log_prints_text_when_widgets_are_missing_even_in_a_frontend(shell, monkeypatch):
    import sys

    import jupyter_mvc

    monkeypatch.setitem(sys.modules, "jupyter_mvc.widgets", None)  # import fails like when absent
    monkeypatch.delattr(jupyter_mvc, "widgets", raising=False)  # ...even if a test imported it
    from jupyter_mvc.magics import commands

    monkeypatch.setattr(commands, "in_frontend", lambda _shell: True)
    shell("x = 1")
    shell('%mv_commit -m "text fallback"')
    assert "text fallback" in shell("%mv_log")

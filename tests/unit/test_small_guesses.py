"""Small things that should guess well (issue 17), from plain data: log_metric's repeated
steps, which literals in code are credentials, and "did you mean" in the errors."""

from __future__ import annotations

import warnings

import pytest

from jupyter_mvc.errors import RevisionError, VariableNotFoundError, close_matches
from jupyter_mvc.repo.metrics import MetricsBuffer, RepeatedStepWarning
from jupyter_mvc.secrets import scan_files


# -- log_metric: a training cell run twice before committing -----------------------------------
def test_steps_logged_again_keep_the_last_value_and_warn_once_per_series():
    buf = MetricsBuffer()
    for step in range(5):
        buf.log("loss", 1.0 / (step + 1), step=step)
    with pytest.warns(RepeatedStepWarning) as caught:
        for step in range(5):
            buf.log("loss", 0.5 / (step + 1), step=step)
            buf.log("acc", 0.1 * step, step=step)
    assert len(caught) == 1
    text = str(caught[0].message)
    assert text.startswith("loss: step 0 logged again") and "steps 0-4" in text and "keeping the last value" in text
    assert buf.pending()["series"]["loss"] == [[s, 0.5 / (s + 1)] for s in range(5)]
    with pytest.warns(RepeatedStepWarning, match="acc: step 0 logged again"):
        buf.log("acc", 0.9, step=0)  # another series warns for itself
    assert buf.pending()["series"]["acc"][0] == [0, 0.9] and len(buf.pending()["series"]["acc"]) == 5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        buf.log("loss", 0.1, step=3)  # warned already for this series
    buf.clear()  # a commit: the next repeat warns again
    buf.log("loss", 1.0, step=0)
    with pytest.warns(RepeatedStepWarning, match=r"loss: step 0 logged again \(step 0 logged since"):
        buf.log("loss", 2.0, step=0)


def test_steps_out_of_order_keep_their_places_and_name_their_span():
    buf = MetricsBuffer()
    for step in (0, 10, 20, 30):
        buf.log("val", step, step=step)
    with pytest.warns(RepeatedStepWarning, match=r"steps 0\.\.30 \(4 steps\)"):
        buf.log("val", -1, step=20)
    assert buf.pending()["series"]["val"] == [[0, 0.0], [10, 10.0], [20, -1.0], [30, 30.0]]


def test_values_without_a_step_append_as_before():
    buf = MetricsBuffer()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):  # the same loop twice
            for v in (0.9, 0.5, 0.3):
                buf.log("loss", v)
    assert [p[0] for p in buf.pending()["series"]["loss"]] == [0, 1, 2, 3, 4, 5]


def test_the_warning_points_at_the_line_that_called_log_metric():
    import jupyter_mvc
    from jupyter_mvc import api

    try:
        jupyter_mvc.log_metric("unit_loss", 1.0, step=0)
        with pytest.warns(RepeatedStepWarning) as caught:
            jupyter_mvc.log_metric("unit_loss", 2.0, step=0)
        assert caught[0].filename == __file__
    finally:
        api._metrics.clear()


# -- credentials written as literals ------------------------------------------------------------
@pytest.mark.parametrize(
    "code, kind",
    [
        ('db_password = "hunter2"', "password assignment"),
        ("secret = 'swordfish'", "password assignment"),
        ('api_token = "a1b2c3d4e5f6"', "credential assignment"),
        ('PASSWORD: str = "x"', "password assignment"),
        ('cfg = {"password": "x"}', "password assignment"),
        ('conn = connect(host="db", passwd="hunter2")', "password assignment"),
        ('self.dbPassword = "hunter2"', "password assignment"),
        ('OPENAI_API_KEY = "abcdefgh12345678"', "credential assignment"),
    ],
)
def test_credential_literals_are_found_and_masked(code, kind):
    findings = scan_files({"history.py": f"x = 1\n{code}\n".encode()})
    assert [f.kind for f in findings] == [kind]
    assert findings[0].where == "history.py line 2"
    value = code.rsplit("=", 1)[-1].split(":")[-1].strip(" \"'})")
    assert value not in findings[0].preview


@pytest.mark.parametrize(
    "code",
    [
        'password = os.environ["PW"]',
        "password = getpass()",
        "token = None",
        'password = ""',
        "n_tokens = 5",
        'if password == "hunter2": pass',
        'tokenizer.pad_token = "[PAD]"',
        'special = {"eos_token": "</s>", "unk_token": "<unk>"}',
        'token = "the"',
        'tokenizer_name = "bert-base-uncased"',
        'api_key = os.getenv("API_KEY")',
        'password = f"{prefix}{suffix}"',
        'api_token = "YOUR_TOKEN_HERE"',
        "key = 'value'",
        "password_len = 12",
    ],
)
def test_credentials_read_at_run_time_and_lookalikes_are_not_findings(code):
    assert scan_files({"history.py": code.encode()}) == []


# -- did you mean ---------------------------------------------------------------------------------
def test_close_matches_prefers_a_case_slip_then_similar_names():
    assert close_matches("dropout_exp", ["main", "dropout-exp", "best"]) == ["dropout-exp"]
    assert close_matches("head", ["HEAD", "main"]) == ["HEAD"]
    assert close_matches("zzz", ["main", "best"]) == []
    assert close_matches("main", ["main"]) == []  # the word itself is no suggestion


def test_errors_say_did_you_mean_only_when_there_is_a_guess():
    assert "Did you mean 'exp-1' or 'exp-2'?" in str(RevisionError("exp_1", "no branch", ["exp-1", "exp-2"]))
    assert "Did you mean" not in str(RevisionError("x", "no branch"))
    err = VariableNotFoundError("modle", "1a2b3c4d", ["model", "X"])
    assert err.suggestions == ["model"] and str(err).endswith("Did you mean 'model'?")
    assert VariableNotFoundError("q", "1a2b3c4d", ["model"]).suggestions == []

"""Credentials never land in history by accident."""

import json

import pytest

from jupyter_mvc.errors import SecretsFoundError
from jupyter_mvc.secrets import scan_files

# Built by concatenation so that this file itself holds no credential-shaped string.
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
PRIVATE = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEow...\n"
OPENAI = "sk-" + "proj-" + "abcdefghijklmnopqrstuvwxyz123456"


@pytest.mark.parametrize(
    "secret,kind",
    [
        (AWS, "AWS access key id"),
        (GITHUB, "GitHub token"),
        (PRIVATE, "private key"),
        (OPENAI, "OpenAI/Anthropic API key"),
        ("password = 'hunter2hunter2'", "password assignment"),
    ],
)
def test_each_format_is_found_and_masked(secret, kind):
    findings = scan_files({"history.py": f"x = 1\nkey = {secret!r}\n".encode()})
    assert [f.kind for f in findings] == [kind]
    assert findings[0].where == "history.py line 2"
    assert secret not in str(findings[0]) and len(findings[0].preview) <= 7


def test_ordinary_code_is_not_flagged():
    code = b"import numpy as np\nX = np.random.rand(100, 4)\nloss = 0.25\npassword_len = 12\nsk = 3\n"
    assert scan_files({"history.py": code}) == []


def test_commit_refuses_secrets_in_notebook_cells_history_and_variables(repo):
    nb = {
        "cells": [
            {"cell_type": "code", "source": "print(1)", "outputs": []},
            {"cell_type": "code", "source": ["import os\n", f"os.environ['K'] = '{AWS}'\n"], "outputs": []},
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    with pytest.raises(SecretsFoundError) as err:
        repo.commit({"x": 1}, "m", files={"notebook.ipynb": json.dumps(nb)})
    assert "notebook.ipynb cell 2 line 2" in str(err.value) and AWS not in str(err.value)
    with pytest.raises(SecretsFoundError, match="history.py line 1"):
        repo.commit({"x": 1}, "m", files={"history.py": f"token = '{GITHUB}'"})
    with pytest.raises(SecretsFoundError, match="variable 'config'"):
        repo.commit({"config": {"api": OPENAI}}, "m")
    assert repo.log() == [] and list(repo.store.iter_oids()) == []  # nothing landed
    info = repo.commit({"config": {"api": OPENAI}}, "confirmed", allow_secrets=True)
    assert repo.load(info.id, "config") == {"api": OPENAI}

"""Messages that guess well (issue 17): "did you mean" for revisions and variables, ambiguous
id prefixes listed with their subjects, `%mv_commit words...` taken as the message, format
specs in `{expr}`, literal credentials in cells refused, and `%mv_log REV` in a notebook.

Real Git repositories; the magics through the real IPython shell (`shell` fixture in
tests/functional/conftest.py)."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from jupyter_mvc.errors import RevisionError, VariableNotFoundError
from tests.support.git import git


def _api():
    import jupyter_mvc.api as api

    return api


# -- did you mean ---------------------------------------------------------------------------------
def test_a_mistyped_branch_tag_or_remote_branch_is_guessed(repo, git_repo):
    first = repo.commit({"x": 1}, "one").id
    repo.refs.create_branch("dropout-exp")
    repo.refs.create_tag("best")
    git(git_repo, "update-ref", "refs/mvc/remotes/origin/main", first)
    for typed, meant in (("dropout_exp", "dropout-exp"), ("bset~1", "best"), ("origin/mian", "origin/main")):
        with pytest.raises(RevisionError) as err:
            repo.resolve(typed)
        assert err.value.suggestions[0] == meant
        assert f"Did you mean {meant!r}?" in str(err.value) and "HEAD~N" in str(err.value)
    with pytest.raises(RevisionError, match="Did you mean 'HEAD'"):
        repo.resolve("head")
    with pytest.raises(RevisionError) as err:  # nothing close: no guess
        repo.resolve("zzzzzz")
    assert err.value.suggestions == [] and "Did you mean" not in str(err.value)
    with pytest.raises(RevisionError, match="Did you mean 'dropout-exp'"):
        repo.refs.switch_branch("dropout_exp")
    with pytest.raises(RevisionError, match="Did you mean 'dropout-exp'"):
        repo.refs.delete_branch("dropout_exp")
    with pytest.raises(RevisionError, match="Did you mean 'best'"):
        repo.refs.delete_tag("bset")


def test_a_mistyped_variable_is_guessed_in_load_checkout_and_rm(shell):
    shell("model = [1, 2]\nX_train = [3]")
    shell('%mv_commit -m "one"')
    with pytest.raises(VariableNotFoundError) as err:
        _api().load("HEAD", "modle")
    assert err.value.suggestions == ["model"] and "Did you mean 'model'?" in str(err.value)
    for cell in ("%mv_checkout HEAD modle", "%mv_rm modle", "%mv_rm x_train"):
        exc, _ = shell.error(cell)
        assert "Did you mean" in str(exc), cell
    exc, _ = shell.error("%mv_rm x_train")
    assert "Did you mean 'X_train'?" in str(exc)
    exc, _ = shell.error('%mv_commit modle -m "typo"')
    assert "no variable named 'modle'" in str(exc) and "Did you mean 'model'?" in str(exc)
    exc, _ = shell.error("%mv_checkout dropout_exp")
    assert "unknown revision 'dropout_exp'" in str(exc) and "Did you mean" not in str(exc)
    shell("%mv_branch dropout-exp")
    exc, _ = shell.error("%mv_checkout dropout_exp")
    assert "Did you mean 'dropout-exp'?" in str(exc)


# -- id prefixes ------------------------------------------------------------------------------------
def _commit_object(tree: str, parent: str, message: str) -> bytes:
    stamp = "A U Thor <author@example.com> 1700000000 +0000"
    return f"tree {tree}\nparent {parent}\nauthor {stamp}\ncommitter {stamp}\n\n{message}\n".encode()


def _sha(body: bytes) -> str:
    return hashlib.sha1(b"commit %d\0" % len(body) + body).hexdigest()


def _write_object(git_repo, kind: str, body: bytes) -> str:
    done = subprocess.run(
        ["git", "hash-object", "-t", kind, "-w", "--stdin"], cwd=git_repo, input=body, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def _colliding(git_repo, trees: list[str], parent: str, prefix_len: int = 4) -> list[tuple[str, str]]:
    """Writes commits until two (one per tree in `trees`) share their first `prefix_len`
    hex digits; returns [(sha, message), ...] in the order of `trees`."""
    seen: dict[tuple[int, str], tuple[str, str]] = {}
    for i in range(100_000):
        kind = i % len(trees)
        message = f"try {i}"
        sha = _sha(_commit_object(trees[kind], parent, message))
        for other in range(len(trees)):
            hit = seen.get((other, sha[:prefix_len]))
            if other != kind and hit:
                pair = {kind: (sha, message), other: hit}
                for k in sorted(pair):
                    body = _commit_object(trees[k], parent, pair[k][1])
                    assert _write_object(git_repo, "commit", body) == pair[k][0]
                return [pair[k] for k in range(len(trees))]
        seen.setdefault((kind, sha[:prefix_len]), (sha, message))
    raise AssertionError("no collision found")


def test_an_ambiguous_id_prefix_lists_the_versions_it_could_mean(repo, git_repo):
    base = repo.commit({"x": 1}, "base")
    tree = git(git_repo, "rev-parse", base.id + "^{tree}").strip()
    # two tree variants (the same version content under two messages): `trees` needs 2 kinds
    (a, a_msg), (b, b_msg) = _colliding(git_repo, [tree, tree], base.id)
    repo.refs.create_tag("t1", a)
    repo.refs.create_tag("t2", b)
    prefix = a[:4]
    assert b.startswith(prefix)
    with pytest.raises(RevisionError) as err:
        repo.resolve(prefix)
    text = str(err.value)
    assert f"ambiguous prefix {prefix!r}, matches:" in text
    assert f"{a[:8]} {a_msg!r}" in text and f"{b[:8]} {b_msg!r}" in text
    assert "Give more digits" in text and "no branch" not in text
    assert repo.resolve(a[:12]) == a  # more digits: resolved
    with pytest.raises(RevisionError, match="ambiguous prefix"):
        repo.resolve(prefix + "~1")


def test_a_prefix_shared_with_a_git_commit_that_is_no_version_resolves_to_the_version(repo, git_repo):
    base = repo.commit({"x": 1}, "base")
    tree = git(git_repo, "rev-parse", base.id + "^{tree}").strip()
    empty_tree = _write_object(git_repo, "tree", b"")
    (version, _), (user_commit, _) = _colliding(git_repo, [tree, empty_tree], base.id)
    repo.refs.create_tag("v", version)
    git(git_repo, "update-ref", "refs/heads/user", user_commit)  # the user's own commit, no version
    assert repo.resolve(version[:4]) == version
    assert repo.resolve(version[:4] + "~1") == base.id


def test_an_id_prefix_under_four_digits_says_to_give_four(repo):
    info = repo.commit({"x": 1}, "one")
    for short in (info.id[:1], info.id[:3]):
        with pytest.raises(RevisionError) as err:
            repo.resolve(short)
        assert "Give at least 4 digits" in str(err.value) and "HEAD~N" in str(err.value)
    assert repo.resolve(info.id[:4]) == info.id


# -- %mv_commit words... --------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ['%mv_commit "tried ridge again"', "%mv_commit tried ridge again"])
def test_words_that_are_no_variables_are_taken_as_the_message(shell, cell):
    shell("alpha = 0.5\nscore = 0.91")
    out = shell(cell + " --metric r2=0.5")
    assert "(taken as the message" in out and "Committed" in out
    head = _api().show("HEAD")
    assert head.info.subject == "tried ridge again"
    assert set(head.manifest.variables) == {"alpha", "score"}  # everything worth versioning
    assert head.metrics["scalars"]["r2"] == 0.5


def test_a_quoted_single_word_is_a_message_and_a_bare_one_gets_a_working_suggestion(shell):
    shell("alpha = 0.5")
    exc, _ = shell.error("%mv_commit baseline")
    assert '%mv_commit -m "baseline"' in str(exc) and "%mv_commit baseline -m" not in str(exc)
    out = shell('%mv_commit "baseline"')
    assert "(taken as the message" in out and _api().show("HEAD").info.subject == "baseline"


def test_words_mixing_variables_and_others_are_refused_with_commands_that_work(shell):
    shell("ridge = 1\nx = 2")
    exc, _ = shell.error("%mv_commit tried ridge again")
    text = str(exc)
    assert "needs a message" in text
    assert '%mv_commit -m "tried ridge again"' in text and '%mv_commit ridge -m "' in text
    assert "%mv_commit tried ridge again -m" not in text  # the broken form of before
    assert _api().log() == []
    exc, _ = shell.error("%mv_commit ridge x")  # all variables: name them, add -m
    assert '%mv_commit ridge x -m "what this version is"' in str(exc)


# -- {expr} with format specs -----------------------------------------------------------------------
def test_format_specs_in_braces_are_applied(shell):
    shell("gbr_r2 = 0.912345\nlr = 0.25\nsteps = [10, 20, 30, 40]\nname = 'gbr'")
    shell('%mv_commit gbr_r2 -m "r2 {gbr_r2:.3f} lr={lr} $name {steps[1:3]} {name!r:>7}" --metric r2={gbr_r2:.3f}')
    head = _api().show("HEAD")
    assert head.info.subject == "r2 0.912 lr=0.25 gbr [20, 30]   'gbr'"
    assert head.metrics["scalars"]["r2"] == 0.912
    shell('%mv_commit lr -m "width {gbr_r2:{lr_width}.2f}"'.replace("lr_width", "len(steps) + 2"))
    assert _api().show("HEAD").info.subject == "width   0.91"


def test_format_specs_see_the_locals_of_a_function_body(shell):
    shell("x = 1")
    shell('def f():\n    local_r2 = 0.5\n    %mv_commit x -m "local {local_r2:.2f}"\nf()')
    assert _api().show("HEAD").info.subject == "local 0.50"


def test_an_expression_that_fails_says_so_instead_of_not_a_number(shell):
    shell("x = 1")
    exc, _ = shell.error("%mv_commit x -m m --metric r2={undefined_thing:.3f}")
    assert "was not expanded" in str(exc) and "{round(r2, 3)}" in str(exc)


# -- credentials typed into cells --------------------------------------------------------------------
@pytest.mark.parametrize(
    "cell",
    [
        'db_password = "hunter2"',
        "secret = 'swordfish'",
        'api_token = "a1b2c3d4e5f6"',
        'PASSWORD: str = "x"',
        'cfg = {"password": "x"}',
    ],
)
def test_a_credential_literal_in_a_cell_is_refused_like_other_findings(shell, cell):
    shell("import os\nn = 1\n" + cell)
    exc, _ = shell.error('%mv_commit n -m "with a credential in the cells"')
    assert "refusing to commit" in str(exc) and "history.py line" in str(exc)
    assert "assignment" in str(exc) and "--allow-secrets" in str(exc)
    assert _api().log() == []
    shell('%mv_commit n -m "confirmed" --allow-secrets')
    assert len(_api().log()) == 1


def test_credentials_read_at_run_time_are_not_findings(shell, monkeypatch):
    monkeypatch.setenv("PW", "from-the-environment")
    shell(
        "import os, getpass\n"
        'password = os.environ["PW"]\n'
        "getpass.getpass = lambda *a: 'typed'\n"
        "password = getpass.getpass()\n"
        "token = None\n"
        'password = ""\n'
        "n_tokens = 5\n"
    )
    out = shell('%mv_commit n_tokens -m "no credential in the cells"')
    assert "Committed" in out


# -- %mv_log REV in a notebook ---------------------------------------------------------------------
def test_mv_log_rev_in_a_notebook_shows_the_timeline_from_that_revision(shell, monkeypatch):
    pytest.importorskip("anywidget", reason="anywidget is not installed (pip install anywidget)")
    import IPython.display

    from jupyter_mvc.magics import commands

    shown = []
    monkeypatch.setattr(commands, "in_frontend", lambda _shell: True)
    monkeypatch.setattr(IPython.display, "display", lambda w: shown.append(w))
    shell("x = 1")
    shell('%mv_commit -m "one"')
    shell("x = 2")
    shell('%mv_commit -m "two"')
    shell("%mv_checkout HEAD~1 -b exp")
    shell("x = 3")
    shell('%mv_commit -m "three on exp"')
    api = _api()
    one, two, three = (api.resolve(r) for r in ("main~1", "main", "exp"))

    shell("%mv_log main")
    t = shown.pop()
    assert [r["id"] for r in t.graph.rows] == [two, one] and t.graph.selected == two
    shell("%mv_log exp~1")
    assert [r["id"] for r in shown.pop().graph.rows] == [one]
    shell("%mv_log")  # no REV: every branch, the current version selected
    t = shown.pop()
    assert {r["id"] for r in t.graph.rows} == {one, two, three} and t.graph.selected == three
    shell("%mv_log main --all")
    assert len(shown.pop().graph.rows) == 3
    exc, _ = shell.error("%mv_log mian")
    assert "unknown revision 'mian'" in str(exc) and "Did you mean 'main'?" in str(exc) and not shown

"""Progress for commits, checkouts and exports (issue #17, item 1), and the bytes a commit
added beside the variables' size. The progress line's one-second threshold is set through
`MVC_PROGRESS_AFTER` (0: always shown, 3600: never), so nothing here depends on timing."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import threading

import numpy as np
import pytest

from jupyter_mvc import api
from jupyter_mvc.present import fmt
from jupyter_mvc.present.progress import AFTER_ENV, ProgressLine

MIB = 1 << 20


def _big(mib: int = 12) -> np.ndarray:
    return np.random.default_rng(0).normal(size=mib * MIB // 8)  # float64: `mib` MiB, several 2 MiB chunks


def _recorder():
    calls: list[tuple[str, int, int]] = []
    return calls, lambda what, done, total: calls.append((what, done, total))


def _check_stage(calls, what: str, total: int) -> None:
    """One stage's calls: bytes never go back, and the last says done == total."""
    mine = [c for c in calls if c[0] == what]
    assert mine, calls
    assert all(t == total for _, _, t in mine), mine
    dones = [d for _, d, _ in mine]
    assert dones == sorted(dones) and dones[-1] == total and len(mine) > 2, dones


# -- bytes added ---------------------------------------------------------------------------------
def test_a_small_edit_of_a_big_array_reports_the_bytes_it_added(shell):
    """The report says what the version cost on disk, not only the variable's size."""
    shell("import numpy as np\nemb = np.random.default_rng(0).normal(size=(3000, 1000))")  # 22.9 MiB
    first = shell("%mv_commit emb -m 'embeddings'")
    size = fmt.size(shell.ns["emb"].nbytes)
    assert f"1 variable (emb), {size}; " in first and " added." in first, first
    session = shell.ip._jupyter_mvc[0]

    shell("emb[:10, 0] += 1.0")  # 10 elements of 3 million, all in the first 2 MiB chunk
    report = session.commit("ten rows", ["emb"])
    # That chunk's delta, and its full tip copy (2 MiB, so the newest version reads no
    # chain): the first version's chunk has no delta, so it stays and nothing is dropped.
    chunk = 2 * MIB  # the store's chunk size
    assert chunk < report.added < chunk + report.size / 100, (report.added, report.size)

    shell("emb[20:30, 5] -= 2.0")
    out = shell("%mv_commit emb -m 'ten more'")
    added = re.search(r"; (\S+ \S+) added\.", out)
    assert added and added.group(1) != size and added.group(1).endswith(("B", "KiB")), out

    again = shell("%mv_commit emb -m 'the same again'")
    assert f"{size}; nothing new stored (every chunk was already there)." in again, again


def test_the_api_commit_returns_what_it_added(git_repo):
    a = _big()
    first = api.commit({"a": a}, "one", path=git_repo)
    assert first.added >= a.nbytes  # every chunk new (and the small skeleton)
    a[:10] = 0.0
    second = api.commit({"a": a}, "two", path=git_repo)
    # A delta and its 2 MiB full tip copy (the first version's chunk is an anchor: it stays).
    assert 2 * MIB < second.added < 2 * MIB + a.nbytes // 100 and second.id == api.resolve("HEAD", path=git_repo)
    assert api.commit({"a": a}, "three", path=git_repo).added == 0
    a[20:30] = 1.0
    fourth = api.commit({"a": a}, "four", path=git_repo)
    assert 0 < fourth.added < a.nbytes // 100  # the tip copy of "two" went: net, a delta


# -- the API's progress callback ---------------------------------------------------------------------
def test_commit_checkout_and_load_report_bytes_up_to_the_total(git_repo):
    a = _big()
    calls, progress = _recorder()
    info = api.commit({"a": a, "small": [1, 2]}, "one", path=git_repo, progress=progress)
    assert calls[0] == ("serialising", 0, 0)
    stored = api.show(info.id, path=git_repo).manifest.variables
    total = sum(e.skeleton.size + sum(s.size for s in e.streams) for e in stored.values())
    _check_stage(calls, "storing", total)
    assert calls[-1] == ("storing", total, total)

    calls, progress = _recorder()
    result = api.checkout(info.id, path=git_repo, progress=progress)
    assert np.array_equal(result.objects["a"], a)
    _check_stage(calls, "loading", total)

    calls, progress = _recorder()
    api.load(info.id, "a", path=git_repo, progress=progress)
    _check_stage(calls, "loading", stored["a"].skeleton.size + sum(s.size for s in stored["a"].streams))


# -- the progress line in the magics -----------------------------------------------------------------
def test_a_large_commit_and_checkout_show_a_progress_line(shell, monkeypatch):
    monkeypatch.setenv(AFTER_ENV, "0")
    shell(f"import numpy as np\nbig = np.random.default_rng(1).normal(size={12 * MIB // 8})")
    out = shell("%mv_commit big -m 'large'")
    assert "\rserialising… " in out and "\rstoring: " in out and "/ 12.0 MiB" in out, out
    assert out.index("\rstoring: 12.0 MiB / 12.0 MiB") < out.index("Committed "), out  # the line ends first
    shell("big = big * 2")
    shell("%mv_commit big -m 'doubled'")
    out = shell("%mv_checkout HEAD~1")
    assert "\rloading: " in out and "loading: 12.0 MiB / 12.0 MiB" in out and "Checked out " in out, out
    assert np.array_equal(shell.ns["big"], np.random.default_rng(1).normal(size=12 * MIB // 8))


def test_no_progress_line_under_the_threshold(shell, monkeypatch):
    monkeypatch.setenv(AFTER_ENV, "3600")
    shell(f"import numpy as np\nbig = np.zeros({4 * MIB // 8})")
    out = shell("%mv_commit big -m 'quiet'")
    assert "\r" not in out and out.startswith("Committed "), out


def test_mvc_export_shows_loading_and_writing(git_repo, tmp_path):
    a = _big()
    api.commit({"a": a}, "one", path=git_repo)
    env = {**os.environ, AFTER_ENV: "0"}
    target = tmp_path / "a.npy"
    r = subprocess.run(
        [sys.executable, "-m", "jupyter_mvc.cli", "export", "HEAD", "a", "-o", str(target)],
        cwd=git_repo,
        capture_output=True,
        env=env,
    )
    err = r.stderr.decode()  # bytes: text mode would turn each \r into a newline
    assert r.returncode == 0, err
    assert "\rloading: " in err and "12.0 MiB / 12.0 MiB" in err and "\rwriting a.npy" in err, err
    assert err.endswith("\n") and "wrote a of " in r.stdout.decode()
    assert np.array_equal(np.load(target), a)


# -- ProgressLine itself -----------------------------------------------------------------------------
def test_the_line_redraws_a_long_step_that_does_not_call_back():
    """A stage of unknown size (serialising one big DataFrame) still shows it runs."""
    stream = io.StringIO()
    drawn = threading.Event()

    class Watch(io.StringIO):
        def write(self, s: str) -> int:
            n = stream.write(s)
            if stream.getvalue().count("\r") >= 3:
                drawn.set()
            return n

    line = ProgressLine(Watch(), after=0, every=0.01)
    line("serialising", 0, 0)  # one call, then silence: the ticker redraws
    assert drawn.wait(30), stream.getvalue()
    line("storing", 5, 10)
    line("storing", 10, 10)
    line.close()
    text = stream.getvalue()
    assert text.count("\rserialising… ") >= 3 and "\rstoring: 10 B / 10 B" in text and text.endswith("\n")
    assert text.count("\n") == 1  # one line, rewritten in place


@pytest.mark.parametrize("value, after", [("0", 0.0), ("2.5", 2.5), ("", 1.0), ("soon", 1.0), ("-3", 0.0)])
def test_the_threshold_comes_from_the_environment(monkeypatch, value, after):
    monkeypatch.setenv(AFTER_ENV, value)
    assert ProgressLine(io.StringIO()).after == after


def test_the_words_of_the_line():
    from jupyter_mvc.present.progress import line

    assert line("serialising", 0, 0, 3.7) == "serialising… 3 s"
    assert line("storing", 122, 100 * MIB, 0.2) == "storing: 122 B / 100.0 MiB"  # no rate in a stage's first second
    assert line("storing", 50 * MIB, 100 * MIB, 2.0) == "storing: 50.0 MiB / 100.0 MiB, 25.0 MiB/s, 3 s left"
    assert line("loading", 100 * MIB, 100 * MIB, 4.0) == "loading: 100.0 MiB / 100.0 MiB, 25.0 MiB/s"

"""Text and views from versions with hostile or malformed contents: control characters are
escaped before they reach a terminal, and values of the wrong type are shown as what they
are, never raised on (present/ is the one place that formats)."""

from __future__ import annotations

import json

import pytest

from jupyter_mvc.objects import (
    Manifest,
    Stream,
    TensorDelta,
    VariableChange,
    VariableEntry,
    Version,
    VersionDiff,
    VersionInfo,
)
from jupyter_mvc.present import fmt, history, text, views

ESC = "\x1b]0;pwned\x07\x1b[2J"


@pytest.mark.parametrize(
    "raw,shown",
    [
        ("plain text", "plain text"),
        ("a\x1b[31mred", "a\\x1b[31mred"),
        ("bell\x07", "bell\\x07"),
        ("nul\x00del\x7f", "nul\\x00del\\x7f"),
        ("c1 csi \x9b2J", "c1 csi \\x9b2J"),
        ("bidi \u202eevil", "bidi \\u202eevil"),
        ("two\nlines\r", "two\\x0alines\\x0d"),
        ("émoji ✓ 日本", "émoji ✓ 日本"),
    ],
)
def test_printable_escapes_controls(raw, shown):
    assert fmt.printable(raw) == shown


def test_printable_multiline_keeps_newlines_and_tabs_only():
    assert fmt.printable("line 1\n\tline 2\x1b[A\r", multiline=True) == "line 1\n\tline 2\\x1b[A\\x0d"
    assert fmt.printable(42) == "42"


def _info(**kw) -> VersionInfo:
    base = dict(id="a" * 40, parents=(), message="msg", author="someone", time=0)
    return VersionInfo(**{**base, **kw})


def _entry(name: str, summary) -> VariableEntry:
    s = Stream(0, (), 1)
    return VariableEntry(name, "int", "pickle5", 5, summary, "c" * 64, s)


def test_log_line_escapes_message_branch_tag_and_metric_names():
    info = _info(
        message=f"subject {ESC}\nbody",
        branches=(f"b{ESC}",),
        tags=(f"t{ESC}",),
        metrics={f"m{ESC}": 1.5, "acc": "not a number"},
        is_head=True,
    )
    line = history.log_line(info, None, now=10.0)
    assert "\x1b" not in line and "\x07" not in line and "\n" not in line
    assert "subject \\x1b]0;pwned\\x07\\x1b[2J" in line and "tag: t\\x1b" in line and "m\\x1b" in line
    assert "acc=not a number" in line


def test_version_lines_survive_malformed_metrics_params_and_summaries():
    version = Version(
        info=_info(message=f"first {ESC}\nsecond line", author=f"me{ESC}", time="not a time"),  # type: ignore[arg-type]
        manifest=Manifest({f"v{ESC}": _entry(f"v{ESC}", ["not", "a", "dict"]), "ok": _entry("ok", {"shape": [2]})}),
        metrics={"scalars": [1, 2], "series": {"loss": "abc", f"s{ESC}": [[0, 1.0]]}},
        params=["not", "a", "dict"],  # type: ignore[arg-type]
        env={},
        files=(f"f{ESC}",),
    )
    out = "\n".join(text.version_lines(version))
    assert "\x1b" not in out and "\x07" not in out
    assert "    first \\x1b]0;pwned\\x07\\x1b[2J\n    second line" in out  # the body stays multi-line
    assert "v\\x1b]0;pwned" in out and "shape=[2]" in out and "f\\x1b" in out
    assert "loss (0 points)" in out and "date    ?" in out


def test_diff_lines_escape_and_tolerate_odd_pairs():
    change = VariableChange(
        f"w{ESC}",
        "changed",
        {"shape": [2]},
        "not a dict",  # type: ignore[arg-type]
        (TensorDelta(f"p{ESC}", (2,), (3,), None, None, None), TensorDelta("q", (2,), (2,), 1, 2, "x")),  # type: ignore[arg-type]
    )
    d = VersionDiff(
        old=_info(message=f"old {ESC}"),
        new=_info(message="new"),
        variables=(change, VariableChange(f"u{ESC}", "unchanged", {}, {})),
        params={f"k{ESC}": ("a", f"b{ESC}"), "odd": "not a pair"},
        metrics={},
    )
    out = "\n".join(text.diff_lines(d))
    assert "\x1b" not in out and "\x07" not in out
    assert "w\\x1b" in out and "p\\x1b" in out and "u\\x1b" in out and "k\\x1b" in out
    assert "q: 1/2 elements changed" in out and "odd: None -> not a pair" in out


def test_series_lines_skip_what_is_not_a_curve():
    series = {"loss": "abc", "acc": [[0, 1.0], "x", [1], [2, None], [3, 2.0]], f"e{ESC}": [[0, 1]], "none": None}
    out = text.series_lines(f"v {ESC}", series)
    assert len(out) == 2 and all("\x1b" not in line for line in out)
    assert any("acc: 5 points, 1 -> 2" in line for line in out)
    assert text.series_lines("v", ["not", "a", "dict"]) == []  # type: ignore[arg-type]


def test_views_tolerate_non_dict_summaries_and_metrics():
    version = Version(
        info=_info(metrics={"nan": float("nan")}),
        manifest=Manifest({"x": _entry("x", "a string")}),
        metrics="not a dict",  # type: ignore[arg-type]
        params={},
        env={},
        files=(),
    )
    view = views.version_view(version)
    assert view["variables"][0]["summary_line"] == "" and view["series"] == {}
    json.dumps(view, allow_nan=False)  # what the server sends must be JSON
    d = VersionDiff(_info(), _info(), (VariableChange("x", "changed", None, 5),), {}, {})  # type: ignore[arg-type]
    assert views.diff_view(d)["variables"][0]["new_line"] == ""

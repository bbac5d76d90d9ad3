"""What a saved notebook keeps of each widget: beside the widget's view, a static
rendering (`text/html`, its root marked `mvc-static`) that nbconvert and GitHub show, and
that the lab extension shows where the live widget is gone (labextension/src/fallback.ts;
the browser side is tests/ui/test_narrow_layout.py and test_notebook7.py)."""

from __future__ import annotations

import html

import numpy as np
import pytest

pytest.importorskip("anywidget", reason="anywidget is not installed (pip install anywidget)")

from jupyter_mvc.widgets import curves_widget, runs_widget, timeline_widget  # noqa: E402

VIEW = "application/vnd.jupyter.widget-view+json"


def data(bundle):
    return bundle[0] if isinstance(bundle, tuple) else bundle  # anywidget: (data, metadata)


@pytest.fixture
def history(repo):
    repo.commit({"w": np.zeros(4)}, "baseline", metrics={"loss": [0.9, 0.5], "acc": 0.7}, params={"lr": 0.1})
    repo.refs.create_tag("best-acc")
    repo.commit(
        {"w": np.ones(4)},
        "a long message <b>not markup</b>",
        metrics={"loss": [0.8, 0.4], "acc": 0.8},
        params={"lr": 0.5},
    )
    return repo


def test_the_timeline_saves_its_page_and_the_selected_versions_details(history):
    t = timeline_widget(history)
    bundle = data(t._repr_mimebundle_())
    assert VIEW in bundle
    static = bundle["text/html"]
    assert static.startswith("<div class='mvc-static mvc-timeline-static'>")
    assert html.escape("a long message <b>not markup</b>") in static and "<b>not markup</b>" not in static
    assert "tag: best-acc" in static and "baseline" in static
    assert "diff" in static and "lr" in static  # the details of the selection (HEAD): its diff to its parent
    assert "🏷" not in static


def test_the_curves_and_the_runs_table_save_theirs(history):
    c = curves_widget(history, ["HEAD~1", "HEAD"])
    static = data(c._repr_mimebundle_())["text/html"]
    assert static.startswith("<div class='mvc-static mvc-curves-static'><img") and "data:image/png;base64," in static
    r = runs_widget(history)
    static = data(r._repr_mimebundle_())["text/html"]
    assert static.startswith("<div class='mvc-static mvc-runs-static'>") and "baseline" in static


def test_the_timeline_controls_fit_a_narrow_column(history):
    t = timeline_widget(history)
    buttons = [t.newer, t.older, t.more, t.checkout_button, t.compare_button, t.plot_button]
    assert all(b.layout.width == "auto" and b.layout.min_width == "max-content" for b in buttons)
    assert "◀" not in t.newer.description and "▶" not in t.older.description
    assert t.compare_picker.layout.max_width == "100%"
    # the curves come before the details, so a long diff never pushes them out of view
    assert t.children.index(t.extra) < t.children.index(t.details_html)

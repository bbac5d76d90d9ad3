"""Which way is better for a metric: by its name, and by a repository's own goals; and the
views that mark the best value (compare table, timeline rows, series digests) following
it. Fixed data: no git, no widgets."""

from __future__ import annotations

import pytest

from jupyter_mvc.objects import Manifest, Version, VersionInfo
from jupyter_mvc.present import fmt, views
from jupyter_mvc.widgets import curves_data
from jupyter_mvc.widgets.timeline_data import best_values, timeline_state


def info(sha: str, t: int, **metrics) -> VersionInfo:
    return VersionInfo(id=sha * 40, parents=(), message=f"run {sha}", author="A", time=t, metrics=metrics)


def version(sha: str, params: dict, scalars: dict, series: dict | None = None) -> Version:
    return Version(
        info=info(sha, 1000),
        manifest=Manifest({}),
        metrics={"scalars": scalars, "series": series or {}},
        params=params,
        env={},
        files=(),
    )


@pytest.mark.parametrize(
    "name",
    [
        "loss",
        "val_loss",
        "train-loss",
        "val/loss",
        "log_loss",
        "model.loss_curve",
        "mse",
        "mae",
        "rmse",
        "val_rmse",
        "error_rate",
        "mean_squared_error",
        "merror",
        "deviance",
        "train_deviance",
        "perplexity",
        "val_perplexity",
        "gbr.oob_scores",  # GradientBoosting.oob_scores_: out-of-bag *losses*
        "oob_scores",
        "lgbm.valid_0.l2",  # LightGBM's mse
        "xgb.validation_0.mlogloss",
    ],
)
def test_losses_and_errors_are_lower_is_better(name):
    assert fmt.goal(name) == "min"
    assert fmt.lower_is_better(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "acc",
        "accuracy",
        "val_accuracy",
        "score",
        "f1",
        "f1_score",
        "r2",
        "auc",
        "roc_auc",
        "precision",
        "recall",
        "rf.oob_score",  # RandomForest.oob_score_: accuracy or R²
        "oob_score",
        "neg_mean_squared_error",  # scikit-learn's scorers negate losses: greater is better
        "neg_log_loss",
        "model.validation_scores",
    ],
)
def test_accuracies_and_scores_are_higher_is_better(name):
    assert fmt.goal(name) == "max"
    assert fmt.lower_is_better(name) is False


def test_a_repository_goal_wins_over_the_name():
    goals = {"val_score": "min", "loss": "max"}
    assert fmt.goal("val_score", goals) == "min"
    assert fmt.goal("loss", goals) == "max"
    assert fmt.goal("loss (last)", goals) == "max"  # a compare column follows its metric
    assert fmt.goal("acc", goals) == "max" and fmt.goal("val_loss", goals) == "min"  # others: by name
    assert fmt.goal("val_score", {"val_score": "sideways"}) == "max"  # a damaged entry is ignored
    assert fmt.best("val_score", [0.3, 0.1, 0.2], goals) == 0.1
    assert fmt.best("val_score", [0.3, 0.1, 0.2]) == 0.3
    assert fmt.best("loss", [0.3, None, True, float("nan"), "x", 0.1]) == 0.1  # non-numbers skipped


def test_compare_table_best_follows_the_goals_and_never_ranks_params():
    runs = [
        version("a", {"lr": 0.1, "loss_weight": 1.0}, {"val_score": 0.9}, {"loss": [[0, 2.0], [1, 0.5]]}),
        version("b", {"lr": 1.0, "loss_weight": 2.0}, {"val_score": 0.4}, {"loss": [[0, 2.0], [1, 0.7]]}),
    ]
    by_name = curves_data.compare_table(runs, ["a", "b"])
    assert by_name["best"] == {"val_score": [0], "loss (last)": [0]}
    chosen = curves_data.compare_table(runs, ["a", "b"], {"val_score": "min", "loss": "max"})
    assert chosen["best"] == {"val_score": [1], "loss (last)": [1]}
    columns = {c["name"]: c for c in chosen["columns"]}
    assert columns["val_score"]["lower_is_better"] is True and columns["loss (last)"]["lower_is_better"] is False
    assert columns["lr"]["lower_is_better"] is None and columns["loss_weight"]["lower_is_better"] is None
    assert "lr" not in chosen["best"] and "loss_weight" not in chosen["best"]


def test_timeline_rows_mark_the_best_metric_by_its_goal():
    infos = [info("c", 3, loss=0.5, acc=0.7), info("b", 2, loss=0.2, acc=0.9), info("a", 1, loss=0.9)]
    rows = {r["id"][0]: r for r in timeline_state(infos)["rows"]}
    assert rows["b"]["best"] == ["loss", "acc"] and rows["c"]["best"] == [] and rows["a"]["best"] == []
    rows = {r["id"][0]: r for r in timeline_state(infos, goals={"loss": "max", "acc": "min"})["rows"]}
    assert rows["a"]["best"] == ["loss"] and rows["c"]["best"] == ["acc"] and rows["b"]["best"] == []
    assert best_values([info("a", 1, loss=0.1)]) == {}  # one value is not a comparison


def test_series_digest_best_follows_the_goals():
    v = version("a", {}, {}, {"val_score": [[0, 0.5], [1, 0.2], [2, 0.3]]})
    assert views.version_view(v)["series"]["val_score"]["best"] == 0.5
    assert views.version_view(v, {"val_score": "min"})["series"]["val_score"]["best"] == 0.2

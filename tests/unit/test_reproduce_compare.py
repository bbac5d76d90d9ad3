"""The comparison behind `reproduce`, without kernels: leaves of values (the same cut on
both sides), max |delta|, the verdict per variable, metrics, DataFrames, and history.py
parsing with jupyter_mvc's magics taken out."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jupyter_mvc.reproduction import cells, compare, probe


def judge_values(stored, produced, tolerance=0.0):
    return compare.judge(
        "x",
        present=True,
        same_id=False,
        tolerance=tolerance,
        stored=probe.leaves(stored),
        produced=probe.leaves(produced),
    )


def test_missing_and_bit_identical_need_no_values():
    assert compare.judge("x", present=False, same_id=False, tolerance=0).status == "missing"
    r = compare.judge("x", present=True, same_id=True, tolerance=0)
    assert (r.status, r.detail, r.max_delta) == ("reproduced", "bit-identical", 0.0)


def test_arrays_exact_at_zero_tolerance_and_within_a_tolerance():
    a = np.linspace(0, 1, 10)
    b = a.copy()
    b[3] += 1e-9
    r = judge_values(a, b)
    assert r.status == "differs" and r.max_delta == pytest.approx(1e-9, rel=1e-3) and "max |Δ|" in r.detail
    r = judge_values(a, b, tolerance=1e-6)
    assert r.status == "reproduced" and r.detail.startswith("within tolerance")
    assert judge_values(a, a.copy()).detail.startswith("equal by value")


def test_shape_dtype_and_structure_mismatches_differ_whatever_the_tolerance():
    assert "shape" in judge_values(np.zeros(3), np.zeros(4), tolerance=10).detail
    assert "dtype" in judge_values(np.zeros(3), np.zeros(3, dtype=np.float32), tolerance=10).detail
    assert "structure" in judge_values({"a": 1.0}, {"b": 1.0}, tolerance=10).detail
    assert judge_values("text", "other", tolerance=10).status == "differs"


def test_nan_positions_must_agree():
    assert compare.max_abs_delta(np.array([np.nan, 1.0]), np.array([np.nan, 1.0])) == 0.0
    assert math.isinf(compare.max_abs_delta(np.array([np.nan, 1.0]), np.array([0.0, 1.0])))
    assert judge_values(np.array([np.nan]), np.array([0.0]), tolerance=1e9).status == "differs"
    assert compare.max_abs_delta(np.array([np.inf]), np.array([np.inf])) == 0.0


def test_sets_compare_by_value_not_by_pickled_order():
    assert judge_values({"b", "a", "c"}, {"c", "a", "b"}).status == "reproduced"
    assert judge_values({"a"}, {"b"}).status == "differs"


def test_nested_containers_and_scalars():
    stored = {"w": np.ones(2), "meta": ["x", 3, None], "lr": 0.1}
    produced = {"w": np.ones(2) * 1.5, "meta": ["x", 3, None], "lr": 0.1}
    r = judge_values(stored, produced, tolerance=0.1)
    assert r.status == "differs" and r.max_delta == pytest.approx(0.5)
    assert judge_values(stored, produced, tolerance=0.5).status == "reproduced"


def test_objects_known_only_in_part_are_not_called_equal_on_their_arrays_alone():
    class Model:  # an unknown object: no leaves at all
        pass

    assert judge_values(Model(), Model()).detail == "content differs"
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Linear(2, 1)
    same = torch.nn.Linear(2, 1)
    same.load_state_dict(net.state_dict())
    r = judge_values(net, same)  # ids differed (the caller says so), arrays equal: something else differs
    assert r.status == "differs" and "arrays are identical" in r.detail
    with torch.no_grad():
        same.weight += 1e-4
    assert judge_values(net, same, tolerance=1e-3).status == "reproduced"
    assert judge_values(net, same).status == "differs"


def test_estimators_compare_by_params_and_fitted_attributes():
    pytest.importorskip("sklearn")
    from sklearn.linear_model import LinearRegression

    X, y = np.arange(8.0).reshape(4, 2), np.array([1.0, 2.0, 3.0, 5.0])
    assert judge_values(LinearRegression().fit(X, y), LinearRegression().fit(X, y)).status == "reproduced"
    other = LinearRegression(fit_intercept=False).fit(X, y)
    assert judge_values(LinearRegression().fit(X, y), other, tolerance=100).status == "differs"


def test_torch_tensors_including_dtypes_numpy_lacks():
    torch = pytest.importorskip("torch")
    a = torch.ones(3, dtype=torch.bfloat16)
    assert judge_values(a, a.clone()).status == "reproduced"
    assert judge_values(a, a * 2).max_delta == 1.0


def test_frames_use_pandas_testing():
    pd = pytest.importorskip("pandas")
    a = pd.DataFrame({"x": [1.0, 2.0], "y": ["a", "b"]})
    b = a.copy()
    b.loc[1, "x"] = 2.001
    assert compare.compare_frames(a, a.copy(), 0.0) is None
    assert compare.compare_frames(a, b, 0.0)
    assert compare.compare_frames(a, b, 0.01) is None
    assert compare.compare_frames(a["x"], a[["x"]], 0.0) is None  # a Series travels as a one-column frame
    r = compare.judge("df", present=True, same_id=False, tolerance=0, frame_difference=compare.compare_frames(a, b, 0))
    assert r.status == "differs"


def test_metrics():
    got = compare.compare_metrics({"acc": 0.9, "loss": 0.5, "f1": 0.7}, {"acc": 0.9, "loss": 0.52}, 0.01)
    assert [(m.name, m.status) for m in got] == [("acc", "reproduced"), ("loss", "differs"), ("f1", "missing")]
    assert compare.compare_metrics({"acc": 0.9}, None, 0)[0].status == "missing"
    assert compare.compare_metrics({"acc": 0.9}, {"acc": 0.91}, 0.05)[0].status == "reproduced"


HISTORY = """# Cells executed in this kernel, oldest first (recorded by jupyter_mvc).

# In[1]:
%load_ext jupyter_mvc

# In[2]:
import numpy as np
for lr in [0.1, 0.2]:
    w = lr
    %mv_commit w -m "lr={lr}" --metric lr={lr}

# In[4]:
%mv_log
print('# In[9]: not a marker')
"""


def test_history_cells_and_magic_stand_ins():
    parsed = cells.parse_history(HISTORY)
    assert [c.number for c in parsed] == [1, 2, 4]
    runnable, skipped = cells.strip_own_magics(parsed)
    assert skipped == ["%load_ext jupyter_mvc", '%mv_commit w -m "lr={lr}" --metric lr={lr}', "%mv_log"]
    assert "%" not in runnable[1].source and "    __import__(" in runnable[1].source  # indentation kept
    compile(runnable[1].source, "<cell>", "exec")  # still Python
    assert "print('# In[9]: not a marker')" in runnable[2].source
    assert cells.is_commit(skipped[1]) and not cells.is_commit(skipped[2])


def test_commit_line_arguments():
    message, metrics = probe._commit_args('%mv_commit W b -m "softmax GD lr=0.5" --param lr=0.5 --metric acc=0.93')
    assert message == "softmax GD lr=0.5" and metrics == {"acc": 0.93}
    assert probe._commit_args("%mv_commit -m 'unclosed") == (None, {})

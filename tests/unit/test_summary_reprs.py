"""Variable summaries that say something: a DataFrame as shape + columns (not its rows
flattened onto one line), an object whose repr is only `<x.Y object at 0x...>` as its
class and plain attributes, an optimizer as its settings; and summary lines of older
manifests that still hold such reprs leave them out."""

from __future__ import annotations

import pytest

from jupyter_mvc.codecs.summary import summarize, useless_repr
from jupyter_mvc.objects import summary_line


class Schedule:
    def __init__(self):
        self.T_max, self.eta_min, self.base_lrs = 10, 0.0, [0.01]
        self._private = 1
        self.optimizer = object()  # not a plain value: left out


class Slotted:
    __slots__ = ("a",)

    def __init__(self):
        self.a = 1


def test_an_object_without_a_useful_repr_shows_its_class_and_plain_attributes():
    s = summarize(Schedule())
    assert s["repr"] == "Schedule(T_max=10, eta_min=0.0, base_lrs=[0.01])"
    assert summary_line(s) == "repr=Schedule(T_max=10, eta_min=0.0, base_lrs=[0.01])"
    assert summarize(Slotted())["repr"] == "Slotted()"
    assert summarize([1, 2])["repr"] == "[1, 2]"  # a useful repr is kept as it is


def test_many_attributes_are_cut_to_the_first_few():
    obj = Schedule()
    for i in range(10):
        setattr(obj, f"x{i}", i)
    text = summarize(obj)["repr"]
    assert text.endswith(", …)") and text.count("=") == 6


def test_a_dataframe_is_shape_and_columns_and_a_series_length_dtype_and_name():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"feature": [1.0, 2.0, 3.0], "target": [0.5, 1.5, 2.5]})
    s = summarize(frame)
    assert s == {"shape": [3, 2], "columns": ["feature", "target"]}
    assert summary_line(s) == "shape=[3, 2] columns=['feature', 'target']"
    series = summarize(frame["target"])
    assert series == {"length": 3, "dtype": "float64", "name": "target"}


def test_a_torch_optimizer_shows_its_parameters_and_settings():
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(4, 2)
    opt = torch.optim.AdamW(net.parameters(), lr=0.01)
    s = summarize(opt)
    assert s["parameters"] == 10 and s["params"]["lr"] == "0.01"
    assert s["repr"].startswith("AdamW(lr=0.01, ") and s["repr"].endswith("1 group)")
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    text = summarize(sched)["repr"]
    assert text.startswith("CosineAnnealingLR(T_max=10") and "object at 0x" not in text


def test_older_summaries_leave_out_reprs_that_say_nothing_or_flatten_a_table():
    default = "<torch.optim.lr_scheduler.CosineAnnealingLR object at 0x7f3101e95390>"
    assert useless_repr(default) and not useless_repr("Ridge(alpha=10.0)")
    assert summary_line({"repr": default}) == ""
    flattened = {"shape": [3, 2], "columns": ["a", "b"], "repr": "a b 0 1 2 1 3 4"}
    assert summary_line(flattened) == "shape=[3, 2] columns=['a', 'b']"
    series = {"length": 3, "dtype": "float64", "repr": "0 1.0 1 2.0 Name: x, dtype: float64"}
    assert summary_line(series) == "dtype=float64 length=3"
    assert summary_line({"shape": [2], "dtype": "int64", "repr": "array([1, 2])"}).endswith("repr=array([1, 2])")

"""Everyday notebook objects must come back from `encode` -> `decode` with no `allow=` and
no trust: random generators (the draws after a restore equal the original's), dates and
time zones, paths, enums, collections, the notebook's own dataclasses and enums, a
scikit-learn pipeline, pandas frames, torch optimizers, schedulers and the AMP scaler.

Each object goes through the codec `encode` picks and through the pickle codec forced
(the budgeted safe unpickler), so a data-only codec taking some of them over does not
hide a gap in the unpickler.
"""

from __future__ import annotations

import collections
import datetime
import http
import inspect
import pathlib
import random
import re
import subprocess
import sys
import textwrap
import zoneinfo

import numpy as np
import pytest

from jupyter_mvc.codecs import decode, encode

FORCED = {"codec": "pickle5"} if "codec" in inspect.signature(encode).parameters else {}
CODECS = ["auto", "pickle"] if FORCED else ["auto"]


def round_trip(obj, how: str):
    enc = encode("x", obj, **(FORCED if how == "pickle" else {}))
    kw = {"codec": enc.codec} if hasattr(enc, "codec") else {}
    return decode(enc.skeleton, [bytearray(b) for b in enc.buffers], variable="x", version="abc12345", **kw)


@pytest.fixture(params=CODECS)
def how(request):
    return request.param


def test_numpy_generators_continue_where_they_were(how):
    rng = np.random.default_rng(0)
    rng.random(7)  # advanced between commits
    legacy = np.random.RandomState(3)
    legacy.randint(0, 10, 5)
    philox = np.random.Generator(np.random.Philox(5))
    out_rng, out_legacy, out_philox = round_trip([rng, legacy, philox], how)
    assert np.array_equal(out_rng.random(5), rng.random(5))
    assert np.array_equal(out_legacy.randint(0, 100, 5), legacy.randint(0, 100, 5))
    assert np.array_equal(out_philox.integers(0, 1000, 5), philox.integers(0, 1000, 5))
    seq = np.random.SeedSequence(42)
    assert np.array_equal(round_trip(seq, how).generate_state(4), seq.generate_state(4))


def test_python_random_state_and_generator(how):
    gen = random.Random(5)
    gen.random()
    out_gen, out_state = round_trip([gen, gen.getstate()], how)
    assert [out_gen.random() for _ in range(3)] == [gen.random() for _ in range(3)]
    other = random.Random()
    other.setstate(out_state)
    assert other.getstate() == out_state


@pytest.mark.requires_torch
def test_torch_rng_state(how):
    import torch

    torch.manual_seed(1)
    torch.rand(3)
    state = torch.get_rng_state()
    expected = torch.rand(4)
    torch.set_rng_state(round_trip(state, how))
    assert torch.equal(torch.rand(4), expected)


def test_dates_times_and_zones(how):
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    value = [
        datetime.datetime(2024, 3, 31, 2, 30, tzinfo=paris),
        datetime.datetime.now(datetime.timezone.utc),
        datetime.date(2024, 2, 29),
        datetime.time(23, 59, 59, 999999),
        datetime.timedelta(days=-1, microseconds=5),
        datetime.timezone(datetime.timedelta(hours=5, minutes=30), "IST"),
        paris,
    ]
    out = round_trip(value, how)
    assert out == value and out[-1] is paris and out[0].tzinfo is paris


def test_paths_enums_and_collections(how):
    value = {
        "paths": [pathlib.Path("/data/x.csv"), pathlib.PurePosixPath("a/b"), pathlib.PureWindowsPath("C:/x")],
        "enums": [http.HTTPStatus.NOT_FOUND, re.IGNORECASE | re.VERBOSE],
        "od": collections.OrderedDict(b=1, a=2),
        "dd": collections.defaultdict(list, {"k": [1]}),
        "counter": collections.Counter("abracadabra"),
        "deque": collections.deque([1, 2, 3], maxlen=5),
        "chain": [frozenset({1}), range(2, 9, 3), slice(1, None), 3 + 4j, b"\x00", bytearray(b"ab")],
    }
    out = round_trip(value, how)
    assert out == value
    assert type(out["dd"]) is collections.defaultdict and out["dd"].default_factory is list
    assert out["deque"].maxlen == 5 and list(out["od"]) == ["b", "a"]


MAIN_SCRIPT = textwrap.dedent(
    """
    import collections, dataclasses, enum, inspect, sys
    from jupyter_mvc.codecs import decode, encode

    class Color(enum.Enum):
        RED = 1
        BLUE = 2

    class Perm(enum.IntFlag):
        R = 4
        W = 2

    @dataclasses.dataclass
    class Run:
        lr: float
        tags: list
        color: Color = Color.RED

    @dataclasses.dataclass(frozen=True, slots=True)
    class Point:
        x: int
        y: int

    Pair = collections.namedtuple("Pair", "a b")

    value = [Run(0.1, ["a"], Color.BLUE), Point(1, 2), Pair(1, [2]), Perm.R | Perm.W, Color.RED]
    forced = {"codec": "pickle5"} if "codec" in inspect.signature(encode).parameters else {}
    for kw in ({}, forced):
        enc = encode("v", value, **kw)
        out = decode(enc.skeleton, enc.buffers, codec=getattr(enc, "codec", "pickle5"), variable="v", version="1")
        assert out == value, (out, value)
        assert type(out[0]) is Run and out[0].color is Color.BLUE and out[4] is Color.RED
    print("OK")
    """
)


def test_dataclasses_enums_and_namedtuples_defined_in_main():
    proc = subprocess.run([sys.executable, "-c", MAIN_SCRIPT], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "OK", proc.stderr[-3000:]


def test_sklearn_pipeline_with_column_transformer(how):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("sklearn")
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    df = pd.DataFrame({"c": list("abcab") * 4, "x": np.arange(20.0), "y": [0, 1] * 10})
    pipe = Pipeline(
        [
            (
                "prep",
                ColumnTransformer(
                    [("oh", OneHotEncoder(handle_unknown="ignore"), ["c"]), ("sc", StandardScaler(), ["x"])]
                ),
            ),
            ("lr", LogisticRegression()),
        ]
    ).fit(df[["c", "x"]], df["y"])
    out = round_trip(pipe, how)
    assert np.array_equal(out.predict_proba(df[["c", "x"]]), pipe.predict_proba(df[["c", "x"]]))


def test_pandas_categorical_datetime_tz_and_multiindex(how):
    pd = pytest.importorskip("pandas")
    index = pd.MultiIndex.from_product([["x", "y"], [1, 2]], names=["k", "n"])
    df = pd.DataFrame(
        {
            "cat": pd.Categorical(list("abca"), categories=list("cba"), ordered=True),
            "when": pd.date_range("2024-03-30", periods=4, freq="D", tz="Europe/Paris"),
            "naive": pd.date_range("2024-01-01", periods=4, freq="h"),
            "delta": pd.to_timedelta([1, 2, 3, 4], unit="s"),
            "s": ["p", None, "r", "s"],
            "f": [0.5, np.nan, 1.5, 2.5],
        },
        index=index,
    )
    out = round_trip(df, how)
    pd.testing.assert_frame_equal(out, df)
    series = pd.Series(pd.Categorical(["u", "v"]), index=pd.DatetimeIndex(["2024-01-01", "2024-01-02"], tz="UTC"))
    pd.testing.assert_series_equal(round_trip(series, how), series)


def assert_same_state(a, b):
    import torch

    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            assert_same_state(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same_state(x, y)
    else:
        assert a == b or (a != a and b != b), (a, b)


@pytest.mark.requires_torch
def test_torch_optimizers_schedulers_and_grad_scaler(how):
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)

    def step(optimizer):
        optimizer.zero_grad()
        model(torch.randn(8, 4)).pow(2).mean().backward()
        optimizer.step()

    adamw = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    schedulers = [
        torch.optim.lr_scheduler.CosineAnnealingLR(sgd, T_max=10),
        torch.optim.lr_scheduler.StepLR(torch.optim.SGD(model.parameters(), lr=0.1), step_size=3),
        torch.optim.lr_scheduler.OneCycleLR(torch.optim.SGD(model.parameters(), lr=0.1), max_lr=1.0, total_steps=20),
    ]
    for _ in range(3):
        step(adamw)
        step(sgd)
        for sched in schedulers:
            sched.optimizer.step()
            sched.step()
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    everything = {"model": model, "adamw": adamw, "sgd": sgd, "schedulers": schedulers, "scaler": scaler}
    out = round_trip(everything, how)
    assert type(out["adamw"]) is torch.optim.AdamW and type(out["sgd"]) is torch.optim.SGD
    assert_same_state(out["adamw"].state_dict(), adamw.state_dict())
    assert_same_state(out["sgd"].state_dict(), sgd.state_dict())
    for a, b in zip(out["schedulers"], schedulers):
        assert type(a) is type(b)
        assert_same_state(a.state_dict(), b.state_dict())
        assert a.get_last_lr() == b.get_last_lr()
    assert_same_state(out["scaler"].state_dict(), scaler.state_dict())
    # the optimizer still drives the restored model's own parameters
    assert all(p is q for p, q in zip(out["adamw"].param_groups[0]["params"], out["model"].parameters()))

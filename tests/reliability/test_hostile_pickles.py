"""Crafted pickle streams against the safe loader, each in a fresh process: the loader must
refuse them with our error (naming the variable and version) and the process must exit
normally - no SIGSEGV, no abort, no MemoryError kill, nothing run or left behind.

Where a stream is crafted to corrupt memory or exhaust it, a baseline run with
trust=True (stock pickle) shows it really reaches the dangerous code: it crashes, hangs
or loads a bad object, where the safe loader refuses it.
"""

from __future__ import annotations

import copyreg
import fractions
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

CHILD = textwrap.dedent(
    """
    import sys
    from jupyter_mvc.codecs import decode
    from jupyter_mvc.errors import MvcError

    stream, marker, trust = sys.argv[1], sys.argv[2], sys.argv[3] == "trust"
    data = open(stream, "rb").read()
    try:
        obj = decode(data, [], trust=trust, variable="victim", version="abc12345")
    except MvcError as exc:
        print("REFUSED", type(exc).__name__, exc)
        sys.exit(0)
    repr(obj)
    open(marker, "w").write("loaded")
    print("LOADED", type(obj).__name__)
    """
)


class Crafted:
    """Pickles as the reduce tuple it is given, even NEWOBJ of a class it is not."""

    def __init__(self, *reduce):
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce

    @property
    def __class__(self):  # the pickler checks NEWOBJ's class against obj.__class__
        return self.reduce[1][0] if self.reduce[0] is copyreg.__newobj__ else Crafted


def _block_manager_legacy_state():
    from pandas.core.internals.managers import BlockManager

    state = (
        [],
        [],
        [],
        {
            "0.14.1": {
                "axes": [pd.Index(["a"]), pd.RangeIndex(2)],
                "blocks": [{"values": np.ones((1, 2)), "mgr_locs": np.array([1 << 40])}],
            }
        },
    )
    return pickle.dumps(Crafted(copyreg.__newobj__, (BlockManager,), state), protocol=5)


def _unpickle_block_placement():
    from pandas._libs.internals import _unpickle_block
    from pandas.core.internals.managers import BlockManager

    block = Crafted(_unpickle_block, (np.ones((1, 3)), np.array([1 << 40]), 2))
    manager = Crafted(BlockManager, ((block,), [pd.Index(["a"]), pd.RangeIndex(3)]))
    return pickle.dumps(manager, protocol=5)


def _dtype_field_offset():
    dtype = Crafted(np.dtype, ("V8", False, True), (3, "|", None, ("a",), {"a": (np.dtype("O"), 1 << 30)}, 8, 1, 63))
    array = Crafted(np._core.multiarray._reconstruct, (np.ndarray, (0,), "b"), (1, (4,), dtype, False, [None] * 4))
    return pickle.dumps(array, protocol=5)


def _categorical_codes():
    fn, args, state = pd.Categorical(["a", "b"]).__reduce_ex__(5)[:3]
    bad = tuple(np.array([1 << 40, 5], dtype=np.int64) if isinstance(x, np.ndarray) else x for x in state)
    return pickle.dumps(Crafted(fn, args, bad), protocol=5)


def _multiindex_codes():
    mi = pd.MultiIndex.from_tuples([(1, "a"), (2, "b")]).set_codes([[0, 120], [0, 1]], verify_integrity=False)
    return pickle.dumps(mi, protocol=5)


def _deep_deque(n=300_000):
    cls = b"\x8c\x0bcollections\x8c\x05deque\x93\x94"
    return b"\x80\x05" + cls + b"h\x00" * (n - 1) + b"N" + b"\x85\x85R" * n + b"."


def _bytearray_huge():
    return pickle.dumps(Crafted(bytearray, (1_500_000_000,)), protocol=5)


def _numpy_huge_shape():
    return pickle.dumps(Crafted(np._core.multiarray._reconstruct, (np.ndarray, (200_000_000,), "f8")), protocol=5)


def _fraction_huge_exponent():
    return pickle.dumps(Crafted(fractions.Fraction, ("1e300000000",)), protocol=5)


def _memo_huge_index():
    return b"\x80\x05N" + b"r" + (0xFFFFFFF0).to_bytes(4, "little") + b"."


def _tree_children():
    sklearn_tree = pytest.importorskip("sklearn.tree")
    X = np.random.default_rng(0).random((30, 3))
    tree = sklearn_tree.DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, X[:, 0] > 0.5).tree_
    cls, args, state = tree.__reduce__()
    nodes = state["nodes"].copy()
    nodes["left_child"][0] = 1 << 40
    return pickle.dumps(Crafted(cls, args, dict(state, nodes=nodes)), protocol=5)


CASES = {
    # name: (stream maker, words of the refusal, what the stock unpickler does with it)
    "block_manager_legacy_state": (_block_manager_legacy_state, "block placements", "crashes"),
    "unpickle_block_placement": (_unpickle_block_placement, "block placements", "loads"),
    "dtype_field_offset": (_dtype_field_offset, "dtype", "crashes"),
    "categorical_codes": (_categorical_codes, "Categorical's codes", "loads"),
    "multiindex_codes": (_multiindex_codes, "MultiIndex codes", "loads"),
    "deep_deque": (_deep_deque, "nesting depth", "crashes"),
    "bytearray_huge": (_bytearray_huge, "requested byte count", "loads"),
    "numpy_huge_shape": (_numpy_huge_shape, "bytes of an array", "loads"),
    "fraction_huge_exponent": (_fraction_huge_exponent, "exponent", "hangs"),
    "memo_huge_index": (_memo_huge_index, "memo index", None),
    "sklearn_tree_children": (_tree_children, "child index", "loads"),
}


def run_child(tmp_path, data: bytes, mode: str, timeout: float = 120):
    stream = tmp_path / f"stream-{mode}.pkl"
    stream.write_bytes(data)
    marker = tmp_path / f"LOADED-{mode}"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(stream), str(marker), mode],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None, marker
    return proc, marker


@pytest.mark.parametrize("case", sorted(CASES))
def test_crafted_stream_is_refused_in_a_fresh_process(case, tmp_path):
    make, words, _ = CASES[case]
    proc, marker = run_child(tmp_path, make(), "safe")
    assert proc is not None, "the safe loader hung"
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "REFUSED" in proc.stdout and words in proc.stdout, proc.stdout + proc.stderr[-2000:]
    assert "'victim'" in proc.stdout and "abc12345" in proc.stdout
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    "case", ["block_manager_legacy_state", "dtype_field_offset", "categorical_codes", "deep_deque"]
)
def test_the_stock_unpickler_is_really_hurt_by_the_same_stream(case, tmp_path):
    """The streams above are not harmless by accident: with trust=True they crash the
    process or load an object that breaks its invariants."""
    make, _, stock = CASES[case]
    proc, marker = run_child(tmp_path, make(), "trust", timeout=60)
    assert proc is not None and "REFUSED" not in proc.stdout
    if stock == "crashes":
        assert proc.returncode != 0
    else:
        assert proc.returncode != 0 or marker.exists()


def test_fraction_with_a_huge_exponent_would_spin(tmp_path):
    proc, _ = run_child(tmp_path, _fraction_huge_exponent(), "trust", timeout=5)
    assert proc is None  # still computing 10**300000000 after 5 s


def test_code_execution_gadget_never_runs(tmp_path):
    marker = tmp_path / "PWNED"
    import os

    data = pickle.dumps(Crafted(os.system, (f"touch {marker}",)), protocol=5)
    proc, loaded = run_child(tmp_path, data, "safe")
    assert proc.returncode == 0 and "UntrustedDataError" in proc.stdout and "posix.system" in proc.stdout
    assert not marker.exists() and not loaded.exists()

"""The safe loader's budgets: what a stream may cost is checked before any of it runs
(pickle_budget.scan), and constructors that allocate from their arguments are bounded by
the bytes the version stores (shims.py)."""

from __future__ import annotations

import collections
import decimal
import fractions
import pickle

import numpy as np
import pytest

from jupyter_mvc.codecs import decode
from jupyter_mvc.codecs.pickle_budget import Limits, Malformed, scan
from jupyter_mvc.codecs.safeload import safe_loads
from jupyter_mvc.errors import LoadBudgetError, MvcError, UnsafePickleError


class Reduce:
    def __init__(self, *reduce):
        self.reduce = reduce

    def __reduce__(self):
        return self.reduce


def load(data: bytes, buffers=(), **kw):
    return safe_loads(data, buffers=list(buffers), variable="v", version="abc12345", **kw)


def refused(data: bytes, error=LoadBudgetError, words: str = "", **kw):
    with pytest.raises(error) as err:
        load(data, **kw)
    text = str(err.value)
    assert "'v'" in text and "abc12345" in text and words in text, text
    assert "trust=True" in text
    return err.value


# ---- nesting -----------------------------------------------------------------------


def test_nested_lists_built_on_the_stack_are_refused():
    n = 300_000
    err = refused(b"\x80\x05" + b"]" * n + b"a" * (n - 1) + b".", words="nesting depth")
    assert err.limit == "the nesting depth" and err.maximum == 1000


def test_nesting_built_through_the_memo_with_a_flat_stack_is_refused():
    # L0 = []; repeat: GET the last list, append a new one to it, remember the new one
    body = b"]q\x00" + b"h\x00]q\x00a0" * 5000
    refused(b"\x80\x05" + body + b".", words="nesting depth")


def test_tuple_chains_are_refused():
    refused(b"\x80\x05N" + b"\x85" * 5000 + b".", words="nesting depth")


def test_deque_nesting_is_refused_before_any_deque_is_built():
    n = 5000
    stream = b"\x80\x05\x8c\x0bcollections\x8c\x05deque\x93\x94" + b"h\x00" * (n - 1) + b"N" + b"\x85\x85R" * n + b"."
    refused(stream, words="nesting depth")


def test_the_deepest_list_our_pickler_writes_at_the_default_recursion_limit_loads():
    for levels in range(1000, 0, -10):
        value: list = []
        for _ in range(levels):
            value = [value, {"k": (1,)}]
        try:
            data = pickle.dumps(value, protocol=5)
        except RecursionError:
            continue
        break
    assert levels > 400
    out = load(data)
    depth = 0
    while out:
        out, depth = out[0], depth + 1
    assert depth == levels


def test_cycles_are_not_depth():
    a: list = [1]
    a.append(a)
    b = {"self": None}
    b["self"] = b
    out = load(pickle.dumps([a, b], protocol=5))
    assert out[0][1] is out[0] and out[1]["self"] is out[1]


# ---- the stream itself -------------------------------------------------------------


def test_opcode_count_limit():
    data = pickle.dumps(list(range(200)), protocol=5)
    refused(data, words="the number of opcodes", limits=Limits(max_ops=100))
    assert load(data) == list(range(200))


def test_memo_index_far_past_the_entries_is_refused():
    refused(b"\x80\x05N" + b"r" + (0xFFFFFFF0).to_bytes(4, "little") + b".", words="memo index")


def test_declared_length_past_the_stream_is_refused():
    err = refused(b"\x80\x05B" + (1 << 30).to_bytes(4, "little") + b"abc.", error=UnsafePickleError)
    assert "remain" in str(err)
    refused(b"\x80\x05\x8e" + (1 << 40).to_bytes(8, "little") + b"x.", error=UnsafePickleError)


def test_newer_protocols_are_refused():
    refused(b"\x80\x06N.", words="the pickle protocol")


@pytest.mark.parametrize(
    "stream,opcode",
    [
        (b"\x80\x02\x82\x01.", "EXT1"),
        (b"\x80\x02\x83\x01\x00.", "EXT2"),
        (b"\x80\x02\x84\x01\x00\x00\x00.", "EXT4"),
        (b"(Pid\n.", "PERSID"),
        (b"\x80\x02NQ.", "BINPERSID"),
        (b"(ibuiltins\nlist\n.", "INST"),
        (b"\x80\x02(\x8c\x08builtins\x8c\x04list\x93o.", "OBJ"),
    ],
)
def test_opcodes_we_never_write_are_refused(stream, opcode):
    refused(stream, error=UnsafePickleError, words=opcode)


def test_buffers_that_were_not_given_are_refused():
    refused(b"\x80\x05\x97.", error=UnsafePickleError, words="buffer 1 of 0")


def test_stack_global_on_computed_names_is_refused():
    # the module name is made by calling str(): the scan could not check it
    stream = b"\x80\x05\x8c\x08builtins\x8c\x03str\x93\x8c\x02os\x85R\x8c\x06system\x93."
    refused(stream, error=UnsafePickleError, words="not plain strings")


def test_scan_lists_names_and_routes_calls_through_hooks():
    plan = scan(pickle.dumps(collections.OrderedDict(a=1), protocol=5), 0)
    assert ("collections", "OrderedDict") in plan.names
    assert plan.hooks.count(True) >= 1  # the REDUCE goes through the loader's call hook
    with pytest.raises(Malformed):
        scan(b"\x80\x05N", 0)


# ---- constructors that allocate from their arguments -------------------------------


@pytest.mark.parametrize("cls", [bytearray, bytes])
def test_bytes_of_a_huge_count_are_refused(cls):
    err = refused(pickle.dumps(Reduce(cls, (1_500_000_000,)), protocol=5), words="requested byte count")
    assert err.value == 1_500_000_000
    assert load(pickle.dumps(Reduce(cls, (10,)), protocol=5)) == cls(10)


def test_newobj_of_bytes_is_bounded_too():
    import copyreg

    class Fake:
        __class__ = bytes  # type: ignore[assignment]

        def __reduce__(self):
            return (copyreg.__newobj__, (bytes, 1 << 33))

    refused(pickle.dumps(Fake(), protocol=5), words="requested byte count")


@pytest.mark.parametrize("cls", [list, tuple, set, frozenset, collections.deque])
def test_containers_of_a_huge_range_are_refused(cls):
    refused(pickle.dumps(Reduce(cls, (range(10**12),)), protocol=5), words="length of an argument")


def test_the_budget_counts_out_of_band_buffers():
    data = pickle.dumps(Reduce(bytearray, (100_000,)), protocol=5)
    refused(data, words="100000")
    stream, buffers = _with_buffer(Reduce(bytearray, (100_000,)), 200_000)
    assert len(load(stream, buffers)[0]) == 100_000


def _with_buffer(obj, size):
    raw: list = []
    stream = pickle.dumps([obj, pickle.PickleBuffer(bytearray(size))], protocol=5, buffer_callback=raw.append)
    return stream, [b.raw() for b in raw]


def test_numpy_helpers_asked_for_huge_shapes_are_refused():
    reconstruct = np._core.multiarray._reconstruct
    refused(
        pickle.dumps(Reduce(reconstruct, (np.ndarray, (200_000_000,), "f8")), protocol=5), words="bytes of an array"
    )
    frombuffer = np._core.numeric._frombuffer
    refused(
        pickle.dumps(Reduce(frombuffer, (b"", np.dtype("f8"), (10**9,), "C")), protocol=5), words="bytes of an array"
    )
    state = (1, (10**9,), np.dtype("O"), False, [None])
    refused(pickle.dumps(Reduce(reconstruct, (np.ndarray, (0,), "b"), state), protocol=5), words="bytes of an array")


def test_tensor_with_an_empty_buffer_and_a_huge_shape_is_refused():
    from jupyter_mvc.codecs.tensors import rebuild_tensor

    args = (pickle.PickleBuffer(b""), "float32", (100_000, 100_000), False, "cpu", False)
    refused(pickle.dumps(Reduce(rebuild_tensor, args), protocol=5), words="elements of an empty-buffer tensor")


@pytest.mark.parametrize(
    "obj,words",
    [
        (Reduce(fractions.Fraction, ("1e300000000",)), "exponent"),
        (Reduce(fractions.Fraction, ("7" * 20_000,)), "length of a number"),
        (Reduce(fractions.Fraction, (1 << 200_000, 3)), "bits of a Fraction"),
        (Reduce(decimal.Decimal, ("1e300000000",)), "exponent"),
        (Reduce(decimal.Decimal, ((0, (1,), 10**9),)), "exponent"),
        (Reduce(int, ("9" * 6000,)), "digits of an int"),
    ],
)
def test_numbers_with_huge_exponents_or_digits_are_refused(obj, words):
    refused(pickle.dumps(obj, protocol=5), words=words)


def test_ordinary_numbers_still_load():
    value = [fractions.Fraction(1, 3), decimal.Decimal("1.25e-7"), decimal.Decimal("NaN"), 10**100, range(5)]
    out = load(pickle.dumps(value, protocol=5))
    assert out[:2] == value[:2] and out[2].is_nan() and out[3:] == value[3:]


def test_errors_are_ours_and_plain_python_can_catch_them_too():
    with pytest.raises(MvcError):
        decode(b"\x80\x06N.", [], variable="v", version="abc12345")
    with pytest.raises(ValueError):
        decode(b"\x80\x05]" * 1 + b"\x85" * 2000 + b".", [], variable="v", version="abc12345")

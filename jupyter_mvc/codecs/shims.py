"""Checks run around every call and BUILD of an untrusted pickle (see safeload.py).

Allowed constructors are safe for the *names* they carry, not for every argument: a
32-byte stream can ask `bytearray` for 1.5 GiB, `Fraction` for 10**300000000, numpy for
a huge shape, and some constructors trust their state the way only a pickle they wrote
themselves deserves (pandas builds its block maps in Cython with bounds checks off;
`numpy.dtype.__setstate__` accepts field offsets past the item; a Categorical's codes
index its categories unchecked). Each check below runs before (or, where the state only
becomes dangerous once used, right after) the real code, inside the loader, so an object
that fails one is never returned.

This module holds the budgets and the checks of the standard library and numpy;
shims_libs.py those of pandas, scikit-learn, pyarrow and torch, and the tables that give
each allowed name its checks.
"""

from __future__ import annotations

import operator
import re
import sys
from collections.abc import Callable
from typing import Any


class Refused(Exception):
    """The data would be unsafe to build; the message says why."""


class OverBudget(Exception):
    def __init__(self, limit: str, value: object, maximum: object):
        self.limit, self.value, self.maximum = limit, value, maximum
        super().__init__(f"{limit} is {value}, over the limit of {maximum}")


class Context:
    """What the version stores: nothing it loads may need more bytes than that."""

    def __init__(self, budget: int):
        self.budget = budget


MAX_NUMBER_TEXT = 10_000  # characters of a Fraction/Decimal/int written as text
MAX_FRACTION_EXPONENT = 10_000
MAX_DECIMAL_EXPONENT = 999_999  # the default decimal context's Emax
MAX_INT_BITS = 1 << 17  # a Fraction's numerator/denominator: gcd of bigger ints takes seconds
MAX_INT_TEXT = 5_000  # int("..."): CPython refuses over 4300 digits by default anyway
MAX_NDIM = 64


# ---- sizes -------------------------------------------------------------------------


def _over(ctx: Context, what: str, value: int) -> None:
    if value > ctx.budget:
        raise OverBudget(what, value, f"{ctx.budget} bytes stored")


def _length(ctx: Context, arg: object) -> None:
    """Sized arguments (a range, a list...) may not hold more items than bytes stored."""
    if isinstance(arg, (str, bytes, bytearray, memoryview)):
        return
    try:
        n = len(arg)  # type: ignore[arg-type]
    except OverflowError:
        raise OverBudget("the length of an argument", f"over {sys.maxsize}", f"{ctx.budget} bytes stored") from None
    except TypeError:
        return
    _over(ctx, "the length of an argument", n)


def _sized_args(ctx: Context, args: tuple) -> None:
    for arg in args:
        _length(ctx, arg)


def _bytes_args(ctx: Context, args: tuple) -> None:
    """bytes(n) / bytearray(n) allocate n bytes."""
    if args and not isinstance(args[0], (str, bytes, bytearray, memoryview)) and hasattr(args[0], "__index__"):
        _over(ctx, "a requested byte count", operator.index(args[0]))
    _sized_args(ctx, args)


def _shape_count(shape: object) -> int:
    if isinstance(shape, int) or hasattr(shape, "__index__"):
        shape = (operator.index(shape),)
    if not isinstance(shape, (tuple, list)) or len(shape) > MAX_NDIM:
        raise Refused(f"array shape {str(shape)[:60]} is not a tuple of at most {MAX_NDIM} sizes")
    count = 1
    for n in shape:
        n = operator.index(n)
        if n < 0:
            raise Refused(f"array shape {tuple(shape)} has a negative size")
        count *= n
    return count


def _array_size(ctx: Context, shape: object, dtype: object) -> None:
    import numpy as np

    itemsize = np.dtype(dtype).itemsize if dtype is not None else 8  # type: ignore[call-overload]
    _over(ctx, "the bytes of an array", _shape_count(shape) * max(itemsize, 1))


# ---- numbers -----------------------------------------------------------------------

_EXPONENT = re.compile(r"[eE]\s*([-+]?\d+)")


def _number_text(text: str | bytes, max_exponent: int) -> None:
    if len(text) > MAX_NUMBER_TEXT:
        raise OverBudget("the length of a number written as text", len(text), MAX_NUMBER_TEXT)
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    for match in _EXPONENT.finditer(text):
        digits = match.group(1).lstrip("+-").lstrip("0")
        if len(digits) > 7 or abs(int(match.group(1))) > max_exponent:
            raise OverBudget("a number's decimal exponent", match.group(1)[:20], max_exponent)


def _decimal_value(value: object, max_exponent: int) -> None:
    import decimal

    if isinstance(value, decimal.Decimal) and value.is_finite():
        if len(value.as_tuple().digits) > MAX_NUMBER_TEXT:
            raise OverBudget("the digits of a Decimal", len(value.as_tuple().digits), MAX_NUMBER_TEXT)
        if abs(value.adjusted()) > max_exponent:
            raise OverBudget("a Decimal's exponent", value.adjusted(), max_exponent)


def _fraction_args(ctx: Context, args: tuple) -> None:
    for arg in args:
        if isinstance(arg, (str, bytes)):
            _number_text(arg, MAX_FRACTION_EXPONENT)
        elif isinstance(arg, int) and arg.bit_length() > MAX_INT_BITS:
            raise OverBudget("the bits of a Fraction's integer", arg.bit_length(), MAX_INT_BITS)
        else:
            _decimal_value(arg, MAX_FRACTION_EXPONENT)


def _decimal_args(ctx: Context, args: tuple) -> None:
    if not args:
        return
    value = args[0]
    if isinstance(value, (str, bytes)):
        _number_text(value, MAX_DECIMAL_EXPONENT)
    elif isinstance(value, (tuple, list)):
        if len(value) != 3 or not isinstance(value[1], (tuple, list)):
            raise Refused("a Decimal tuple is not (sign, digits, exponent)")
        if len(value[1]) > MAX_NUMBER_TEXT:
            raise OverBudget("the digits of a Decimal", len(value[1]), MAX_NUMBER_TEXT)
        if isinstance(value[2], int) and abs(value[2]) > MAX_DECIMAL_EXPONENT:
            raise OverBudget("a Decimal's exponent", value[2], MAX_DECIMAL_EXPONENT)
    else:
        _decimal_value(value, MAX_DECIMAL_EXPONENT)


def _int_args(ctx: Context, args: tuple) -> None:
    if args and isinstance(args[0], (str, bytes, bytearray)) and len(args[0]) > MAX_INT_TEXT:
        raise OverBudget("the digits of an int written as text", len(args[0]), MAX_INT_TEXT)


# ---- numpy -------------------------------------------------------------------------


def _reconstruct_args(ctx: Context, args: tuple) -> None:  # (subtype, shape, dtype)
    if len(args) == 3:
        _array_size(ctx, args[1], args[2])


def _frombuffer_args(ctx: Context, args: tuple) -> None:  # (buf, dtype, shape, order)
    if len(args) >= 3:
        _array_size(ctx, args[2], args[1])


def _ndarray_args(ctx: Context, args: tuple) -> None:  # ndarray(shape, dtype=float, buffer=...)
    if args:
        _array_size(ctx, args[0], args[1] if len(args) > 1 else None)


def _mareconstruct_args(ctx: Context, args: tuple) -> None:  # (subtype, baseclass, baseshape, basetype)
    if len(args) == 4:
        _array_size(ctx, args[2], args[3])


def _scalar_args(ctx: Context, args: tuple) -> None:  # (dtype, bytes)
    import numpy as np

    if args and isinstance(args[0], np.dtype):
        _over(ctx, "the bytes of a numpy scalar", args[0].itemsize)


def _array_state(ctx: Context, obj: object, state: object) -> None:
    """ndarray / MaskedArray __setstate__: (version,) shape, dtype, is_fortran, data[, mask...]."""
    if not isinstance(state, tuple) or len(state) < 4:
        raise Refused("an array state is not a tuple of (version, shape, dtype, order, data)")
    shape, dtype = (state[1], state[2]) if len(state) >= 5 else (state[0], state[1])
    _array_size(ctx, shape, dtype)


_ALIGNED_STRUCT = 0x80


def _dtype_state(ctx: Context, obj: Any, state: object) -> Callable[[], None]:
    """Rebuild the dtype the state describes with numpy's public (validating) constructor,
    and refuse the state unless setstate yields exactly that dtype."""
    import numpy as np

    if not isinstance(state, tuple) or len(state) not in (8, 9) or state[0] not in (3, 4):
        raise Refused("a numpy dtype state is not numpy's (version 3 or 4) format")
    _, endian, subarray, names, fields, elsize, _alignment, flags = state[:8]
    if endian not in ("<", ">", "|", "="):
        raise Refused(f"a numpy dtype state has byte order {endian!r}")
    reference = None
    try:
        if subarray is not None:
            if not (isinstance(subarray, tuple) and len(subarray) == 2 and isinstance(subarray[0], np.dtype)):
                raise Refused("a numpy dtype's subarray is not (dtype, shape)")
            reference = np.dtype((subarray[0], subarray[1]))
        elif names is not None or fields is not None:
            if not isinstance(names, tuple) or not isinstance(fields, dict) or set(names) != set(fields):
                raise Refused("a numpy dtype's field names and fields do not match")
            spec: dict[str, Any] = {"names": [], "formats": [], "offsets": [], "titles": []}
            for name in names:
                field = fields[name]
                if not isinstance(field, tuple) or len(field) not in (2, 3) or not isinstance(field[0], np.dtype):
                    raise Refused(f"numpy dtype field {str(name)[:40]!r} is not (dtype, offset[, title])")
                spec["names"].append(name)
                spec["formats"].append(field[0])
                spec["offsets"].append(field[1])
                spec["titles"].append(field[2] if len(field) == 3 else None)
            spec["itemsize"] = elsize
            reference = np.dtype(spec, align=bool(isinstance(flags, int) and flags & _ALIGNED_STRUCT))  # type: ignore[call-overload]
    except Refused:
        raise
    except Exception as exc:  # numpy refuses offsets past the item, overlapping objects...
        raise Refused(f"numpy refuses the dtype this state describes ({exc})") from None
    before = (obj.itemsize, obj.flags, obj.kind)

    def after() -> None:
        if reference is None:
            if (obj.itemsize, obj.flags, obj.kind) != before or obj.fields is not None or obj.subdtype is not None:
                raise Refused("a numpy dtype state changes the item size or flags of a plain dtype")
            return
        same = obj == reference and obj.itemsize == reference.itemsize and obj.flags == reference.flags
        if not same or obj.alignment != reference.alignment:
            raise Refused("a numpy dtype state does not describe the dtype it claims")

    return after


def _seed_sequence(ctx: Context, seq: Any) -> None:
    import numpy as np

    pool = getattr(seq, "pool", None)
    size = getattr(seq, "pool_size", None)
    if not (isinstance(pool, np.ndarray) and pool.dtype == np.uint32 and pool.ndim == 1 and size == len(pool) >= 4):
        raise Refused("a numpy SeedSequence's pool does not match its pool_size")


def _reconstructor_args(ctx: Context, args: tuple) -> None:  # copyreg._reconstructor(cls, base, state)
    if len(args) != 3 or not isinstance(args[0], type) or not isinstance(args[1], type):
        raise Refused("copyreg._reconstructor is not (class, base class, state)")
    cls, base, state = args
    if not issubclass(cls, base):
        raise Refused(f"{cls.__name__} is not a subclass of {base.__name__}")
    if base is not object:
        check = BASE_CHECKS.get(base)
        if check is None:
            raise Refused(f"copyreg._reconstructor over base {base.__name__}, which our pickler never writes")
        check(ctx, (state,))


BASE_CHECKS: dict[type, Callable[[Context, tuple], None]] = {
    bytes: _bytes_args,
    bytearray: _bytes_args,
    int: _int_args,
    **{t: _sized_args for t in (tuple, list, dict, set, frozenset, str, float, complex)},
}

"""Checks of the libraries' data-holding constructors (pandas, scikit-learn, pyarrow, our
torch tensors) and the tables that give each allowed name its checks (see shims.py for
why, and safeload.py for where they run).

`CALL_CHECKS[name](ctx, args)` runs before `name(*args)`; `RESULT_CHECKS[name](ctx, result)`
right after (True: the object awaits its BUILD and may not be used before);
`build_checks(ctx, obj, state)` before a BUILD, returning what to check after it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from .shims import (
    Context,
    Refused,
    _array_state,
    _bytes_args,
    _decimal_args,
    _dtype_state,
    _fraction_args,
    _frombuffer_args,
    _int_args,
    _mareconstruct_args,
    _ndarray_args,
    _over,
    _reconstruct_args,
    _reconstructor_args,
    _scalar_args,
    _seed_sequence,
    _shape_count,
    _sized_args,
)

# ---- pandas ------------------------------------------------------------------------


def _placement(locs: Any) -> Any:
    import numpy as np
    from pandas._libs.internals import BlockPlacement

    if not isinstance(locs, BlockPlacement):
        if isinstance(locs, slice):
            for part in (locs.start, locs.stop, locs.step):
                if part is not None and not isinstance(part, int):
                    raise Refused("a block placement slice has a bound that is not an int")
        elif not (isinstance(locs, np.ndarray) and locs.dtype.kind in "iu" and locs.ndim == 1):
            raise Refused("a block placement is neither a slice nor a 1-d integer array")
        locs = BlockPlacement(locs)
    indices = locs.as_array
    if len(indices) and indices.min() < 0:
        raise Refused("a block placement has a negative index")
    return indices


def _block_args(ctx: Context, args: tuple) -> None:  # _unpickle_block(values, placement, ndim)
    import numpy as np
    from pandas.api.extensions import ExtensionArray

    if len(args) != 3 or args[2] not in (1, 2):
        raise Refused("a pandas block is not (values, placement, ndim 1 or 2)")
    values, placement, ndim = args
    if not isinstance(values, (np.ndarray, ExtensionArray)):
        raise Refused(f"pandas block values are a {type(values).__name__}, not an array")
    indices = _placement(placement)
    if len(np.unique(indices)) != len(indices):
        raise Refused("a block placement repeats an item")
    if isinstance(values, np.ndarray) and values.ndim == 2:
        if ndim != 2 or values.shape[0] != len(indices):
            raise Refused("a pandas block's values do not have one row per placed item")
    elif ndim == 2 and len(indices) != 1:
        raise Refused("a 1-d pandas block is placed at more than one item")
    elif ndim == 1 and (values.ndim != 1 or list(indices) != list(range(len(indices)))):
        raise Refused("a 1-d pandas block's placement is not its own rows")


def _check_manager_blocks(blocks: list[tuple[Any, Any]], axes: list) -> None:
    """(values, placement) per block against the axes: the placements partition the items
    exactly and each block's values have one row per placed item and one column per row label."""
    import numpy as np

    if len(axes) != 2:
        raise Refused("a pandas BlockManager does not have two axes")
    n_items, n_rows = len(axes[0]), len(axes[1])
    placed = []
    for values, placement in blocks:
        indices = _placement(placement)
        placed.append(indices)
        shape = getattr(values, "shape", None)
        if shape is None:
            raise Refused("pandas block values have no shape")
        rows = shape[0] if len(shape) == 2 else 1
        if rows != len(indices) or shape[-1] != n_rows:
            raise Refused(f"a pandas block of shape {tuple(shape)} does not fit {len(indices)} items x {n_rows} rows")
    every = np.sort(np.concatenate(placed)) if placed else np.empty(0, dtype=np.intp)
    if not np.array_equal(every, np.arange(n_items)):
        raise Refused(f"the block placements do not cover the {n_items} items exactly once")


def _manager_args(ctx: Context, args: tuple) -> None:  # BlockManager(blocks, axes[, verify])
    if len(args) < 2 or not isinstance(args[0], (tuple, list)) or not isinstance(args[1], list):
        raise Refused("a pandas BlockManager is not (blocks, axes)")
    _check_manager_blocks([(b.values, b.mgr_locs) for b in args[0]], args[1])


def _single_manager_args(ctx: Context, args: tuple) -> None:  # SingleBlockManager(block, axis)
    from pandas.core.internals.blocks import Block

    if len(args) < 2 or not isinstance(args[0], Block) or args[0].ndim != 1:
        raise Refused("a pandas SingleBlockManager is not (1-d block, axis)")
    if len(args[0].values) != len(args[1]):
        raise Refused("a pandas Series block does not have one value per index label")


def _manager_state(ctx: Context, obj: object, state: object) -> None:
    """The legacy (0.14.1) BlockManager state, checked before pandas builds its block maps."""
    import numpy as np

    try:
        inner = state[3]["0.14.1"]  # type: ignore[index]
        axes, blocks = list(inner["axes"]), list(inner["blocks"])
        pairs = [(b["values"], b["mgr_locs"]) for b in blocks]
    except Exception:
        raise Refused("a pandas BlockManager state is not the 0.14.1 format") from None
    if len(axes) == 1:
        if len(pairs) != 1 or len(np.asarray(pairs[0][0]).reshape(-1)) != len(axes[0]):
            raise Refused("a pandas Series state does not have one value per index label")
        return
    _check_manager_blocks(pairs, axes)


def _ndarray_backed(ctx: Context, obj: Any) -> None:
    """Categorical codes within [-1, len(categories)); datetime-like arrays of 8-byte items."""
    import numpy as np
    import pandas as pd

    data = getattr(obj, "_ndarray", None)
    if not isinstance(data, np.ndarray):
        raise Refused(f"a {type(obj).__name__} does not hold a numpy array")
    if isinstance(obj, pd.Categorical):
        if not isinstance(obj._dtype, pd.CategoricalDtype) or data.dtype.kind not in "iu" or data.ndim != 1:
            raise Refused("a Categorical's codes are not a 1-d integer array with a CategoricalDtype")
        n = len(obj._dtype.categories) if obj._dtype.categories is not None else 0
        if len(data) and (data.min() < -1 or data.max() >= n):
            raise Refused(f"a Categorical's codes are outside [-1, {n}) for its {n} categories")
    elif isinstance(obj, (pd.arrays.DatetimeArray, pd.arrays.TimedeltaArray, pd.arrays.PeriodArray)):
        if data.dtype.itemsize != 8 or data.dtype.kind not in "Mmi":
            raise Refused(f"a {type(obj).__name__} holds {data.dtype} items, not 8-byte ones")


def _index_result(ctx: Context, index: Any) -> None:
    """_new_Index builds a MultiIndex with verify_integrity=False: check its codes here."""
    import pandas as pd

    if isinstance(index, pd.MultiIndex):
        lengths = {len(codes) for codes in index.codes}
        if len(index.levels) != len(index.codes) or len(lengths) > 1:
            raise Refused("a MultiIndex has a different number of codes per level")
        for level, codes in zip(index.levels, index.codes):
            if len(codes) and (codes.min() < -1 or codes.max() >= len(level)):
                raise Refused(f"MultiIndex codes are outside [-1, {len(level)}) for a level of {len(level)}")
    elif isinstance(index, pd.CategoricalIndex):
        _ndarray_backed(ctx, index._data)


# ---- scikit-learn, torch, the standard library ---------------------------------------


def _tree(ctx: Context, tree: Any) -> None:
    """sklearn's Tree walks child indices without bounds checks: each node's children must
    come after it (no cycles) and inside the tree, and features inside the input."""
    import numpy as np

    nodes = tree.__getstate__()["nodes"]
    n = len(nodes)
    left, right, feature = nodes["left_child"], nodes["right_child"], nodes["feature"]
    leaf = left == -1
    inner = ~leaf
    index = np.arange(n)
    if np.any(leaf & (right != -1)) or np.any(
        inner & ((left <= index) | (right <= index) | (left >= n) | (right >= n))
    ):
        raise Refused("an sklearn tree has a child index outside the tree or before its parent")
    if np.any(inner & ((feature < 0) | (feature >= tree.n_features))):
        raise Refused("an sklearn tree splits on a feature the model does not have")


def _tree_predictor(ctx: Context, predictor: Any) -> None:
    """HistGradientBoosting's predictor walks `nodes` in Cython by index, unchecked."""
    import numpy as np

    nodes = getattr(predictor, "nodes", None)
    if not isinstance(nodes, np.ndarray) or nodes.dtype.names is None or "left" not in nodes.dtype.names:
        raise Refused("an sklearn TreePredictor has no node array")
    n = len(nodes)
    inner = nodes["is_leaf"] == 0
    index = np.arange(n)
    left, right = nodes["left"].astype(np.int64), nodes["right"].astype(np.int64)
    if np.any(inner & ((left <= index) | (right <= index) | (left >= n) | (right >= n))):
        raise Refused("an sklearn TreePredictor has a child index outside the tree or before its parent")


def _tensor_args(ctx: Context, args: tuple) -> None:  # rebuild_tensor(buffer, dtype, shape, ...)
    if len(args) >= 3:
        count = _shape_count(args[2])
        nbytes = memoryview(args[0]).nbytes if args[0] is not None else 0
        if nbytes == 0 and count:
            _over(ctx, "the elements of an empty-buffer tensor", count)


CALL_CHECKS: dict[str, Callable[[Context, tuple], None]] = {
    "builtins.bytearray": _bytes_args,
    "builtins.bytes": _bytes_args,
    "builtins.int": _int_args,
    **{f"builtins.{n}": _sized_args for n in ("list", "tuple", "set", "frozenset", "dict", "str")},
    **{f"collections.{n}": _sized_args for n in ("OrderedDict", "defaultdict", "Counter", "deque")},
    "copyreg._reconstructor": _reconstructor_args,
    "fractions.Fraction": _fraction_args,
    "decimal.Decimal": _decimal_args,
    "numpy.ndarray": _ndarray_args,
    "numpy._core.multiarray._reconstruct": _reconstruct_args,
    "numpy.core.multiarray._reconstruct": _reconstruct_args,
    "numpy._core.numeric._frombuffer": _frombuffer_args,
    "numpy.core.numeric._frombuffer": _frombuffer_args,
    "numpy._core.multiarray.scalar": _scalar_args,
    "numpy.core.multiarray.scalar": _scalar_args,
    "numpy.ma.core._mareconstruct": _mareconstruct_args,
    "numpy.ma.MaskedArray": _sized_args,
    "numpy.ma.core.MaskedArray": _sized_args,
    "pandas._libs.internals._unpickle_block": _block_args,
    "pandas.core.internals.managers.BlockManager": _manager_args,
    "pandas.core.internals.managers.SingleBlockManager": _single_manager_args,
    "jupyter_mvc.codecs.tensors.rebuild_tensor": _tensor_args,
    "torch.Size": _sized_args,
}


def _arrow(ctx: Context, array: Any) -> None:
    """pyarrow builds arrays from pickled buffers without looking at them: offsets past the
    data would be read later. Arrow's full validation checks every offset and length."""
    try:
        array.validate(full=True)
    except Exception as exc:
        raise Refused(f"an Arrow array fails validation ({str(exc)[:120]})") from None


def _unset_or(check: Callable[[Context, Any], None], attribute: str) -> Callable[[Context, Any], bool]:
    """Cython's unpickle helpers return a bare object when the state comes later by BUILD:
    True (it awaits its state, and may not be used before) or the check of its state."""

    def result(ctx: Context, obj: Any) -> bool:
        if getattr(obj, attribute, None) is None:
            return True
        check(ctx, obj)
        return False

    return result


def _checked(check: Callable[[Context, Any], None]) -> Callable[[Context, Any], bool]:
    def result(ctx: Context, obj: Any) -> bool:
        check(ctx, obj)
        return False

    return result


# name -> check of what the call returned; True: the object awaits its state (BUILD)
RESULT_CHECKS: dict[str, Callable[[Context, Any], bool]] = {
    "pyarrow.lib._restore_array": _checked(_arrow),
    "pyarrow.lib.chunked_array": _checked(_arrow),
    "numpy.random.bit_generator.__pyx_unpickle_SeedSequence": _unset_or(_seed_sequence, "pool"),
    "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked": _unset_or(_ndarray_backed, "_ndarray"),
    "pandas.core.indexes.base._new_Index": _checked(_index_result),
}
# Extension types NEWOBJ may make bare (no arguments), because a BUILD state always follows
# and is checked: the result may not be used before that BUILD.
NEWOBJ_THEN_BUILD = frozenset(
    {"pandas.core.internals.managers.BlockManager", "pandas.core.internals.managers.SingleBlockManager"}
)


def build_checks(ctx: Context, obj: object, state: object) -> Callable[[], None] | None:
    """Checks before BUILD sets `state` on `obj`; returns the check to run after it."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        if isinstance(obj, numpy.dtype):
            return _dtype_state(ctx, obj, state)
        if isinstance(obj, numpy.ndarray):
            _array_state(ctx, obj, state)
            return None
        if isinstance(obj, numpy.random.SeedSequence):
            return lambda: _seed_sequence(ctx, obj)
    internals = sys.modules.get("pandas._libs.internals")
    if internals is not None and isinstance(obj, internals.BlockManager):
        _manager_state(ctx, obj, state)
        return None
    arrays = sys.modules.get("pandas._libs.arrays")
    if arrays is not None and isinstance(obj, arrays.NDArrayBacked):
        return lambda: _ndarray_backed(ctx, obj)
    predictor = sys.modules.get("sklearn.ensemble._hist_gradient_boosting.predictor")
    if predictor is not None and isinstance(obj, predictor.TreePredictor):
        return lambda: _tree_predictor(ctx, obj)
    tree = sys.modules.get("sklearn.tree._tree")
    if tree is not None and isinstance(obj, tree.Tree):
        return lambda: _tree(ctx, obj)
    return None

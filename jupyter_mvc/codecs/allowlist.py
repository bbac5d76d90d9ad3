"""The exact names an untrusted pickle may use (families.py admits the rest by rule).

Each name here is a class or function that only builds data from its arguments; the
ones that allocate from their arguments, or trust their state, get checks in shims.py /
shims_libs.py. Found by pickling everyday notebook objects (tests/unit/test_everyday_objects.py)
and listing what the streams name.
"""

from __future__ import annotations

_OPTIMIZERS = (
    "adadelta.Adadelta adagrad.Adagrad adam.Adam adamax.Adamax adamw.AdamW asgd.ASGD lbfgs.LBFGS "
    "nadam.NAdam radam.RAdam rmsprop.RMSprop rprop.Rprop sgd.SGD sparse_adam.SparseAdam"
).split()
_SCHEDULERS = (
    "StepLR MultiStepLR ConstantLR LinearLR ExponentialLR SequentialLR PolynomialLR CosineAnnealingLR "
    "ChainedScheduler ReduceLROnPlateau CyclicLR CosineAnnealingWarmRestarts OneCycleLR"
).split()
_NUMPY_SCALARS = (
    "bool_ int8 int16 int32 int64 uint8 uint16 uint32 uint64 float16 float32 float64 longdouble "
    "complex64 complex128 clongdouble str_ bytes_ datetime64 timedelta64"
).split()

SAFE_GLOBALS = frozenset(
    {
        # builtins and the standard library's plain data types
        "builtins.complex",
        "builtins.set",
        "builtins.frozenset",
        "builtins.bytearray",
        "builtins.range",
        "builtins.slice",
        "builtins.list",
        "builtins.dict",
        "builtins.tuple",
        "builtins.bytes",
        "builtins.str",
        "builtins.int",
        "builtins.float",
        "builtins.bool",
        "builtins.object",
        "builtins.getattr",  # only for the (class, attribute) pairs of _GETATTR below
        "copyreg._reconstructor",
        "collections.OrderedDict",
        "collections.defaultdict",
        "collections.Counter",
        "collections.deque",
        "datetime.datetime",
        "datetime.date",
        "datetime.time",
        "datetime.timedelta",
        "datetime.timezone",
        "decimal.Decimal",
        "fractions.Fraction",
        "uuid.UUID",
        "uuid.SafeUUID",
        "pathlib.Path",
        "pathlib.PosixPath",
        "pathlib.WindowsPath",
        "pathlib.PurePath",
        "pathlib.PurePosixPath",
        "pathlib.PureWindowsPath",
        "zoneinfo.ZoneInfo",
        "random.Random",
        # numpy
        "numpy.ndarray",
        "numpy.dtype",
        "numpy._core.numeric._frombuffer",
        "numpy._core.multiarray._reconstruct",
        "numpy._core.multiarray.scalar",
        "numpy.core.numeric._frombuffer",
        "numpy.core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar",
        "numpy.ma.core._mareconstruct",
        "numpy.ma.MaskedArray",
        "numpy.ma.core.MaskedArray",
        *(f"numpy.{n}" for n in _NUMPY_SCALARS),
        "numpy.random._pickle.__randomstate_ctor",
        "numpy.random._pickle.__generator_ctor",
        "numpy.random._pickle.__bit_generator_ctor",
        "numpy.random.bit_generator.SeedSequence",
        "numpy.random.bit_generator.__pyx_unpickle_SeedSequence",
        "numpy.random._mt19937.MT19937",
        "numpy.random._pcg64.PCG64",
        "numpy.random._pcg64.PCG64DXSM",
        "numpy.random._philox.Philox",
        "numpy.random._sfc64.SFC64",
        "numpy.random.mtrand.RandomState",
        "numpy.random._generator.Generator",
        # pandas: constructors and unpickle helpers (classes are checked by type in families.py)
        "pandas.DataFrame",
        "pandas.Series",
        "pandas.core.frame.DataFrame",
        "pandas.core.series.Series",
        "pandas.core.internals.managers.BlockManager",
        "pandas.core.internals.managers.SingleBlockManager",
        "pandas._libs.internals._unpickle_block",
        "pandas.core.indexes.base._new_Index",
        "pandas.core.indexes.datetimes._new_DatetimeIndex",
        "pandas.core.indexes.period._new_PeriodIndex",
        "pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
        "pandas._libs.interval.__pyx_unpickle_IntervalMixin",
        "pandas._libs.interval.Interval",
        "pandas._libs.tslibs.timestamps._unpickle_timestamp",
        "pandas._libs.tslibs.timedeltas._timedelta_unpickle",
        "pandas._libs.tslibs.period.Period",
        "pandas._libs.tslibs.nattype.__nat_unpickle",
        "pandas._libs.sparse.BlockIndex",
        "pandas._libs.sparse.IntIndex",
        "pandas.NA",
        # pyarrow arrays inside pandas string/arrow columns (validated in full once built)
        "pyarrow.lib._restore_array",
        "pyarrow.lib.chunked_array",
        "pyarrow.lib.py_buffer",
        "pyarrow.lib.type_for_alias",
        # our own tensor rebuild (see tensors.py); torch's in-band loaders are NOT here
        "jupyter_mvc.codecs.tensors.rebuild_tensor",
        "torch.device",
        "torch.Size",
        # resuming training: optimizers, their learning-rate schedules, the AMP grad scaler
        *(f"torch.optim.{n}" for n in _OPTIMIZERS),
        *(f"torch.optim.lr_scheduler.{n}" for n in _SCHEDULERS),
        "torch.amp.grad_scaler.GradScaler",
        "torch.amp.grad_scaler._refresh_per_optimizer_state",
        "torch.amp.grad_scaler.OptState",
        "torch.cuda.amp.grad_scaler.GradScaler",
        "torch.cpu.amp.grad_scaler.GradScaler",
    }
)

# builtins.getattr is allowed for these (module, class, attribute) only: how protocol 4+
# writes a classmethod used as a reducer.
GETATTR = frozenset({("zoneinfo", "ZoneInfo", "_unpickle")})

"""A restricted, budgeted unpickler: loading a version must not run its author's code,
exhaust memory or time, or corrupt memory.

Pickle calls whatever global a stream names, so a version pushed by someone else could
name `os.system`. Loading goes in three steps:

1. `pickle_budget.scan` reads the stream without running it (`pickletools.genops`) and
   refuses it when over budget (opcodes, nesting depth, memo, lengths past the end...),
   lists every global it names and plans a rewrite that routes every call, BUILD and
   non-list/dict mutation through hooks of this loader.
2. Every name is checked before anything runs: exact known-safe names (`SAFE_GLOBALS`),
   the caller's `allow`, or a family rule (families.py) that checks the module path
   before importing it and the class's real module and type after. A crafted stream
   therefore cannot trigger an arbitrary import either.
3. The stock (C) unpickler runs the rewritten stream. Its `find_class` hands out the
   checked objects by position and the hooks; the hooks run the checks of shims.py
   around each constructor (allocation budgets, states that would corrupt memory), refuse
   calls of anything but a named, callable global, NEWOBJ on extension types that need
   their `__init__`, and BUILD on classes, functions or modules.

Whatever the data raises while loading surfaces as an `MvcError` naming the variable.
"""

from __future__ import annotations

import io
import pickle
import sys
import types
from collections import deque
from collections.abc import Iterable
from typing import Any

from ..errors import LoadBudgetError, MvcError, UnsafePickleError, UntrustedDataError
from .allowlist import GETATTR, SAFE_GLOBALS
from .families import family_global
from .pickle_budget import DEFAULT_LIMITS, HOOK_MODULE, BudgetExceeded, Limits, Malformed, scan
from .shims import BASE_CHECKS, Context, OverBudget, Refused
from .shims_libs import CALL_CHECKS, NEWOBJ_THEN_BUILD, RESULT_CHECKS, build_checks

# NEWOBJ calls cls.__new__ without __init__: fine for Python classes and plain builtins,
# not for extension types that set themselves up in __init__ (a bare pandas BlockManager).
_NEWOBJ_BASES = (object, tuple, list, dict, set, frozenset, int, float, complex, str, bytes, bytearray)


def _newobj_ok(cls: type) -> bool:
    for klass in cls.__mro__:
        if "__new__" in vars(klass):
            new = vars(klass)["__new__"]
            if klass in _NEWOBJ_BASES:
                return True
            return isinstance(new, staticmethod) and isinstance(new.__func__, types.FunctionType)
    return True


def _resolve(module: str, name: str, allow: frozenset[str]) -> tuple[Any, bool] | None:
    """The object `module.name` names and whether the stream may call it, or None."""
    full = f"{module}.{name}"
    if full in SAFE_GLOBALS or full in allow:
        try:
            return pickle.Unpickler(io.BytesIO(b""), fix_imports=False).find_class(module, name), True
        except (ImportError, AttributeError):
            return None
    return family_global(module, name)


class SafeUnpickler(pickle.Unpickler):
    def __init__(self, file, *, buffers, allow: Iterable[str] = (), variable="", version="", plan=None, budget=0):
        super().__init__(file, buffers=buffers, fix_imports=False)
        self.allow = frozenset(allow)
        self.variable, self.version = variable, version
        self.plan = plan
        self.ctx = Context(budget)
        self._objects: list[Any] = []  # by position in plan.names
        self._globals: set[int] = set()  # ids of every global handed out
        self._callable: set[int] = set()
        self._calls: dict[int, Any] = {}
        self._results: dict[int, Any] = {}
        self._next = 0
        self._keep: list[Any] = []  # objects whose ids are in _callable must stay alive
        self._bare: set[int] = set()  # ids of classes NEWOBJ may make bare (NEWOBJ_THEN_BUILD)
        self._pending: dict[int, Any] = {}  # bare objects awaiting their BUILD
        self._hooks = {
            "call": self._call,
            "newobj": self._newobj,
            "newobj_ex": self._newobj_ex,
            "build": self._build,
            "append": self._append,
            "extend": self._extend,
            "setitem": self._setitem,
            "setitems": self._setitems,
            "additems": self._additems,
        }

    def check_names(self) -> None:
        """Resolve every global of the plan; nothing has run yet, so a refusal costs nothing."""
        for (module, name), is_hook in zip(self.plan.names, self.plan.hooks):
            if is_hook:
                self._objects.append(self._hooks[name])
                continue
            full = f"{module}.{name}"
            found = _resolve(module, name, self.allow) if module != HOOK_MODULE else None
            if found is None:
                raise UntrustedDataError(full, self.variable, self.version)
            obj, may_call = found
            self._objects.append(obj)
            self._globals.add(id(obj))
            if may_call:
                self._callable.add(id(obj))
            if full in CALL_CHECKS:
                self._calls[id(obj)] = CALL_CHECKS[full]
            if full in RESULT_CHECKS:
                self._results[id(obj)] = RESULT_CHECKS[full]
            if full in NEWOBJ_THEN_BUILD:
                self._bare.add(id(obj))
            if full == "builtins.getattr":
                self._calls[id(obj)] = self._getattr_args

    def find_class(self, module: str, name: str):
        i, self._next = self._next, self._next + 1
        if i >= len(self.plan.names) or self.plan.names[i] != (module, name):
            raise Refused(f"global {module}.{name} out of the planned order")
        return self._objects[i]

    # ---- hooks: the rewritten stream calls these instead of the C unpickler's own code ----

    def _getattr_args(self, ctx: Context, args: tuple) -> None:
        owner = args[0] if args else None
        if not (len(args) == 2 and isinstance(owner, type) and id(owner) in self._globals):
            raise UntrustedDataError("builtins.getattr", self.variable, self.version)
        if (owner.__module__, owner.__qualname__, args[1]) not in GETATTR:
            raise UntrustedDataError(
                f"builtins.getattr({owner.__qualname__}, {str(args[1])[:40]!r})", self.variable, self.version
            )

    def _call(self, func, args):
        if id(func) not in self._callable:
            raise Refused(f"the stream calls {_what(func)}, which it may only reference")
        if not isinstance(args, tuple):
            raise Refused("REDUCE arguments are not a tuple")
        self._not_pending(args)
        check = self._calls.get(id(func))
        if check is not None:
            check(self.ctx, args)
        result = func(*args)
        if check == self._getattr_args:  # the approved classmethod may now be called
            self._keep.append(result)
            self._callable.add(id(result))
        check = self._results.get(id(func))
        if check is not None and check(self.ctx, result):
            self._pending[id(result)] = result
        return result

    def _not_pending(self, values, depth: int = 0) -> None:
        """Refuse arguments that hold (two levels deep) an object still awaiting its state."""
        if not self._pending:
            return
        for value in values.values() if isinstance(values, dict) else values:
            if id(value) in self._pending:
                raise Refused(f"a {type(value).__name__} is used before its state was set")
            if depth < 2 and isinstance(value, (tuple, list, dict)):
                self._not_pending(value, depth + 1)

    def _newobj(self, cls, args, kwargs=None):
        if not isinstance(cls, type) or id(cls) not in self._callable:
            raise Refused(f"NEWOBJ on {_what(cls)}")
        if not isinstance(args, tuple) or kwargs is not None and not isinstance(kwargs, dict):
            raise Refused("NEWOBJ arguments are not a tuple (and a dict)")
        self._not_pending(args)
        if id(cls) in self._bare and not args and not kwargs:
            obj = cls.__new__(cls)  # type: ignore[call-overload]
            self._pending[id(obj)] = obj
            return obj
        if not _newobj_ok(cls):
            raise Refused(f"NEWOBJ on {cls.__module__}.{cls.__qualname__}, which must be built by its constructor")
        for klass in cls.__mro__:
            check = BASE_CHECKS.get(klass)
            if check is not None:
                check(self.ctx, args + tuple((kwargs or {}).values()))
                break
        return cls.__new__(cls, *args, **(kwargs or {}))

    def _newobj_ex(self, cls, args, kwargs):
        return self._newobj(cls, args, kwargs)

    def _target(self, obj, allowed: tuple[type, ...] | None, what: str):
        if id(obj) in self._globals or isinstance(obj, _NOT_TARGETS):
            raise Refused(f"{what} on {_what(obj)} itself, which would change it for the whole process")
        if allowed is not None and not isinstance(obj, allowed):
            raise Refused(f"{what} on a {type(obj).__name__}")

    def _build(self, obj, state):
        self._target(obj, None, "BUILD")
        self._not_pending((state,))
        after = build_checks(self.ctx, obj, state)
        setstate = getattr(obj, "__setstate__", None)
        if setstate is not None:
            setstate(state)
        else:
            slots = None
            if isinstance(state, tuple) and len(state) == 2:
                state, slots = state
            if state:
                inst_dict = obj.__dict__
                for key, value in state.items():
                    inst_dict[sys.intern(key) if type(key) is str else key] = value
            if slots:
                for key, value in slots.items():
                    if isinstance(key, str) and key.startswith("__") and key.endswith("__"):
                        raise Refused(f"BUILD sets {key}")
                    setattr(obj, key, value)
        if after is not None:
            after()
        self._pending.pop(id(obj), None)
        return obj

    def _append(self, obj, item):
        self._target(obj, (list, deque), "APPEND")
        obj.append(item)
        return obj

    def _extend(self, obj, items):
        self._target(obj, (list, deque), "APPENDS")
        obj.extend(items)
        return obj

    def _setitem(self, obj, key, value):
        self._target(obj, (dict,), "SETITEM")
        obj[key] = value
        return obj

    def _setitems(self, obj, flat):
        self._target(obj, (dict,), "SETITEMS")
        for i in range(0, len(flat), 2):
            obj[flat[i]] = flat[i + 1]
        return obj

    def _additems(self, obj, items):
        self._target(obj, (set,), "ADDITEMS")
        for item in items:
            obj.add(item)
        return obj


_NOT_TARGETS = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def _what(obj) -> str:
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
        return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', '?')}"
    return f"a {type(obj).__name__}"


def _size(buffer) -> int:
    try:
        return memoryview(buffer).nbytes
    except TypeError:
        return 0


def safe_loads(data, *, buffers, allow: Iterable[str] = (), variable="", version="", limits: Limits = DEFAULT_LIMITS):
    """Load `data` with the out-of-band `buffers`, refusing what is unsafe (see the module doc)."""
    buffers = list(buffers or ())
    data = bytes(data)
    try:
        plan = scan(data, len(buffers), limits)
    except BudgetExceeded as exc:
        raise LoadBudgetError(variable, version, exc.limit, exc.value, exc.maximum) from None
    except Malformed as exc:
        raise UnsafePickleError(variable, version, str(exc)) from None
    budget = len(data) + sum(_size(b) for b in buffers)
    unpickler = SafeUnpickler(
        io.BytesIO(plan.stream),
        buffers=buffers,
        allow=allow,
        variable=variable,
        version=version,
        plan=plan,
        budget=budget,
    )
    try:
        unpickler.check_names()
        result = unpickler.load()
        if unpickler._pending:
            bare = next(iter(unpickler._pending.values()))
            raise Refused(f"a {type(bare).__name__} never received its state")
        return result
    except MvcError:
        raise
    except (KeyboardInterrupt, SystemExit):
        raise
    except OverBudget as exc:
        raise LoadBudgetError(variable, version, exc.limit, exc.value, exc.maximum) from None
    except Refused as exc:
        raise UnsafePickleError(variable, version, str(exc)) from None
    except BaseException as exc:  # anything the data raised, pytest's Skipped included
        raise UnsafePickleError(variable, version, f"loading it raised {type(exc).__name__}: {str(exc)[:200]}") from exc

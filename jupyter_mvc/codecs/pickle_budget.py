"""Scan a pickle stream before any of it runs, and plan the loader's hooks.

`pickletools.genops` reads opcodes without executing anything. While reading, `scan`
simulates the unpickler's stack and memo just enough to

* refuse streams over budget: too many opcodes, objects nested too deep (a 300 000-deep
  deque crashes the process when freed), a memo index far past the entries stored (the C
  unpickler sizes its memo array by the largest index), a declared length past the end
  of the stream, a protocol above 5, a buffer that was not given;
* refuse opcodes our pickler never writes and hostile streams use (extension registry,
  persistent ids, INST/OBJ), and STACK_GLOBAL whose names are not plain strings;
* list every global the stream names, in order, so each is checked before anything
  is imported or called;
* plan a rewrite that sends every call (REDUCE, NEWOBJ, NEWOBJ_EX), every BUILD and every
  APPEND/SETITEM on an object that is not a plain list/dict/set through a hook of the
  loader: a hook global is pushed just below the target's stack slot where that slot was
  first filled, and the opcode becomes `TUPLE2 REDUCE` (or `LIST TUPLE2 REDUCE` for the
  MARK-based ones), i.e. `hook(target, operand)`. The C unpickler then never calls
  anything the stream names directly, and `load_build`, which cannot be overridden in
  the C unpickler, is replaced by a validating hook. FRAME opcodes are dropped (frames
  are optional, and their lengths would no longer match).
"""

from __future__ import annotations

import pickletools
from dataclasses import dataclass
from typing import Any

HOOK_MODULE = "jupyter_mvc.codecs.hook"  # never importable: find_class resolves it by position


@dataclass(frozen=True)
class Limits:
    """What one stream may cost. Each opcode is at least one byte, so the opcode count is
    bounded by the stream size already; the absolute caps stop the scan itself from
    becoming the attack (the scan runs at about 1 µs per opcode)."""

    max_ops: int = 30_000_000
    max_depth: int = 1_000  # what our own pickler can write at Python's default recursion limit
    max_memo: int = 10_000_000
    max_protocol: int = 5


DEFAULT_LIMITS = Limits()


class BudgetExceeded(Exception):
    def __init__(self, limit: str, value: int, maximum: int):
        self.limit, self.value, self.maximum = limit, value, maximum
        super().__init__(f"{limit} is {value}, over the limit of {maximum}")


class Malformed(Exception):
    """A stream our pickler could not have written; the message says what is wrong."""


@dataclass
class Plan:
    stream: bytes  # the rewritten stream
    names: list[tuple[str, str]]  # every GLOBAL in the rewritten stream, in order
    hooks: list[bool]  # names[i] is one of our hooks (True) or named by the stream (False)
    ops: int
    depth: int
    memo: int


FORBIDDEN = frozenset({"EXT1", "EXT2", "EXT4", "PERSID", "BINPERSID", "INST", "OBJ"})
_STRINGS = frozenset({"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"})
_LEAVES = frozenset(
    {
        "NONE",
        "NEWTRUE",
        "NEWFALSE",
        "INT",
        "BININT",
        "BININT1",
        "BININT2",
        "LONG",
        "LONG1",
        "LONG4",
        "FLOAT",
        "BINFLOAT",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
        "BINBYTES",
        "SHORT_BINBYTES",
        "BINBYTES8",
        "BYTEARRAY8",
        "EMPTY_TUPLE",
    }
)
_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_MUTABLE, _OTHER = 0, 1  # node kinds: a plain list/dict/set made by the stream, or anything else
# (hook name, replacement bytes) for each opcode that goes through a hook
_CALLS = {"REDUCE": ("call", b"\x86R"), "NEWOBJ": ("newobj", b"\x86R"), "NEWOBJ_EX": ("newobj_ex", b"\x87R")}
_MUTATIONS = {
    "APPEND": ("append", b"\x86R"),
    "SETITEM": ("setitem", b"\x87R"),
    "APPENDS": ("extend", b"l\x86R"),
    "SETITEMS": ("setitems", b"l\x86R"),
    "ADDITEMS": ("additems", b"l\x86R"),
}
LEAF = -1  # stack values: node id >= 0, LEAF, a global as -(2 + its index), or a str constant


def scan(data: bytes, n_buffers: int, limits: Limits = DEFAULT_LIMITS) -> Plan:
    """The plan for loading `data`; BudgetExceeded or Malformed when it must not load."""
    stack: list = []  # values
    origin: list[int] = []  # byte offset where each stack slot was first filled
    marks: list[int] = []
    mark_origin: list[int] = []
    memo: dict[int, object] = {}
    kinds: list[int] = []
    edges: list[tuple[int, int]] = []
    names: list[tuple[str, str]] = []
    name_pos: list[int] = []
    inserts: list[tuple[int, int, str]] = []  # (where, consumer, hook)
    edits: dict[int, tuple[int, bytes]] = {}  # position -> (bytes replaced, new bytes)
    ops = buffers_used = 0
    max_depth, max_memo, max_ops = limits.max_depth, limits.max_memo, limits.max_ops

    def node(kind: int, children) -> int:
        n = len(kinds)
        kinds.append(kind)
        for c in children:
            if type(c) is int and c >= 0:
                edges.append((n, c))
        return n

    def pop_mark() -> tuple[list, int]:
        if not marks:
            raise Malformed("a MARK-based opcode without a MARK")
        at = marks.pop()
        items = stack[at:]
        del stack[at:], origin[at:]
        return items, mark_origin.pop()

    def need(n: int, what: str) -> None:
        if len(stack) - (marks[-1] if marks else 0) < n:
            raise Malformed(f"{what} on a stack too short")

    def hook(target_slot: int, pos: int, name: str, replacement: bytes) -> None:
        inserts.append((origin[target_slot], pos, name))
        edits[pos] = (1, replacement)

    try:
        for op, value, at in pickletools.genops(data):
            arg: Any = value
            pos = int(at or 0)  # genops gives None only for files without tell()
            ops += 1
            if ops > max_ops:
                raise BudgetExceeded("the number of opcodes", ops, max_ops)
            name = op.name
            if name in _STRINGS:
                stack.append(arg)
                origin.append(pos)
            elif name in _LEAVES:
                stack.append(LEAF)
                origin.append(pos)
            elif name in _GETS:
                if arg not in memo:
                    raise Malformed(f"memo entry {arg} read before it was written")
                stack.append(memo[arg])
                origin.append(pos)
            elif name in _PUTS or name == "MEMOIZE":
                idx = len(memo) if name == "MEMOIZE" else arg
                if idx > max_memo or idx > ops:
                    raise BudgetExceeded("a memo index", idx, min(max_memo, ops))
                if not stack or marks and len(stack) == marks[-1]:
                    raise Malformed("memoizing an empty stack")
                memo[idx] = stack[-1]
            elif name == "MARK":
                marks.append(len(stack))
                mark_origin.append(pos)
            elif name in ("EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET"):
                stack.append(node(_MUTABLE, ()))
                origin.append(pos)
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                need(n, name)
                items = stack[-n:]
                del stack[-n:]
                slot = origin[-n]
                del origin[-n:]
                stack.append(node(_OTHER, items))
                origin.append(slot)
            elif name in ("TUPLE", "LIST", "DICT", "FROZENSET"):
                items, slot = pop_mark()
                stack.append(node(_MUTABLE if name in ("LIST", "DICT") else _OTHER, items) if items else LEAF)
                origin.append(slot)
            elif name in _MUTATIONS:
                if name in ("APPEND", "SETITEM"):
                    n = 1 if name == "APPEND" else 2
                    need(n + 1, name)
                    items = stack[-n:]
                    del stack[-n:], origin[-n:]
                else:
                    items, _ = pop_mark()
                    need(1, name)
                target = stack[-1]
                if type(target) is int and target >= 0:
                    edges.extend((target, c) for c in items if type(c) is int and c >= 0)
                if not (type(target) is int and target >= 0 and kinds[target] == _MUTABLE):
                    hook(len(stack) - 1, pos, *_MUTATIONS[name])
            elif name in _CALLS:
                n = 3 if name == "NEWOBJ_EX" else 2
                need(n, name)
                func = stack[-n]
                # a named global, or (REDUCE only) what a call returned: getattr(cls, "meth")
                if not (type(func) is int and (func <= -2 or name == "REDUCE" and func >= 0 and kinds[func] == _OTHER)):
                    raise Malformed(f"{name} calls a value that is neither a named global nor a call's result")
                hook(len(stack) - n, pos, *_CALLS[name])
                items = stack[-n + 1 :]
                del stack[-n + 1 :], origin[-n + 1 :]
                stack[-1] = node(_OTHER, items)
            elif name == "BUILD":
                need(2, name)
                target = stack[-2]
                if type(target) is int and target <= -2:
                    module, qual = names[-2 - target]
                    raise Malformed(f"BUILD sets attributes on the global {module}.{qual} itself")
                state = stack.pop()
                origin.pop()
                if type(target) is int and target >= 0 and type(state) is int and state >= 0:
                    edges.append((target, state))
                hook(len(stack) - 1, pos, "build", b"\x86R")
            elif name in ("GLOBAL", "STACK_GLOBAL"):
                if name == "GLOBAL":
                    module, _, qual = str(arg).partition(" ")
                    slot = pos
                else:
                    need(2, name)
                    module, qual = stack[-2], stack[-1]
                    if type(module) is not str or type(qual) is not str:
                        raise Malformed("STACK_GLOBAL on values that are not plain strings")
                    del stack[-2:]
                    slot = origin[-2]
                    del origin[-2:]
                names.append((module, qual))
                name_pos.append(pos)
                stack.append(-2 - (len(names) - 1))
                origin.append(slot)
            elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
                if name == "NEXT_BUFFER":
                    buffers_used += 1
                    if buffers_used > n_buffers:
                        raise Malformed(f"the stream reads buffer {buffers_used} of {n_buffers} given")
                    stack.append(LEAF)
                    origin.append(pos)
                else:
                    need(1, name)
            elif name == "POP":
                if marks and len(stack) == marks[-1]:
                    marks.pop()
                    mark_origin.pop()
                else:
                    need(1, name)
                    stack.pop()
                    origin.pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                need(1, name)
                stack.append(stack[-1])
                origin.append(pos)
            elif name == "PROTO":
                if arg > limits.max_protocol:
                    raise BudgetExceeded("the pickle protocol", arg, limits.max_protocol)
            elif name == "FRAME":
                edits[pos] = (9, b"")
            elif name == "STOP":
                break
            elif name in FORBIDDEN:
                raise Malformed(f"opcode {name}, which our pickler never writes")
            else:  # every opcode of protocols 0-5 is handled above
                raise Malformed(f"unexpected opcode {name}")
    except (ValueError, KeyError, IndexError, OverflowError) as exc:
        raise Malformed(f"unreadable pickle stream ({exc})") from None
    if len(stack) != 1 or marks:
        raise Malformed("the stream does not end with exactly one object")
    depth = _depth(len(kinds), edges, max_depth) if len(edges) >= max_depth else min(len(edges) + 1, len(kinds))
    if depth > max_depth:
        raise BudgetExceeded("the nesting depth", depth, max_depth)
    stream, all_names, is_hook = _rewrite(data, edits, inserts, names, name_pos)
    return Plan(stream, all_names, is_hook, ops, depth, len(memo))


def _depth(n: int, edges: list[tuple[int, int]], limit: int) -> int:
    """The longest chain of containment (back edges of cycles ignored); stops past `limit`."""
    children: list[list[int]] = [[] for _ in range(n)]
    for parent, child in edges:
        children[parent].append(child)
    depth = [0] * n  # 0: not seen; -1: on the current path; > 0: done
    best = 0
    for root in range(n):
        if depth[root]:
            continue
        depth[root] = -1
        path = [(root, iter(children[root]))]
        while path:
            current, it = path[-1]
            for child in it:
                if depth[child] == 0:
                    depth[child] = -1
                    path.append((child, iter(children[child])))
                    if len(path) > limit:
                        return len(path)
                    break
            else:
                path.pop()
                depth[current] = 1 + max((depth[c] for c in children[current] if depth[c] > 0), default=0)
                best = max(best, depth[current])
                if best > limit:
                    return best
    return best


def _rewrite(data: bytes, edits, inserts, names, name_pos):
    """Apply the planned edits; the global names of the result, in order, and which are hooks."""
    # Hooks inserted at one position: the one consumed last goes deepest (pushed first).
    by_pos: dict[int, list[tuple[int, str]]] = {}
    for where, consumer, hook_name in inserts:
        by_pos.setdefault(where, []).append((consumer, hook_name))
    out: list[bytes] = []
    all_names: list[tuple[str, str]] = []
    is_hook: list[bool] = []
    positions = sorted(set(by_pos) | set(edits) | set(name_pos))
    stream_names = dict(zip(name_pos, names))
    last = 0
    for pos in positions:
        out.append(data[last:pos])
        last = pos
        for _, hook_name in sorted(by_pos.get(pos, ()), reverse=True):
            out.append(b"c" + HOOK_MODULE.encode() + b"\n" + hook_name.encode() + b"\n")
            all_names.append((HOOK_MODULE, hook_name))
            is_hook.append(True)
        if pos in stream_names:
            all_names.append(stream_names[pos])
            is_hook.append(False)
        if pos in edits:
            length, new = edits[pos]
            out.append(new)
            last = pos + length
    out.append(data[last:])
    return b"".join(out), all_names, is_hook

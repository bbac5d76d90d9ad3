"""A magic's line, from what was typed to parsed arguments: `{expr}` and `$name`
expanded (format specs included), shlex + argparse parsing, NAME=VALUE pairs, the words a
commit takes as its message, and jupyter_mvc's errors turned into one-line UsageErrors."""

from __future__ import annotations

import ast
import functools
import shlex
import sys
from collections.abc import Collection, Mapping
from types import FrameType
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import MAGIC_NO_VAR_EXPAND_ATTR
from IPython.utils.text import DollarFormatter

from ..errors import MvcError, UntrustedDataError
from . import messages


def friendly(fn):
    """Our own errors say what was wrong and how to fix it: show that line, no traceback.
    `{expr}` and `$name` in the line are expanded here (`expand`), format specs included."""

    @functools.wraps(fn)
    def wrapper(self, line=""):
        line = expand(line, self.shell.user_ns)
        try:
            return fn(self, line)
        except UntrustedDataError as exc:
            raise UsageError(messages.untrusted_text(exc)) from None
        except MvcError as exc:
            raise UsageError(str(exc)) from None

    setattr(wrapper, MAGIC_NO_VAR_EXPAND_ATTR, True)  # IPython leaves the line to `expand`
    return wrapper


class _SpecFormatter(DollarFormatter):
    """IPython's expansion of magic lines, plus format specs as f-strings have them:
    `{r2:.3f}`. IPython's own formatter reads `r2:.3f` as one expression (so that
    `{x[1:3]}` slices), fails, and leaves the whole line unexpanded; this one tries that
    first and, when it is no expression, formats `r2` with `.3f`."""

    def vformat(self, format_string, args, kwargs):
        out = []
        for literal, field, spec, conversion in self.parse(format_string):
            out.append(literal or "")
            if field is None:
                continue
            try:
                obj, spec = eval(f"{field}:{spec}" if spec else field, dict(kwargs)), ""
            except SyntaxError:
                if not spec:
                    raise
                obj = eval(field, dict(kwargs))
                spec = self.vformat(spec, args, kwargs) if "{" in spec else spec
            out.append(self.format_field(self.convert_field(obj, conversion), spec))
        return "".join(out)


def expand(line: str, user_ns: Mapping[str, Any]) -> str:
    """The line with `{expr}` (also `{expr:.3f}`) and `$name` expanded in the namespace the
    magic was called from, as IPython's var_expand would; unchanged when that fails."""
    if "{" not in line and "$" not in line:
        return line
    ns = dict(user_ns)
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and frame.f_code.co_name != "run_line_magic":
        frame = frame.f_back
    if frame is not None and frame.f_back is not None:
        ns.update(frame.f_back.f_locals)  # a magic inside a function body sees its locals
    try:
        return _SpecFormatter().vformat(line, args=[], kwargs=ns)
    except Exception:  # as IPython does: a line that does not expand is used as typed
        return line


def parse(method, line: str):
    try:
        argv = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot split {line!r}: {exc}. Close the quote, or escape it with a backslash.") from None
    try:
        return method.parser.parse_intermixed_args(argv)
    except UsageError as exc:
        raise UsageError(f"{exc}. See %{method.parser.prog}? for usage.") from None


def pairs(items: list[str] | None, option: str, number: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"{option} takes NAME=VALUE, got {item!r}: e.g. {option} lr=0.1")
        if number:
            try:
                out[key] = float(value)
            except ValueError:
                if value.startswith("{") and value.endswith("}"):
                    raise UsageError(
                        f"{option} {item!r}: {value} was not expanded, so it is not a number: evaluating it "
                        f"failed here (is every name in it defined?). E.g. {option} {key}={{round(r2, 3)}} or "
                        f"{option} {key}={{r2:.3f}}."
                    ) from None
                raise UsageError(f"{option} {item!r}: {value!r} is not a number. Put text in --param.") from None
        else:
            try:
                out[key] = ast.literal_eval(value)
            except (ValueError, SyntaxError):
                out[key] = value  # plain words stay strings: --param optimizer=adam
    return out


def words_as_message(words: list[str], line: str, variables: Collection[str]) -> str:
    """`%mv_commit tried ridge again` (no -m): the words are the message when none of them
    is a variable and they were quoted or are several; else a UsageError whose example
    commands are ones that work."""
    text = " ".join(words)
    quoted = any(f"{q}{w}{q}" in line for w in words for q in "\"'")
    if words and not variables and (quoted or len(words) > 1 or any(c.isspace() for c in text)):
        return text
    example = f'"{text}"' if '"' not in text else shlex.quote(text)
    if not words:
        raise UsageError('a commit needs a message: %mv_commit -m "what this version is"')
    if len(variables) == len(words):
        raise UsageError(f'a commit needs a message: %mv_commit {" ".join(words)} -m "what this version is"')
    others = [w for w in words if w not in variables]
    fix = f"If {example} is the message: %mv_commit -m {example}"
    if variables:
        fix += f'. To commit {", ".join(variables)}: %mv_commit {" ".join(variables)} -m "what this version is"'
    raise UsageError(
        f"a commit needs a message, and {', '.join(map(repr, others))} "
        f"{'is no variable' if len(others) == 1 else 'are no variables'} here. {fix}"
    )


def in_frontend(shell) -> bool:
    # ipykernel's shell: a notebook front-end (Lab, Notebook, VS Code) or nbclient.
    return type(shell).__name__ == "ZMQInteractiveShell"

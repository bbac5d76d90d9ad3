"""The fixed helper that runs INSIDE the reproduction kernel (never in the user's).

The reproducer writes `request.json` into the folder named by `$MVC_REPRODUCE_DIR`; the
kernel reads it, and writes `result.json` back: for each variable of the version, whether
the run produced it and its content id (the repository's own fingerprint, with the
variable's codec); for those whose id differs, its numeric leaves (`leaves.npz`, plain
numeric arrays, loaded with allow_pickle=False) and DataFrames as Arrow (`frames/`). No
user object is pickled back to the reproducer.

`leaves()` is also used by the reproducer on the stored value, so both sides are cut the
same way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
from pathlib import Path
from typing import Any

DIR_ENV = "MVC_REPRODUCE_DIR"
REQUEST, RESULT, LEAVES, FRAMES = "request.json", "result.json", "leaves.npz", "frames"
_MAX_LEAVES = 10_000
_MAX_DEPTH = 8

_state: dict[str, Any] = {"collected": False}


# -- both sides: numeric leaves of a value ------------------------------------------------------
def leaves(value: Any) -> tuple[dict[str, Any], bool]:
    """path -> numpy array (numbers) or str (a digest of plain data); `complete`: the
    leaves are the whole value (False for models, estimators, unknown objects)."""
    out: dict[str, Any] = {}
    complete = _walk(value, "", out, 0)
    return out, complete


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _walk(v: Any, path: str, out: dict[str, Any], depth: int) -> bool:
    import numpy as np

    if depth > _MAX_DEPTH or len(out) >= _MAX_LEAVES:
        return False
    if v is None or isinstance(v, (bool, str, bytes)):
        out[path] = "plain:" + _digest(repr(v))
        return True
    if isinstance(v, (int, float, complex, np.number, np.bool_)):
        out[path] = np.asarray(v)
        return True
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "biufc":
            out[path] = v
            return True
        return False
    module = type(v).__module__ or ""
    if module.startswith("torch"):
        return _walk_torch(v, path, out, depth)
    if module.startswith("pandas"):
        return False  # compared as a frame (pandas.testing), not by leaves
    if isinstance(v, dict):
        ok = True
        for k, item in v.items():
            ok = _walk(item, f"{path}[{k!r}]", out, depth + 1) and ok
        return ok and all(isinstance(k, (str, int, float, bool, tuple)) for k in v)
    if isinstance(v, (list, tuple)):
        ok = True
        for i, item in enumerate(v):
            ok = _walk(item, f"{path}[{i}]", out, depth + 1) and ok
        return ok
    if isinstance(v, (set, frozenset)):
        if all(isinstance(x, (str, int, float, bytes, bool, type(None))) for x in v):
            out[path] = "set:" + _digest("\n".join(sorted(repr(x) for x in v)))  # order-free
            return True
        return False
    if callable(getattr(v, "get_params", None)) and hasattr(v, "__dict__"):
        # A scikit-learn estimator: its parameters and fitted attributes are its state (its
        # stored bytes may not be: an archive can stamp the time it was written).
        ok = True
        try:
            params = v.get_params(deep=False)
        except Exception:
            return False
        for key, item in sorted(params.items()):
            ok = _walk(item, f"{path}.get_params()[{key!r}]", out, depth + 1) and ok
        for attr, item in sorted(vars(v).items()):
            if attr.endswith("_") and not attr.startswith("_"):
                ok = _walk(item, f"{path}.{attr}", out, depth + 1) and ok
        return ok
    return False


def _walk_torch(v: Any, path: str, out: dict[str, Any], depth: int) -> bool:
    if hasattr(v, "detach") and hasattr(v, "numpy"):  # a tensor
        try:
            t = v.detach().cpu()
            try:
                out[path] = t.numpy().copy()
            except TypeError:  # bfloat16 and other dtypes numpy lacks
                out[path] = t.float().numpy().copy()
            return True
        except Exception:  # a meta or sparse tensor: not comparable by leaves
            return False
    state_dict = getattr(v, "state_dict", None)
    if callable(state_dict):  # a module or optimizer: its parameters and buffers
        try:
            items = state_dict()
        except Exception:
            return False
        for k, item in items.items():
            _walk(item, f"{path}.{k}", out, depth + 1)
    return False


# -- kernel side -------------------------------------------------------------------------------
def _dir() -> Path:
    return Path(os.environ[DIR_ENV])


def _request() -> dict:
    if "request" not in _state:
        _state["request"] = json.loads((_dir() / REQUEST).read_text())
    return _state["request"]


def _commit_args(line: str) -> tuple[str | None, dict[str, float | None]]:
    """The message and --metric NAME=NUMBER pairs of an (expanded) %mv_commit line."""
    parser = argparse.ArgumentParser(add_help=False, exit_on_error=False)
    parser.add_argument("-m", "--message")
    parser.add_argument("--metric", action="append", default=[])
    try:
        args, _ = parser.parse_known_args(shlex.split(line.split(None, 1)[1] if " " in line.strip() else ""))
    except (ValueError, argparse.ArgumentError, SystemExit):
        return None, {}
    metrics: dict[str, float | None] = {}
    for item in args.metric:
        key, _, value = item.partition("=")
        try:
            metrics[key] = float(value)
        except ValueError:
            metrics[key] = None
    return args.message, metrics


def stand_in(index: int, shell: Any) -> None:
    """Where a jupyter_mvc magic was. At the `%mv_commit` that made the version (its
    message matches) the run's state is what the version stored: it is probed right then,
    with the metrics that line gives. Then the magic itself runs, against the run's own
    scratch repository: commits there build the run's history, so a later cell that picks
    a version from `jupyter_mvc.log()` and checks it out gets the run's equivalent of the
    one the user got. A checkout of a revision only the user's repository has (an id typed
    by hand) loads that version's variables from it, read-only, and says so."""
    line = _request()["magics"][index]
    try:
        if line.startswith("%mv_commit"):
            expanded = shell.var_expand(line, depth=1)  # {expr} as the magic would expand it, in the cell's frame
            message, metrics = _commit_args(expanded)
            if message is not None and message.strip() == _request()["message"].strip():
                collect(shell, metrics)
    except Exception as exc:  # the probe must never break the user's cell
        _write_error(f"probe at magic {index}: {type(exc).__name__}: {exc}")
    name, _, rest = line[1:].partition(" ")
    if name in NOT_REPLAYED:
        return
    if name == "mv_checkout" and _checkout_from_source(shell, shell.var_expand(rest, depth=1)):
        return
    if name.startswith("mv_") and shell.find_line_magic(name) is None:
        shell.extension_manager.load_extension("jupyter_mvc")  # loaded by the user's config, not a cell
    shell.run_line_magic(name, rest, _stack_depth=2)  # expands {expr} in the cell's frame, as typed


NOT_REPLAYED = frozenset({"mv_reproduce"})  # a reproduction inside a reproduction: never


def _checkout_target(args: str) -> tuple[str, list[str], bool, list[str]] | None:
    """(rev, names, trust, allow) of `%mv_checkout` arguments, or None when they do not split."""
    try:
        tokens = shlex.split(args)
    except ValueError:
        return None
    positional: list[str] = []
    allow: list[str] = []
    trust = False
    it = iter(tokens)
    for token in it:
        if token in ("-b", "--branch"):
            next(it, None)
        elif token == "--allow":
            allow.append(next(it, ""))
        elif token == "--trust":
            trust = True
        elif not token.startswith("-"):
            positional.append(token)
    if not positional:
        return None
    return positional[0], positional[1:], trust, allow


def _checkout_from_source(shell: Any, args: str) -> bool:
    """A checkout whose revision the run's repository lacks but the user's has: load it
    from the user's repository (read-only, the safe loader) into the namespace."""
    from ..errors import MvcError
    from ..repo import Repo

    target = _checkout_target(args)
    if target is None:
        return False
    rev, names, trust, allow = target
    request = _request()
    with Repo.open(request["scratch_repo"], create=False) as scratch:
        try:
            scratch.resolve(rev)
            return False  # the run made it: the real magic checks it out
        except MvcError:
            pass
    with Repo.open(request["source_repo"], create=False) as source:
        try:
            sha = source.resolve(rev)
        except MvcError:
            return False  # nowhere: the real magic says so, and the cell fails as it should
        wanted = names or list(source.manifest(sha).variables)
        for name in wanted:
            shell.user_ns[name] = source.load(sha, name, trust=trust, allow=allow)
    _write_line(
        "warnings.txt", f"%mv_checkout {args}: {rev!r} is not a version the run made; loaded from your repository"
    )
    return True


def finish(shell: Any) -> None:
    """After the last cell: probe now unless the version's own commit line already did."""
    if not _state["collected"]:
        collect(shell, None)


def collect(shell: Any, metrics: dict[str, float | None] | None) -> None:
    import numpy as np

    from ..repo import Repo

    request = _request()
    ns = shell.user_ns
    arrays: dict[str, Any] = {}
    frames = _dir() / FRAMES
    variables: dict[str, dict] = {}
    with Repo.open(request["scratch_repo"], create=False) as repo:
        for name, want in request["variables"].items():
            if name not in ns:
                variables[name] = {"present": False}
                continue
            value = ns[name]
            obs: dict[str, Any] = {"present": True, "type": f"{type(value).__module__}.{type(value).__qualname__}"}
            try:
                obs["content_id"] = repo.fingerprint(value, name, want["codec"])
            except Exception as exc:
                obs["error"] = f"{type(exc).__name__}: {exc}"
            if obs.get("content_id") != want["content_id"]:
                found, complete = leaves(value)
                keys = {}
                for path, leaf in found.items():
                    if isinstance(leaf, str):
                        keys[path] = leaf
                    else:
                        keys[path] = f"a{len(arrays)}"
                        arrays[keys[path]] = leaf
                obs["leaves"], obs["complete"] = keys, complete
                obs["frame"] = _save_frame(value, frames, len(variables))
            variables[name] = obs
    np.savez(_dir() / LEAVES, **arrays)
    result = {"variables": variables, "metrics": metrics}
    (_dir() / RESULT).write_text(json.dumps(result))
    _state["collected"] = True


def _save_frame(value: Any, folder: Path, index: int) -> str | None:
    """A DataFrame / Series as Arrow IPC (data only, index kept), for pandas.testing in the
    reproducer (`read_frame`)."""
    module = type(value).__module__ or ""
    if not module.startswith("pandas") or type(value).__name__ not in ("DataFrame", "Series"):
        return None
    try:
        import pyarrow as pa  # type: ignore[import-untyped]

        frame = value.to_frame() if type(value).__name__ == "Series" else value
        table = pa.Table.from_pandas(frame, preserve_index=True)
        folder.mkdir(exist_ok=True)
        target = folder / f"{index}.arrow"
        with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        return target.name
    except Exception:  # no pyarrow, or columns Arrow cannot hold: compared by content id alone
        return None


def read_frame(path: Path) -> Any:
    """The reproducer's side of `_save_frame`."""
    import pyarrow as pa

    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all().to_pandas()


def _write_error(text: str) -> None:
    _write_line("errors.txt", text)


def _write_line(file: str, text: str) -> None:
    with open(_dir() / file, "a", encoding="utf-8") as f:
        f.write(text + "\n")

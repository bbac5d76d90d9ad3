"""Every error jupyter_mvc raises on purpose.

Each class inherits both `MvcError` (so a face can catch ours in one place) and the
builtin it resembles (so plain Python code can catch `LookupError`, `ValueError`...).
Messages are built from attributes and end with how to fix the problem.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class MvcError(Exception):
    """Base of all jupyter_mvc errors."""


def close_matches(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """The few `candidates` that look like a mistyped `word` (`dropout_exp` for
    `dropout-exp`), best first: what a "did you mean" offers."""
    pool = [c for c in dict.fromkeys(candidates) if isinstance(c, str) and c != word]
    by_case = [c for c in pool if c.lower() == word.lower()]
    return (by_case + [c for c in difflib.get_close_matches(word, pool, n=n, cutoff=0.6) if c not in by_case])[:n]


def _did_you_mean(suggestions: Iterable[str]) -> str:
    names = [repr(s) for s in suggestions]
    if not names:
        return ""
    return f" Did you mean {' or '.join(names) if len(names) < 3 else ', '.join(names[:-1]) + ' or ' + names[-1]}?"


class NotARepositoryError(MvcError, FileNotFoundError):
    def __init__(self, path: str, why: str = ""):
        self.path, self.why = path, why
        super().__init__(
            f"{path!r} is not inside a Git repository{': ' + why if why else ''}. "
            "Run from inside one, or open it with create=True to make one next to it."
        )


class RevisionError(MvcError, LookupError):
    """`suggestions`: branch, tag or remote-branch names close to a mistyped one."""

    def __init__(self, rev: str, why: str, suggestions: Iterable[str] = (), fix: str = ""):
        self.rev = rev
        self.why = why
        self.suggestions = list(suggestions)
        super().__init__(
            f"unknown revision {rev!r}: {why}.{_did_you_mean(self.suggestions)} "
            + (fix or "Use HEAD, HEAD~N, HEAD^, a branch or tag name, or a unique id prefix (see `mvc log`).")
        )


class InvalidNameError(MvcError, ValueError):
    """A branch, tag, variable, file or metric *name* that cannot be used."""

    def __init__(self, kind: str, name: str, why: str, fix: str):
        self.kind, self.name, self.why = kind, name, why
        super().__init__(f"bad {kind} name {name!r}: {why}. {fix}")


class InvalidValueError(MvcError, ValueError):
    """A value that cannot be used: an empty commit message, a metric that is no number."""

    def __init__(self, what: str, value: object, why: str, fix: str):
        self.what, self.value, self.why = what, value, why
        super().__init__(f"bad {what} {_short(value)}: {why}. {fix}")


class RefDeleteRefusedError(MvcError, ValueError):
    """Deleting a branch would lose versions or leave HEAD nowhere."""

    def __init__(self, kind: str, name: str, why: str, fix: str):
        self.kind, self.name, self.why = kind, name, why
        super().__init__(f"cannot delete {kind} {name!r}: {why}. {fix}")


class RefExistsError(MvcError, ValueError):
    def __init__(self, kind: str, name: str):
        self.kind, self.name = kind, name
        super().__init__(f"{kind} {name!r} already exists. Pick another name or delete it first.")


class VariableNotFoundError(MvcError, KeyError):
    """`suggestions`: the version's variables close to a mistyped name (by default worked
    out from `available`)."""

    def __init__(self, name: str, version: str, available: list[str], suggestions: Iterable[str] | None = None):
        self.name, self.version, self.available = name, version, available
        self.suggestions = list(close_matches(name, available) if suggestions is None else suggestions)
        have = ", ".join(sorted(available)) or "none"
        super().__init__(
            f"version {version} has no variable {name!r} (it has: {have}).{_did_you_mean(self.suggestions)}"
        )

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.args[0]


class FileNotInVersionError(MvcError, KeyError):
    def __init__(self, name: str, version: str, available: list[str]):
        self.name, self.version, self.available = name, version, available
        have = ", ".join(sorted(available)) or "none"
        super().__init__(f"version {version} has no file {name!r} (it has: {have}).")

    def __str__(self) -> str:
        return self.args[0]


class NothingToCommitError(MvcError, ValueError):
    def __init__(self, why: str = "no variables given", fix: str = "Pass a mapping of name -> object."):
        self.why = why
        super().__init__(f"nothing to commit: {why}. {fix}")


class UnknownVariableError(MvcError, NameError):
    """A name given to commit or status that the kernel's namespace does not hold."""

    def __init__(self, name: str, suggestions: Iterable[str] = ()):
        self.name = name
        self.suggestions = list(suggestions)
        super().__init__(
            f"no variable named {name!r} in the namespace.{_did_you_mean(self.suggestions)} Check the "
            "spelling (%who lists variables) or run the cell that defines it."
        )


class DirtyCheckoutError(MvcError, RuntimeError):
    """A checkout would overwrite variables whose current values are stored nowhere."""

    def __init__(self, rev: str, names: list[str]):
        self.rev, self.names = rev, list(names)
        listed = ", ".join(self.names)
        super().__init__(
            f"checking out {rev} would overwrite {listed}, changed since the last commit. "
            f"Commit first (%mv_commit {' '.join(self.names)} -m '...'), or add --force to "
            "discard the changes."
        )


class NotebookRestoreError(MvcError, RuntimeError):
    """`--notebook` was asked for but cannot be done (no notebook file in the version or
    no notebook behind the kernel)."""

    def __init__(self, why: str, fix: str):
        self.why = why
        super().__init__(f"cannot restore the notebook file: {why}. {fix}")


class ExportError(MvcError, ValueError):
    def __init__(self, name: str, target: str, why: str, fix: str = ""):
        self.name, self.target, self.why = name, target, why
        super().__init__(
            f"cannot export {name!r} to {target}: {why}. "
            + (
                fix
                or "Use .pkl for arbitrary objects, .npy for one array, .safetensors for tensors or a "
                "dict/module of them, .csv or .parquet for a DataFrame or Series."
            )
        )


class SerializationError(MvcError, TypeError):
    def __init__(self, variable: str, path: str, cause: BaseException):
        self.variable, self.path, self.cause = variable, path, cause
        super().__init__(
            f"cannot serialise variable {variable!r}: {path} is not picklable "
            f"({type(cause).__name__}: {cause}). Nothing was committed. Leave the "
            "variable out, or drop/replace that attribute (e.g. define "
            "__getstate__ to skip it)."
        )


class UntrustedDataError(MvcError, PermissionError):
    def __init__(self, global_name: str, variable: str, version: str):
        self.global_name, self.variable, self.version = global_name, variable, version
        super().__init__(
            f"refused to load {global_name!r} while loading variable {variable!r} of "
            f"version {version}: it is not on the safe-load allow-list, and loading it "
            "could run code. If you trust this version's author, pass "
            f"allow=[{global_name!r}] (or trust=True to allow everything), or add it to "
            "the repository's allow-list with `mvc trust "
            f"{global_name}`."
        )


class CorruptObjectError(MvcError, OSError):
    def __init__(self, oid: str, why: str, variable: str = "", version: str = ""):
        self.oid, self.why, self.variable, self.version = oid, why, variable, version
        where = ""
        if variable:
            where = f" (variable {variable!r} of version {version})"
        super().__init__(
            f"object {oid[:16]}… is {why}{where}. The other variables still load; "
            "restore the object from a clone that has it (or recommit the variable), "
            "then run `mvc fsck`."
        )


class InvalidObjectIdError(MvcError, ValueError):
    def __init__(self, oid: object):
        self.oid = oid
        super().__init__(
            f"invalid object id {str(oid)[:80]!r}: ids are 64 lowercase hex digits. "
            "The manifest referring to it is damaged or crafted; do not trust it."
        )


class ConcurrentUpdateError(MvcError, RuntimeError):
    def __init__(self, ref: str, attempts: int):
        self.ref, self.attempts = ref, attempts
        super().__init__(
            f"could not update {ref} after {attempts} attempts: other processes kept moving it. Try again."
        )


class ManifestError(MvcError, ValueError):
    def __init__(self, version: str, why: str):
        self.version, self.why = version, why
        super().__init__(f"version {version} has a damaged manifest: {why}. Run `mvc fsck`; load another version.")


class StorageError(MvcError, OSError):
    def __init__(self, where: str, cause: OSError):
        self.where, self.cause = where, cause
        super().__init__(
            f"could not write to {where}: {cause.strerror or cause}. Nothing was committed "
            "(no ref moved; any whole chunks already written are removed by `mvc gc`). "
            "Free space or make the repository writable, then commit again."
        )


class RefLockedError(MvcError, RuntimeError):
    def __init__(self, ref: str, lock_file: str, age: float):
        self.ref, self.lock_file, self.age = ref, lock_file, age
        super().__init__(
            f"{ref} is locked by {lock_file} (last touched {age:.0f} s ago). If no other git "
            "or jupyter_mvc process is running, a crashed one left it behind: delete that "
            "file and commit again. Nothing was committed."
        )


class SecretsFoundError(MvcError, ValueError):
    def __init__(self, findings: list):
        self.findings = findings
        where = "; ".join(str(f) for f in findings[:5])
        more = f" (and {len(findings) - 5} more)" if len(findings) > 5 else ""
        super().__init__(
            f"refusing to commit: what looks like a credential was found in {where}{more}. "
            "Remove it (use an environment variable instead) and commit again, or confirm "
            "that it is safe with allow_secrets=True (`%mv_commit --allow-secrets`)."
        )


def _short(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class InvalidDataError(MvcError, ValueError):
    """A data-only (`data1`) variable whose stored description breaks a rule: checked in
    full before anything is allocated, so a damaged or crafted version cannot make the
    loader run code, allocate without bound or read outside its buffers."""

    def __init__(
        self,
        variable: str,
        version: str,
        why: str,
        fix: str = "The version is damaged or crafted; load another version or ask its author to recommit.",
    ):
        self.variable, self.version, self.why = variable, version, why
        super().__init__(f"cannot load variable {variable!r} of version {version}: {why}. {fix}")


class VariableLoadError(MvcError, ValueError):
    """Reading or decoding one variable of a version failed (a damaged or crafted stream,
    a bad manifest entry, or any exception the data raised while loading). Only that
    variable fails; the others of the version still load."""

    def __init__(self, variable: str, version: str, why: str):
        self.variable, self.version, self.why = variable, version, why
        super().__init__(
            f"variable {variable!r} of version {version} did not load: {why}. The other variables still "
            "load; run `mvc fsck`, and restore or recommit this one from a version you trust."
        )


class DamagedHeadError(MvcError, RuntimeError):
    """`refs/mvc/HEAD` names something other than a branch of versions or a version id, so
    a commit could move a ref that is not ours (e.g. the user's `refs/heads/master`)."""

    def __init__(self, target: str):
        self.target = target
        super().__init__(
            f"refs/mvc/HEAD points at {target!r}, which is not a branch of versions (refs/mvc/heads/*): "
            "it is damaged or crafted, and nothing was committed or moved. Reset it with "
            "`git symbolic-ref refs/mvc/HEAD refs/mvc/heads/main` (or another branch from `mvc branch`)."
        )


class FileTooLargeError(MvcError, ValueError):
    """A file of a version is larger than any real one of its kind: refused unread."""

    def __init__(self, name: str, version: str, size: int, limit: int):
        self.name, self.version, self.size, self.limit = name, version, size, limit
        super().__init__(
            f"file {name!r} of version {version} is {size} bytes, over the {limit}-byte limit for it: the "
            "version is damaged or crafted and it was not read. Load another version; `mvc fsck` lists them."
        )


_TRUST_FIX = (
    "The version is damaged or crafted. If you trust its author, load it with trust=True "
    "(`--trust`), which skips the safe loader; otherwise load another version."
)


class LoadBudgetError(MvcError, ValueError):
    """A pickled variable would cost more to load than anything our pickler writes: too
    many opcodes, objects nested too deep, a memo index past its entries, or a
    constructor asked to allocate more than the version stores. Refused before it runs."""

    def __init__(self, variable: str, version: str, limit: str, value: object, maximum: object):
        self.variable, self.version, self.limit, self.value, self.maximum = variable, version, limit, value, maximum
        super().__init__(
            f"refused to load variable {variable!r} of version {version}: {limit} is {value}, over the "
            f"limit of {maximum}. {_TRUST_FIX}"
        )


class UnsafePickleError(MvcError, ValueError):
    """A pickled variable that the safe loader refuses for what it does rather than what it
    names: an opcode our pickler never writes, a state that would corrupt memory (e.g. a
    dtype field past the item, Categorical codes past the categories), attributes set on
    a class, or any exception its data raised while loading."""

    def __init__(self, variable: str, version: str, why: str):
        self.variable, self.version, self.why = variable, version, why
        super().__init__(f"refused to load variable {variable!r} of version {version}: {why}. {_TRUST_FIX}")


# -- remotes ------------------------------------------------------------------------------------
class RemoteError(MvcError, OSError):
    """A remote that cannot be reached, read or written: `what` went wrong, `fix` says how
    to put it right (credentials, endpoint, bucket...)."""

    def __init__(self, url: str, what: str, fix: str):
        self.url, self.what, self.fix = url, what, fix
        super().__init__(f"remote {url}: {what}. {fix}")


class RemoteObjectMissingError(RemoteError, FileNotFoundError):
    def __init__(self, url: str, key: str):
        self.key = key
        super().__init__(
            url, f"{key!r} is not there", "Push to the remote again, or check its URL (`mvc remote list`)."
        )


class UnknownRemoteError(MvcError, LookupError):
    def __init__(self, name: str, known: list[str]):
        self.name = name
        have = ", ".join(known) if known else "none yet"
        super().__init__(f"no remote named {name!r} (remotes: {have}). Add one: mvc remote add NAME URL.")


class UnsafeRemoteError(MvcError, RuntimeError):
    """The remote's server ignores conditional writes: two pushes at once could lose one."""

    def __init__(self, url: str):
        self.url = url
        super().__init__(
            f"remote {url} ignores conditional writes (a probe object written twice with "
            "'only if absent' was accepted twice), so two pushes at once could silently lose one. "
            "Use a server that supports If-None-Match/If-Match, or add it with --accept-unsafe if "
            "only one person pushes at a time."
        )


class PushRejectedError(MvcError, RuntimeError):
    def __init__(self, remote: str, branch: str, why: str):
        self.remote, self.branch = remote, branch
        super().__init__(
            f"push to {remote}/{branch} rejected: {why}. Nothing was lost on either side: "
            f"fetch and merge first (mvc fetch {remote}; mvc merge {remote}/{branch}), then push again."
        )


class DivergedError(MvcError, RuntimeError):
    def __init__(self, branch: str, theirs: str, ahead: int, behind: int):
        self.branch, self.theirs, self.ahead, self.behind = branch, theirs, ahead, behind
        super().__init__(
            f"{branch} and {theirs} have diverged ({ahead} version(s) only here, {behind} only there), "
            f"so pull cannot fast-forward. Merge them: mvc merge {theirs} (or %mv_merge {theirs}), then push."
        )


class MergeConflictError(MvcError, RuntimeError):
    """A merge stopped before writing anything: `conflicts` are (names, kind, detail lines)."""

    def __init__(self, theirs: str, conflicts: list[tuple[tuple[str, ...], str, list[str]]]):
        self.theirs = theirs
        self.conflicts = conflicts
        self.names = [n for names, _, _ in conflicts for n in names]
        lines = [
            f"merge of {theirs} stopped: {len(conflicts)} conflict(s); nothing was written, the kernel is unchanged."
        ]
        for names, kind, detail in conflicts:
            lines.append(f"  {', '.join(names)}: {kind}")
            lines += [f"      {d}" for d in detail]
        flags = " ".join(f"--take {n}=ours" for n in self.names)
        lines.append(f"Resolve by side (--take NAME=ours or --take NAME=theirs), e.g. {flags}")
        lines.append("or combine same-shaped weights: --strategy NAME=average or --strategy NAME=task-arithmetic.")
        super().__init__("\n".join(lines))


class NoAccessError(MvcError, PermissionError):
    def __init__(self, url: str, why: str, your_key: str | None):
        self.url = url
        fix = (
            f"Ask a member to run: mvc access grant {your_key}"
            if your_key
            else "Check the passphrase ($MVC_PASSPHRASE), or ask a member to grant your key (mvc access whoami)."
        )
        super().__init__(f"no access to the private remote {url}: {why}. {fix}")

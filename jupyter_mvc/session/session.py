"""`KernelSession`: one kernel's versioning state and the operations on its namespace."""

from __future__ import annotations

import dataclasses
import keyword
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import api, capture
from ..errors import (
    DirtyCheckoutError,
    InvalidValueError,
    MvcError,
    NotebookRestoreError,
    NothingToCommitError,
    SerializationError,
    UnknownVariableError,
    UntrustedDataError,
    VariableNotFoundError,
)
from ..objects import Version
from ..present import fmt
from . import notebook as notebook_file
from .kernel import Kernel
from .reports import CheckoutReport, CommitReport, NotebookRestore

# Names a checkout never assigns: the kernel's own (IPython's history and display hooks,
# builtins, the exit helpers) and any name starting with "_" (private or IPython's).
RESERVED_NAMES = frozenset(
    {"__builtins__", "get_ipython", "In", "Out", "exit", "quit", "_", "__", "___", "_ih", "_oh", "_dh"}
)


def refused_name(name: str) -> str | None:
    """Why a version's variable `name` must not be assigned into a kernel's namespace
    (None: it may be)."""
    if not isinstance(name, str) or not name.isidentifier():
        return "it is not a Python identifier"
    if keyword.iskeyword(name):
        return "it is a Python keyword"
    if name in RESERVED_NAMES or name.startswith("_"):
        return "the kernel reserves it"
    return None


_NO_NOTEBOOK = (
    "the notebook file (no notebook behind this kernel: a terminal, or nbclient without "
    "JPY_SESSION_NAME); the executed cells are stored"
)


@dataclass
class SessionState:
    # The version this kernel last committed or checked out in full: the baseline that
    # status and the dirty-checkout guard compare against (None: the repository's HEAD).
    version: str | None = None
    # Variable names this kernel versions; with `track_all`, every variable worth versioning.
    tracked: set[str] = field(default_factory=set)
    track_all: bool = False
    autocommit: bool = False
    # name -> content id of a value this kernel knows is stored (committed or checked out),
    # so restoring a variable from an older version does not count as an unsaved change.
    # (content id, codec): a value compares by the codec its version was stored with.
    known_ids: dict[str, tuple[str, str]] = field(default_factory=dict)
    # Set on the first commit, so later commits go to the same repository even after a
    # `%cd`; None: the notebook's folder, else the working directory.
    repo_path: str | None = None
    # What a commit could not capture (e.g. no notebook file) is said once per kernel.
    said: set[str] = field(default_factory=set)


class KernelSession:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.state = SessionState()

    # -- where things are ------------------------------------------------------------------
    @property
    def ns(self) -> Any:
        return self.kernel.namespace

    def path(self) -> str:
        """The folder (or notebook) whose Git repository holds this kernel's versions."""
        if self.state.repo_path:
            return self.state.repo_path
        nb = self.kernel.notebook_path()
        return os.path.dirname(nb) if nb else os.getcwd()

    def user_variables(self) -> capture.Selection:
        return capture.select(self.ns, self.kernel.hidden_names())

    def _baseline(self) -> str | None:
        """This kernel's last committed/checked-out version, if it still exists."""
        if self.state.version:
            try:
                return api.resolve(self.state.version, path=self.path())
            except MvcError:
                pass
        return None

    # -- commit ------------------------------------------------------------------------------
    def commit(
        self,
        message: str,
        names: Iterable[str] = (),
        *,
        metrics: Mapping | None = None,
        params: Mapping | None = None,
        auto: bool = False,
        allow_secrets: bool = False,
    ) -> CommitReport:
        """Commit `names` (all or nothing), or every variable worth versioning (skipping
        and listing those that cannot be serialised)."""
        names = list(dict.fromkeys(names))
        if not isinstance(message, str) or not message.strip():
            raise InvalidValueError(
                "commit message", message, "it is empty", 'Say what this version is: %mv_commit -m "baseline lr=0.1".'
            )
        secrets: list[str] = []
        named_secrets: list[str] = []
        if names:
            unknown = [n for n in names if n not in self.ns]
            if unknown:
                raise UnknownVariableError(unknown[0])
            objects = {n: self.ns[n] for n in names}
            named_secrets = [n for n in names if capture.looks_secret(n, self.ns[n])]
        else:
            selection = self.user_variables()
            objects, secrets = selection.objects, selection.secrets
            if not objects:
                raise NothingToCommitError(
                    "no variables worth versioning in the namespace (modules, functions and classes are left out)",
                    "Define some, or name them: %mv_commit model -m 'msg'.",
                )
        path = self.path()
        with api.open_repo(path, create=True) as repo:
            created = repo.root if repo.created else None
        curves = capture.model_curves(objects)
        all_params = {**capture.model_params(objects), **(params or {})}
        files, missing = self._provenance()
        skipped: dict[str, str] = {}
        while True:
            try:
                info = api.commit(
                    objects,
                    message,
                    path=path,
                    metrics={**curves, **(metrics or {})},
                    params=all_params,
                    files=files,
                    allow_secrets=allow_secrets,
                )
                break
            except SerializationError as exc:
                if names:
                    raise  # explicit names: all or nothing
                skipped[exc.variable] = f"{exc.path} is not picklable ({type(exc.cause).__name__})"
                objects.pop(exc.variable, None)
                if not objects:
                    raise NothingToCommitError(
                        "none of the variables can be serialised ("
                        + "; ".join(f"{k}: {v}" for k, v in skipped.items())
                        + ")",
                        "Name the ones you want, or make them picklable.",
                    ) from None
        version = api.show(info.id, path=path)
        branch = api.head(path=path).branch
        self.state.repo_path = path
        self.state.version = info.id
        self.state.tracked = set(objects)
        self.state.track_all = not names
        self.state.known_ids.update({n: (e.content_id, e.codec) for n, e in version.manifest.variables.items()})
        first = tuple(m for m in missing if m not in self.state.said)
        if not auto:
            self.state.said.update(first)
        return CommitReport(
            version=info,
            branch=branch,
            variables=tuple(objects),
            auto=auto,
            size=sum(e.size for e in version.manifest.variables.values()),
            skipped=skipped,
            secrets=tuple(secrets),
            secrets_named=tuple(named_secrets),
            not_captured=tuple(missing),
            first_mention=first if not auto else (),
            created_repo=created,
        )

    def _provenance(self) -> tuple[dict[str, bytes | str], list[str]]:
        files: dict[str, bytes | str] = {"history.py": self.kernel.executed_cells()}
        missing = []
        nb = self.kernel.notebook_path()
        data = _read(nb) if nb else None
        if data is not None:
            files["notebook.ipynb"] = data
        elif nb:
            missing.append(f"the notebook file ({nb} could not be read)")
        else:
            missing.append(_NO_NOTEBOOK)
        return files, missing

    # -- status ------------------------------------------------------------------------------
    def tracked_names(self) -> list[str]:
        if self.state.track_all or not self.state.tracked:
            return list(self.user_variables().objects)
        return sorted(self.state.tracked)

    def status(self, names: Iterable[str] | None = None) -> api.Status:
        """Tracked variables changed/new/missing since this kernel's version (by content id:
        hashes the data, writes nothing). A variable that can no longer be pickled counts
        as changed."""
        candidates = list(names) if names is not None else self.tracked_names()
        view, unhashable = dict(self.ns), []
        while True:
            try:
                st = api.status(view, candidates, path=self.path(), rev=self._baseline())
                break
            except SerializationError as exc:
                unhashable.append(exc.variable)
                view.pop(exc.variable, None)
        if unhashable:
            st = dataclasses.replace(
                st, changed=st.changed + tuple(unhashable), missing=tuple(n for n in st.missing if n not in unhashable)
            )
        return st

    # -- checkout ----------------------------------------------------------------------------
    def checkout(
        self,
        rev: str,
        names: Iterable[str] = (),
        *,
        force: bool = False,
        new_branch: str | None = None,
        notebook: bool = False,
        trust: bool = False,
        allow: Iterable[str] = (),
    ) -> CheckoutReport:
        """Put a version's variables (all, or `names`) into the namespace. Raises
        DirtyCheckoutError (with `.names`) rather than overwrite values stored nowhere,
        unless `force`. Only identifiers the kernel does not reserve are assigned
        (`refused_name`); each other variable, and each that fails to load, is listed by
        name in the report's `failed` while the rest load."""
        names = list(dict.fromkeys(names))
        path = self.path()
        target = api.show(rev, path=path)
        entries = target.manifest.variables
        for n in names:
            if n not in entries:
                raise VariableNotFoundError(n, target.info.short_id, list(entries))
        wanted = [n for n in names or list(entries) if refused_name(n) is None]
        if not force:
            dirty = self._dirty([n for n in wanted if n in self.ns], target)
            if dirty:
                raise DirtyCheckoutError(rev, dirty)
        nb_path = self._notebook_to_restore(target) if notebook else None
        result = api.checkout(
            rev,
            names or None,
            path=path,
            namespace=self.ns,
            new_branch=new_branch,
            trust=trust,
            allow=allow,
            refuse=refused_name,
        )
        restored = tuple(result.objects)
        if not names:
            self.state.version = result.version.id
            self.state.tracked = set(wanted)
        self.state.known_ids.update({n: (entries[n].content_id, entries[n].codec) for n in restored})
        restore: NotebookRestore | None = None
        if nb_path:
            data = api.read_file(target.info.id, "notebook.ipynb", path=path)
            restore = notebook_file.restore(nb_path, data, api.data_dir(path=path) / "notebook-backups")
        return CheckoutReport(
            version=result.version,
            branch=result.branch,
            moved_head=result.moved_head,
            restored=restored,
            names_given=bool(names),
            left_alone=tuple(sorted(set(self.user_variables().objects) - set(wanted))),
            # A name from a crafted manifest may hold escape sequences: the report's keys are printable.
            failed={fmt.printable(k): str(v) for k, v in result.failed.items()},
            untrusted={
                fmt.printable(k): v.global_name for k, v in result.failed.items() if isinstance(v, UntrustedDataError)
            },
            left_behind=result.left_behind,
            notebook=restore,
        )

    def _dirty(self, overwrite: list[str], target: Version) -> list[str]:
        """Variables whose current value is stored nowhere we know: overwriting loses it."""
        if not overwrite:
            return []
        st = self.status(overwrite)
        entries = target.manifest.variables
        dirty = []
        for n in overwrite:
            if n not in st.changed and n not in st.new:
                continue
            stored = [(entries[n].content_id, entries[n].codec)]
            if n in self.state.known_ids:
                stored.append(self.state.known_ids[n])
            if not any(self._holds(n, content_id, codec) for content_id, codec in stored):
                dirty.append(n)
        return dirty

    def _holds(self, name: str, content_id: str, codec: str) -> bool:
        """Whether the kernel's value of `name` is the one stored as `content_id`."""
        try:
            return api.fingerprint(self.ns[name], name, path=self.path(), codec=codec) == content_id
        except SerializationError:
            return False  # it cannot be stored that way, so it is not that value

    def _notebook_to_restore(self, target: Version) -> str:
        if "notebook.ipynb" not in target.files:
            raise NotebookRestoreError(
                f"version {target.info.short_id} has no notebook file (it was committed outside a notebook)",
                "Check out without --notebook.",
            )
        nb = self.kernel.notebook_path()
        if not nb:
            raise NotebookRestoreError(
                "no notebook was found behind this kernel (terminal or nbclient)",
                f"Set JPY_SESSION_NAME to its path, or export it with `mvc show {target.info.short_id}`.",
            )
        return nb

    # -- autocommit --------------------------------------------------------------------------
    def enable_autocommit(self) -> None:
        state = self.state
        if not state.tracked and not state.track_all:
            try:
                head = api.log(path=self.path(), limit=1)
            except MvcError:  # no repository yet: the first autocommit creates it
                head = []
            if head and head[0].variables:
                state.tracked = set(head[0].variables)
            else:
                state.track_all = True
        state.autocommit = True

    def disable_autocommit(self) -> None:
        self.state.autocommit = False

    def autocommit_after(self, source: str, execution_count: int | None) -> CommitReport | None:
        """After a cell ran: commit tracked variables if it changed any (None: nothing to do)."""
        if not self.state.autocommit or "%mv_" in source or not source.strip():
            return None  # our own magics already say what they did
        st = self.status()
        if not (st.changed or st.new or st.missing):
            return None
        names = () if self.state.track_all else [n for n in sorted(self.state.tracked) if n in self.ns]
        if not self.state.track_all and not names:
            return None
        parts = [
            f"{label} {', '.join(getattr(st, label))}" for label in ("changed", "new", "missing") if getattr(st, label)
        ]
        first = source.strip().splitlines()[0][:60]
        message = f"autocommit after In[{execution_count}]: {first}\n\n" + "; ".join(parts)
        return self.commit(message, names, auto=True)


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None

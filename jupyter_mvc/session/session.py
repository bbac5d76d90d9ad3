"""`KernelSession`: one kernel's versioning state and the operations on its namespace."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Iterable, Mapping
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
    close_matches,
)
from ..objects import Progress, Version
from ..present import fmt
from . import notebook as notebook_file
from .kernel import Kernel
from .reports import CheckoutReport, CommitReport, NotebookRestore
from .state import SessionState, refused_name
from .witness import witness

_NO_NOTEBOOK = (
    "the notebook file (no notebook behind this kernel: a terminal, or nbclient without "
    "JPY_SESSION_NAME); the executed cells are stored"
)


class KernelSession:
    def __init__(self, kernel: Kernel):
        self.kernel = kernel
        self.state = SessionState()
        self.live_notebook: tuple[str, bytes] | None = None
        # What autocommit last found unchanged (`_quiet_key`): the same key, nothing to do.
        self._quiet: tuple | None = None

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
        progress: Progress | None = None,
    ) -> CommitReport:
        """Commit `names` (all or nothing), or every variable worth versioning (skipping
        and listing those that cannot be serialised). Either way the version is the whole
        tracked state: HEAD's other variables are carried forward unchanged (a variable
        deleted from the kernel too: only `rm` stops tracking one). A named variable
        brings along the partners of its group in HEAD (co-variables are one unit).
        `progress`: see `api.commit`."""
        names = list(dict.fromkeys(names))
        if names:
            names += [n for n in self._group_partners(names) if n not in names and n in self.ns]
        if not isinstance(message, str) or not message.strip():
            raise InvalidValueError(
                "commit message", message, "it is empty", 'Say what this version is: %mv_commit -m "baseline lr=0.1".'
            )
        secrets: list[str] = []
        named_secrets: list[str] = []
        if names:
            unknown = [n for n in names if n not in self.ns]
            if unknown:
                raise UnknownVariableError(unknown[0], close_matches(unknown[0], self.user_variables().objects))
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
                    progress=progress,
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
        self.state.tracked = set(version.manifest.variables)
        self.state.track_all = not names
        for n, e in version.manifest.variables.items():
            if n in objects:
                self.state.remember_value(n, objects[n], e)
            else:  # carried forward: the value stored, whatever the kernel holds now
                self.state.remember(n, e.content_id, e.codec)
        first = tuple(m for m in missing if m not in self.state.said)
        if not auto:
            self.state.said.update(first)
        return CommitReport(
            version=info,
            branch=branch,
            variables=tuple(objects),
            carried=tuple(n for n in version.manifest.variables if n not in objects),
            auto=auto,
            size=sum(e.size for n, e in version.manifest.variables.items() if n in objects),
            skipped=skipped,
            secrets=tuple(secrets),
            secrets_named=tuple(named_secrets),
            not_captured=tuple(missing),
            first_mention=first if not auto else (),
            created_repo=created,
            added=info.added,
        )

    def _group_partners(self, names: list[str]) -> list[str]:
        """The names sharing a group with any of `names` in HEAD (none without a HEAD)."""
        try:
            entries = api.show("HEAD", path=self.path()).manifest.variables
        except MvcError:
            return []
        return [m for n in names if n in entries for m in entries[n].members]

    def set_live_notebook(self, path: str, content: bytes) -> None:
        """The notebook as the front-end shows it (sent over the comm before a cell runs):
        commits store this rather than the file, which holds only what was last saved."""
        self.live_notebook = (path, content)

    def _provenance(self) -> tuple[dict[str, bytes | str], list[str]]:
        files: dict[str, bytes | str] = {"history.py": self.kernel.executed_cells()}
        missing: list[str] = []
        nb = self.kernel.notebook_path()
        live = self.live_notebook
        if live is not None and (nb is None or os.path.basename(nb) == os.path.basename(live[0])):
            files["notebook.ipynb"] = live[1]
            return files, missing
        data = _read(nb) if nb else None
        if data is not None:
            files["notebook.ipynb"] = data
            stale = _saved_before(nb, self.kernel.last_cell_finished())
            if stale:
                missing.append(stale)
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

    def status(self, names: Iterable[str] | None = None, *, verify: bool = False) -> api.Status:
        """Tracked variables changed/new/missing since this kernel's version (by content id:
        hashes the data, writes nothing). A value this kernel committed or checked out
        counts as unchanged however its codec lays it out now (`SessionState.known`). A
        variable of the version that can no longer be pickled counts as changed (and is
        noted in `state.unpicklable`); new ones are listed without being hashed.

        Only values that may have changed are hashed: one whose witness (torch's in-place
        counters, the skeleton, small buffers: `witness.py`) still holds reuses its last
        fingerprints. `verify`: hash every value (writes through `tensor.data` are not
        counted by torch)."""
        candidates = list(names) if names is not None else self.tracked_names()
        view, unhashable = dict(self.ns), {}
        known = self.state.known()
        memo, seen = ({}, {}) if verify else self.state.seed(view, self.state.fingerprints.keys() & view.keys())
        while True:
            try:
                st = api.status(
                    view, candidates, path=self.path(), rev=self._baseline(), known=known, fingerprints=memo
                )
                self.state.keep(view, memo, seen)
                break
            except SerializationError as exc:
                unhashable[exc.variable] = f"{exc.path} is not picklable ({type(exc.cause).__name__})"
                view.pop(exc.variable, None)
        if unhashable:
            self.state.unpicklable.update({n: id(self.ns[n]) for n in unhashable})
            # Popped from the view, one of the version's variables reads as missing.
            st = dataclasses.replace(
                st,
                changed=st.changed + tuple(n for n in unhashable if n in st.missing),
                missing=tuple(n for n in st.missing if n not in unhashable),
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
        progress: Progress | None = None,
        lazy: bool = False,
        map_location: str | None = None,
    ) -> CheckoutReport:
        """Put a version's variables (all, or `names`) into the namespace. Raises
        DirtyCheckoutError (with `.names`) rather than overwrite values stored nowhere,
        unless `force`. Only identifiers the kernel does not reserve are assigned
        (`refused_name`); each other variable, and each that fails to load, is listed by
        name in the report's `failed` while the rest load. Co-variables are restored as
        their whole group (`group_restored`), so the objects they share stay shared; the
        dirty guard covers every member. `progress`, `lazy` (arrays and tensors paged in
        on first touch), `map_location` (where tensors go): see `api.checkout`."""
        names = list(dict.fromkeys(names))
        path = self.path()
        target = api.show(rev, path=path)
        entries = target.manifest.variables
        for n in names:
            if n not in entries:
                raise VariableNotFoundError(n, target.info.short_id, list(entries))
        with_partners = [
            m
            for n in names
            for m in (entries[n].members or (n,))
            if m in entries and entries[m].group == entries[n].group
        ]
        wanted = [n for n in dict.fromkeys(with_partners) or list(entries) if refused_name(n) is None]
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
            progress=progress,
            lazy=lazy,
            map_location=map_location,
        )
        restored = tuple(result.objects)
        if not names:
            self.state.version = result.version.id
            self.state.tracked = set(wanted)
        for n in restored:
            self.state.remember_value(n, result.objects[n], entries[n])
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
            group_restored={gid[:8]: members for gid, members in result.groups.items()},
        )

    def _dirty(self, overwrite: list[str], target: Version) -> list[str]:
        """Variables whose current value is stored nowhere we know: overwriting loses it.
        Asks `status` (so the guard, `%mv_status`, the Lab status bar and autocommit
        agree), then whether a changed value is the target's or another this kernel
        committed or checked out."""
        if not overwrite:
            return []
        st = self.status(overwrite, verify=True)  # torch does not count writes through .data
        listed = {*st.changed, *st.unchanged, *st.new, *st.missing}
        entries = target.manifest.variables
        known = self.state.known()
        dirty = []
        for n in overwrite:
            if n in listed and n not in st.changed and n not in st.new:
                continue
            if n not in listed:  # new, and it cannot be pickled: stored nowhere
                dirty.append(n)
                continue
            stored = {(entries[n].content_id, entries[n].codec), *known.get(n, ())}
            if not self._holds(n, stored):
                dirty.append(n)
        return dirty

    def _holds(self, name: str, stored: Iterable[tuple[str, str]]) -> bool:
        """Whether the kernel's value of `name` is one stored as any of the (content id,
        codec) pairs `stored` (each codec's fingerprint computed once)."""
        ids: dict[str, set[str]] = {}
        for content_id, codec in stored:
            ids.setdefault(codec, set()).add(content_id)
        for codec, wanted in ids.items():
            try:
                if api.fingerprint(self.ns[name], name, path=self.path(), codec=codec) in wanted:
                    return True
            except (SerializationError, ValueError):
                continue  # it cannot be stored that way (or by a codec this version lacks)
        return False

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
        """Commit after each cell that changes what this kernel versions: the variables a
        commit named, else every variable worth versioning, new ones included (the rules
        of `%mv_commit` with no names: secrets left out, unpicklable ones skipped)."""
        state = self.state
        if not state.tracked:
            state.track_all = True
        state.autocommit = True

    def disable_autocommit(self) -> None:
        self.state.autocommit = False

    def autocommit_after(self, source: str, execution_count: int | None) -> CommitReport | None:
        """After a cell ran: commit tracked variables if it changed any, or defined a new
        one worth versioning (None: nothing to do). A value that cannot be pickled is no
        reason to commit; the commit skips it and its report lists it."""
        if not self.state.autocommit or "%mv_" in source or not source.strip():
            return None  # our own magics already say what they did
        key = self._quiet_key()
        if key is not None and key == self._quiet:
            return None  # nothing it compares can have changed: no repository read at all
        st = self.status()
        ns, unpicklable = self.ns, self.state.unpicklable
        new = [n for n in st.new if not (n in unpicklable and id(ns[n]) == unpicklable[n])]
        st = dataclasses.replace(st, new=tuple(new))
        if not (st.changed or st.new or st.missing):
            self._quiet = key
            return None
        names = () if self.state.track_all else [n for n in sorted(self.state.tracked) if n in self.ns]
        if not self.state.track_all and not names:
            return None
        parts = [
            f"{label} {', '.join(getattr(st, label))}" for label in ("changed", "new", "missing") if getattr(st, label)
        ]
        first = source.strip().splitlines()[0][:60]
        message = f"autocommit after In[{execution_count}]: {first}\n\n" + "; ".join(parts)
        report = self.commit(message, names, auto=True)
        unpicklable.update({n: id(ns[n]) for n in report.skipped if n in ns})
        return report

    def _quiet_key(self) -> tuple | None:
        """What autocommit's status depends on, cheaply: the baseline version, the names it
        may compare (candidates and every name this kernel stored) with each value's witness,
        and the values known unpicklable. None when a value has no witness (it must be
        hashed) or the baseline is the moving HEAD."""
        state = self.state
        if state.version is None:
            return None
        ns = self.ns
        parts: list[tuple[str, str | None]] = []
        for name in sorted({*self.tracked_names(), *state.known_ids}):
            if name not in ns:
                parts.append((name, None))
                continue
            w = witness(ns[name])
            if w is None:
                return None
            parts.append((name, w))
        return (state.version, state.track_all, tuple(parts), tuple(sorted(state.unpicklable.items())))


def _saved_before(path: str | None, last_cell: float | None) -> str | None:
    """A caveat when the notebook file was saved before cells that have run since."""
    if path is None or last_cell is None:
        return None
    try:
        saved = os.path.getmtime(path)
    except OSError:
        return None
    if saved >= last_cell - 1.0:
        return None
    return (
        f"the notebook as on screen: the file stored was saved at {time.strftime('%H:%M:%S', time.localtime(saved))}, "
        "before cells that ran since, so it may not hold them (save the notebook first, or commit "
        "from the Versions sidebar, which saves it)"
    )


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None

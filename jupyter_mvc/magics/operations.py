"""What the magics do, as plain methods: each takes plain arguments and returns a result
dict with a human `message`. The magics parse and print; the JupyterLab comm and the
timeline widget's check-out button call these directly.

User mistakes raise `UsageError` (or an `MvcError`, which the faces show as one line).
"""
from __future__ import annotations

import dataclasses
from contextlib import closing
import os
import shutil
import time
from typing import Any, Iterable, Mapping

from IPython.core.error import UsageError

from .. import api, capture
from ..errors import MvcError, SerializationError, VariableNotFoundError
from . import provenance
from .state import KernelState


class Operations:
    def __init__(self, shell: Any, state: KernelState):
        self.shell = shell
        self.state = state

    # -- where things are ------------------------------------------------------------------
    @property
    def ns(self) -> dict:
        return self.shell.user_ns

    def notebook(self) -> str | None:
        return provenance.notebook_path(self.shell)

    def path(self) -> str:
        return self.state.path(self.notebook())

    def repo(self, create: bool = False):
        return api.open_repo(self.path(), create=create)

    def user_variables(self) -> capture.Selection:
        return capture.select(self.ns, getattr(self.shell, "user_ns_hidden", {}))

    def _baseline(self, repo) -> str | None:
        """This kernel's last committed/checked-out version, if it still exists."""
        if self.state.version:
            try:
                return repo.resolve(self.state.version)
            except MvcError:
                pass
        return None

    # -- commit ------------------------------------------------------------------------------
    def commit(self, message: str, names: Iterable[str] = (), *, metrics: Mapping | None = None,
               params: Mapping | None = None, auto: bool = False, allow_secrets: bool = False) -> dict:
        """Commit `names` (all or nothing), or every variable worth versioning (skipping
        and listing those that cannot be serialised)."""
        names = list(dict.fromkeys(names))
        if not message or not message.strip():
            raise UsageError('a commit needs a message: %mv_commit -m "what this version is"')
        notes: list[str] = []
        secrets: list[str] = []
        if names:
            unknown = [n for n in names if n not in self.ns]
            if unknown:
                raise UsageError(f"no variable named {unknown[0]!r} in the namespace. Check the "
                                 "spelling (%who lists variables) or run the cell that defines it.")
            objects = {n: self.ns[n] for n in names}
            named_secrets = [n for n in names if capture.looks_secret(n, self.ns[n])]
            if named_secrets:
                notes.append(f"Warning: committing {', '.join(named_secrets)} although the name "
                             "looks like a secret (you named it); history is shared when pushed.")
        else:
            selection = self.user_variables()
            objects, secrets = selection.objects, selection.secrets
            if not objects:
                raise UsageError("nothing to commit: no variables worth versioning in the namespace "
                                 "(modules, functions and classes are left out). Define some, or name "
                                 "them: %mv_commit model -m 'msg'.")
        path = self.path()
        repo = api.open_repo(path, create=True)
        if repo.created:
            notes.append(f"Created a Git repository at {repo.root} for the versions.")
        repo.close()
        curves = capture.model_curves(objects)
        all_params = {**capture.model_params(objects), **(params or {})}
        files, missing = self._provenance()
        skipped: dict[str, str] = {}
        while True:
            try:
                info = api.commit(objects, message, path=path, metrics={**curves, **(metrics or {})},
                                  params=all_params, files=files, allow_secrets=allow_secrets)
                break
            except SerializationError as exc:
                if names:
                    raise  # explicit names: all or nothing
                skipped[exc.variable] = f"{exc.path} is not picklable ({type(exc.cause).__name__})"
                objects.pop(exc.variable, None)
                if not objects:
                    raise UsageError("nothing to commit: none of the variables can be serialised ("
                                     + "; ".join(f"{k}: {v}" for k, v in skipped.items())
                                     + "). Name the ones you want, or make them picklable.") from None
        with closing(self.repo()) as repo:
            manifest = repo.manifest(info.id)
            branch = repo.current_branch()
        self.state.repo_path = path
        self.state.version = info.id
        self.state.tracked = set(objects)
        self.state.track_all = not names
        self.state.known_ids.update({n: e.content_id for n, e in manifest.variables.items()})
        size = sum(e.size for e in manifest.variables.values())
        lines = [f"{'Autocommitted' if auto else 'Committed'} {info.short_id} on "
                 f"{branch or 'detached HEAD'}: {info.subject!r}: {len(objects)} variable"
                 f"{'s' if len(objects) != 1 else ''} ({', '.join(objects)}), {_size(size)}."]
        if info.metrics:
            lines.append("Metrics: " + ", ".join(f"{k}={_num(v)}" for k, v in info.metrics.items()))
        if skipped:
            lines.append("Skipped (cannot be serialised): "
                         + "; ".join(f"{k}: {v}" for k, v in skipped.items()))
        if secrets:
            lines.append(f"Left out (names look like secrets): {', '.join(secrets)}. To version one "
                         f"anyway, name it: %mv_commit {secrets[0]} ... -m '...'")
        news = [m for m in missing if m not in self.state.said]
        if news and not auto:
            lines.append("Not captured: " + "; ".join(news))
            self.state.said.update(news)
        lines.extend(notes)
        return {"id": info.id, "short_id": info.short_id, "branch": branch,
                "variables": list(objects), "skipped": skipped, "secrets": secrets,
                "not_captured": missing, "metrics": dict(info.metrics), "message": "\n".join(lines)}

    def _provenance(self) -> tuple[dict[str, bytes | str], list[str]]:
        files: dict[str, bytes | str] = {"history.py": provenance.executed_cells(self.shell)}
        missing = []
        nb = self.notebook()
        data = provenance.read_notebook(nb) if nb else None
        if data is not None:
            files["notebook.ipynb"] = data
        elif nb:
            missing.append(f"the notebook file ({nb} could not be read)")
        else:
            missing.append("the notebook file (no notebook behind this kernel: a terminal, or "
                           "nbclient without JPY_SESSION_NAME); the executed cells are stored")
        return files, missing

    # -- status ------------------------------------------------------------------------------
    def status(self, names: Iterable[str] | None = None) -> dict:
        """Tracked variables changed/new/missing since this kernel's version (by content id:
        hashes the data, writes nothing)."""
        with closing(self.repo()) as repo:
            baseline = self._baseline(repo)
            if names is None:
                names = self.user_variables().objects if self.state.track_all or not self.state.tracked \
                    else self.state.tracked
            st = self._status(list(names), baseline)
        text = _status_text(st)
        return {"version": st.version.id if st.version else None, "branch": st.branch,
                "changed": list(st.changed), "new": list(st.new), "missing": list(st.missing),
                "unchanged": list(st.unchanged), "message": text, "status": st}

    def _status(self, names: list[str], rev: str | None) -> api.Status:
        """api.status, where a variable that can no longer be pickled counts as changed."""
        view, unhashable = dict(self.ns), []
        while True:
            try:
                st = api.status(view, names, path=self.path(), rev=rev)
                break
            except SerializationError as exc:
                unhashable.append(exc.variable)
                view.pop(exc.variable, None)
        if unhashable:
            st = dataclasses.replace(st, changed=st.changed + tuple(unhashable),
                                     missing=tuple(n for n in st.missing if n not in unhashable))
        return st

    # -- checkout ----------------------------------------------------------------------------
    def checkout(self, rev: str, names: Iterable[str] = (), *, force: bool = False,
                 new_branch: str | None = None, notebook: bool = False, trust: bool = False,
                 allow: Iterable[str] = ()) -> dict:
        names = list(dict.fromkeys(names))
        with closing(self.repo()) as repo:
            target = repo.show(rev)
            entries = target.manifest.variables
            for n in names:
                if n not in entries:
                    raise VariableNotFoundError(n, target.info.short_id, list(entries))
            wanted = names or list(entries)
            if not force:
                dirty = self._dirty(repo, [n for n in wanted if n in self.ns], entries)
                if dirty:
                    raise UsageError(
                        f"checking out {rev} would overwrite {', '.join(dirty)}, changed since "
                        "the last commit. Commit first (%mv_commit " + " ".join(dirty)
                        + " -m '...'), or add --force to discard the changes.")
            nb_path = self._check_notebook_restore(target) if notebook else None
        result = api.checkout(rev, names or None, path=self.path(), namespace=self.ns,
                              new_branch=new_branch, trust=trust, allow=allow)
        restored = list(result.objects)
        if not names:
            self.state.version = result.version.id
            self.state.tracked = set(entries)
        self.state.known_ids.update({n: entries[n].content_id for n in restored})
        left_alone = sorted(set(self.user_variables().objects) - set(wanted))
        info = result.version
        where = f" (now on branch {result.branch})" if result.branch else \
            (" (detached: new commits will not move a branch; -b NAME starts one)" if result.moved_head else "")
        lines = [f"Checked out {info.short_id} {info.subject!r}{where}."]
        lines.append("Restored: " + (", ".join(restored) or "nothing"))
        if left_alone:
            lines.append("Left alone (not in that version" + (" or not named" if names else "")
                         + "): " + _names(left_alone))
        for n, exc in result.failed.items():
            lines.append(f"Not restored: {n}: {exc}")
        if result.left_behind:
            lines.append(f"Warning: left version {result.left_behind[:8]} behind: no branch or tag "
                         f"reaches it, so `mvc gc` will remove it. To keep it: "
                         f"%mv_branch NAME {result.left_behind[:8]}")
        if nb_path:
            lines.append(self._restore_notebook(target.info.id, nb_path))
        return {"id": info.id, "short_id": info.short_id, "restored": restored,
                "left_alone": left_alone, "failed": {k: str(v) for k, v in result.failed.items()},
                "branch": result.branch, "message": "\n".join(lines)}

    def _dirty(self, repo, overwrite: list[str], entries: Mapping) -> list[str]:
        """Variables whose current value is stored nowhere we know: overwriting loses it."""
        if not overwrite:
            return []
        st = self._status(overwrite, self._baseline(repo))
        dirty = []
        for n in overwrite:
            if n not in st.changed and n not in st.new:
                continue
            try:
                current = repo.fingerprint(self.ns[n], n)
            except SerializationError:
                dirty.append(n)
                continue
            if current not in (entries[n].content_id, self.state.known_ids.get(n)):
                dirty.append(n)
        return dirty

    def _check_notebook_restore(self, target) -> str:
        if "notebook.ipynb" not in target.files:
            raise UsageError(f"version {target.info.short_id} has no notebook file (it was committed "
                             "outside a notebook). Check out without --notebook.")
        nb = self.notebook()
        if not nb:
            raise UsageError("--notebook needs to know this kernel's notebook, and none was found "
                             "(terminal or nbclient). Set JPY_SESSION_NAME to its path, or use "
                             f"`mvc show {target.info.short_id}` to export it.")
        return nb

    def _restore_notebook(self, sha: str, nb_path: str) -> str:
        """Write the version's notebook over the current file, keeping a copy of the current
        one under <gitdir>/mvc/notebook-backups (nothing is committed, nothing is lost)."""
        with closing(self.repo()) as repo:
            data = repo.read_file(sha, "notebook.ipynb")
            backups = repo.mvc_dir / "notebook-backups"
        backups.mkdir(parents=True, exist_ok=True)
        backup = backups / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{os.path.basename(nb_path)}"
        shutil.copy2(nb_path, backup)
        tmp = f"{nb_path}.mvc-{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, nb_path)
        return (f"Restored the notebook file {nb_path}; the previous one is kept at {backup}. "
                "Reload it in the editor (File > Reload Notebook from Disk) before saving.")

    # -- history, branches, tags -------------------------------------------------------------
    def log(self, rev: str | None = None, limit: int | None = None, all: bool = False) -> list:
        with closing(self.repo()) as repo:
            return repo.log(rev, limit=limit, all=all)

    def diff(self, old: str, new: str = "HEAD"):
        with closing(self.repo()) as repo:
            return repo.diff(old, new)

    def show(self, rev: str):
        with closing(self.repo()) as repo:
            return repo.show(rev)

    def branch(self, name: str | None = None, rev: str = "HEAD", delete: bool = False,
               force: bool = False) -> dict:
        with closing(self.repo()) as repo:
            if name is None:
                current = repo.current_branch()
                branches = repo.branches()
                lines = [f"{'*' if b == current else ' '} {b:<20} {sha[:8]}" for b, sha in sorted(branches.items())]
                if current and current not in branches:
                    lines.insert(0, f"* {current:<20} (no versions yet)")
                return {"branches": branches, "current": current,
                        "message": "\n".join(lines) or "No branches yet: %mv_commit creates 'main'."}
            if delete:
                sha = repo.delete_branch(name, force=force)
                return {"message": f"Deleted branch {name} (was {sha[:8]})."}
            sha = repo.create_branch(name, rev)
            api.notify_change()
            return {"message": f"Created branch {name} at {sha[:8]}. Switch to it with %mv_checkout {name}."}

    def tag(self, name: str | None = None, rev: str = "HEAD", delete: bool = False) -> dict:
        with closing(self.repo()) as repo:
            if name is None:
                tags = repo.tags()
                lines = [f"{t:<20} {sha[:8]}" for t, sha in sorted(tags.items())]
                return {"tags": tags, "message": "\n".join(lines) or "No tags yet: %mv_tag NAME [REV]."}
            if delete:
                return {"message": f"Deleted tag {name} (was {repo.delete_tag(name)[:8]})."}
            sha = repo.create_tag(name, rev)
            api.notify_change()
            return {"message": f"Tagged {sha[:8]} as {name}."}

    def checkout_message(self, rev: str) -> str:
        """For the timeline widget's button: check out `rev`, return what happened."""
        try:
            return self.checkout(rev)["message"]
        except (UsageError, MvcError) as exc:
            return f"Not checked out: {exc}"


# -- text helpers (private) ---------------------------------------------------------------
def _status_text(st: api.Status) -> str:
    if st.version is None:
        head = f"On branch {st.branch or '?'}, no versions yet."
    else:
        head = f"On {('branch ' + st.branch) if st.branch else 'detached HEAD'}, compared with " \
               f"{st.version.short_id} {st.version.subject!r}."
    lines = [head]
    for label, names in (("changed", st.changed), ("new", st.new), ("missing", st.missing)):
        if names:
            lines.append(f"  {label + ':':<10} {_names(names)}")
    if not (st.changed or st.new or st.missing):
        lines.append("  Nothing changed" + (f" ({len(st.unchanged)} variables unchanged)." if st.unchanged else "."))
    elif st.unchanged:
        lines.append(f"  {'unchanged:':<10} {_names(st.unchanged)}")
    return "\n".join(lines)


def _names(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"

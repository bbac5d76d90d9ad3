"""The Git side of the store: plumbing on a repository, and the only import of GitPython.

Versions are commits written straight into the object database and refs moved with
compare-and-swap (`git update-ref <ref> <new> <old>`), so the user's HEAD, index,
branches and working tree are never touched and concurrent writers cannot lose a commit.

Commands run as `git` subprocesses; GitPython (~70-150 ms to import) is imported only
when objects are written or trees read, so reading history (`mvc log`) never loads it.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from .errors import FileTooLargeError, InvalidNameError, NotARepositoryError, RefLockedError, RevisionError

if TYPE_CHECKING:
    import git

ZERO = "0" * 40
OWN_REFS = "refs/mvc/"  # the only refs this module moves: never the user's branches or HEAD


class CommitRecord(NamedTuple):  # a tuple: a log of 100,000 versions builds 100,000 of them
    sha: str
    parents: tuple[str, ...]
    time: int
    author: str
    message: str


class GitCommandError(Exception):
    """A git command exited non-zero; its output, decoded."""

    def __init__(self, args: list[str], status: int, stdout: str, stderr: str):
        super().__init__(f"git {' '.join(args[:3])}... exited {status}: {stderr.strip()[-300:]}")
        self.status, self.stdout, self.stderr = status, stdout, stderr


# Messages git prints in English, whatever the user's locale (errors are matched on them).
_GIT_ENV = {"LANGUAGE": "C", "LC_ALL": "C"}


def _git(args: list[str], cwd: Path, input: bytes | None = None) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, input=input, capture_output=True, env={**os.environ, **_GIT_ENV})
    stdout = proc.stdout.decode("utf-8", "surrogateescape")
    if proc.returncode != 0:
        raise GitCommandError(args, proc.returncode, stdout, proc.stderr.decode("utf-8", "surrogateescape"))
    return stdout[:-1] if stdout.endswith("\n") else stdout


class GitRepo:
    def __init__(self, git_dir: Path, work_tree: Path | None):
        self.git_dir = git_dir
        self.work_tree = work_tree
        self._signs: bool | None = None
        self._gitpython: git.Repo | None = None

    @property
    def _repo(self) -> git.Repo:
        """GitPython's view, opened on first use: the object database and trees."""
        if self._gitpython is None:
            import git

            self._gitpython = git.Repo(self.git_dir)
        return self._gitpython

    @classmethod
    def _at(cls, start: Path) -> GitRepo:
        """The repository git finds from `start` (searching up), or GitCommandError."""
        try:  # one call where there is a work tree, the usual case
            found, is_bare, top = _git(
                ["rev-parse", "--absolute-git-dir", "--is-bare-repository", "--show-toplevel"], start
            ).splitlines()
            if is_bare == "false":
                return cls(Path(found), Path(top))
        except (GitCommandError, ValueError):  # bare, inside .git, or no repository: as below
            pass
        out = _git(["rev-parse", "--absolute-git-dir", "--is-bare-repository"], start).splitlines()
        git_dir, bare = Path(out[0]), out[1] == "true"
        work_tree = None
        if not bare:
            try:
                work_tree = Path(_git(["rev-parse", "--show-toplevel"], start))
            except GitCommandError:  # started inside the .git folder itself
                work_tree = git_dir.parent if git_dir.name == ".git" else None
        return cls(git_dir, work_tree)

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def discover(cls, path: str | os.PathLike, create: bool = False) -> tuple[GitRepo, bool]:
        """The repository holding `path`; with `create`, a new one at `path` (a folder,
        or the folder of a file) if there is none. Returns (repo, created)."""
        p = Path(path).resolve()
        if not p.exists():  # never fall back to its parent: that could be another project
            raise NotARepositoryError(str(path), "the path does not exist")
        start = p if p.is_dir() else p.parent
        try:
            return cls._at(start), False
        except GitCommandError:
            if not create:
                raise NotARepositoryError(str(path)) from None
        _git(["init", "--quiet", str(start)], start)
        return cls._at(start), True

    @classmethod
    def init(cls, folder: str | os.PathLike) -> GitRepo:
        """A new repository at `folder`, even inside another one's work tree (a clone
        nested in a project is a project of its own)."""
        start = Path(folder).resolve()
        _git(["init", "--quiet", str(start)], start)
        return cls._at(start)

    def close(self) -> None:
        if self._gitpython is not None:
            self._gitpython.close()
            self._gitpython = None

    def _run(self, *args: str, input: bytes | None = None) -> str:
        return _git(list(args), self.work_tree or self.git_dir, input)

    # -- writing objects -------------------------------------------------------------------
    def write_blob(self, data: bytes) -> str:
        from gitdb.base import IStream

        return self._repo.odb.store(IStream(b"blob", len(data), io.BytesIO(data))).hexsha.decode()

    def write_tree(self, files: dict[str, str]) -> str:
        """A flat tree of regular files, name -> blob sha."""
        body = b"".join(
            b"100644 " + name.encode() + b"\0" + bytes.fromhex(files[name])
            for name in sorted(files, key=lambda n: n.encode())
        )
        from gitdb.base import IStream

        return self._repo.odb.store(IStream(b"tree", len(body), io.BytesIO(body))).hexsha.decode()

    def write_commit(self, tree: str, parents: list[str], message: str) -> str:
        if self.signs_commits():  # the user's Git signs commits: so are versions (git does the signing)
            links = [arg for p in parents for arg in ("-p", p)]
            return self._run("commit-tree", tree, *links, "-S", "-F", "-", input=message.encode()).strip()
        import git

        commit = git.Commit.create_from_tree(
            self._repo,
            git.Tree(self._repo, bytes.fromhex(tree)),
            message,
            parent_commits=[self._repo.commit(p) for p in parents],
            head=False,
        )
        return commit.hexsha

    # -- signatures ------------------------------------------------------------------------
    def signs_commits(self) -> bool:
        """Whether this user's Git signs commits (commit.gpgSign, with user.signingKey: SSH
        keys as `gpg.format ssh` sets up, or OpenPGP)."""
        if self._signs is None:
            try:
                out = self._run("config", "--get-regexp", r"^(commit\.gpgsign|user\.signingkey)$")
            except GitCommandError:  # none of them set
                out = ""
            found = dict(line.split(" ", 1) for line in out.lower().splitlines() if " " in line)
            self._signs = found.get("commit.gpgsign") in ("true", "yes", "on", "1") and bool(
                found.get("user.signingkey")
            )
        return self._signs

    def signatures(self, shas: list[str], allowed_keys: list[str]) -> dict[str, tuple[str, str]]:
        """sha -> (status, key fingerprint) as `git log %G?` says, with `allowed_keys` (SSH
        public keys) as the only trusted signers: G good and trusted, U good but a key not
        among them, B bad, N unsigned, E cannot check (no ssh-keygen...)."""
        if not shas:
            return {}
        with tempfile.TemporaryDirectory() as tmp:
            allowed = Path(tmp) / "allowed_signers"
            allowed.write_text("".join(f"* {key}\n" for key in allowed_keys))
            try:
                out = self._run(
                    "-c",
                    f"gpg.ssh.allowedSignersFile={allowed}",
                    "log",
                    "--no-walk=unsorted",
                    "--format=%H %G? %GF",
                    *shas,
                    "--",
                )
            except GitCommandError:
                return {}
        result = {}
        for line in out.splitlines():
            sha, status, *fpr = line.split(" ")
            result[sha] = (status, fpr[0] if fpr else "")
        return result

    # -- refs ------------------------------------------------------------------------------
    def read_ref(self, ref: str) -> str | None:
        try:
            return self._run("rev-parse", "--verify", "--quiet", ref + "^{commit}").strip() or None
        except GitCommandError:
            return None

    def update_ref(self, ref: str, new: str, old: str | None, reason: str = "jupyter_mvc") -> bool:
        """Move `ref` to `new` only if it still points at `old` (None: must not exist).
        False if another writer moved it first."""
        _own_ref(ref)
        try:
            self._run("update-ref", "--no-deref", "-m", reason, ref, new, old or ZERO)
            return True
        except GitCommandError as exc:
            text = str(exc.stderr)
            if "File exists" in text:  # another git holds <ref>.lock, or a dead one left it
                lock = self.git_dir / (ref + ".lock")
                age = time.time() - lock.stat().st_mtime if lock.exists() else 0.0
                raise RefLockedError(ref, str(lock), age) from None
            if "cannot lock ref" in text or "but expected" in text or "reference already exists" in text:
                return False
            raise

    def delete_ref(self, ref: str, old: str) -> bool:
        _own_ref(ref)
        try:
            self._run("update-ref", "--no-deref", "-d", ref, old)
            return True
        except GitCommandError:
            return False

    def symbolic_ref(self, name: str) -> str | None:
        try:
            return self._run("symbolic-ref", "--quiet", name).strip() or None
        except GitCommandError:
            return None

    def set_symbolic_ref(self, name: str, target: str) -> None:
        _own_ref(name)
        _own_ref(target)
        self._run("symbolic-ref", name, target)

    def ref_rows(self, *patterns: str) -> dict[str, tuple[str, str, str]]:
        """refname -> (object id, object type, symbolic target or "") of the refs under
        `patterns`, in one for-each-ref. A symbolic ref to nothing (an unborn branch) is
        not listed."""
        out = self._run("for-each-ref", "--format=%(refname)%00%(objectname)%00%(objecttype)%00%(symref)", *patterns)
        rows = {}
        for line in out.splitlines():
            name, sha, kind, target = line.split("\0")
            rows[name] = (sha, kind, target)
        return rows

    def refs(self, prefix: str) -> dict[str, str]:
        return {name: sha for name, (sha, _kind, _target) in self.ref_rows(prefix).items()}

    def check_ref_name(self, kind: str, name: str) -> str:
        bad = not name or name.startswith("-") or "/" in name and kind == "tag"
        if not bad:
            try:
                self._run("check-ref-format", f"refs/mvc/x/{name}")
            except GitCommandError:
                bad = True
        if bad or name in ("HEAD",) or name.startswith("HEAD~") or name.startswith("HEAD^"):
            raise InvalidNameError(
                kind,
                name,
                "Git does not allow it as a ref name",
                "Use letters, digits, '-', '_' and '.' (no spaces, '..', '~', '^', ':').",
            )
        return name

    # -- reading ---------------------------------------------------------------------------
    def resolve(self, rev: str) -> str:
        """Full sha of a commit named by `rev` in Git's syntax, or RevisionError."""
        if not rev or rev.startswith("-") or any(c in rev for c in "\0\n "):
            raise RevisionError(rev, "not a revision")
        try:
            return self._run("rev-parse", "--verify", "--quiet", "--end-of-options", rev + "^{commit}").strip()
        except GitCommandError as exc:
            if "ambiguous" in str(exc.stderr):
                raise RevisionError(rev, "the id prefix is ambiguous; give more digits") from None
            raise RevisionError(rev, "no such version") from None

    def log(self, revs: list[str], limit: int | None = None) -> list[CommitRecord]:
        if not revs:
            return []
        # NUL after every field and (-z) every record: git prints no NUL inside a field (a
        # message is cut at one), while any other separator can be typed into a message.
        args = ["log", "-z", "--format=%H%x00%P%x00%at%x00%an%x00%B"]
        if limit is not None:
            args.append(f"--max-count={int(limit)}")
        fields = self._run(*args, *revs, "--").split("\0")
        if fields[-1] == "":
            fields.pop()
        if len(fields) % 5:
            raise GitCommandError(args, 0, "", f"git log printed {len(fields)} fields, not 5 per version")
        it = iter(fields)
        return [
            CommitRecord(sha, tuple(parents.split()), int(ts), author, message.rstrip("\n"))
            for sha, parents, ts, author, message in zip(it, it, it, it, it)
        ]

    def _blob(self, commit: str, name: str):  # -> git.Blob | None
        try:
            item = self._repo.commit(commit).tree / name
        except KeyError:
            return None
        return item if item.type == "blob" else None  # a folder under a file's name is no file

    def blob_id(self, commit: str, name: str) -> str | None:
        """The file's blob id (equal ids: equal contents), None if absent."""
        blob = self._blob(commit, name)
        return None if blob is None else str(blob.hexsha)

    def merge_base(self, a: str, b: str) -> str | None:
        """Their best common ancestor, None if the histories are unrelated."""
        try:
            return self._run("merge-base", a, b).strip() or None
        except GitCommandError:
            return None

    def has_file(self, commit: str, name: str) -> bool:
        """Whether the commit's tree holds the file (nothing is read)."""
        return self._blob(commit, name) is not None

    def file_size(self, commit: str, name: str) -> int | None:
        """The file's size from the object header (nothing is read); None if absent."""
        blob = self._blob(commit, name)
        return None if blob is None else int(blob.size)

    def read_file(self, commit: str, name: str, limit: int | None = None) -> bytes | None:
        """The file's bytes, None if absent. With `limit`, its size is checked first (from
        the object header, like `git cat-file -s`) and a larger file is refused unread."""
        blob = self._blob(commit, name)
        if blob is None:
            return None
        if limit is not None and blob.size > limit:
            raise FileTooLargeError(name, commit[:8], int(blob.size), limit)
        return blob.data_stream.read()

    def rev_list(self, revs: list[str]) -> list[str]:
        if not revs:
            return []
        return self._run("rev-list", *revs, "--").split()

    def has_commit(self, sha: str) -> bool:
        return self.read_ref(sha) == sha

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        try:
            self._run("merge-base", "--is-ancestor", ancestor, descendant)
            return True
        except GitCommandError:
            return False

    # -- a Git remote of the project, mirroring refs/mvc/* ------------------------------------------
    def remote_names(self) -> list[str]:
        return [r.name for r in self._repo.remotes]

    def ls_remote(self, remote: str, refs: list[str]) -> dict[str, str]:
        """ref -> sha on the Git remote, for those of `refs` it has."""
        out = self._run("ls-remote", "--end-of-options", remote, *refs)
        return {ref: sha for sha, ref in (line.split("\t", 1) for line in out.splitlines() if "\t" in line)}

    def push_leased(self, remote: str, updates: dict[str, str], expected: dict[str, str | None]) -> dict[str, str]:
        """`git push --atomic --porcelain` of sha -> ref for each update, each with
        `--force-with-lease=ref:<expected>` (empty: the ref must not exist) and never a
        `+` refspec. Returns ref -> git's flag and summary for every ref it refused; all
        or none move (atomic)."""
        for ref in updates:
            _own_ref(ref)  # never the user's branches on their Git remote
        leases = [f"--force-with-lease={ref}:{expected.get(ref) or ''}" for ref in updates]
        specs = [f"{sha}:{ref}" for ref, sha in updates.items()]
        try:
            out = self._run("push", "--atomic", "--porcelain", *leases, "--end-of-options", remote, *specs)
        except GitCommandError as exc:
            out = str(exc.stdout or "")
            if not out.strip():
                return {ref: f"push failed: {str(exc.stderr).strip()[-200:]}" for ref in updates}
        refused = {}
        for line in out.splitlines():
            flag, _, rest = line.partition("\t")
            spec, _, summary = rest.partition("\t")
            ref = spec.rpartition(":")[2]
            if ref in updates and flag not in (" ", "*", "="):
                refused[ref] = f"{flag.strip() or '?'} {summary.strip()}"
        return refused

    # -- bundles: history as one file, for remotes ----------------------------------------------
    def bundle_create(self, path: str | os.PathLike, refs: list[str], exclude: list[str]) -> bool:
        """Write a Git bundle of the commits `refs` reach that `exclude` do not. False
        (and no file) when there is nothing new to send."""
        if not set(self.rev_list([*refs, *(f"^{x}" for x in exclude)])):
            return False
        self._run("bundle", "create", str(path), *refs, *(f"^{x}" for x in exclude))
        return True

    def bundle_prerequisites_met(self, path: str | os.PathLike) -> bool:
        try:
            self._run("bundle", "verify", "--quiet", str(path))
            return True
        except GitCommandError:
            return False

    def bundle_unbundle(self, path: str | os.PathLike) -> list[str]:
        """Copy a bundle's objects in (no ref is written: the caller decides which refs
        move); returns the commits it names."""
        out = self._run("bundle", "unbundle", str(path))
        return [line.split(" ", 1)[0] for line in out.splitlines() if line.strip()]

    def file_names(self, commit: str) -> list[str]:
        return [b.name for b in self._repo.commit(commit).tree.blobs]

    def user_head(self) -> str | None:
        """The user's own HEAD commit (the code version), if any."""
        return self.read_ref("HEAD")


def _own_ref(ref: str) -> None:
    """Refuse to write any ref outside refs/mvc/ (a crafted symbolic ref must not steer a
    commit onto the user's branches)."""
    if not ref.startswith(OWN_REFS) or ".." in ref:
        raise ValueError(f"jupyter_mvc only writes refs under {OWN_REFS}, not {ref!r}")

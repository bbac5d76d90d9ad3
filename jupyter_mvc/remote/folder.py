"""A remote in a shared folder (a network mount, a synced drive): plain files under a root.

Not obstore's LocalStore, which has no compare-and-swap. Here every write goes to a hidden
temp file beside its target first (fsync'd), so readers see the old object or the new one:
put replaces it with os.replace, put_if_absent hard-links it (os.link fails if the name is
taken, atomically, also on NFS), put_if_version swaps it in under a per-key flock after
comparing the current content's digest. Names starting with '.' are ours (temp files, the
.locks folder), so keys may not have such segments."""

from __future__ import annotations

import builtins
import errno
import fcntl
import hashlib
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import blake3

from ..atomic import fsync_dir
from ..errors import RemoteError, RemoteObjectMissingError
from .transport import Listed, _outside, check_key, check_prefix

_COPY_BLOCK = 1024 * 1024
_LOCKS = ".locks"


def _digest(data: bytes) -> str:
    return blake3.blake3(data).hexdigest()


class FolderTransport:
    def __init__(self, url: str, root: Path):
        self.url, self.root = url, root

    def list(self, prefix: str) -> list[Listed]:
        prefix = self._prefix(prefix)
        base = self.root.joinpath(*prefix.split("/")) if prefix else self.root
        found = []
        with self._errors("listing", prefix):
            for folder, dirs, files in os.walk(base, onerror=_raise_unless_missing):
                dirs[:] = [d for d in dirs if not d.startswith(".")]  # .locks
                rel = Path(folder).relative_to(self.root).as_posix()
                for name in files:
                    if name.startswith("."):  # a temp file being written
                        continue
                    try:
                        st = os.stat(os.path.join(folder, name))
                    except FileNotFoundError:  # deleted while we walked
                        continue
                    key = name if rel == "." else f"{rel}/{name}"
                    found.append(Listed(key, st.st_size, st.st_mtime))
        return sorted(found, key=lambda o: o.key)

    def get(self, key: str) -> bytes:
        with self._errors("reading", key):
            return self._path(key).read_bytes()

    def get_ranges(self, key: str, ranges: builtins.list[tuple[int, int]]) -> builtins.list[bytes]:
        with self._errors("reading", key), open(self._path(key), "rb") as f:
            size = os.fstat(f.fileno()).st_size
            out = []
            for start, length in ranges:
                if start < 0 or length < 0 or start + length > size:
                    raise _outside(self.url, key, start, length)
                f.seek(start)
                out.append(f.read(length))
            return out

    def put(self, key: str, data: bytes) -> None:
        self._replace(key, [data], "writing")

    def put_file(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> None:
        def blocks() -> Iterator[bytes]:
            with open(path, "rb") as f:
                while block := f.read(_COPY_BLOCK):
                    yield block
                    if progress:
                        progress(len(block))

        self._replace(key, blocks(), "uploading")

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        try:
            data = self.get(key)
        except RemoteObjectMissingError:
            return None
        return data, _digest(data)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        target = self._path(key)
        with self._errors("writing", key):
            tmp = self._write_temp(target, [data])
            try:
                os.link(tmp, target)  # atomic and exclusive: fails if the key exists
            except FileExistsError:
                return False
            except OSError as e:
                if e.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise RemoteError(
                        self.url,
                        "this folder's filesystem has no hard links, needed for safe concurrent pushes",
                        "Use a local disk, NFS or SMB 3 share.",
                    ) from None
                raise
            finally:
                tmp.unlink(missing_ok=True)
            fsync_dir(target.parent)
        return True

    def put_if_version(self, key: str, data: bytes, tag: str) -> bool:
        target = self._path(key)
        with self._errors("writing", key):
            tmp = self._write_temp(target, [data])
            try:
                with self._locked(key):
                    try:
                        current = target.read_bytes()
                    except FileNotFoundError:
                        return False
                    if _digest(current) != tag:
                        return False
                    os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            fsync_dir(target.parent)
        return True

    def delete(self, key: str) -> None:
        target = self._path(key)
        with self._errors("deleting", key), self._locked(key):
            target.unlink(missing_ok=True)

    # --- helpers ----------------------------------------------------------------------

    def _replace(self, key: str, blocks: Iterable[bytes], op: str) -> None:
        target = self._path(key)
        with self._errors(op, key):
            tmp = self._write_temp(target, blocks)
            try:
                # Under the key's lock, so it cannot land between put_if_version's
                # compare and its swap (which would then overwrite it unseen).
                with self._locked(key):
                    os.replace(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            fsync_dir(target.parent)

    def _write_temp(self, target: Path, blocks: Iterable[bytes]) -> Path:
        self._ensure_root()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".{target.name[:40]}.{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            for block in blocks:
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise
        os.close(fd)
        return tmp

    @contextmanager
    def _locked(self, key: str) -> Iterator[None]:
        self._ensure_root()
        locks = self.root / _LOCKS
        locks.mkdir(exist_ok=True)
        fd = os.open(locks / hashlib.sha1(key.encode()).hexdigest(), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _ensure_root(self) -> None:
        # The root itself may be created, not its parent: a share that is not mounted
        # must not turn into a folder on the local disk.
        if not self.root.is_dir():
            if not self.root.parent.is_dir():
                raise RemoteError(
                    self.url, f"the folder {str(self.root.parent)!r} does not exist", "Create it, or mount the share."
                )
            self.root.mkdir(exist_ok=True)

    def _path(self, key: str) -> Path:
        check_key(self.url, key)
        if any(part.startswith(".") for part in key.split("/")):
            raise RemoteError(
                self.url,
                f"bad object key {key!r}: a segment starts with '.'",
                "Those names are reserved in shared folders.",
            )
        return self.root.joinpath(*key.split("/"))

    def _prefix(self, prefix: str) -> str:
        prefix = check_prefix(self.url, prefix)
        if prefix:
            self._path(prefix)
        return prefix

    @contextmanager
    def _errors(self, op: str, key: str) -> Iterator[None]:
        try:
            yield
        except RemoteError:
            raise
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as e:
            if op == "reading":
                raise RemoteObjectMissingError(self.url, key) from None
            raise self._error(op, key, e) from None
        except OSError as e:
            raise self._error(op, key, e) from None

    def _error(self, op: str, key: str, e: OSError) -> RemoteError:
        why = e.strerror or type(e).__name__
        fix = (
            "Check the folder's permissions."
            if isinstance(e, PermissionError)
            else "Check that the folder is there, mounted and writable."
        )
        if isinstance(e, NotADirectoryError | FileExistsError | IsADirectoryError):
            fix = "A key cannot be both an object and a folder of objects in a shared-folder remote."
        return RemoteError(self.url, f"{op} {key!r} failed: {why}", fix)


def _raise_unless_missing(e: OSError) -> None:
    if not isinstance(e, FileNotFoundError | NotADirectoryError):  # an empty remote lists nothing
        raise e

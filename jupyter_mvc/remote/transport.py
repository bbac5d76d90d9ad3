"""Moving bytes to and from a remote: object storage (S3, GCS, Azure through obstore) or a
shared folder (folder.py). Keys are '/'-separated and relative to the remote's root.

Everything above this layer relies on two conditional writes, put_if_absent (create only)
and put_if_version (compare-and-swap on the tag read_versioned returned); a server that
ignores them is caught by probe_conditional_writes before anyone pushes to it."""

from __future__ import annotations

import builtins
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Protocol
from urllib.parse import unquote, urlsplit

from obstore.exceptions import AlreadyExistsError, PermissionDeniedError, PreconditionError, UnauthenticatedError
from obstore.store import AzureStore, GCSStore, S3Store

from ..errors import RemoteError, RemoteObjectMissingError

if TYPE_CHECKING:
    from obstore.store import ClientConfig, RetryConfig

SCHEMES = "s3://bucket/prefix, gs://bucket/prefix, az://container/prefix or file:///absolute/path"

# Part size and parallelism of multipart uploads: progress is reported as obstore takes
# each part, so at most PARTS_IN_FLIGHT parts are counted before they are on the wire.
PART_SIZE = 5 * 1024 * 1024
PARTS_IN_FLIGHT = 4

# obstore's defaults retry 10 times for up to 3 minutes: a wrong endpoint would look like
# a hang. Transient 5xx errors still get a few quick retries.
_RETRY: RetryConfig = {
    "max_retries": 3,
    "retry_timeout": timedelta(seconds=30),
    "backoff": {"init_backoff": timedelta(milliseconds=100), "max_backoff": timedelta(seconds=2)},
}


@dataclass(frozen=True)
class Listed:
    key: str
    size: int
    modified: float  # POSIX seconds


class Transport(Protocol):
    """Keys are '/'-separated names relative to the remote's root (see check_key)."""

    url: str

    def list(self, prefix: str) -> builtins.list[Listed]:
        """Every object under `prefix` (a folder-like prefix: "a" holds "a/x", not "ab"), sorted by key."""

    def get(self, key: str) -> bytes:
        """The object's bytes; RemoteObjectMissingError if there is none."""

    def get_ranges(self, key: str, ranges: builtins.list[tuple[int, int]]) -> builtins.list[bytes]:
        """The bytes at each (start, length), fetched in one coalescing call; a range past the end is a RemoteError."""

    def put(self, key: str, data: bytes) -> None:
        """Write unconditionally; readers see the old object or the new one, never a mix."""

    def put_file(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> None:
        """Upload a (large) file, in parts on object storage; `progress(n)` as each block is handed over."""

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        """The bytes and an opaque version tag for put_if_version; None if there is no object."""

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Write only if there is no object yet; False if there was one."""

    def put_if_version(self, key: str, data: bytes, tag: str) -> bool:
        """Write only if the object is still the version `tag`; False if it changed or is gone."""

    def delete(self, key: str) -> None:
        """Remove the object; an absent one is fine."""


def check_key(url: str, key: str) -> str:
    """`key` if it is a plain relative '/'-separated name, else RemoteError."""
    problems = [
        (not key, "it is empty"),
        (key.startswith("/"), "it starts with '/'"),
        ("\\" in key or "\0" in key, "it contains a backslash or NUL"),
        (any(part in ("", ".", "..") for part in key.split("/")), "it has an empty, '.' or '..' segment"),
    ]
    for bad, why in problems:
        if bad:
            raise RemoteError(url, f"bad object key {key!r}: {why}", "Keys are relative names like 'refs/main'.")
    return key


def check_prefix(url: str, prefix: str) -> str:
    prefix = prefix.rstrip("/")
    return check_key(url, prefix) if prefix else ""


def open_transport(url: str) -> Transport:
    """The transport for `url`; cloud stores read their credentials from the environment."""
    scheme = url.partition("://")[0].lower() if "://" in url else ""
    if "@" in (netloc := urlsplit(url).netloc):  # and never echo them in a message
        safe = url.replace(netloc, netloc.rpartition("@")[2], 1)
        raise RemoteError(
            safe,
            "the URL carries credentials",
            "Drop the user:secret@ part; set the cloud's environment variables instead.",
        )
    if scheme == "file":
        return _open_folder(url)
    if not scheme:  # a plain path, or file:relative
        guess = Path(url.removeprefix("file:")).expanduser().absolute()
        raise RemoteError(
            url, "not a remote URL", f"Write a shared folder as file://{guess}; other remotes: {SCHEMES}."
        )
    if scheme not in _CLOUDS:
        raise RemoteError(url, f"unsupported scheme {scheme + '://'!r}", f"Use one of {SCHEMES}.")
    cloud = _CLOUDS[scheme]
    if not urlsplit(url).netloc:
        raise RemoteError(
            url, f"no {cloud.bucket_word} in the URL", f"Write it as {scheme}://{cloud.bucket_word}/prefix."
        )
    if scheme == "s3":
        _require_aws_credentials(url)
    try:
        store = cloud.store.from_url(
            url.rstrip("/"), client_options=_client_options(cloud.env_prefix), retry_config=_RETRY
        )
    except Exception as e:  # obstore raises GenericError / ValueError for config problems
        raise _translate(url, "opening", "", e) from None
    return ObjectStoreTransport(url.rstrip("/"), store)


def probe_conditional_writes(t: Transport) -> bool:
    """True if the server honours put_if_absent and put_if_version (some S3 look-alikes
    accept If-None-Match / If-Match and ignore them, which would let two pushes both win)."""
    key = f"probe/{uuid.uuid4().hex}"
    try:
        if not t.put_if_absent(key, b"1") or t.put_if_absent(key, b"2"):
            return False
        read = t.read_versioned(key)
        if read is None or read[0] != b"1":
            return False
        if t.put_if_version(key, b"3", f'"{uuid.uuid4().hex}"'):
            return False
        return t.put_if_version(key, b"4", read[1]) and t.get(key) == b"4"
    finally:
        t.delete(key)


# --- object storage through obstore ---------------------------------------------------


@dataclass(frozen=True)
class _Cloud:
    store: type[S3Store] | type[GCSStore] | type[AzureStore]
    bucket_word: str
    env_prefix: str
    credentials: str  # the environment variables that hold credentials
    reach: str  # what to check when the server cannot be reached


_CLOUDS = {
    "s3": _Cloud(
        S3Store,
        "bucket",
        "AWS_",
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary credentials)",
        "AWS_ENDPOINT_URL and the network",
    ),
    "gs": _Cloud(
        GCSStore, "bucket", "GOOGLE_", "GOOGLE_APPLICATION_CREDENTIALS (a service-account JSON file)", "the network"
    ),
    "az": _Cloud(
        AzureStore,
        "container",
        "AZURE_",
        "AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_KEY)",
        "AZURE_STORAGE_ACCOUNT_NAME and the network",
    ),
}
# Where AWS credentials can come from besides the two key variables.
_AWS_OTHER_CREDENTIALS = (
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def _endpoint() -> str:
    return os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT") or ""


def _client_options(env_prefix: str) -> ClientConfig | None:
    # Passing client options replaces those obstore read from the environment, so pass
    # them only to allow plain http (a local MinIO / moto endpoint needs it).
    endpoint = _endpoint() if env_prefix == "AWS_" else ""
    if endpoint.lower().startswith("http://") or _truthy(f"{env_prefix}ALLOW_HTTP"):
        return {"allow_http": True}
    return None


def _require_aws_credentials(url: str) -> None:
    """Without keys obstore asks the EC2 metadata service; off AWS that lookup can only fail
    (slowly, with an unrelated message), so a custom endpoint without keys fails here."""
    others = any(os.environ.get(v) for v in _AWS_OTHER_CREDENTIALS)
    if os.environ.get("AWS_ACCESS_KEY_ID") or others or _truthy("AWS_SKIP_SIGNATURE"):
        return
    host = urlsplit(_endpoint()).hostname or ""
    if host and not host.endswith(".amazonaws.com"):
        raise RemoteError(
            url, f"no credentials for the S3 server at {_endpoint()}", f"Set {_CLOUDS['s3'].credentials}."
        )


class ObjectStoreTransport:
    def __init__(self, url: str, store: S3Store | GCSStore | AzureStore):
        self.url, self._store = url, store

    def list(self, prefix: str) -> list[Listed]:
        prefix = check_prefix(self.url, prefix)
        with self._errors("listing", prefix):
            metas = self._store.list(prefix or None).collect()
        found = [Listed(m["path"], m["size"], m["last_modified"].timestamp()) for m in metas]
        return sorted(found, key=lambda o: o.key)

    def get(self, key: str) -> bytes:
        with self._errors("reading", check_key(self.url, key)):
            return bytes(self._store.get(key).bytes())

    def get_ranges(self, key: str, ranges: builtins.list[tuple[int, int]]) -> builtins.list[bytes]:
        wanted = [(start, length) for start, length in ranges if length]  # obstore refuses empty ones
        with self._errors("reading", check_key(self.url, key)):
            starts, lengths = [r[0] for r in wanted], [r[1] for r in wanted]
            got = iter(self._store.get_ranges(key, starts=starts, lengths=lengths) if wanted else [])
        out = [bytes(next(got)) if length else b"" for _, length in ranges]
        for (start, length), data in zip(ranges, out):
            if len(data) != length:  # S3 cuts a range that runs past the end short
                raise _outside(self.url, key, start, length)
        return out

    def put(self, key: str, data: bytes) -> None:
        with self._errors("writing", check_key(self.url, key)):
            self._store.put(key, data)

    def put_file(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> None:
        left = path.stat().st_size
        with self._errors("uploading", check_key(self.url, key)), open(path, "rb") as f:
            if left <= PART_SIZE:
                self._store.put(key, f.read())
            else:  # an iterator makes obstore upload in parts, which report as they go
                sent = [0]
                self._store.put(key, _parts(f, progress, sent), chunk_size=PART_SIZE, max_concurrency=PARTS_IN_FLIGHT)
                left -= sent[0]
        if progress and left > 0:  # the last part, or the whole of a small file
            progress(left)

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        try:
            with self._errors("reading", check_key(self.url, key)):
                result = self._store.get(key)
                data, tag = bytes(result.bytes()), result.meta["e_tag"]
        except RemoteObjectMissingError:
            return None
        if not tag:
            raise RemoteError(self.url, "the server returned no ETag", "Use a server with conditional writes.")
        return data, tag

    def put_if_absent(self, key: str, data: bytes) -> bool:
        with self._errors("writing", check_key(self.url, key)):
            try:
                self._store.put(key, data, mode="create")
            except (AlreadyExistsError, PreconditionError):
                return False
        return True

    def put_if_version(self, key: str, data: bytes, tag: str) -> bool:
        with self._errors("writing", check_key(self.url, key)):
            try:
                self._store.put(key, data, mode={"e_tag": tag})
            except (PreconditionError, AlreadyExistsError):
                return False
            except Exception as e:
                # Gone since read (S3 answers If-Match on a missing key with 404), or lost a
                # race (S3's 409 ConditionalRequestConflict); a missing bucket is an error.
                gone = isinstance(e, FileNotFoundError) or _status(e) in (404, 409, 412)
                if gone and "NoSuchBucket" not in str(e):
                    return False
                raise
        return True

    def delete(self, key: str) -> None:
        with self._errors("deleting", check_key(self.url, key)):
            self._store.delete(key)

    @contextmanager
    def _errors(self, op: str, key: str) -> Iterator[None]:
        try:
            yield
        except RemoteError:
            raise
        except Exception as e:  # every obstore failure becomes a RemoteError that says the fix
            raise _translate(self.url, op, key, e) from None


def _parts(f: BinaryIO, progress: Callable[[int], None] | None, sent: list[int]) -> Iterator[bytes]:
    while chunk := f.read(PART_SIZE):
        yield chunk
        if progress:  # obstore came back for the next part: this one is handed over
            progress(len(chunk))
        sent[0] += len(chunk)


_STATUS = re.compile(r"status code: (\d{3})")
# obstore's words for "no credentials": a metadata-service lookup (what it tries when the
# environment has none) or a half-configured environment.
_NO_CREDENTIALS = (
    "169.254.169.254",
    "/latest/api/token",
    "computeMetadata",
    "token request",
    "Missing AccessKeyId",
    "Missing SecretAccessKey",
    "Account must be specified",
)


def _status(e: BaseException) -> int | None:
    m = _STATUS.search(str(e))
    return int(m.group(1)) if m else None


def _translate(url: str, op: str, key: str, e: BaseException) -> RemoteError:
    scheme = url.partition("://")[0].lower()
    cloud = _CLOUDS.get(scheme, _CLOUDS["s3"])
    text, status = str(e), _status(e)
    what = f"{op} {key!r} failed" if key else f"{op} failed"
    if any(s in text for s in _NO_CREDENTIALS) and status not in (404, 412):
        return RemoteError(url, f"{what}: no usable credentials ({_first_line(text)})", f"Set {cloud.credentials}.")
    if isinstance(e, PermissionDeniedError | UnauthenticatedError) or status in (401, 403):
        return RemoteError(
            url,
            f"{what}: access denied (HTTP {status or 403})",
            f"Check {cloud.credentials}, and that they may read and write this {cloud.bucket_word}.",
        )
    if "NoSuchBucket" in text or "ContainerNotFound" in text or "bucket does not exist" in text.lower():
        bucket = urlsplit(url).netloc
        return RemoteError(
            url, f"the {cloud.bucket_word} {bucket!r} does not exist", "Create it first, or correct the URL."
        )
    if isinstance(e, FileNotFoundError) or type(e).__name__ == "NotFoundError":
        return RemoteObjectMissingError(url, key)
    if any(s in text for s in ("Connection refused", "tcp connect error", "dns error", "error sending request")):
        where = _endpoint() if scheme == "s3" and _endpoint() else "the storage service"
        return RemoteError(url, f"{what}: cannot connect to {where}", f"Check {cloud.reach}.")
    if status == 416:
        return _outside(url, key, -1, -1)
    if "timed out" in text.lower():  # not "timeout": obstore writes retry_timeout into every message
        return RemoteError(url, f"{what}: the server did not answer in time", f"Check {cloud.reach}.")
    return RemoteError(url, f"{what}: {_first_line(text)}", "Check the URL, the credentials and the server.")


def _outside(url: str, key: str, start: int, length: int) -> RemoteError:
    where = f"bytes {start}..{start + length}" if start >= 0 else "a byte range"
    return RemoteError(url, f"{where} of {key!r} lie past its end", "Read within the object's size (see list()).")


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no detail"
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AZURE_STORAGE_ACCOUNT_KEY", "AZURE_STORAGE_SAS_KEY"):
        if secret := os.environ.get(name):  # never echo a credential, whatever obstore wrote
            line = line.replace(secret, "***")
    return line[:300]


def _open_folder(url: str) -> Transport:
    parts = urlsplit(url)
    path = unquote(parts.path)
    if parts.netloc not in ("", "localhost") or not path.startswith("/"):
        guess = Path(parts.netloc + path).expanduser().absolute()
        raise RemoteError(url, "a shared folder needs an absolute path", f"Write it as file://{guess}.")
    if sys.platform == "win32":
        raise RemoteError(url, "shared-folder remotes need POSIX file locks", f"Use one of {SCHEMES}.")
    from .folder import FolderTransport

    return FolderTransport(url.rstrip("/") if path != "/" else url, Path(path))

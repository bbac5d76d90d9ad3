"""Versions (Git commits) on a remote: `history/<digest>.bundle` Git bundles, each holding
the commits one push added, and `refs/heads/<branch>`, `refs/tags/<tag>` small text
objects naming a version. A ref is written last, with compare-and-swap, so it never names
a version whose bundle or chunks are not there yet.

What arrives is checked: ref names as Git would, ids as 40 hex digits, and a bundle only
adds objects (`git bundle unbundle`): which local refs move is decided here, and only
under refs/mvc/remotes/<name>/ and refs/mvc/tags/ (a new tag; an existing one never
moves)."""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import blake3

from ..atomic import write_atomic
from ..errors import RemoteError
from ..repo import Repo
from .sealed import cipher_of
from .transport import Transport

HISTORY = "history/"
REFS = "refs/"
_SHA = re.compile(r"\A[0-9a-f]{40}\Z")
_MAX_REF = 1024  # bytes: "<40 hex>\n" is 41; sealed, with its name inside, a few dozen more
_APPLIED = "bundles-applied.json"


@dataclass(frozen=True)
class RemoteRef:
    sha: str
    tag: str  # the object's version tag, for compare-and-swap


def ref_key(t: Transport, name: str) -> str:
    """Where the ref 'heads/main' lives: `refs/heads/main`, or on a private remote
    `refs/<keyed digest>` (the name itself is inside the sealed object)."""
    cipher = cipher_of(t)
    return f"{REFS}{cipher.name(name, stable=True)}" if cipher is not None else REFS + name


def read_refs(repo: Repo, t: Transport) -> dict[str, RemoteRef]:
    """'heads/<branch>' or 'tags/<tag>' -> the version it names. One listing, one read per ref."""
    out: dict[str, RemoteRef] = {}
    private = cipher_of(t) is not None
    for item in t.list(REFS):
        if item.size > _MAX_REF:
            continue
        got = t.read_versioned(item.key)
        if got is None:
            continue  # deleted between the listing and the read
        data, tag = got
        text = data.decode("ascii", "replace")
        name, _, sha = text.partition("\n") if private else (item.key[len(REFS) :], "", text)
        if private and ref_key(t, name) != item.key:
            continue  # a sealed ref under another ref's name: never trusted
        kind, _, short = name.partition("/")
        if kind not in ("heads", "tags") or not short:
            continue
        try:
            repo.git.check_ref_name("branch" if kind == "heads" else "tag", short)
        except ValueError:
            continue  # a name Git would refuse: never becomes a local ref
        sha = sha.strip()
        if not _SHA.match(sha):
            raise RemoteError(t.url, f"{item.key} does not name a version ({sha[:60]!r})", "Run mvc fsck --remote.")
        out[name] = RemoteRef(sha, tag)
    return out


def publish_ref(t: Transport, name: str, sha: str, old: RemoteRef | None) -> bool:
    """Move the remote's ref `name` ('heads/main') to `sha` if it still is `old` (None:
    must not exist). False: another push got there first."""
    body = (f"{name}\n{sha}\n" if cipher_of(t) is not None else f"{sha}\n").encode()
    key = ref_key(t, name)
    return t.put_if_absent(key, body) if old is None else t.put_if_version(key, body, old.tag)


def upload_bundle(repo: Repo, t: Transport, refs: list[str], exclude: list[str]) -> int:
    """The commits `refs` reach and `exclude` (versions the remote has) do not, as one
    bundle; returns its size (0: nothing new)."""
    with tempfile.TemporaryDirectory(dir=repo.mvc_dir) as tmp:
        path = Path(tmp) / "push.bundle"
        if not repo.git.bundle_create(path, refs, exclude):
            return 0
        data = path.read_bytes()
    cipher = cipher_of(t)
    key = f"{HISTORY}{cipher.name(data) if cipher is not None else blake3.blake3(data).hexdigest()}.bundle"
    t.put_if_absent(key, data)  # same bytes under the same name: already there is fine
    return len(data)


def _applied(cache: Path) -> set[str]:
    try:
        value = json.loads((cache / _APPLIED).read_text())
    except (OSError, ValueError, RecursionError):
        return set()
    return {x for x in value if isinstance(x, str)} if isinstance(value, list) else set()


def apply_bundles(repo: Repo, t: Transport, cache: Path) -> int:
    """Bring in every bundle not applied before; returns how many. A bundle whose
    prerequisites are not here yet waits for the others (bundles arrive in any order)."""
    done = _applied(cache)
    waiting = {}
    for item in t.list(HISTORY):
        name = item.key[len(HISTORY) :]
        if name.endswith(".bundle") and name not in done:
            waiting[name] = item.key
    if not waiting:
        return 0
    applied = 0
    with tempfile.TemporaryDirectory(dir=repo.mvc_dir) as tmp:
        paths = {}
        for name, key in waiting.items():
            data = t.get(key)  # on a private remote: opened and authenticated, bound to its name
            if cipher_of(t) is None and f"{blake3.blake3(data).hexdigest()}.bundle" != name:
                raise RemoteError(t.url, f"{key} is damaged (its contents do not match its name)", "Push again.")
            paths[name] = Path(tmp) / name
            paths[name].write_bytes(data)
        progress = True
        while paths and progress:
            progress = False
            for name, path in list(paths.items()):
                if repo.git.bundle_prerequisites_met(path):
                    repo.git.bundle_unbundle(path)
                    done.add(name)
                    del paths[name]
                    applied += 1
                    progress = True
    cache.mkdir(parents=True, exist_ok=True)
    write_atomic(cache / _APPLIED, json.dumps(sorted(done)).encode())
    if paths:
        raise RemoteError(
            t.url,
            f"{len(paths)} history bundle(s) need versions no bundle there provides",
            "The remote's history is incomplete: push it again from a clone that has it.",
        )
    return applied

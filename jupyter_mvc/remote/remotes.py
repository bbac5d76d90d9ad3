"""Which remotes a repository has: `<gitdir>/mvc/remotes.json`, name -> URL (and whether
the user accepted a server without conditional writes). Only names and URLs: credentials
come from each cloud's standard environment, never from the repository.

A remote's local cache (its pack indexes, the history bundles already applied) lives in
`<gitdir>/mvc/remotes/<name>/`; what it last said its branches were, in the refs
`refs/mvc/remotes/<name>/<branch>`, so `origin/main` works wherever a revision does."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from ..atomic import write_atomic
from ..errors import InvalidNameError, RemoteError, UnknownRemoteError, UnsafeRemoteError
from ..repo import Repo
from . import access, crypto, gitmirror
from .opening import CONFIG_FILE
from .sealed import SealedTransport
from .transport import Transport, open_transport, probe_conditional_writes

_NAME = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
TRACKING = "refs/mvc/remotes/"
MARKER = "jupyter_mvc-remote.json"  # the layout's format, and whether it is private
FORMAT = 1
_keyrings: dict[str, list[bytes]] = {}  # url -> unlocked keyring, for this process only


@dataclass(frozen=True)
class Remote:
    name: str
    url: str
    unsafe: bool = False  # its server ignores conditional writes; the user accepted that
    encrypted: bool = False  # a private remote: everything sealed on this side
    git: str | None = None  # a Git remote of the project that also receives refs/mvc/* on push

    def transport(self, passphrase: str | None = None) -> Transport:
        inner = open_transport(self.url)
        if not self.encrypted:
            return inner
        if self.url not in _keyrings:
            _keyrings[self.url] = access.unlock(inner, passphrase)
        return SealedTransport(inner, crypto.Cipher(_keyrings[self.url]))


def forget_keys(url: str) -> None:
    """Drop the unlocked keyring (after a grant or revocation changed it)."""
    _keyrings.pop(url, None)


def read_marker(t: Transport) -> dict | None:
    got = t.read_versioned(MARKER)
    if got is None:
        return None
    try:
        value = json.loads(got[0])
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        found = value.get("format") if isinstance(value, dict) else None
        raise RemoteError(
            t.url,
            f"its layout is format {found!r}; this jupyter_mvc reads format {FORMAT}",
            "Upgrade jupyter_mvc (pip install -U jupyter_mvc), or use another prefix.",
        )
    return value


def write_marker(t: Transport, encrypted: bool) -> None:
    t.put_if_absent(MARKER, json.dumps({"format": FORMAT, **({"encrypted": True} if encrypted else {})}).encode())


def _path(repo: Repo) -> Path:
    return repo.mvc_dir / CONFIG_FILE


def read(repo: Repo) -> dict[str, Remote]:
    try:
        raw = json.loads(_path(repo).read_text())
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(raw, dict):
        return {}
    out = {}
    for name, item in raw.items():
        if isinstance(item, dict) and isinstance(item.get("url"), str) and _NAME.match(str(name)):
            git = item.get("git") if isinstance(item.get("git"), str) else None
            out[name] = Remote(
                name, item["url"], bool(item.get("unsafe", False)), bool(item.get("encrypted", False)), git
            )
    return out


def _write(repo: Repo, remotes: dict[str, Remote]) -> None:
    body = {
        r.name: {
            "url": r.url,
            **({"unsafe": True} if r.unsafe else {}),
            **({"encrypted": True} if r.encrypted else {}),
            **({"git": r.git} if r.git else {}),
        }
        for r in remotes.values()
    }
    write_atomic(_path(repo), json.dumps(body, indent=1, sort_keys=True).encode())


def get(repo: Repo, name: str) -> Remote:
    remotes = read(repo)
    if name not in remotes:
        raise UnknownRemoteError(name, sorted(remotes))
    return remotes[name]


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise InvalidNameError(
            "remote URL",
            url.split("@")[-1],
            "it carries credentials, which would be stored in the repository",
            "Drop the user:secret@ part and set the cloud's own environment (e.g. AWS_ACCESS_KEY_ID).",
        )
    return url


def add(
    repo: Repo,
    name: str,
    url: str,
    *,
    accept_unsafe: bool = False,
    encrypt: bool = False,
    passphrase: str | None = None,
    git: str | None = None,
) -> Remote:
    """Record a remote after checking it can be written and honours conditional writes
    (a probe object written twice); a server that ignores them is refused unless the user
    accepts the risk. `encrypt` makes an empty remote private (a new keyring, granted to
    you, and to `passphrase` if given); a remote that is already private is joined as
    one, whatever `encrypt` says, if you have access (else NoAccessError)."""
    if not _NAME.match(name or ""):
        raise InvalidNameError(
            "remote", name, "a remote name is letters, digits, '.', '_' and '-'", "Use e.g. origin or team-s3."
        )
    remotes = read(repo)
    if name in remotes:
        raise InvalidNameError(
            "remote",
            name,
            f"it already exists ({remotes[name].url})",
            f"Remove it first (mvc remote remove {name}), or pick another name.",
        )
    if git is not None:
        gitmirror.check(repo, git)
    transport = open_transport(check_url(url))
    safe = probe_conditional_writes(transport)
    if not safe and not accept_unsafe:
        raise UnsafeRemoteError(url)
    marker = read_marker(transport)
    private = bool(marker and marker.get("encrypted"))
    if encrypt and marker is not None and not private:
        raise RemoteError(
            url, "it already holds unencrypted versions", "Use an empty bucket or prefix for a private remote."
        )
    if private:
        _keyrings[url] = access.unlock(transport, passphrase)
    elif encrypt:
        _keyrings[url] = access.create(transport, passphrase)
        write_marker(transport, encrypted=True)
    remote = Remote(name, url, unsafe=not safe, encrypted=private or encrypt, git=git)
    remotes[name] = remote
    _write(repo, remotes)
    return remote


def remove(repo: Repo, name: str) -> Remote:
    """Forget a remote: its entry, its tracking refs and its local cache (never its data)."""
    remote = get(repo, name)
    remotes = read(repo)
    del remotes[name]
    _write(repo, remotes)
    for ref, sha in repo.git.refs(f"{TRACKING}{name}/").items():
        repo.git.delete_ref(ref, sha)
    shutil.rmtree(cache_dir(repo, name), ignore_errors=True)
    return remote


def cache_dir(repo: Repo, name: str) -> Path:
    return repo.mvc_dir / "remotes" / name


def tracking(repo: Repo, name: str) -> dict[str, str]:
    """branch -> version, as the remote said at the last fetch or push."""
    prefix = f"{TRACKING}{name}/"
    return {ref[len(prefix) :]: sha for ref, sha in repo.git.refs(prefix).items()}

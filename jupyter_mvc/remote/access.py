"""Who may read a private remote: the repository keyring (crypto.Cipher's keys, one per
epoch) wrapped once per member's X25519 public key (`keys/members/<fingerprint>.json`)
and, optionally, under a passphrase (`keys/passphrase.json`, scrypt) for one person or CI.
Wrapped keys live in the remote; your identity (an X25519 private key) lives in your own
config folder (`identity.json`, mode 0600), never in a repository, and is never printed:
`mvc access whoami` shows the public half, which is what a teammate grants.

Revoking a member starts a new epoch: a new key for everything written from then on,
re-wrapped for the members who stay. What the revoked member already downloaded, or
could read before (everything up to the revocation), cannot be taken back."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass

import blake3

from ..atomic import write_atomic
from ..errors import NoAccessError, RemoteError
from ..repo.config import user_config_dir
from . import crypto
from .transport import Transport

MEMBERS = "keys/members/"
PASSPHRASE = "keys/passphrase.json"
PREFIX = "mvc-x25519:"
PASSPHRASE_ENV = "MVC_PASSPHRASE"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode(), validate=True)


# -- identity --------------------------------------------------------------------------------
def _identity_path():
    return user_config_dir() / "identity.json"


def identity(create: bool = True) -> tuple[bytes, bytes] | None:
    """(private, public) X25519 key of this user; made on first use when `create`."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    path = _identity_path()
    try:
        private = _unb64(json.loads(path.read_text())["x25519"])
    except FileNotFoundError:
        if not create:
            return None
        key = X25519PrivateKey.generate()
        private = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        write_atomic(path, json.dumps({"x25519": _b64(private)}).encode(), mode=0o600)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RemoteError(
            str(path),
            f"your identity file does not read ({type(exc).__name__})",
            "Restore it from a backup, or move it away to make a new one (then ask to be granted again).",
        ) from None
    public = X25519PrivateKey.from_private_bytes(private).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, public


def public_text(public: bytes) -> str:
    return PREFIX + _b64(public)


def parse_public(text: str) -> bytes:
    text = text.strip()
    try:
        raw = _unb64(text.removeprefix(PREFIX)) if text.startswith(PREFIX) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise RemoteError(
            "access",
            f"{text[:24]!r} is not a member key",
            f"A member key looks like {PREFIX}…; the member gets theirs with: mvc access whoami",
        )
    return raw


def fingerprint(public: bytes) -> str:
    return blake3.blake3(public).hexdigest()[:16]


# -- the keyring on a remote -----------------------------------------------------------------------
@dataclass(frozen=True)
class Member:
    fingerprint: str
    public: str  # mvc-x25519:...
    epochs: int


def members(t: Transport) -> list[Member]:
    out = []
    for item in t.list(MEMBERS):
        try:
            data = json.loads(t.get(item.key))
            public = parse_public(data["public"])
            out.append(Member(fingerprint(public), public_text(public), int(data.get("epochs", 0))))
        except (ValueError, KeyError, TypeError, RecursionError, RemoteError):
            continue  # a damaged entry grants nothing
    return out


def _write_member(t: Transport, public: bytes, keyring: list[bytes]) -> None:
    fpr = fingerprint(public)
    wrapped = crypto.wrap_for(public, keyring, fpr.encode())
    body = {"format": 1, "public": public_text(public), "epochs": len(keyring), "wrapped": _b64(wrapped)}
    t.put(f"{MEMBERS}{fpr}.json", json.dumps(body).encode())


def _write_passphrase(t: Transport, passphrase: str, keyring: list[bytes]) -> None:
    salt, sealed = crypto.wrap_with_passphrase(passphrase, keyring)
    body = {"format": 1, "scrypt": crypto.SCRYPT, "salt": _b64(salt), "epochs": len(keyring), "wrapped": _b64(sealed)}
    t.put(PASSPHRASE, json.dumps(body).encode())


def create(t: Transport, passphrase: str | None) -> list[bytes]:
    """A new keyring for an empty private remote, granted to this user (and the passphrase)."""
    me = identity()
    assert me is not None
    keyring = [os.urandom(32)]
    _write_member(t, me[1], keyring)
    if passphrase:
        _write_passphrase(t, passphrase, keyring)
    return keyring


def unlock(t: Transport, passphrase: str | None = None) -> list[bytes]:
    """The keyring, with this user's identity if a member, else the passphrase (argument
    or $MVC_PASSPHRASE); NoAccessError otherwise."""
    me = identity(create=False)
    if me is not None:
        got = t.read_versioned(f"{MEMBERS}{fingerprint(me[1])}.json")
        if got is not None:
            try:
                data = json.loads(got[0])
                return crypto.unwrap_with(me[0], _unb64(data["wrapped"]), fingerprint(me[1]).encode())
            except (ValueError, KeyError, TypeError, RecursionError, crypto.DecryptError):
                pass  # a damaged entry: try the passphrase
    passphrase = passphrase or os.environ.get(PASSPHRASE_ENV)
    if passphrase:
        got = t.read_versioned(PASSPHRASE)
        if got is not None:
            try:
                data = json.loads(got[0])
                return crypto.unwrap_passphrase(
                    passphrase, _unb64(data["salt"]), _unb64(data["wrapped"]), data.get("scrypt", {})
                )
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise NoAccessError(t.url, f"its passphrase key is damaged ({type(exc).__name__})", None) from None
            except crypto.DecryptError as exc:
                raise NoAccessError(t.url, str(exc), None) from None
    mine = public_text(me[1]) if me else public_text(identity()[1])  # type: ignore[index]
    raise NoAccessError(t.url, "you are not a member of this private remote", mine)


def grant(t: Transport, public_key: str, passphrase: str | None = None) -> Member:
    keyring = unlock(t, passphrase)
    public = parse_public(public_key)
    _write_member(t, public, keyring)
    return Member(fingerprint(public), public_text(public), len(keyring))


def revoke(t: Transport, who: str, passphrase: str | None = None) -> tuple[Member, bool]:
    """Remove a member (by key or fingerprint) and start a new epoch for new data. Returns
    (the member, whether the passphrase access was kept: it needs the passphrase to be
    re-wrapped, else it is removed and must be set again)."""
    keyring = unlock(t, passphrase)
    everyone = members(t)
    target = next((m for m in everyone if who.strip() in (m.public, m.fingerprint)), None)
    if target is None:
        raise RemoteError(t.url, f"no member {who[:40]!r}", "See mvc access list.")
    staying = [m for m in everyone if m.fingerprint != target.fingerprint]
    if not staying:
        raise RemoteError(
            t.url, "that is the last member", "Grant someone else first, or the data would be unreadable."
        )
    keyring = [*keyring, os.urandom(32)]  # the new epoch's key: the revoked member never gets it
    for m in staying:
        _write_member(t, parse_public(m.public), keyring)
    t.delete(f"{MEMBERS}{target.fingerprint}.json")
    passphrase = passphrase or os.environ.get(PASSPHRASE_ENV)
    kept = False
    if t.read_versioned(PASSPHRASE) is not None:
        if passphrase:
            _write_passphrase(t, passphrase, keyring)
            kept = True
        else:
            t.delete(PASSPHRASE)
    return target, kept


def set_passphrase(t: Transport, passphrase: str) -> None:
    _write_passphrase(t, passphrase, unlock(t))

"""Client-side encryption for private remotes: the provider sees object sizes and counts,
nothing else; a team that shares the repository key still deduplicates.

Keys (restic's and borg 2's layout, with Tahoe-LAFS's "convergence secret" idea for
dedup): a random 32-byte key per epoch (an epoch starts at each revocation), from which
HKDF-SHA256 derives an *id key* (keyed BLAKE3 names: a pack's name, a bundle's name, a
ref's name reveal nothing of their contents, and cannot be confirmed by someone who
guesses a chunk without the key) and an *encryption key*.

Chunks are sealed deterministically so the team deduplicates: AES-256-GCM with a key
derived per chunk id (HKDF info = the id) and a fixed nonce; one key only ever encrypts
one plaintext, so the fixed nonce is safe, and equal chunks give equal ciphertext only
under the same repository key. Other objects (indexes, history bundles, refs) use a
random nonce. The format version, the epoch and the object's name are authenticated
(associated data), so an object cannot be swapped for another or replayed under another
name unnoticed. Encryption happens after delta/compression choices (chunks are sealed as
they are stored).

    sealed chunk  = b"MVE1" + epoch (4 bytes) + AES-GCM(k_chunk, nonce 0, data, ad)
    sealed object = b"MVE1" + epoch (4 bytes) + nonce (12) + AES-GCM(k_enc, nonce, data, ad)
"""

from __future__ import annotations

import os
import struct
from typing import Any

import blake3

# `cryptography` is imported on first use (it costs ~0.1 s), so `%load_ext` and plain
# remotes never pay for it.

MAGIC = b"MVE1"
HEADER = struct.Struct(">4sI")  # magic, epoch
OVERHEAD_CHUNK = HEADER.size + 16
_ZERO_NONCE = b"\0" * 12


class DecryptError(Exception):
    """An object that does not open: tampered with, truncated, or sealed with a key this
    member does not hold."""


def _derive(key: bytes, label: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"jupyter_mvc " + label).derive(key)


def AESGCM(key: bytes) -> Any:  # noqa: N802 - stands for the class it returns
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM as _AESGCM

    return _AESGCM(key)


def _invalid_tag() -> type[Exception]:
    from cryptography.exceptions import InvalidTag

    return InvalidTag


class Cipher:
    """Seals and opens objects with a keyring: every epoch's key, the newest sealing."""

    def __init__(self, keyring: list[bytes]):
        if not keyring or any(len(k) != 32 for k in keyring):
            raise ValueError("a keyring is one or more 32-byte keys")
        self.keyring = list(keyring)
        self.epoch = len(keyring) - 1
        self._enc = [_derive(k, b"encryption") for k in keyring]
        self._ids = [_derive(k, b"ids") for k in keyring]

    # -- names ------------------------------------------------------------------------------
    def name(self, data: bytes | str, stable: bool = False) -> str:
        """A keyed BLAKE3 name for `data`. `stable`: with the first epoch's id key, so the
        name survives a rotation (ref names: a branch keeps one object)."""
        key = self._ids[0 if stable else self.epoch]
        raw = data.encode() if isinstance(data, str) else data
        return blake3.blake3(raw, key=key).hexdigest()

    # -- chunks: deterministic ----------------------------------------------------------------
    def _chunk_aead(self, epoch: int, oid: str) -> Any:
        return AESGCM(_derive(self._enc[epoch], b"chunk " + oid.encode()))

    def seal_chunk(self, oid: str, data: bytes | memoryview) -> bytes:
        header = HEADER.pack(MAGIC, self.epoch)
        return header + self._chunk_aead(self.epoch, oid).encrypt(_ZERO_NONCE, bytes(data), header + oid.encode())

    def open_chunk(self, oid: str, sealed: bytes) -> bytes:
        epoch = self._epoch_of(sealed, f"chunk {oid[:16]}…")
        header = sealed[: HEADER.size]
        try:
            return self._chunk_aead(epoch, oid).decrypt(_ZERO_NONCE, sealed[HEADER.size :], header + oid.encode())
        except _invalid_tag():
            raise DecryptError(f"chunk {oid[:16]}… does not authenticate (tampered with or damaged)") from None

    # -- other objects: random nonce, bound to their name ---------------------------------------------
    def seal(self, name: str, data: bytes) -> bytes:
        header = HEADER.pack(MAGIC, self.epoch)
        nonce = os.urandom(12)
        return header + nonce + AESGCM(self._enc[self.epoch]).encrypt(nonce, data, header + name.encode())

    def open(self, name: str, sealed: bytes) -> bytes:
        epoch = self._epoch_of(sealed, name)
        header, nonce, body = sealed[: HEADER.size], sealed[HEADER.size : HEADER.size + 12], sealed[HEADER.size + 12 :]
        try:
            return AESGCM(self._enc[epoch]).decrypt(nonce, body, header + name.encode())
        except _invalid_tag():
            raise DecryptError(
                f"{name} does not authenticate (tampered with, damaged, or moved from another name)"
            ) from None

    def _epoch_of(self, sealed: bytes, what: str) -> int:
        if len(sealed) < HEADER.size + 16:
            raise DecryptError(f"{what} is truncated")
        magic, epoch = HEADER.unpack_from(sealed)
        if magic != MAGIC:
            raise DecryptError(f"{what} is not an encrypted jupyter_mvc object")
        if epoch >= len(self.keyring):
            raise DecryptError(f"{what} was sealed with a newer key than yours (you were not granted access to it)")
        return epoch


# -- wrapping the keyring: per member (X25519) and by passphrase (scrypt) ---------------------------
def wrap_for(public_key: bytes, keyring: list[bytes], label: bytes) -> bytes:
    """The keyring sealed to one member's X25519 public key (ephemeral-static ECDH, HKDF,
    AES-GCM; `label` is authenticated, e.g. the member's fingerprint)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_key))
    epub = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = _derive(shared + epub + public_key, b"wrap")
    nonce = os.urandom(12)
    return epub + nonce + AESGCM(key).encrypt(nonce, b"".join(keyring), label)


def unwrap_with(private_key: bytes, wrapped: bytes, label: bytes) -> list[bytes]:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    me = X25519PrivateKey.from_private_bytes(private_key)
    mine = me.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    epub, nonce, body = wrapped[:32], wrapped[32:44], wrapped[44:]
    shared = me.exchange(X25519PublicKey.from_public_bytes(epub))
    try:
        raw = AESGCM(_derive(shared + epub + mine, b"wrap")).decrypt(nonce, body, label)
    except _invalid_tag():
        raise DecryptError("the wrapped key does not open with this identity") from None
    return _split(raw)


SCRYPT = {"n": 2**15, "r": 8, "p": 1}


def wrap_with_passphrase(passphrase: str, keyring: list[bytes], salt: bytes | None = None) -> tuple[bytes, bytes]:
    """(salt, sealed keyring) under a key scrypt derives from the passphrase."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    salt = salt or os.urandom(16)
    key = Scrypt(salt=salt, length=32, **SCRYPT).derive(passphrase.encode())
    nonce = os.urandom(12)
    return salt, nonce + AESGCM(key).encrypt(nonce, b"".join(keyring), b"passphrase")


def unwrap_passphrase(passphrase: str, salt: bytes, sealed: bytes, params: dict) -> list[bytes]:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    n, r, p = int(params.get("n", 0)), int(params.get("r", 0)), int(params.get("p", 0))
    if not (2**10 <= n <= 2**22 and 1 <= r <= 32 and 1 <= p <= 16):
        raise DecryptError("the passphrase key's scrypt parameters are out of range")
    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode())
    try:
        return _split(AESGCM(key).decrypt(sealed[:12], sealed[12:], b"passphrase"))
    except _invalid_tag():
        raise DecryptError("wrong passphrase") from None


def _split(raw: bytes) -> list[bytes]:
    if not raw or len(raw) % 32:
        raise DecryptError("the wrapped keyring is malformed")
    return [raw[i : i + 32] for i in range(0, len(raw), 32)]

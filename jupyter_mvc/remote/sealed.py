"""A private remote's transport: every object is sealed on the way out and opened (and
authenticated) on the way in, except the packs' bodies, whose chunks the pack code seals
one by one (so a lazy load can open just its chunk), and the key objects and the layout
marker, which are public by design (they hold wrapped keys and a format number)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from pathlib import Path

from ..errors import RemoteError
from . import crypto
from .transport import Listed, Transport

_PUBLIC = ("keys/", "jupyter_mvc-remote.json")


class SealedTransport:
    def __init__(self, inner: Transport, cipher: crypto.Cipher):
        self.inner = inner
        self.cipher = cipher
        self.url = inner.url

    @staticmethod
    def _clear(key: str) -> bool:
        return key.startswith(_PUBLIC) or (key.startswith("packs/") and key.endswith(".pack"))

    def _seal(self, key: str, data: bytes) -> bytes:
        return data if self._clear(key) else self.cipher.seal(key, data)

    def _open(self, key: str, data: bytes) -> bytes:
        if self._clear(key):
            return data
        try:
            return self.cipher.open(key, data)
        except crypto.DecryptError as exc:
            raise RemoteError(
                self.url, str(exc), "Run mvc fsck --remote; if it was tampered with, push again from a clean clone."
            ) from None

    def list(self, prefix: str) -> builtins.list[Listed]:
        return self.inner.list(prefix)

    def get(self, key: str) -> bytes:
        return self._open(key, self.inner.get(key))

    def get_ranges(self, key: str, ranges: builtins.list[tuple[int, int]]) -> builtins.list[bytes]:
        return self.inner.get_ranges(key, ranges)  # sealed chunks: the caller opens each

    def put(self, key: str, data: bytes) -> None:
        self.inner.put(key, self._seal(key, data))

    def put_file(self, key: str, path: Path, progress: Callable[[int], None] | None = None) -> None:
        if not self._clear(key):
            raise ValueError(f"{key}: only pack bodies (sealed chunk by chunk) are uploaded as files")
        self.inner.put_file(key, path, progress)

    def read_versioned(self, key: str) -> tuple[bytes, str] | None:
        got = self.inner.read_versioned(key)
        return None if got is None else (self._open(key, got[0]), got[1])

    def put_if_absent(self, key: str, data: bytes) -> bool:
        return self.inner.put_if_absent(key, self._seal(key, data))

    def put_if_version(self, key: str, data: bytes, tag: str) -> bool:
        return self.inner.put_if_version(key, self._seal(key, data), tag)

    def delete(self, key: str) -> None:
        self.inner.delete(key)


def cipher_of(t: Transport) -> crypto.Cipher | None:
    return t.cipher if isinstance(t, SealedTransport) else None

"""The safe-load allow-list (`mvc trust MODULE.NAME`), kept in the user's own config:
`$XDG_CONFIG_HOME/jupyter_mvc/trust.json` (else `~/.config/jupyter_mvc/trust.json`), a map
from a repository's git dir (absolute path) to the names trusted there.

The repository's own settings (`read`/`write`: metric goals and followed best tags, see
goals.py) live in `<gitdir>/mvc/config.json`. Trust decisions never live there, nor in
anything a remote or a copied store delivers: a
`trusted_globals` key in `<gitdir>/mvc/config.json` (where releases up to 0.1 kept it, and
where a copied repository would bring one along) is ignored, and said so once.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from ..atomic import write_atomic
from ..errors import InvalidNameError

_GLOBAL = re.compile(r"\A[A-Za-z_][\w.]*\.[A-Za-z_]\w*\Z")
_SSH_KEY = re.compile(
    r"\A(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}\Z"
)
_warned: set[str] = set()  # stores whose ignored allow-list was mentioned in this process


def user_config_dir() -> Path:
    """`$XDG_CONFIG_HOME/jupyter_mvc` (an absolute path only, per the XDG spec), else
    `~/.config/jupyter_mvc`."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".config"
    return base / "jupyter_mvc"


class Config:
    def __init__(self, mvc_dir: Path, git_dir: Path | None = None):
        self.path = mvc_dir / "config.json"  # per-repository settings (never trust)
        self.key = str(Path(git_dir if git_dir is not None else mvc_dir.parent).resolve())

    @property
    def trust_path(self) -> Path:
        return user_config_dir() / "trust.json"

    @property
    def signers_path(self) -> Path:
        return user_config_dir() / "signers.json"

    def read(self) -> dict:
        """The repository's own settings; a damaged file reads as none."""
        try:
            value = json.loads(self.path.read_text())
        except (OSError, ValueError, RecursionError):
            return {}
        return value if isinstance(value, dict) else {}

    def write(self, key: str, value: object) -> None:
        """Set one of the repository's own settings (None removes it), atomically; the
        other keys are kept as they are."""
        settings = self.read()
        if value is None:
            settings.pop(key, None)
        else:
            settings[key] = value
        write_atomic(self.path, json.dumps(settings, indent=2, sort_keys=True).encode())

    def _read_trust(self) -> dict:
        try:
            value = json.loads(self.trust_path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, RecursionError) as exc:
            print(f"jupyter_mvc: ignoring {self.trust_path}: it does not read ({exc})", file=sys.stderr)
            return {}
        return value if isinstance(value, dict) else {}

    def trusted_globals(self) -> set[str]:
        """The names this user trusts to load from this repository's versions."""
        if "trusted_globals" in self.read() and self.key not in _warned:
            _warned.add(self.key)
            print(
                f"jupyter_mvc: ignoring 'trusted_globals' in {self.path}: trust decisions come from your own "
                f"config ({self.trust_path}), never from a repository. Re-run `mvc trust MODULE.NAME` for the "
                "names you trust.",
                file=sys.stderr,
            )
        names = self._read_trust().get(self.key, [])
        return {n for n in names if isinstance(n, str) and _GLOBAL.match(n)} if isinstance(names, list) else set()

    def trust(self, global_name: str) -> None:
        """Add `module.name` to this user's allow-list for this repository."""
        if not isinstance(global_name, str) or not _GLOBAL.match(global_name):
            raise InvalidNameError(
                "global",
                str(global_name),
                "expected module.name",
                "Give the name the refusal printed, e.g. mypkg.models.Net.",
            )
        everything = self._read_trust()
        everything[self.key] = sorted(self.trusted_globals() | {global_name})
        write_atomic(self.trust_path, json.dumps(everything, indent=2, sort_keys=True).encode(), mode=0o600)

    # -- signers: versions they signed load as if you had made them -----------------------------
    def trusted_signers(self) -> list[str]:
        """SSH public keys ("ssh-ed25519 AAAA...") whose signed versions load untrusted
        classes from this repository."""
        try:
            value = json.loads(self.signers_path.read_text())
        except (OSError, ValueError, RecursionError):
            return []
        keys = value.get(self.key, []) if isinstance(value, dict) else []
        return [k for k in keys if isinstance(k, str) and _SSH_KEY.match(k)] if isinstance(keys, list) else []

    def trust_signer(self, public_key: str) -> str:
        """Add an SSH public key (its text, as in a .pub file) to the signers this user
        trusts for this repository; returns the key as stored (type and data, no comment)."""
        parts = public_key.strip().split()
        key = " ".join(parts[:2])
        if len(parts) < 2 or not _SSH_KEY.match(key):
            raise InvalidNameError(
                "signer key",
                public_key.strip()[:40],
                "it is not an SSH public key",
                "Give the public key's text or its .pub file, e.g. mvc trust --signer ~/.ssh/id_ed25519.pub.",
            )
        try:
            everything = json.loads(self.signers_path.read_text())
        except (OSError, ValueError, RecursionError):
            everything = {}
        if not isinstance(everything, dict):
            everything = {}
        everything[self.key] = sorted(set(self.trusted_signers()) | {key})
        write_atomic(self.signers_path, json.dumps(everything, indent=2, sort_keys=True).encode(), mode=0o600)
        return key

"""Spot credentials before they land in history (history is pushed and kept for years).

Scans text files of a commit (the notebook, the executed cells) and the pickled skeletons
of variables (where strings live; numeric buffers are skipped) for well-known credential
formats. Findings name the place and show only a masked prefix of the secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PATTERNS: dict[str, re.Pattern[bytes]] = {
    name: re.compile(rx)
    for name, rx in {
        "AWS access key id": rb"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        "AWS secret access key": rb"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}",
        "GitHub token": rb"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})",
        "GitLab token": rb"\bglpat-[A-Za-z0-9_-]{20,}",
        "Slack token": rb"\bxox[abposr]-[A-Za-z0-9-]{10,}",
        "OpenAI/Anthropic API key": rb"\bsk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",
        "Stripe secret key": rb"\b[rs]k_live_[A-Za-z0-9]{20,}",
        "Google API key": rb"\bAIza[0-9A-Za-z_-]{35}",
        "Hugging Face token": rb"\bhf_[A-Za-z0-9]{30,}",
        "private key": rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----",
        "JSON web token": rb"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
    }.items()
}

# A string literal given to a credential-named variable, key or argument, in code:
# `db_password = "hunter2"`, `PASSWORD: str = "x"`, `{"api_token": "..."}`, `connect(secret='...')`.
# Not a value read at run time (`os.environ[...]`, `getpass()`), None, "" or a number.
_ASSIGNED = re.compile(
    rb"(?<!\w)(?=[A-Za-z0-9_]*(?i:pass|pwd|secret|token|key|credential|bearer))"  # a cheap first look
    rb"(?P<name>[A-Za-z_][A-Za-z0-9_]*)['\"]?"  # a name, or a dict key's closing quote
    rb"(?:\s*:\s*[A-Za-z_][\w\[\]., |]{0,60}?)?"  # an annotation: `: str`
    rb"\s*(?<![=!<>])(?:=|:)(?!=)\s*"  # = or :, not == != <= >=
    rb"(?P<prefix>[rRbBuUfF]{0,2})(?P<quote>['\"])(?P<value>[^'\"\n\\]*)(?P=quote)"
)
_PASSWORD_WORDS = {"password", "passwd", "pwd", "passphrase", "secret"}
_TOKEN_WORDS = {"token", "apikey", "credential", "credentials", "bearer"}
_KEY_PAIRS = {("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"), ("auth", "key")}
# `pad_token = "<pad>"` and friends name a tokenizer's special tokens, not credentials.
_SPECIAL_TOKEN_WORDS = {"pad", "bos", "eos", "unk", "sep", "cls", "mask", "start", "end", "stop", "special", "sos"}
_PLACEHOLDER = re.compile(r"\A(?:<.*>|\[.*\]|\{.*\}|\$\{?\w+\}?|[*.?-]+|[xX]{3,}|(?i:your[ _-].*|.*[ _-]here))\Z")


def _words(name: str) -> list[str]:
    """`dbPassword` -> [db, password]; `API_TOKEN` -> [api, token]."""
    return [w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)]


def _assigned_kind(name: str, prefix: str, value: str) -> str | None:
    """ "password assignment" or "credential assignment" when a literal `value` given to
    `name` looks like a credential; None for anything else."""
    if not value.strip() or _PLACEHOLDER.match(value) or ("f" in prefix.lower() and "{" in value):
        return None
    words = _words(name)
    if any(w in _PASSWORD_WORDS for w in words):
        return "password assignment"
    if _SPECIAL_TOKEN_WORDS.intersection(words) or len(value) < 8 or any(c.isspace() for c in value):
        return None
    if any(w in _TOKEN_WORDS for w in words) or any(pair in _KEY_PAIRS for pair in zip(words, words[1:])):
        return "credential assignment"
    return None


def _assignments(data: bytes) -> list[tuple[str, re.Match[bytes]]]:
    """(kind, match) for each credential given as a literal in `data`; a rejected match's
    value is searched too (`key = "password = 'x'"`)."""
    found = []
    pos = 0
    while (m := _ASSIGNED.search(data, pos)) is not None:
        kind = _assigned_kind(
            m["name"].decode("ascii"), m["prefix"].decode("ascii"), m["value"].decode("utf-8", "replace")
        )
        if kind:
            found.append((kind, m))
            pos = m.end()
        else:
            pos = m.start("value")
    return found


@dataclass(frozen=True)
class Finding:
    kind: str
    where: str  # "history.py line 3", "notebook.ipynb cell 2 line 1", "variable 'cfg'"
    preview: str  # masked: a few leading characters only

    def __str__(self) -> str:
        return f"{self.where} ({self.kind}: {self.preview})"


def _mask(secret: bytes) -> str:
    text = secret.decode("utf-8", "replace")
    return text[:6] + "…" if len(text) > 6 else "…"


def _scan_text(data: bytes, where: str) -> list[Finding]:
    found = []
    for kind, rx in PATTERNS.items():
        for m in rx.finditer(data):
            line = data.count(b"\n", 0, m.start()) + 1
            found.append(Finding(kind, f"{where} line {line}", _mask(m.group(0))))
    for kind, m in _assignments(data):  # the preview is the name's: no character of the value
        line = data.count(b"\n", 0, m.start()) + 1
        found.append(Finding(kind, f"{where} line {line}", _mask(m["name"])))
    return found


def _scan_notebook(data: bytes, name: str) -> list[Finding]:
    try:
        cells = json.loads(data).get("cells", [])
    except (ValueError, AttributeError, RecursionError):
        return _scan_text(data, name)
    found = []
    for i, cell in enumerate(cells, 1):
        parts = [cell.get("source", "")]
        for out in cell.get("outputs", []) or []:
            parts.append(out.get("text", ""))
            parts.extend(v for k, v in (out.get("data") or {}).items() if k.startswith("text/"))
        for part in parts:
            text = "".join(part) if isinstance(part, list) else str(part)
            found += _scan_text(text.encode(), f"{name} cell {i}")
    return found


def looks_like_credential(text: str) -> bool:
    """Whether `text` holds any of the credential formats above."""
    data = text.encode("utf-8", "replace")
    return any(rx.search(data) for rx in PATTERNS.values()) or bool(_assignments(data))


def scan_files(files: Mapping[str, bytes]) -> list[Finding]:
    found = []
    for name, data in files.items():
        found += _scan_notebook(data, name) if name.endswith(".ipynb") else _scan_text(data, name)
    return found


def scan_skeletons(skeletons: Iterable[tuple[str, bytes]]) -> list[Finding]:
    found = []
    for variable, data in skeletons:
        for f in _scan_text(data, f"variable {variable!r}"):
            found.append(Finding(f.kind, f"variable {variable!r}", f.preview))
    return found

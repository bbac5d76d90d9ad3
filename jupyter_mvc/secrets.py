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
        "password assignment": rb"(?i)\b(?:password|passwd|pwd)\s*[=:]\s*['\"][^'\"\s]{6,}['\"]",
    }.items()
}


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
    return found


def _scan_notebook(data: bytes, name: str) -> list[Finding]:
    try:
        cells = json.loads(data).get("cells", [])
    except (ValueError, AttributeError):
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
    return any(rx.search(data) for rx in PATTERNS.values())


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

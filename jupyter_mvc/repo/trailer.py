"""The `Mvc-Summary:` trailer at the end of each version's commit message: the variable
names and headline metrics, so `log` needs no tree reads. One encoder, one decoder; a
damaged or hand-written trailer decodes to an empty summary, never an error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PREFIX = "Mvc-Summary: "


@dataclass(frozen=True)
class Summary:
    variables: tuple[str, ...] = ()
    metrics: dict = field(default_factory=dict)


def encode(message: str, summary: Summary) -> str:
    payload = {"variables": list(summary.variables), "metrics": summary.metrics}
    return f"{message.strip()}\n\n{PREFIX}{json.dumps(payload, separators=(',', ':'))}"


def decode(full_message: str) -> tuple[str, Summary]:
    """(the user's message, the summary) of a commit message. `log` calls this once per
    version, so the last line is found and parsed in place rather than by splitting the
    whole message (a third of the time of a log of 100,000 versions)."""
    text = full_message.rstrip("\n")
    last = text.rfind("\n") + 1  # where the last line starts
    if not text.startswith(PREFIX, last):
        return full_message, Summary()
    message = text[:last].rstrip("\n")
    raw = _payload(text, last + len(PREFIX))
    if not isinstance(raw, dict):
        return message, Summary()
    variables = raw.get("variables")
    metrics = raw.get("metrics")
    return message, Summary(
        variables=tuple(v for v in variables if isinstance(v, str)) if isinstance(variables, list) else (),
        metrics={str(k): v for k, v in metrics.items() if v is None or isinstance(v, (int, float))}
        if isinstance(metrics, dict)
        else {},
    )


_DECODER = json.JSONDecoder()
_JSON_SPACE = " \t\r\n"
_JSON_SPACE_CHARS = tuple(_JSON_SPACE)


def _payload(text: str, start: int) -> object:
    """The JSON value from `start` to the end of `text`, None if it is not one (damaged,
    hand-written or nested too deep to parse)."""
    try:
        if text.startswith(_JSON_SPACE_CHARS, start):
            return json.loads(text[start:])
        raw, end = _DECODER.raw_decode(text, start)
    except (ValueError, RecursionError):
        return None
    return raw if not text[end:].strip(_JSON_SPACE) else None

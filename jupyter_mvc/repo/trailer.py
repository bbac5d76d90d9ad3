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
    """(the user's message, the summary) of a commit message."""
    lines = full_message.rstrip("\n").split("\n")
    if not lines or not lines[-1].startswith(PREFIX):
        return full_message, Summary()
    message = "\n".join(lines[:-1]).rstrip("\n")
    try:
        raw = json.loads(lines[-1][len(PREFIX) :])
    except ValueError:
        return message, Summary()
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

"""What a "decision" audit event holds, and reading it back for the what-if replay.

An event's ``changes`` (each value an ``[old, new]`` pair, old always None):

- ``rules``: the rules that gave the result ``[{id, row, description}]`` (every event has them);
- ``inputs``: the case-data values the table reads, by name (``{"age": 66, "risk": 3}``);
- ``outputs``: what the table gave, by output name (``{"outcome": "witness"}``);
- ``_decision``: ``{"id": decision id, "document": "suitability.dmn", "version": 2}`` — the
  decision evaluated and the version of its document the case's process version pins.

Values are kept JSON-safe and typed: a date, a moment or a Decimal is written as a one-key
object (``{"$date": "2026-11-22"}``) and read back as itself, so the replay compares as the
engine did. Events written before inputs were recorded have only ``rules``: the replay counts
them as not replayable.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from workflows.cases.models import DecisionDefinition

__all__ = ["changes", "decode", "encode", "read"]

_TAGS = {"$date": dt.date.fromisoformat, "$datetime": dt.datetime.fromisoformat, "$decimal": Decimal}


def encode(value: Any) -> Any:
    """A value as JSON can hold it, dates and decimals tagged so :func:`decode` restores them."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [encode(v) for v in value]
    return str(value)


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            tag, text = next(iter(value.items()))
            if tag in _TAGS and isinstance(text, str):
                try:
                    return _TAGS[tag](text)
                except (ValueError, ArithmeticError):
                    return text
        return {k: decode(v) for k, v in value.items()}
    return value


def changes(decision: dict[str, Any], pinned: list[DecisionDefinition]) -> dict[str, Any]:
    """The ``changes`` of the audit event of one decision the engine noted (see
    ``specs.RecordingDMNEngine``), with the pinned version of its document."""
    out: dict[str, Any] = {"rules": [None, decision["rules"]]}
    if "inputs" in decision:
        out["inputs"] = [None, encode(decision["inputs"])]
        out["outputs"] = [None, encode(decision.get("outputs") or {})]
    if decision.get("decision"):
        document = decision.get("document")
        version = next((d.version for d in pinned if d.key == document), None)
        out["_decision"] = [None, {"id": decision["decision"], "document": document, "version": version}]
    return out


def read(event_changes: dict[str, Any] | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any]]:
    """(inputs, outputs, about) of a decision event: inputs/outputs None when the event predates them;
    ``about`` the ``_decision`` facts (empty when unknown)."""
    found = event_changes or {}

    def new(key: str) -> Any:
        pair = found.get(key)
        return pair[1] if isinstance(pair, list) and len(pair) == 2 else None

    inputs, outputs, about = new("inputs"), new("outputs"), new("_decision")
    return (decode(inputs) if isinstance(inputs, dict) else None,
            decode(outputs) if isinstance(outputs, dict) else None,
            about if isinstance(about, dict) else {})

"""Translating the engine layer's English messages into the user's language."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext

from workflows.errors import Msg, WorkflowError


def tr(message: Any) -> str:
    """gettext for messages that may carry values (workflows.errors.Msg)."""
    if isinstance(message, Msg):
        return gettext(message.template, **message.params)
    return gettext(str(message)) if message else ""


def tr_fields(exc: WorkflowError) -> dict[str, str]:
    return {key: tr(value) for key, value in exc.fields.items()}

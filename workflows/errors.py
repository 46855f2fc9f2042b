"""Errors the engine layer raises; the web and API layers map them to responses."""

from dataclasses import dataclass
from typing import Any


class Msg(str):
    """An English message that remembers its template and values, so the web
    layer can translate the template and fill the values in the user's language.
    A field's message also carries its stable ``code`` (``required``, ``too_long``…):
    programs branch on the code, people read the message."""

    template: str
    params: dict[str, Any]
    code: str | None

    def __new__(cls, template: str, *, code: str | None = None, **params: Any) -> "Msg":
        obj = super().__new__(cls, template % params if params else template)
        obj.template = template
        obj.params = params
        obj.code = code
        return obj


def field_code(message: Any) -> str:
    """The stable code of a field's message; ``invalid`` when it names none."""
    return getattr(message, "code", None) or "invalid"


class WorkflowError(Exception):
    """Base class; ``status`` is the HTTP status a view should answer with, ``code`` the
    stable code a program branches on: the class's, or a finer one given to the instance
    (``Conflict(..., code="claimed_by_other")``)."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        if not self.fields:
            return self.message
        return f"{self.message}: " + "; ".join(f"{k}: {v}" for k, v in self.fields.items())


class NotFound(WorkflowError):
    status = 404
    code = "not_found"


class Forbidden(WorkflowError):
    status = 403
    code = "forbidden"


class Conflict(WorkflowError):
    """Someone else acted first, or the task is already done."""

    status = 409
    code = "conflict"


class Invalid(WorkflowError):
    status = 422
    code = "invalid"


class Refused(Invalid):
    """A business rule refuses the request (e.g. a start check): ``figures`` are the
    numbers behind the message (its values), given to API clients as they are."""

    code = "refused"

    def __init__(self, message: str, fields: dict[str, str] | None = None, *, code: str | None = None) -> None:
        super().__init__(message, fields, code=code)
        self.figures: dict[str, Any] = dict(getattr(message, "params", None) or {})


class Unconfirmed(WorkflowError):
    """Warnings the person must see and confirm before the action is taken."""

    status = 409
    code = "confirmation_required"

    def __init__(self, message: str, alerts: list[Any], fingerprint: str = "") -> None:
        super().__init__(message)
        self.alerts = alerts
        self.fingerprint = fingerprint  # sent back to confirm exactly these warnings


@dataclass(frozen=True)
class Refusal:
    """Why something is not allowed, as a value: callers branch on ``code`` (stable,
    never translated), people read ``message`` (English, translated at display)."""

    code: str
    message: str

    def __str__(self) -> str:
        return str(self.message)

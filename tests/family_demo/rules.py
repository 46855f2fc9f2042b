"""The test family's one rule: a yearly budget per person, set by the administrator."""

from __future__ import annotations

from sqlalchemy import select

from workflows.branch import settings
from workflows.cases.models import ProcessInstance
from workflows.db import db
from workflows.errors import Msg, Refused

PROCESS_KEY = "family_demo_request"
BUDGET = "family_demo.budget"


def requested(user_id: int) -> int:
    """What the person has asked for in their cases so far (running and finished)."""
    rows = db.session.scalars(select(ProcessInstance.summary).where(ProcessInstance.process_key == PROCESS_KEY,
                                                                   ProcessInstance.started_by_id == user_id))
    return sum(int((summary or {}).get("amount") or 0) for summary in rows)


def budget_left(user_id: int | None) -> int:
    return int(settings.get(BUDGET)) - (requested(user_id) if user_id is not None else 0)


def check_budget(request) -> None:
    """Start check: a request over what is left is refused before a case exists, showing what is left."""
    if request.user is None:
        return  # the system's own requests are not counted against anyone
    left = budget_left(request.user.id)
    if int(request.data.get("amount") or 0) > left:
        message = Msg("must be at most %(n)s", n=left)
        raise Refused(message, {"amount": message})

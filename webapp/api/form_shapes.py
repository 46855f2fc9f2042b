"""Forms as a client renders and checks them: each field with its effective constraints
(``workflows.cases.forms.constraints``, the very limits ``validate`` enforces), its
conditional requirement as text and as a tree, and a step's context (case, holder, groups)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workflows.cases import reading
from workflows.cases.forms import constraints
from workflows.engine.conditions import condition_tree
from workflows.engine.dialect import FormField

from ..template_helpers import bilingual, mask, option_label, role_name


def number(value: Decimal | None) -> int | float | None:
    """A limit as a JSON number (whole numbers stay exact)."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def limits(ff: FormField) -> dict[str, Any]:
    """The constraints validate applies to ``ff``, defaults included; only those of its type."""
    c = constraints(ff)
    out: dict[str, Any] = {}
    if ff.type in ("string", "text"):
        out.update(min_length=c.min_length, max_length=c.max_length, pattern=c.pattern, multiline=c.multiline)
    elif ff.type in ("long", "decimal"):
        out.update(minimum=number(c.minimum), maximum=number(c.maximum), max_decimal_places=c.max_decimal_places)
    elif ff.type == "date":
        out.update(minimum=c.first_day.isoformat() if c.first_day else None,
                   maximum=c.last_day.isoformat() if c.last_day else None)
    elif ff.type == "file":
        out.update(accept=list(c.accept), max_size=c.max_size)
    return out


def required_when(ff: FormField) -> dict[str, Any] | None:
    if not ff.required_when:
        return None
    return {"expression": ff.required_when, "condition": condition_tree(ff.required_when)}


def field(ff: FormField, ctx: dict[str, Any] | None = None, values: dict[str, Any] | None = None,
          *, hide_sensitive: bool = False) -> dict[str, Any]:
    """One form field; with ``values``, the value the step's form starts from (a sensitive one
    masked when ``hide_sensitive``: the page shows the form only to the one who may act)."""
    from .shapes import plain

    out = {"id": ff.id, "label": bilingual(ff.label), "type": ff.type, "required": ff.required,
           "readonly": ff.readonly, "default": ff.default,
           "options": [{"id": k, "label": option_label(v, ctx)} for k, v in ff.options],
           "constraints": limits(ff), "required_when": required_when(ff)}
    if values is not None:
        value = values.get(ff.id)
        if hide_sensitive and ff.sensitive and value not in (None, ""):
            value = mask(value, ff.sensitive)
        out["value"] = plain(value)
    return out


def person(user: Any) -> dict[str, str] | None:
    return {"username": user.username, "name": user.full_name} if user is not None else None


def candidate_groups(task: Any) -> list[dict[str, Any]]:
    """The groups the task was offered to: role, and the unit it is limited to (if any)."""
    return [{"role": role, "role_name": role_name(role), "unit_id": unit.id if unit else None,
             "unit_name": unit.name if unit else None} for role, unit in reading.offered_to(task)]

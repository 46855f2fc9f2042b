"""How the wealth records read, shared by their pages and their API: labels, masking of ID and phone
numbers (SPEC §1: masked in lists, exports and histories unless the whole record is shown), history."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

from flask import send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..template_helpers import mask, when

MASKED = {"id_number": "id", "guardian_id_number": "id", "phone": "phone"}
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]*/[A-Za-z0-9][\w.+-]*$")

FIELD_LABELS = {
    "name": _l("Name"), "id_number": _l("ID-document number"), "birth_date": _l("Date of birth"),
    "phone": _l("Phone"), "risk_level": _l("Risk level"), "assessed_on": _l("Assessed on"),
    "assessment_expires_on": _l("Assessment expires on"), "guardian_name": _l("Guardian"),
    "guardian_id_number": _l("Guardian's ID number"), "guardian_relation": _l("Relation"), "active": _l("Active"),
    "guardian_verified_by": _l("Guardian verified by"), "guardian_verified_at": _l("Guardian verified at"),
    "guardian_document": _l("Guardian's document"), "code": _l("Product code"), "risk_rating": _l("Risk rating"),
    "term_months": _l("Term (months)"), "user": _l("Advisor"), "certificate_no": _l("Certificate number"),
    "qualified_on": _l("Qualified on"), "expires_on": _l("Expires on"), "revoked_at": _l("Revoked at"),
    "reason": _l("Reason"),
}
ACTIONS = {"created": _l("Record created"), "updated": _l("Changed"), "imported": _l("Imported"),
           "verified": _l("Guardian verified"), "revoked": _l("Revoked")}
VIAS = {"web": _l("Web page"), "api": _l("API"), "cli": _l("Command line"), "seed": _l("Demo data")}
RELATIONS = {"father": _l("Father"), "mother": _l("Mother"), "grandparent": _l("Grandparent"),
             "other": _l("Other legal guardian")}
ASSESSMENT = {"none": _l("Not assessed"), "expired": _l("Expired"), "expiring": _l("Expiring soon"),
              "valid": _l("Valid")}
QUALIFICATION = {"none": _l("No qualification"), "expired": _l("Expired"), "expiring": _l("Expiring soon"),
                 "valid": _l("Qualified"), "revoked": _l("Revoked"), "not_yet": _l("Not yet valid")}


def shown(key: str, value: Any, whole: bool) -> Any:
    """A value as the reader may see it: ID and phone numbers masked unless ``whole``."""
    if value is None or whole or key not in MASKED:
        return value
    return mask(value, MASKED[key])


def level(value: int | None, letter: str) -> str:
    return f"{letter}{value}" if value else ""


def readable(key: str, value: Any) -> Any:
    """A history value as people read it: C3 / R3, yes / no, the relation's name, a time in the branch's zone."""
    if value is None:
        return None
    if key == "risk_level":
        return level(value, "C")
    if key == "risk_rating":
        return level(value, "R")
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "guardian_relation":
        return RELATIONS.get(value, value)
    if key in ("guardian_verified_at", "revoked_at") and isinstance(value, str):
        try:
            return when(dt.datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def history_rows(rows: list[Any], who: dict[int, Any], whole: bool) -> list[dict[str, Any]]:
    """The history for the page: each change with its labels, ID and phone numbers masked unless whole."""
    out = []
    for row in rows:
        person = who.get(row.user_id) if row.user_id is not None else None
        changes = [(str(FIELD_LABELS.get(k, k)), readable(k, shown(k, old, whole)), readable(k, shown(k, new, whole)))
                   for k, (old, new) in (row.changes or {}).items()]
        out.append({"at": row.at, "who": person.full_name if person else "—", "action": ACTIONS.get(row.action,
                    row.action), "via": VIAS.get(row.via, row.via), "changes": changes})
    return out


def history_json(rows: list[Any], who: dict[int, Any], whole: bool) -> list[dict[str, Any]]:
    from ..api import shapes

    return [{"at": shapes.iso(r.at), "action": r.action, "via": r.via,
             "by": who[r.user_id].username if r.user_id in who else None,
             "changes": {k: [shown(k, old, whole), shown(k, new, whole)]
                         for k, (old, new) in (r.changes or {}).items()}}
            for r in rows]


def download(doc: Any) -> Any:
    """A kept scan as a download, never shown inline, sandboxed should a browser open it anyway."""
    mimetype = doc.content_type if _MEDIA_TYPE.match(doc.content_type or "") else "application/octet-stream"
    response = send_file(io.BytesIO(doc.content), mimetype=mimetype, as_attachment=True,
                         download_name=doc.filename or f"document-{doc.id}", max_age=0, etag=False, conditional=False)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Checksum-SHA256"] = doc.sha256
    return response


def cell(text: Any) -> str:
    """Keep a spreadsheet from reading a value as a formula."""
    value = "" if text is None else str(text)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

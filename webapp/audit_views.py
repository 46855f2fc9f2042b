"""The auditor's pages: search cases, read the security log, verify the chain."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from workflows.branch.models import User
from workflows.cases import access, audit
from workflows.cases.models import ProcessInstance, SecurityEvent
from workflows.db import db
from workflows.errors import Forbidden

from .template_helpers import mask, outcome_label, starter, status_label, when

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _require(allowed: bool, message: str = "only auditors may open this page") -> None:
    if not allowed:
        audit.security("refused", user=current_user, ip=request.remote_addr, detail=request.path)
        db.session.commit()
        raise Forbidden(message)


def _require_auditor() -> None:
    """Case search, export and the trail check show case content: auditors only, never the admin."""
    _require(access.may_search_cases(current_user))


def _date(text: str | None) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _matching_cases(limit: int) -> list[ProcessInstance]:
    """Cases matching the search form's filters, newest first."""
    args = request.args
    query = select(ProcessInstance).order_by(ProcessInstance.id.desc())
    if args.get("process"):
        query = query.where(ProcessInstance.process_key == args["process"][:80])
    if args.get("status"):
        query = query.where(ProcessInstance.status == args["status"][:20])
    if args.get("outcome"):
        query = query.where(ProcessInstance.outcome == args["outcome"][:40])
    if args.get("person"):
        like = f"%{args['person'][:50]}%"
        people = select(User.id).where(or_(User.full_name.ilike(like), User.username.ilike(like)))
        query = query.where(ProcessInstance.started_by_id.in_(people))
    if args.get("client"):
        like = f"%{args['client'][:50]}%"
        query = query.where(or_(ProcessInstance.title.ilike(like), ProcessInstance.business_key.ilike(like)))
    if (start := _date(args.get("from"))) is not None:
        query = query.where(ProcessInstance.started_at >= start)
    if (end := _date(args.get("to"))) is not None:
        query = query.where(ProcessInstance.started_at < end + dt.timedelta(days=1))
    return list(db.session.scalars(query.limit(limit)))


@bp.route("/")
@login_required
def search():  # type: ignore[no-untyped-def]
    _require_auditor()
    return render_template("audit_search.html", rows=_matching_cases(500), args=request.args)


@bp.route("/export.csv")
@login_required
def export():  # type: ignore[no-untyped-def]
    """The search result as CSV (UTF-8 with BOM for Excel). Exports leave the system, so ID
    numbers stay masked; the export itself is written to the security log."""
    _require_auditor()
    rows = _matching_cases(50_000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Case"), _("Process"), _("Version"), _("Client"), _("ID-document number"), _("Started by"),
                     _("Started"), _("Status"), _("Outcome"), _("Ended")])
    for c in rows:
        writer.writerow([c.id, c.process_key, c.definition.version, _cell(c.title),
                         mask(c.business_key, "id") if c.business_key else "", starter(c),
                         when(c.started_at), status_label(c.status), outcome_label(c), when(c.ended_at)])
    audit.security("export", user=current_user, ip=request.remote_addr,
                   detail=f"{len(rows)} case(s): {request.query_string.decode(errors='replace')[:300]}")
    db.session.commit()
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cases.csv"'})


def _cell(text: str | None) -> str:
    """Keep a spreadsheet from reading a value as a formula."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/security")
@login_required
def security_log():  # type: ignore[no-untyped-def]
    _require(access.may_read_security_log(current_user), "only auditors and administrators may open this page")
    rows = db.session.scalars(select(SecurityEvent).order_by(SecurityEvent.id.desc()).limit(500)).all()
    return render_template("security_log.html", rows=rows)


@bp.route("/verify", methods=["POST"])
@login_required
def verify():  # type: ignore[no-untyped-def]
    _require_auditor()
    from workflows.cases import integrity

    report = integrity.check()
    return render_template("verify.html", problems=report.problems, report=report)

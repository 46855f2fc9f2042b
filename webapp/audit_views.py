"""The auditor's pages: search cases, read the security log, verify the chain."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.cases import access, integrity, reading
from workflows.cases.search import CaseFilter, note_export, search_cases, search_page
from workflows.errors import Invalid

from .i18n import tr
from .security import requires
from .template_helpers import mask, outcome_label, starter, status_label, when

bp = Blueprint("audit", __name__, url_prefix="/audit")
PER_PAGE = 50


@bp.route("/")
@login_required
@requires(access.AUDIT)
def search():
    """A page of matching cases, newest first; "next" carries a cursor (keyset paging), so a
    late page costs what the first does. A cursor that is not one of ours starts over."""
    try:
        rows, following = search_page(CaseFilter.from_args(request.args), PER_PAGE,
                                      (request.args.get("after") or "")[:400] or None)
    except Invalid as exc:
        flash(tr(exc.fields.get("after", exc.message)), "error")
        rows, following = search_page(CaseFilter.from_args(request.args), PER_PAGE)
    args = {k: v for k, v in request.args.items() if k != "after"}
    return render_template("audit_search.html", rows=rows, args=args, following=following,
                           paged="after" in request.args)


@bp.route("/export.csv")
@login_required
@requires(access.AUDIT)
def export():
    """The search result as CSV (UTF-8 with BOM for Excel). Exports leave the system, so ID
    numbers stay masked; the export itself is written to the security log."""
    rows = search_cases(CaseFilter.from_args(request.args), 50_000)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Case"), _("Process"), _("Version"), _("Client"), _("ID-document number"), _("Started by"),
                     _("Started"), _("Status"), _("Outcome"), _("Ended")])
    for c in rows:
        writer.writerow([c.id, c.process_key, c.definition.version, _cell(c.title),
                         mask(c.business_key, "id") if c.business_key else "", starter(c),
                         when(c.started_at), status_label(c.status), outcome_label(c), when(c.ended_at)])
    note_export(current_user, len(rows), request.query_string.decode(errors="replace"), request.remote_addr)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="cases.csv"'})


def _cell(text: str | None) -> str:
    """Keep a spreadsheet from reading a value as a formula."""
    text = text or ""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.route("/security")
@login_required
@requires(access.SECURITY_LOG)
def security_log():
    return render_template("security_log.html", rows=reading.security_log(500))


@bp.route("/verify", methods=["POST"])
@login_required
@requires(access.AUDIT)
def verify():
    # incremental, in this process, writing nothing: the full run is the command's and the sweeper's
    report = integrity.check(full=False, workers=1, record=False)
    return render_template("verify.html", problems=report.problems, report=report)

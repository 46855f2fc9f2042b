"""Starting a case, my cases, the case page with its history and diagram, files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.cases import access, alerts, commands, definitions, reading
from workflows.cases.notices import newest as newest_notices
from workflows.errors import Invalid, Unconfirmed

from .i18n import tr, tr_fields
from .inbox import _uploads
from .presenter import alert_rows, case_fields, history_rows

bp = Blueprint("cases", __name__)


@bp.route("/processes")
@login_required
def processes():
    rows = [(d, definitions.built_for(d)) for d in definitions.latest_all()]
    startable = [(d, b) for d, b in rows if commands.may_start(current_user, b)]
    return render_template("processes.html", rows=startable)


@bp.route("/processes/<key>/start", methods=["GET", "POST"])
@login_required
def start(key: str):
    definition = definitions.latest(key[:80])
    built = definitions.built_for(definition)
    if not commands.may_start(current_user, built):
        commands.refuse_start(current_user, key, request.remote_addr)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    warnings: list[Any] = []
    fingerprint = ""
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        confirmed = values.pop("confirm_warnings", "")[:64]
        try:
            instance = commands.start_case(key, current_user, values, uploads=_uploads(), ip=request.remote_addr,
                                        confirmed=confirmed)
        except Invalid as exc:
            errors = tr_fields(exc)
            flash(tr(exc.message), "error")
            status = 422
        except Unconfirmed as exc:  # shown with the form; the confirm button sends it again
            warnings = alert_rows(exc.alerts, current_user)
            fingerprint = exc.fingerprint
            status = 409
        else:
            flash(_("Case #%(id)d started.", id=instance.id), "success")
            return redirect(url_for("cases.case_page", instance_id=instance.id))
    info = alert_rows(alerts.info_for_start(built, current_user), current_user)
    return render_template("start.html", definition=definition, built=built, fields=built.meta.start_form,
                           values=values, errors=errors, warnings=warnings, info=info,
                           fingerprint=fingerprint), status


@bp.route("/cases")
@login_required
def my_cases():
    page = reading.my_cases(current_user, _before())
    return render_template("cases.html", rows=page.rows, older=page.before, paged="before" in request.args)


@bp.route("/cases/<int:instance_id>")
@login_required
def case_page(instance_id: int):
    whole_history = request.args.get("history") == "all"
    view = reading.case_view(instance_id, current_user, request.remote_addr, whole_history=whole_history)
    case = view.instance
    return render_template("case.html", instance=case, fields=case_fields(case, view.data, view.whole),
                           history=history_rows(case, view.events, view.whole, view.data), tasks=view.tasks,
                           attachments=view.attachments, completed=view.completed, active=view.active,
                           event_total=view.event_total, decisions=view.decisions, whole=view.whole)


@bp.route("/cases/<int:instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id: int):
    instance = access.case_for(current_user, instance_id, request.remote_addr)
    # Served as inert text for the viewer's fetch(); never rendered by the browser as a document.
    return Response(instance.definition.bpmn_xml, mimetype="text/plain",
                    headers={"X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "Content-Disposition": f'attachment; filename="{instance.process_key}.bpmn"'})


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    att = reading.attachment(attachment_id, current_user, request.remote_addr)
    inline = att.content_type in ("application/pdf", "image/png", "image/jpeg")
    headers = {
        "Content-Disposition": f"{'inline' if inline else 'attachment'}; filename=\"attachment-{att.id}\"",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox",
    }
    mimetype = att.content_type if inline else "application/octet-stream"
    return Response(att.content, mimetype=mimetype, headers=headers)


@bp.route("/notices")
@login_required
def notices():
    found = newest_notices(current_user, _before())  # a notice links only to a case its reader may open
    return render_template("notices.html", rows=found.page.rows, openable=found.openable, older=found.page.before,
                           paged="before" in request.args)


def _before() -> int | None:
    """The ``before`` of an "older" link (keyset paging of a person's own lists); anything else
    starts over at the newest page, saying so."""
    raw = request.args.get("before")
    if raw is None:
        return None
    if raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= 2**31:
        return int(raw)
    flash(_("That page link is not valid: showing the newest page."), "error")
    return None

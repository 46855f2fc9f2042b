"""Starting a case, my cases, the case page with its history and diagram, files."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import or_, select

from workflows.cases import audit, definitions
from workflows.cases import commands as cases
from workflows.cases.access import case_for, may_view_case
from workflows.cases.models import Attachment, AuditEvent, HumanTask, Notice, ProcessInstance
from workflows.db import db
from workflows.errors import Invalid, NotFound, Unconfirmed

from .i18n import tr, tr_fields
from .inbox import _uploads
from .presenter import alert_rows, case_fields, history_rows

bp = Blueprint("cases", __name__)


@bp.route("/processes")
@login_required
def processes():  # type: ignore[no-untyped-def]
    rows = [(d, definitions.built_for(d)) for d in definitions.latest_all()]
    startable = [(d, b) for d, b in rows if cases.may_start(current_user, b)]
    return render_template("processes.html", rows=startable)


@bp.route("/processes/<key>/start", methods=["GET", "POST"])
@login_required
def start(key: str):  # type: ignore[no-untyped-def]
    definition = definitions.latest(key[:80])
    built = definitions.built_for(definition)
    if not cases.may_start(current_user, built):
        cases.refuse_start(current_user, key, request.remote_addr)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    warnings: list[Any] = []
    fingerprint = ""
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        confirmed = values.pop("confirm_warnings", "")[:64]
        try:
            instance = cases.start_case(key, current_user, values, uploads=_uploads(), ip=request.remote_addr,
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
    return render_template("start.html", definition=definition, built=built, fields=built.meta.start_form,
                           values=values, errors=errors, warnings=warnings,
                           fingerprint=fingerprint), status


@bp.route("/cases")
@login_required
def my_cases():  # type: ignore[no-untyped-def]
    worked = select(HumanTask.instance_id).where(HumanTask.completed_by_id == current_user.id)
    rows = db.session.scalars(
        select(ProcessInstance).where(or_(ProcessInstance.started_by_id == current_user.id,
                                          ProcessInstance.id.in_(worked)))
        .order_by(ProcessInstance.id.desc()).limit(200)
    ).all()
    return render_template("cases.html", rows=rows)


def load_case(instance_id: int, what: str | None = None) -> ProcessInstance:
    return case_for(current_user, instance_id, request.remote_addr, what)


@bp.route("/cases/<int:instance_id>")
@login_required
def case_page(instance_id: int):  # type: ignore[no-untyped-def]
    instance = load_case(instance_id)
    state = cases.snapshot(instance)  # deserialized once, for the data and the diagram
    data = state.data()
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.instance_id == instance.id).order_by(AuditEvent.seq)
    ).all()
    tasks = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id)
                               .order_by(HumanTask.id)).all()
    attachments = db.session.scalars(select(Attachment).where(Attachment.instance_id == instance.id)).all()
    completed, active = diagram_path(instance, state)
    return render_template("case.html", instance=instance, fields=case_fields(instance, data, current_user),
                           history=history_rows(events, current_user, data), tasks=tasks, attachments=attachments,
                           completed=completed, active=active)


def diagram_path(instance: ProcessInstance, state: Any) -> tuple[list[str], list[str]]:
    """Element ids walked so far and those waiting now, for the diagram."""
    done, active = state.path()
    for ev in db.session.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance.id,
                                                          AuditEvent.type == "engine_steps")):
        done.update((ev.changes or {}).get("path", [None, []])[1] or [])
    done.update(db.session.scalars(select(HumanTask.spec_id).where(HumanTask.instance_id == instance.id,
                                                                  HumanTask.state == "completed")))
    return sorted(done - active), sorted(active)


@bp.route("/cases/<int:instance_id>/diagram.bpmn")
@login_required
def diagram(instance_id: int):  # type: ignore[no-untyped-def]
    instance = load_case(instance_id)
    # Served as inert text for the viewer's fetch(); never rendered by the browser as a document.
    return Response(instance.definition.bpmn_xml, mimetype="text/plain",
                    headers={"X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "Content-Disposition": f'attachment; filename="{instance.process_key}.bpmn"'})


@bp.route("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):  # type: ignore[no-untyped-def]
    att = db.session.get(Attachment, attachment_id)
    if att is None:
        raise NotFound("no such file")
    load_case(att.instance_id, f"attachment {att.id}")
    audit.security("attachment_viewed", user=current_user, ip=request.remote_addr,
                   detail=f"attachment {att.id} of case {att.instance_id}")
    db.session.commit()
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
def notices():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(select(Notice).where(Notice.user_id == current_user.id)
                              .order_by(Notice.id.desc()).limit(200)).all()
    # a notice links only to a case its reader may open
    cases_by_id = {c.id: c for c in db.session.scalars(
        select(ProcessInstance).where(ProcessInstance.id.in_({n.instance_id for n in rows if n.instance_id})))}
    openable = {i for i, c in cases_by_id.items() if may_view_case(current_user, c)}
    return render_template("notices.html", rows=rows, openable=openable)

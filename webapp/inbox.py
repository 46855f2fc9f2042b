"""The inbox: my tasks, my groups' tasks, claim/release, the task page, bulk."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.cases import access, commands, definitions, reading
from workflows.cases.forms import Upload
from workflows.cases.inbox import InboxFilter, tasks
from workflows.errors import Invalid

from .errors import wants_json
from .i18n import tr, tr_fields
from .presenter import alert_rows, case_fields, history_rows
from .template_helpers import bilingual, inbox_counts_for_request, label_context

bp = Blueprint("inbox", __name__)

VIEWS = ("mine", "groups", "escalated", "done")


@bp.route("/")
@login_required
def index():
    if not access.works_cases(current_user) and access.may_administer(current_user):
        return redirect(url_for("admin.users"))  # an administrator has no cases to work: land where they work
    view = request.args.get("view", "mine")
    if view not in VIEWS:
        view = "mine"
    try:
        page = max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    f = InboxFilter(view=view, process_key=request.args.get("process") or None,
                    overdue=request.args.get("overdue") == "1", text=(request.args.get("q") or "")[:50] or None,
                    page=page)
    counts = inbox_counts_for_request()
    rows, total = tasks(current_user, f, known_total=counts.get(view))
    processes = definitions.process_choices()
    return render_template("inbox.html", rows=rows, total=total, f=f, counts=counts, processes=processes,
                           views=VIEWS)


def _uploads() -> dict[str, Upload]:
    found: dict[str, Upload] = {}
    for name, storage in request.files.items():
        if storage and storage.filename:
            found[name] = Upload(storage.filename, storage.mimetype or "application/octet-stream",
                                 storage.read(12 * 1024 * 1024 + 1))
    return found


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task_page(task_id: int):
    errors: dict[str, str] = {}
    submitted: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        submitted = request.form.to_dict()
        try:
            done = commands.complete_task(task_id, current_user, submitted, uploads=_uploads(), ip=request.remote_addr)
        except Invalid as exc:
            if wants_json():
                raise
            errors = tr_fields(exc)
            flash(tr(exc.message), "error")
            status = 422
        else:
            if wants_json():
                return jsonify({"status": "completed", "task": done.task_id, "case": done.instance_id,
                                "case_status": done.instance_status})
            flash(_("Task completed: %(name)s", name=bilingual(done.task_name)), "success")
            return redirect(url_for("inbox.index"))
    view = reading.task_view(task_id, current_user, request.remote_addr)
    task, case = view.task, view.task.instance
    return render_template("task.html", task=task, meta=view.meta, errors=errors, may_act=view.may_act,
                           fields=case_fields(case, view.data, view.whole, reveal=view.reveal),
                           values={**view.values, **submitted}, attachments=view.attachments,
                           history=history_rows(case, view.events, view.whole, view.data),
                           event_total=view.event_total, warnings=alert_rows(view.alerts, current_user),
                           label_ctx=label_context(case, view.data)), status


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    commands.claim(task_id, current_user, ip=request.remote_addr)
    flash(_("You claimed this task."), "success")
    return redirect(url_for("inbox.task_page", task_id=task_id))


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@login_required
def release(task_id: int):
    commands.release(task_id, current_user, ip=request.remote_addr)
    flash(_("You released this task to your group."), "success")
    return redirect(url_for("inbox.index", view="groups"))


@bp.route("/tasks/bulk", methods=["POST"])
@login_required
def bulk():
    try:
        ids = [int(v) for v in request.form.getlist("task_id")][:500]
    except ValueError:
        abort(400)
    if not ids:
        flash(_("Select at least one task."), "error")
        return redirect(url_for("inbox.index", view=request.form.get("view", "mine")))
    answer = {k: v for k, v in request.form.items() if k not in ("task_id", "csrf_token", "view")}
    results = commands.bulk_complete(ids, current_user, answer, ip=request.remote_addr)
    done = sum(1 for refusal in results.values() if refusal is None)
    flash(_("%(done)d of %(total)d tasks completed.", done=done, total=len(ids)), "success" if done else "error")
    for task_id, refusal in results.items():
        if refusal is not None:
            flash(_("Task %(id)d: %(why)s", id=task_id, why=tr(refusal.message)), "error")
    return redirect(url_for("inbox.index", view=request.form.get("view", "mine")))

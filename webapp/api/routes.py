"""API views: parse JSON, call one function of `workflows`, answer JSON."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request

from workflows.branch import settings
from workflows.cases import access, commands, definitions, inbox, reading
from workflows.cases.forms import CONTROL_CHARACTERS, Upload, escaped, has_control_characters
from workflows.engine.clock import now
from workflows.errors import Invalid, Msg, Unconfirmed

from ..i18n import tr
from ..presenter import alert_rows, case_fields, history_rows
from ..security import requires
from ..template_helpers import bilingual, label_context, option_label
from .auth import api_user, token_required
from .openapi import spec

bp = Blueprint("api", __name__, url_prefix="/api/v1")

VIA = "api"
MAX_PER_PAGE = 200


QUERY_PARAMS = {"api.task_list": {"view", "process", "q", "overdue", "page", "per_page"}}


@bp.before_request
def _known_query_parameters_only() -> None:
    """A misspelt filter should fail loudly, not be ignored."""
    allowed = QUERY_PARAMS.get(request.endpoint or "", set())
    unknown = sorted(set(request.args) - allowed)
    if unknown and request.endpoint not in ("api.openapi", "api.docs"):
        raise Invalid("please correct the highlighted fields", {name or "(empty)": "unknown parameter"
                                                                 for name in unknown})


MAX_JSON_DEPTH = 16
_TOO_DEEP = Msg("the JSON body may be nested at most %(n)s levels deep", n=MAX_JSON_DEPTH)


def _body() -> dict[str, Any]:
    """The request's JSON object and its ``data`` member, or a 422 naming what is wrong."""
    try:
        payload = request.get_json(silent=True)
    except RecursionError:  # Python's JSON parser recurses once per level: 990 levels exhaust the stack
        raise Invalid(_TOO_DEEP, {"body": "nested too deeply"}) from None
    if payload is None and request.get_data():
        raise Invalid("the body must be JSON", {"body": "not valid JSON"})
    payload = payload if payload is not None else {}
    _check_json(payload)
    if not isinstance(payload, dict):
        raise Invalid("the body must be a JSON object", {"body": "must be an object"})
    data = payload.get("data", {})
    if not isinstance(data, dict):
        raise Invalid("please correct the highlighted fields", {"data": "must be an object"})
    return data


def _check_json(payload: Any) -> None:
    """No deeper than MAX_JSON_DEPTH (everything after the parser recurses too), and no string
    holding a character no field may store; the field named is the ``data`` member it is in."""
    stack: list[tuple[Any, int, str]] = [(payload, 0, "body")]
    while stack:
        value, depth, where = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Invalid(_TOO_DEEP, {"body": "nested too deeply"})
        if isinstance(value, dict):
            for key, item in value.items():
                if has_control_characters(key, multiline=True):
                    raise Invalid("please correct the highlighted fields", {escaped(where, 60): CONTROL_CHARACTERS})
                stack.append((item, depth + 1, _member(where, depth, key)))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, where) for item in value)
        elif isinstance(value, str) and has_control_characters(value, multiline=True):
            raise Invalid("please correct the highlighted fields", {escaped(where, 60): CONTROL_CHARACTERS})


def _member(where: str, depth: int, key: str) -> str:
    """What an error at ``key`` is reported against: ``data``'s own members are form fields."""
    if depth == 0:
        return "data" if key == "data" else "body"
    return key if depth == 1 and where == "data" else where


MAX_UPLOAD_B64 = 8 * 1024 * 1024


def _uploads(data: dict[str, Any]) -> dict[str, Upload]:
    """File fields arrive as {"filename", "content_type", "content_base64"}; the form rules
    (type, size, content matching the extension) are then checked like any upload."""
    uploads: dict[str, Upload] = {}
    for key in list(data):
        value = data[key]
        if not (isinstance(value, dict) and "content_base64" in value):
            continue
        encoded, filename = value.get("content_base64"), value.get("filename")
        if not isinstance(encoded, str) or not isinstance(filename, str) or len(encoded) > MAX_UPLOAD_B64:
            raise Invalid("please correct the highlighted fields", {key: "not a valid file"})
        try:
            content = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid("please correct the highlighted fields", {key: "not a valid file"}) from None
        content_type = value.get("content_type") if isinstance(value.get("content_type"), str) else ""
        uploads[key] = Upload(filename[:200], content_type or "application/octet-stream", content)
        del data[key]
    return uploads


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("please correct the highlighted fields", {name: "must be a whole number"}) from None
    if not low <= value <= high:
        raise Invalid("please correct the highlighted fields", {name: "out of range"})
    return value


def _field(ff: Any, ctx: dict[str, Any] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {"id": ff.id, "label": bilingual(ff.label), "type": ff.type, "required": ff.required,
           "options": [{"id": k, "label": option_label(v, ctx)} for k, v in ff.options]}
    if values is not None:
        out["value"] = _plain(values.get(ff.id))
    return out


def _task_json(task: Any, instance: Any) -> dict[str, Any]:
    """A task (or an inbox row) of ``instance`` as the task list answers it."""
    meta = definitions.built_for(instance.definition).meta.tasks.get(task.spec_id)
    return {
        "id": task.id, "name": bilingual(task.name), "task_key": task.spec_id, "state": task.state,
        "instance_id": task.instance_id, "case_title": instance.title, "process_key": instance.process_key,
        "created_at": _iso(task.created_at), "due_at": _iso(task.due_at),
        "overdue": bool(task.due_at and task.state == "open" and task.due_at < now()),
        "bulk": bool(task.bulk), "form": [_field(ff) for ff in (meta.form if meta else [])],
    }


def _task_detail_json(view: reading.TaskView) -> dict[str, Any]:
    """One task as its page shows it: the form with the values this step starts from and
    options naming the case's people, the case data (the step's revealed fields whole for
    the one who may act), and the warnings to decide with."""
    instance = view.task.instance
    ctx = label_context(instance, view.data)
    out = _task_json(view.task, instance)
    out["form"] = [_field(ff, ctx, view.values) for ff in view.meta.form]
    out["data"] = {row.id: _plain(row.value)
                   for row in case_fields(instance, view.data, view.whole, reveal=view.reveal, for_people=False)}
    out["warnings"] = [{"kind": w.kind, "message": w.text, "details": _plain(w.details), "link": w.link}
                       for w in alert_rows(view.alerts, api_user())]
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _instance_json(instance: Any) -> dict[str, Any]:
    case = reading.case_summary(instance, api_user(), request.remote_addr)
    return {
        "id": instance.id, "process_key": instance.process_key, "version": instance.definition.version,
        "title": instance.title, "status": instance.status, "outcome": instance.outcome,
        "started_by": instance.started_by.username if instance.started_by else None,
        "origin": instance.origin, "started_at": _iso(instance.started_at),
        "ended_at": _iso(instance.ended_at),
        "data": {row.id: _plain(row.value) for row in case_fields(instance, case.data, case.whole, for_people=False)},
        "open_tasks": [{"id": t.id, "name": bilingual(t.name), "task_key": t.spec_id} for t in case.open_tasks],
    }


def _case_for(instance_id: int) -> Any:
    return access.case_for(api_user(), instance_id, request.remote_addr)


@bp.get("/openapi.json")
def openapi():
    return jsonify(spec(request.host_url.rstrip("/")))


@bp.get("/docs")
def docs():
    return render_template("api_docs.html")


@bp.get("/processes")
@token_required
def processes():
    out = []
    for d in definitions.latest_all():
        built = definitions.built_for(d)
        versions = [{"version": v.version, "deployed_at": _iso(v.deployed_at)}
                    for v in definitions.versions(d.key)]
        out.append({"key": d.key, "name": bilingual(d.name), "latest_version": d.version, "versions": versions,
                    "can_start": commands.may_start(api_user(), built),
                    "start_form": [_field(ff) for ff in built.meta.start_form]})
    return jsonify({"items": out})


@bp.post("/processes/<key>/instances")
@token_required
def start(key: str):
    data = _body()
    uploads = _uploads(data)
    try:
        instance = commands.start_case(key[:80], api_user(), data, via=VIA, ip=request.remote_addr, uploads=uploads,
                                    confirmed=_confirmation())
    except Unconfirmed as exc:  # like the start page: the warnings, and the value that confirms them
        warnings = [{"kind": w.kind, "message": w.text, "details": _plain(w.details), "link": w.link}
                    for w in alert_rows(exc.alerts, api_user())]
        return jsonify({"error": exc.code, "message": tr(exc.message), "warnings": warnings,
                        "confirm_warnings": exc.fingerprint}), 409
    return jsonify(_instance_json(instance)), 201


def _confirmation() -> bool | str:
    """``confirm_warnings`` beside ``data``: the value a 409 answered, or true for any warning."""
    value = (request.get_json(silent=True) or {}).get("confirm_warnings", "")
    if isinstance(value, bool):
        return value
    if not isinstance(value, str):
        raise Invalid("please correct the highlighted fields", {"confirm_warnings": "must be a text or true"})
    return value[:64]


@bp.get("/tasks")
@token_required
def task_list():
    view = request.args.get("view", "mine")
    if view not in ("mine", "groups", "escalated", "done"):
        raise Invalid("please correct the highlighted fields", {"view": "not one of the allowed options"})
    overdue = request.args.get("overdue", "false").lower()
    if overdue not in ("true", "false", "1", "0"):
        raise Invalid("please correct the highlighted fields", {"overdue": "must be yes or no"})
    f = inbox.InboxFilter(view=view, process_key=(request.args.get("process") or None),
                          overdue=overdue in ("true", "1"), text=(request.args.get("q") or "")[:50] or None,
                          page=_int_arg("page", 1, 1, 100_000), per_page=_int_arg("per_page", 50, 1, MAX_PER_PAGE))
    rows, total = inbox.tasks(api_user(), f)
    cases_by_id = reading.cases_by_id(r.instance_id for r in rows)  # one query for the page, not one per task
    return jsonify({"items": [_task_json(r, cases_by_id[r.instance_id]) for r in rows], "total": total,
                    "page": f.page, "per_page": f.per_page})


@bp.get("/tasks/<int:task_id>")
@token_required
def task_detail(task_id: int):
    return jsonify(_task_detail_json(reading.task_view(task_id, api_user(), request.remote_addr,
                                                       with_history=False)))


@bp.post("/tasks/<int:task_id>/claim")
@token_required
def claim(task_id: int):
    task = commands.claim(task_id, api_user(), via=VIA, ip=request.remote_addr)
    return jsonify(_task_json(task, task.instance))


@bp.post("/tasks/<int:task_id>/release")
@token_required
def release(task_id: int):
    task = commands.release(task_id, api_user(), via=VIA, ip=request.remote_addr)
    return jsonify(_task_json(task, task.instance))


@bp.post("/tasks/<int:task_id>/complete")
@token_required
def complete(task_id: int):
    data = _body()
    uploads = _uploads(data)
    done = commands.complete_task(task_id, api_user(), data, via=VIA, ip=request.remote_addr, uploads=uploads)
    return jsonify({"task_id": done.task_id, "status": "completed",
                    "instance": _instance_json(reading.case(done.instance_id))})


@bp.get("/instances/<int:instance_id>")
@token_required
def instance_detail(instance_id: int):
    return jsonify(_instance_json(_case_for(instance_id)))


@bp.get("/instances/<int:instance_id>/history")
@token_required
def history(instance_id: int):
    trail = reading.history(instance_id, api_user(), request.remote_addr)
    items = []
    for row in history_rows(trail.instance, trail.events, trail.whole, trail.data):
        ev = row.event
        items.append({"seq": ev.seq, "at": _iso(ev.at), "actor": ev.actor_name, "type": ev.type, "via": ev.via,
                      "task_key": ev.task_spec, "task_name": bilingual(ev.task_name) if ev.task_name else None,
                      "changes": [{"field": str(label), "old": _plain(old), "new": _plain(new)}
                                  for label, old, new in row.changes],
                      "comment": ev.comment, "hash": ev.hash})
    return jsonify({"instance_id": trail.instance.id, "items": items})


def _setting_json(view: settings.SettingView) -> dict[str, Any]:
    s = view.setting
    return {"key": s.key, "family": view.family, "label": tr(s.label), "type": s.type, "value": _plain(view.value),
            "default": _plain(s.default), "is_default": view.is_default, "updated_at": _iso(view.updated_at),
            "updated_by": view.updated_by,
            "history": [{"at": _iso(c.changed_at), "by": c.changed_by.username if c.changed_by else None,
                         "old": c.old_value, "new": c.new_value, "via": c.via} for c in view.history]}


def _setting_view(key: str) -> settings.SettingView:
    settings.find(key)
    return next(v for v in settings.overview(with_history=50) if v.setting.key == key)


@bp.get("/settings")
@token_required
@requires(access.ADMINISTER)
def settings_list():
    return jsonify({"items": [_setting_json(v) for v in settings.overview(with_history=0)]})


@bp.get("/settings/<key>")
@token_required
@requires(access.ADMINISTER)
def setting_detail(key: str):
    return jsonify(_setting_json(_setting_view(key[:80])))


@bp.put("/settings/<key>")
@token_required
@requires(access.ADMINISTER)
def setting_change(key: str):
    user = api_user()
    payload = request.get_json(silent=True)
    _check_json(payload)
    value = payload.get("value") if isinstance(payload, dict) else None
    if value is None or isinstance(value, (dict, list)):
        raise Invalid("please correct the highlighted fields", {"value": "this field is required"})
    settings.save(key[:80], value, user, via=VIA)
    return jsonify(_setting_json(_setting_view(key[:80])))


def rate_limit() -> str:
    return current_app.config.get("API_RATE_LIMIT", "600 per minute")


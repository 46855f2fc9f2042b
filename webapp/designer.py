"""The process designer's pages: versions, the modeler, validate, deploy, compare."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from workflows.cases import audit, definitions
from workflows.cases import compare as designs
from workflows.db import db
from workflows.engine.xml import DefinitionError
from workflows.errors import Forbidden

bp = Blueprint("designer", __name__, url_prefix="/designer")
log = logging.getLogger(__name__)

MAX_BODY = 2 * 1024 * 1024  # bytes of the JSON body of validate / deploy


class _BadBody(Exception):
    """The JSON body of validate / deploy is missing, malformed or too large."""


def _refuse(message: str):  # type: ignore[no-untyped-def]
    audit.security("refused", user=current_user, ip=request.remote_addr, detail=f"{request.method} {request.path}")
    db.session.commit()
    if request.method == "POST":
        return jsonify({"error": "forbidden", "message": message}), 403
    raise Forbidden(message)


@bp.before_request
@login_required
def _only_designers():  # type: ignore[no-untyped-def]
    if not current_user.has_role("designer", "admin"):
        return _refuse(_("Only process designers may open the designer."))
    return None


@bp.errorhandler(_BadBody)
def _bad_body(exc: _BadBody):  # type: ignore[no-untyped-def]
    return jsonify({"error": "invalid", "message": str(exc), "element": None, "element_id": None}), 422


def _body() -> tuple[str, str]:
    """The diagram XML and a file name for messages, from a JSON body {"xml": ..., "filename": ...}."""
    if not request.is_json:
        raise _BadBody(_("Send the diagram as JSON: {\"xml\": \"...\"}."))
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise _BadBody(_("The diagram is larger than %(size)s MB.", size=MAX_BODY // (1024 * 1024)))
    raw = request.stream.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise _BadBody(_("The diagram is larger than %(size)s MB.", size=MAX_BODY // (1024 * 1024)))
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise _BadBody(_("The request body is not valid JSON.")) from None
    xml = body.get("xml") if isinstance(body, dict) else None
    if not isinstance(xml, str) or not xml.strip():
        raise _BadBody(_("Send the diagram as JSON: {\"xml\": \"...\"}."))
    return xml, designs.safe_filename(body.get("filename"))


def _refused(exc: Exception, action: str, xml_size: int):  # type: ignore[no-untyped-def]
    """422 naming the element, and the refusal in the security log."""
    db.session.rollback()
    if isinstance(exc, DefinitionError):
        message, element = str(exc), exc.element
    else:  # a parser bug must not become a 500 on hostile input; the log keeps the trace
        log.exception("designer: unexpected error while checking a diagram")
        message, element = _("The diagram could not be checked."), None
    audit.security("deploy_refused", user=current_user, ip=request.remote_addr,
                   detail=f"{action} ({xml_size} bytes): {message}"[:2000])
    db.session.commit()
    return jsonify({"error": "invalid", "message": message, "element": element,
                    "element_id": designs.element_id(element)}), 422


def _dmn(xml: str) -> dict[str, str]:
    """The library's DMN files the diagram references (deployed with it)."""
    return designs.referenced_dmn(xml, Path(current_app.config["BPMN_LIBRARY"]))


@bp.route("/")
def index():  # type: ignore[no-untyped-def]
    rows = [(d, definitions.versions(d.key)) for d in definitions.latest_all()]
    return render_template("designer_index.html", rows=rows)


@bp.route("/new")
def new():  # type: ignore[no-untyped-def]
    return render_template("designer_edit.html", definition=None, xml_url=None,
                           can_deploy=current_user.has_role("designer"))


@bp.route("/<key>/edit")
def edit(key: str):  # type: ignore[no-untyped-def]
    version = request.args.get("version", type=int)
    definition = designs.get_version(key, version) if version else definitions.latest(key)
    if definition is None:  # latest() raises NotFound first; this keeps the type checker informed
        abort(404)
    return render_template("designer_edit.html", definition=definition,
                           xml_url=url_for("designer.version_xml", key=key, version=definition.version),
                           can_deploy=current_user.has_role("designer"))


@bp.route("/<key>/v<int:version>")
def version_page(key: str, version: int):  # type: ignore[no-untyped-def]
    definition = designs.get_version(key, version)
    versions = definitions.versions(key)
    return render_template("designer_version.html", definition=definition, versions=versions,
                           other=designs.neighbour(versions, version))


@bp.route("/<key>/v<int:version>.bpmn")
def version_xml(key: str, version: int):  # type: ignore[no-untyped-def]
    definition = designs.get_version(key, version)
    # Inert text for the modeler's fetch() and for download; never rendered by the browser as a document.
    return Response(definition.bpmn_xml, mimetype="text/plain",
                    headers={"X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "Content-Disposition": f'attachment; filename="{designs.download_name(key, version)}"'})


@bp.route("/<key>/compare")
def compare(key: str):  # type: ignore[no-untyped-def]
    versions = definitions.versions(key)
    if not versions:
        definitions.latest(key)  # raises NotFound
    numbers = [v.version for v in versions]
    b_number = request.args.get("b", type=int) or numbers[-1]
    a_number = request.args.get("a", type=int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    a, b = designs.get_version(key, a_number), designs.get_version(key, b_number)
    diff, problem = None, None
    try:
        diff = designs.diff_versions(a.bpmn_xml, b.bpmn_xml)
    except DefinitionError as exc:
        problem = str(exc)
    return render_template("designer_compare.html", key=key, a=a, b=b, versions=versions, diff=diff,
                           problem=problem)


@bp.route("/validate", methods=["POST"])
def validate():  # type: ignore[no-untyped-def]
    xml, filename = _body()
    try:
        built = definitions.validate(xml, _dmn(xml), filename)
    except Exception as exc:  # noqa: BLE001 - DefinitionError, or a parser bug answered as 422 (never a 500)
        return _refused(exc, "validate", len(xml))
    return jsonify({"ok": True, "key": built.key, "name": built.name})


@bp.route("/deploy", methods=["POST"])
def deploy():  # type: ignore[no-untyped-def]
    if not current_user.has_role("designer"):
        return _refuse(_("Only process designers may deploy."))
    xml, filename = _body()
    try:
        result = definitions.deploy(xml, _dmn(xml), by=current_user, filename=filename)  # validates first
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return jsonify({"error": "conflict",
                        "message": _("Someone deployed this process at the same moment; deploy again.")}), 409
    except SQLAlchemyError:
        raise  # a database failure is not the diagram's fault: the app's error handler answers it
    except Exception as exc:  # noqa: BLE001 - see validate()
        return _refused(exc, "deploy", len(xml))
    found = result.definition
    return jsonify({"ok": True, "key": found.key, "version": found.version, "created": result.created,
                    "url": url_for("designer.version_page", key=found.key, version=found.version)})

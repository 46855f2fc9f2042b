"""The process designer's pages: versions, the modeler, validate, deploy, compare."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.cases import access, definitions
from workflows.cases import compare as designs
from workflows.engine.xml import DefinitionError
from workflows.errors import Conflict, Forbidden

from .errors import respond
from .i18n import tr
from .security import protect, requires

bp = Blueprint("designer", __name__, url_prefix="/designer")
protect(bp, access.DESIGN)

MAX_BODY = 2 * 1024 * 1024  # bytes of the JSON body of validate / deploy


class _BadBody(Exception):
    """The JSON body of validate / deploy is missing, malformed or too large."""


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden):
    """The modeler posts JSON and reads JSON back, whatever it accepts; pages get the error page."""
    if request.method == "POST":
        return jsonify({"error": exc.code, "message": tr(exc.message)}), exc.status
    return respond(exc.status, exc.code, tr(exc.message))


@bp.errorhandler(_BadBody)
def _bad_body(exc: _BadBody):
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


def _refused(exc: DefinitionError, action: str, xml_size: int):
    """422 naming the element, and the refusal in the security log."""
    message = tr(exc.MESSAGE) if isinstance(exc, designs.Unchecked) else str(exc)
    element = None if isinstance(exc, designs.Unchecked) else exc.element
    designs.note_refusal(current_user, action, xml_size, message, request.remote_addr)
    return jsonify({"error": "invalid", "message": message, "element": element,
                    "element_id": designs.element_id(element)}), 422


def _library() -> Path:
    """The library folder whose DMN files a diagram may reference (deployed with it)."""
    return Path(current_app.config["BPMN_LIBRARY"])


@bp.route("/")
def index():
    rows = [(d, definitions.versions(d.key)) for d in definitions.latest_all()]
    return render_template("designer_index.html", rows=rows)


@bp.route("/new")
def new():
    return render_template("designer_edit.html", definition=None, xml_url=None,
                           can_deploy=access.may_deploy(current_user))


@bp.route("/<key>/edit")
def edit(key: str):
    version = request.args.get("version", type=int)
    definition = designs.get_version(key, version) if version else definitions.latest(key)
    if definition is None:  # latest() raises NotFound first; this keeps the type checker informed
        abort(404)
    return render_template("designer_edit.html", definition=definition,
                           xml_url=url_for("designer.version_xml", key=key, version=definition.version),
                           can_deploy=access.may_deploy(current_user))


@bp.route("/<key>/v<int:version>")
def version_page(key: str, version: int):
    definition = designs.get_version(key, version)
    versions = definitions.versions(key)
    return render_template("designer_version.html", definition=definition, versions=versions,
                           other=designs.neighbour(versions, version))


@bp.route("/<key>/v<int:version>.bpmn")
def version_xml(key: str, version: int):
    definition = designs.get_version(key, version)
    # Inert text for the modeler's fetch() and for download; never rendered by the browser as a document.
    return Response(definition.bpmn_xml, mimetype="text/plain",
                    headers={"X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "Content-Disposition": f'attachment; filename="{designs.download_name(key, version)}"'})


@bp.route("/<key>/compare")
def compare(key: str):
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
def validate():
    xml, filename = _body()
    try:
        built = designs.check(xml, _library(), filename)
    except DefinitionError as exc:  # a parser bug on hostile input too: answered as 422, never a 500
        return _refused(exc, "validate", len(xml))
    return jsonify({"ok": True, "key": built.key, "name": built.name})


@bp.route("/deploy", methods=["POST"])
@requires(access.DEPLOY)
def deploy():
    xml, filename = _body()
    try:
        result = designs.deploy(xml, _library(), current_user, filename)  # validates first
    except Conflict as exc:
        return jsonify({"error": exc.code, "message": tr(exc.message)}), exc.status
    except DefinitionError as exc:  # see validate(); a database failure is not caught: the app answers it
        return _refused(exc, "deploy", len(xml))
    found = result.definition
    return jsonify({"ok": True, "key": found.key, "version": found.version, "created": result.created,
                    "url": url_for("designer.version_page", key=found.key, version=found.version)})


from . import designer_dmn  # noqa: E402,F401 - the DMN pages are views of this blueprint

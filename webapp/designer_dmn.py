"""The designer's DMN pages: the deployed decision tables and their versions, the dmn-js
decision table editor, validate (problems naming rule and column, and the what-if replay of
past decisions) and deploy. Views of the designer blueprint, under its access rules."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.cases import access, dmn_tables
from workflows.cases import compare as designs

from .designer import _body, bp
from .dmn_shapes import check_and_replay, deploy_table
from .security import requires


@bp.route("/dmn/")
def dmn_index():
    return render_template("designer_dmn_index.html", documents=dmn_tables.documents())


@bp.route("/dmn/<key>/edit")
def dmn_edit(key: str):
    document = dmn_tables.document(key)
    version = request.args.get("version", type=int)
    shown = dmn_tables.get_version(key, version) if version else document.latest
    return render_template("designer_dmn_edit.html", document=document, shown=shown,
                           can_deploy=access.may_deploy(current_user))


@bp.route("/dmn/<key>/v<int:version>.dmn")
def dmn_xml(key: str, version: int):
    found = dmn_tables.get_version(key, version)
    name = f"{designs.download_name(key.removesuffix('.dmn'), version).removesuffix('.bpmn')}.dmn"
    return Response(found.dmn_xml, mimetype="text/plain",
                    headers={"X-Content-Type-Options": "nosniff",
                             "Content-Security-Policy": "default-src 'none'; sandbox",
                             "Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/dmn/<key>/validate", methods=["POST"])
def dmn_validate(key: str):
    xml, _filename = _body()
    status, body = check_and_replay(key, xml)
    return jsonify(body), status


@bp.route("/dmn/<key>/deploy", methods=["POST"])
@requires(access.DEPLOY)
def dmn_deploy(key: str):
    xml, _filename = _body()
    dmn_tables.document(key)  # the pages change deployed tables; a new one comes with its process
    status, body = deploy_table(key, xml)
    if status == 200:
        body["message"] = (_("Deployed %(key)s as version %(version)s.", key=key, version=body["version"])
                           if body["created"] else _("Nothing new to deploy: the table is identical to the "
                                                     "latest version."))
        body["url"] = url_for("designer.dmn_index")
    return jsonify(body), status

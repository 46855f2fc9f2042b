"""The client ownership registry, listed by staff member."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from workflows.processes.ownership import access
from workflows.processes.ownership.reading import registry_for

from . import ownership_api
from .page import NavEntry, Page

bp = Blueprint("registry", __name__)

PAGE = Page(bp, nav=(NavEntry("registry.index", _l("Client registry"), "registry", access.may_open_registry),),
            api=ownership_api)


@bp.route("/registry")
@login_required
def index():
    view = registry_for(current_user, request.remote_addr, request.path)
    return render_template("processes/ownership/registry.html", groups=view.groups, violations=view.violations)

"""The client ownership registry, listed by staff member."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows.branch.models import Violation
from workflows.cases import audit
from workflows.db import db
from workflows.errors import Forbidden
from workflows.processes.ownership import access
from workflows.processes.ownership import rules as ownership

from .page import NavEntry, Page

bp = Blueprint("registry", __name__)

PAGE = Page(bp, nav=(NavEntry("registry.index", _l("Client registry"), "registry", access.may_open_registry),))


@bp.route("/registry")
@login_required
def index():  # type: ignore[no-untyped-def]
    groups = ownership.owners_by_staff()
    readers = access.may_read_registry(current_user)
    if not readers:
        groups = [(staff, rows) for staff, rows in groups if staff.id == current_user.id]
        if not groups and not current_user.has_role("staff"):
            audit.security("refused", user=current_user, ip=request.remote_addr, detail=request.path)
            db.session.commit()
            raise Forbidden("you may not see the client registry")
    violations = db.session.scalars(select(Violation).order_by(Violation.id.desc()).limit(100)).all() \
        if readers else []
    return render_template("processes/ownership/registry.html", groups=groups, violations=violations)

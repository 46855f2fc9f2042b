"""The client ownership registry, listed by staff member."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from workflows import ownership
from workflows.db import db
from workflows.errors import Forbidden
from workflows.models import Violation

bp = Blueprint("registry", __name__)

VIEWERS = ("trading_manager", "finance_manager", "gm", "auditor", "admin", "project_director", "support")


@bp.route("/registry")
@login_required
def index():  # type: ignore[no-untyped-def]
    groups = ownership.owners_by_staff()
    if not current_user.has_role(*VIEWERS):
        groups = [(staff, rows) for staff, rows in groups if staff.id == current_user.id]
        if not groups and not current_user.has_role("staff"):
            raise Forbidden("you may not see the client registry")
    violations = db.session.scalars(select(Violation).order_by(Violation.id.desc()).limit(100)).all() \
        if current_user.has_role(*VIEWERS) else []
    return render_template("registry.html", groups=groups, violations=violations)

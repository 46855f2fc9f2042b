"""Administration pages: users and roles, the organisation tree, the families' settings."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from workflows.branch import people, settings
from workflows.branch.roles import ROLES
from workflows.cases import access
from workflows.errors import Forbidden, Invalid

from .i18n import tr, tr_fields
from .security import protect

bp = Blueprint("admin", __name__, url_prefix="/admin")
protect(bp, access.ADMINISTER)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return -1


@bp.route("/users")
def users():
    return render_template("admin_users.html", rows=people.users())


@bp.route("/users/new", methods=["GET", "POST"], defaults={"user_id": None})
@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int | None):
    user = people.get_user(user_id) if user_id else None
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = request.form
        try:
            saved = people.save_user(user, username=form.get("username", ""), full_name=form.get("full_name", ""),
                                     roles=form.getlist("roles"), unit_id=_int(form.get("unit_id")),
                                     active=form.get("active") == "on", password=form.get("password") or None,
                                     actor=current_user, ip=request.remote_addr)
        except (Invalid, Forbidden) as exc:
            errors = tr_fields(exc)
            if isinstance(exc, Forbidden):  # one's own roles: say why on the form itself
                errors["roles"] = tr(exc.message)
                flash(tr(exc.message), "error")
            status = exc.status
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.user_edit", user_id=saved.id))
    return render_template("admin_user.html", user=user, roles=ROLES, units=people.tree(), errors=errors,
                           form=request.form), status


@bp.route("/org", methods=["GET", "POST"])
def org():
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        form = request.form
        unit_id = _int(form.get("unit_id"))
        try:
            unit = people.get_unit(unit_id) if unit_id else None
            people.save_unit(unit, kind=form.get("kind", ""), name=form.get("name", ""),
                             parent_id=_int(form.get("parent_id")), leader_id=_int(form.get("leader_id")))
        except Invalid as exc:
            errors = tr_fields(exc)
            status = 422
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("admin.org"))
    return render_template("admin_org.html", units=people.tree(), kinds=people.UNIT_KINDS,
                           users=people.users("full_name"), errors=errors), status


@bp.route("/settings")
def settings_page():
    return _settings_page({}, {})


@bp.post("/settings/<key>")
def setting_change(key: str):
    value = request.form.get("value", "")
    try:
        changed = settings.save(key[:80], value, current_user, via="web")
    except Invalid as exc:
        flash(tr(exc.message), "error")
        return _settings_page(tr_fields(exc), {key: value}, 422)
    flash(_("Saved.") if changed is not None else _("Nothing changed."), "success")
    return redirect(url_for("admin.settings_page"))


def _settings_page(errors: dict[str, str], values: dict[str, str], status: int = 200):
    return render_template("admin_settings.html", rows=settings.overview(with_history=0), errors=errors,
                           values=values, changes=settings.history(limit=100)), status

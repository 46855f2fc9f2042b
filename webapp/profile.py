"""The signed-in user's profile: roles, language, and personal API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from workflows.branch import tokens
from workflows.errors import Invalid

from .i18n import tr_fields

bp = Blueprint("profile", __name__)


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def index():
    errors: dict[str, str] = {}
    new_token = None
    status = 200
    if request.method == "POST":
        raw_days = (request.form.get("days") or "").strip()
        try:
            days = int(raw_days) if raw_days else None
        except ValueError:
            errors, status = {"days": _("must be a whole number")}, 422
        else:
            try:
                new_token, _row = tokens.issue(current_user, request.form.get("name", ""), days)
            except Invalid as exc:
                errors, status = tr_fields(exc), 422
    return render_template("profile.html", tokens=tokens.for_user(current_user), new_token=new_token,
                           errors=errors), status


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    tokens.revoke(token_id, current_user)
    flash(_("The token was revoked."), "success")
    return redirect(url_for("profile.index"))

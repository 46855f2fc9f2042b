"""Logging in and out, and choosing the language."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from workflows.branch import accounts, people
from workflows.cases import access
from workflows.cases.forms import escaped, has_control_characters

from .config import Config
from .i18n import tr

bp = Blueprint("auth", __name__)


def _no_control_characters(_form: FlaskForm, field: StringField) -> None:
    if field.data and has_control_characters(field.data):
        raise ValidationError("control characters")


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired(), Length(max=60), _no_control_characters])
    password = PasswordField("password", validators=[DataRequired(), Length(max=200), _no_control_characters])


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        user, reason = accounts.authenticate(form.username.data, form.password.data, request.remote_addr,
                                             _throttle())
        if user is not None:
            session.clear()
            login_user(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("inbox.index"))
        reason = reason or accounts.WRONG
        error = tr(reason.message)
        status = 429 if reason.code == accounts.THROTTLED else 401
    elif request.method == "POST" and "control characters" in form.username.errors + form.password.errors:
        access.log_event("login_refused", username=escaped(form.username.data or "", 60), ip=request.remote_addr,
                         detail="control characters in the username or password")
        error = _("The username or password contains characters that are not allowed.")
        status = 400
    elif request.method == "POST":
        error = _("Please enter your username and password.")
        status = 400
    return render_template("login.html", form=form, error=error), status


def _throttle() -> accounts.Throttle:
    """The login throttle as configured (LOGIN_FREE_FAILURES, LOGIN_FAILURE_WINDOW_MINUTES)."""
    return accounts.Throttle(free_failures=current_app.config["LOGIN_FREE_FAILURES"],
                             window_minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    access.log_event("logout", user=current_user, ip=request.remote_addr)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"))


@bp.route("/language/<code>", methods=["POST"])
def language(code: str):
    if code not in Config.LANGUAGES:
        flash(_("Unknown language."), "error")
    else:
        session["locale"] = code
        if current_user.is_authenticated:
            people.set_locale(current_user, code)
    return redirect(_safe_next(request.form.get("next")) or url_for("inbox.index"))

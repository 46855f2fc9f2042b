"""The Flask application factory."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.routing import IntegerConverter

from workflows.db import db, install_sqlite_pragmas, keep_prepared_statements

from . import migrations_cli
from .config import ROOT, Config, engine_options

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """The user's remembered choice, else the browser's language."""
    chosen = session.get("locale")
    if chosen in Config.LANGUAGES:
        return chosen
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale in Config.LANGUAGES:
        return current_user.locale
    return request.accept_languages.best_match(Config.LANGUAGES) or Config.BABEL_DEFAULT_LOCALE


class DatabaseIdConverter(IntegerConverter):
    """<int:…> in URLs: only ids a database column can hold; anything larger is a 404."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - werkzeug's name
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def _audit_key_check(app: Flask) -> None:
    """Seal every commit; refuse a malformed audit key; without one, say loudly that case writes will fail."""
    from workflows.cases import audit as audit_trail

    audit_trail.install()
    try:
        ring = audit_trail.keyring_from(app.config.get("AUDIT_KEY"), app.config.get("AUDIT_KEYS_OLD"))
    except audit_trail.AuditKeyMissing as exc:
        raise RuntimeError(f"audit key configuration: {exc}") from None
    if ring.current_id is None:
        app.logger.error("no audit key is configured (AUDIT_KEY, or the file var/audit_key): "
                         "case histories cannot be written or verified")


def _secret_key_check(app: Flask) -> None:
    """Refuse to start without SECRET_KEY: with a random key per process, several workers sign
    sessions with different keys and each logs out the users of the others. Tests and debug
    runs (one process) get a random key."""
    if app.config.get("SECRET_KEY"):
        return
    if app.testing or app.debug:
        app.config["SECRET_KEY"] = secrets.token_hex(32)
        return
    raise RuntimeError("SECRET_KEY is not set: put one in the environment or in the file var/secret_key "
                       "(SECRET_KEY_FILE); ./scripts/setup.sh creates it. Every worker must share it.")


def _rate_limit_check(app: Flask) -> None:
    """A malformed API_RATE_LIMIT stops the start, not every API request."""
    from workflows.gate import ratelimit

    try:
        ratelimit.rules(app.config["API_RATE_LIMIT"])
    except ValueError:
        raise RuntimeError(f"API_RATE_LIMIT is not a rate limit (e.g. '1800 per minute'): "
                           f"{app.config['API_RATE_LIMIT']!r}") from None


def create_app(overrides: dict[str, Any] | None = None, *, pages: bool = True) -> Flask:
    """The app; with ``pages=False`` only its database, settings and commands (``ops.py``): what the
    operations commands need, without importing the pages and the API (a third of the start-up)."""
    app = Flask(__name__, instance_path=str(ROOT / "var"))
    app.url_map.converters["int"] = DatabaseIdConverter
    app.config.from_object(Config)
    if overrides:
        app.config.update(overrides)
    _secret_key_check(app)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**engine_options(uri), **app.config["SQLALCHEMY_ENGINE_OPTIONS"]}
    if uri.startswith("sqlite:///") and ":memory:" not in uri:
        Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    install_sqlite_pragmas()
    db.init_app(app)
    with app.app_context():
        keep_prepared_statements(db.engine)
    migrations_cli.register(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale,
                   default_translation_directories=str(ROOT / "webapp" / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    logging.getLogger("SpiffWorkflow").setLevel(logging.WARNING)

    import workflows.processes  # noqa: F401 - every family and its tables
    from workflows.branch import people

    login_manager.user_loader(people.signed_in)
    if pages:
        _register_pages(app)
    _audit_key_check(app)

    from .cli import register as register_cli

    register_cli(app)
    return app


def _register_pages(app: Flask) -> None:
    from . import admin, api, audit_views, auth, cases, designer, errors, inbox, profile, template_helpers
    from . import calendar_views as calendar_pages
    from .inputs import register as register_inputs
    from .processes import register as register_family_pages

    register_inputs(app)  # before the blueprints' own checks, which log the path
    for module in (auth, inbox, cases, audit_views, admin, calendar_pages, profile, designer):
        app.register_blueprint(module.bp)
    register_family_pages(app)
    _rate_limit_check(app)
    csrf.exempt(api.bp)  # bearer tokens only, no cookies: nothing a forged request could ride on
    app.register_blueprint(api.bp)
    errors.register(app)
    template_helpers.register(app)

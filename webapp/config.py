"""Settings read from the environment; the defaults suit the embedded demo."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'branch.db'}")
    SECRET_KEY = os.environ.get("SECRET_KEY") or secrets.token_hex(32)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    MAX_CONTENT_LENGTH = 12 * 1024 * 1024
    BABEL_DEFAULT_LOCALE = "zh"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh", "en")
    BPMN_LIBRARY = str(ROOT / "bpmn")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    LOGIN_FREE_FAILURES = 3
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "600 per minute")


def engine_options(uri: str) -> dict:
    if uri.startswith("sqlite"):
        from workflows.db import BufferedConnection

        # timeout = SQLite's busy timeout: a writer waits this long for another's commit. Below
        # gunicorn's 30 s worker timeout, so a jam answers 503 instead of a killed worker.
        return {"connect_args": {"timeout": 20, "check_same_thread": False, "factory": BufferedConnection}}
    return {"pool_pre_ping": True}

"""Settings read from the environment; the defaults suit the embedded demo."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _file_lines(path: str) -> str:
    """A key file's non-empty lines joined by commas ("" when there is no file)."""
    try:
        lines = Path(path).read_text("utf-8").splitlines()
    except OSError:
        return ""
    return ",".join(line.strip() for line in lines if line.strip())


class Config:
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'branch.db'}")
    # Signs the session cookies: every worker and process must share one, so it is required outside
    # tests and debug (create_app refuses to start without it). ./scripts/setup.sh keeps it in var/secret_key.
    SECRET_KEY = os.environ.get("SECRET_KEY") or _file_lines(
        os.environ.get("SECRET_KEY_FILE", str(ROOT / "var" / "secret_key"))) or None
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
    # Failed logins of one username counted over this window; after the free ones, each attempt waits
    # 2, 4, 8… seconds (at most the window). Read by webapp/auth.py, applied by workflows.branch.accounts.
    LOGIN_FAILURE_WINDOW_MINUTES = int(os.environ.get("LOGIN_FAILURE_WINDOW_MINUTES", "15"))
    LOGIN_FREE_FAILURES = int(os.environ.get("LOGIN_FREE_FAILURES", "3"))
    # Per token (per address without one), counted where every worker counts: the database, or a
    # Redis server (API_RATE_LIMIT_STORAGE=redis://host:6379, needs the redis package). Read by webapp/api/throttle.py.
    API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "1800 per minute")
    API_RATE_LIMIT_STORAGE = os.environ.get("API_RATE_LIMIT_STORAGE", "database")
    # The audit key signs the case history ("id:secret" or a bare secret); it is never stored in the
    # database. Old keys only verify. See README, "Audit trail". Without a key, case writes are refused.
    AUDIT_KEY = os.environ.get("AUDIT_KEY") or _file_lines(
        os.environ.get("AUDIT_KEY_FILE", str(ROOT / "var" / "audit_key")))
    AUDIT_KEYS_OLD = os.environ.get("AUDIT_KEYS_OLD") or _file_lines(
        os.environ.get("AUDIT_KEYS_OLD_FILE", str(ROOT / "var" / "audit_keys_old")))
    AUDIT_CHECKPOINT_DIR = os.environ.get("AUDIT_CHECKPOINT_DIR", str(ROOT / "var" / "audit"))
    AUDIT_CHECKPOINT_INTERVAL = int(os.environ.get("AUDIT_CHECKPOINT_INTERVAL", "60"))  # seconds, by the sweeper
    AUDIT_CHECKPOINT_KEEP = int(os.environ.get("AUDIT_CHECKPOINT_KEEP", "60"))  # heads files kept
    AUDIT_VERIFY_INTERVAL = int(os.environ.get("AUDIT_VERIFY_INTERVAL", "86400"))  # full verify by the sweeper; 0: off


def engine_options(uri: str) -> dict:
    if uri.startswith("sqlite"):
        from workflows.db import BufferedConnection

        # timeout = SQLite's busy timeout: a writer waits this long for another's commit. Below
        # gunicorn's 30 s worker timeout, so a jam answers 503 instead of a killed worker.
        return {"connect_args": {"timeout": 20, "check_same_thread": False, "factory": BufferedConnection}}
    return {"pool_pre_ping": True}

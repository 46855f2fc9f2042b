"""Settings that must be honoured: the session key and the login throttle."""

from __future__ import annotations

import datetime as dt
import importlib
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from tests.conftest import TEST_AUDIT_KEY, Browserless, user
from webapp import config, create_app
from workflows.branch import accounts
from workflows.cases.models import SecurityEvent
from workflows.db import db
from workflows.engine import clock


def _bare(**overrides: object) -> dict[str, object]:
    return {"SQLALCHEMY_DATABASE_URI": "sqlite://", "AUDIT_KEY": TEST_AUDIT_KEY, "AUDIT_KEYS_OLD": "", **overrides}


def test_production_refuses_to_start_without_a_secret_key() -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(_bare(SECRET_KEY=None, TESTING=False, DEBUG=False))
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        create_app(_bare(SECRET_KEY="", TESTING=False, DEBUG=False))
    assert create_app(_bare(SECRET_KEY="one-key-for-every-worker")).config["SECRET_KEY"] == "one-key-for-every-worker"


def test_tests_and_debug_runs_get_a_random_key() -> None:
    keys = {create_app(_bare(SECRET_KEY=None, TESTING=True)).config["SECRET_KEY"],
            create_app(_bare(SECRET_KEY=None, DEBUG=True)).config["SECRET_KEY"]}
    assert len(keys) == 2 and all(len(k) == 64 for k in keys)


def test_the_secret_key_is_read_from_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("from-the-file\n", "utf-8")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "secret_key"))
    try:
        assert importlib.reload(config).Config.SECRET_KEY == "from-the-file"
        monkeypatch.setenv("SECRET_KEY", "from-the-environment")
        assert importlib.reload(config).Config.SECRET_KEY == "from-the-environment"
        monkeypatch.delenv("SECRET_KEY")
        monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
        assert importlib.reload(config).Config.SECRET_KEY is None
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def _failures(username: str, count: int) -> None:
    for _ in range(count):
        accounts.authenticate(username, "wrong-password", "127.0.0.1")


def test_the_throttle_follows_its_settings() -> None:
    _failures("nobody-throttle-a", 1)
    assert accounts.wait_seconds("nobody-throttle-a") == 0  # three free failures by default
    assert accounts.wait_seconds("nobody-throttle-a", accounts.Throttle(free_failures=1)) > 0
    _failures("nobody-throttle-b", 3)
    assert accounts.wait_seconds("nobody-throttle-b") > 0
    clock.travel(dt.timedelta(minutes=6))  # the failures fall out of a five-minute window
    assert accounts.wait_seconds("nobody-throttle-b", accounts.Throttle(window_minutes=5)) == 0
    assert accounts.wait_seconds("nobody-throttle-b", accounts.Throttle(window_minutes=15)) == 0  # waited out
    many = accounts.Throttle(free_failures=1, window_minutes=1)
    _failures("nobody-throttle-c", 12)  # 2**12 s would be over an hour: the wait never outlasts the window
    assert 0 < accounts.wait_seconds("nobody-throttle-c", many) <= 61


def test_the_login_page_reads_login_free_failures(app: Flask, web: Browserless) -> None:
    saved = app.config["LOGIN_FREE_FAILURES"], app.config["LOGIN_FAILURE_WINDOW_MINUTES"]
    before = db.session.scalar(select(func.max(SecurityEvent.id))) or 0
    app.config.update(LOGIN_FREE_FAILURES=1, LOGIN_FAILURE_WINDOW_MINUTES=15)
    try:
        assert web.login("staff16", "wrong-password").status_code == 401
        assert web.login("staff16").status_code == 429  # right password, but one failure is all that is free now
        app.config["LOGIN_FREE_FAILURES"] = 3
        assert web.login("staff16").status_code == 302
    finally:
        app.config.update(LOGIN_FREE_FAILURES=saved[0], LOGIN_FAILURE_WINDOW_MINUTES=saved[1])
    kinds = [e.kind for e in db.session.scalars(select(SecurityEvent).where(
        SecurityEvent.username == "staff16", SecurityEvent.id > before).order_by(SecurityEvent.id))]
    assert kinds == ["login_failed", "login_throttled", "login"]
    assert user("staff16").active

"""``ops.py``'s app (``create_app(pages=False)``): the settings, the database and every command, and none
of the pages or the API, so a command from cron starts sooner. Its commands work as under ``wsgi``."""

from __future__ import annotations

from flask import Flask

from tests.conftest import TEST_AUDIT_KEY
from webapp import create_app


def _ops(app: Flask) -> Flask:
    return create_app({key: app.config[key] for key in ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "AUDIT_KEY",
                                                        "AUDIT_KEYS_OLD", "AUDIT_CHECKPOINT_DIR")}, pages=False)


def test_the_ops_app_has_every_command_and_no_page(app: Flask) -> None:
    ops = _ops(app)
    assert ops.config["AUDIT_KEY"] == TEST_AUDIT_KEY
    assert set(ops.cli.commands) == set(app.cli.commands)
    assert "inbox.index" in app.view_functions and "api.task_list" in {r.endpoint for r in app.url_map.iter_rules()}
    assert {r.endpoint for r in ops.url_map.iter_rules()} == {"static"}


def test_an_audit_command_runs_under_the_ops_app(app: Flask) -> None:
    result = _ops(app).test_cli_runner().invoke(args=["audit", "root"])
    assert result.exit_code == 0, result.output
    assert len(result.output.split()[-1]) == 64  # the latest checkpoint's root, as under wsgi

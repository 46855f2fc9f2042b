"""The migrations build exactly the schema the models describe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.conftest import ROOT
from workflows.db import db


def test_models_and_migrations_agree() -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_flask_db_commands_work_through_the_stand_in_group(tmp_path: Path) -> None:
    """``flask db`` is set up on first use (webapp.migrations_cli); its commands and options still work."""
    env = {**os.environ, "SECRET_KEY": "t", "AUDIT_KEY": "probe:0123456789abcdef01",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'fresh.db'}"}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "-d", str(ROOT / "migrations")]
    subprocess.run([*flask, "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    out = subprocess.run([*flask, "current"], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert "(head)" in out.stdout


def test_other_commands_do_not_import_alembic() -> None:
    """A short operation (an incremental ``flask audit verify``) does not pay Alembic's import."""
    probe = "import sys, wsgi; print('alembic' in sys.modules, 'flask_migrate' in sys.modules)"
    env = {**os.environ, "SECRET_KEY": "t", "AUDIT_KEY": "probe:0123456789abcdef01",
           "DATABASE_URL": "sqlite:///:memory:"}
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]

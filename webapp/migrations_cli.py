"""``flask db …`` (Flask-Migrate) without importing Alembic for every other command.

Alembic's import costs about half a second, which is most of the start-up of a short operation such as an
incremental ``flask audit verify``. The ``db`` group is registered as a stand-in that sets Flask-Migrate up
the first time one of its commands is looked up; code that calls ``flask_migrate.upgrade`` itself calls
:func:`ready` first.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext

from workflows.db import db

from .config import ROOT

DIRECTORY = str(ROOT / "migrations")


def ready(app: Flask) -> None:
    """Set Flask-Migrate up on ``app`` (once): ``flask_migrate.upgrade`` and the ``db`` commands need it."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=DIRECTORY)  # also puts the real ``db`` group on app.cli


class _LazyDbGroup(click.Group):
    """Stands for Flask-Migrate's ``db`` group until one of its commands is asked for."""

    def _real(self) -> click.Group:
        ready(current_app._get_current_object())  # the flask command has pushed the app's context
        from flask_migrate.cli import db as group

        return group

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> Any:
        return self._real().get_command(ctx, name)


def _options(directory: str | None, x_arg: tuple[str, ...]) -> None:
    """What Flask-Migrate's own ``db`` group does with its options: its commands read them from ``g``."""
    g.directory = directory
    g.x_arg = x_arg


def register(app: Flask) -> None:
    params = [click.Option(["-d", "--directory"], default=None, help="Migration script directory"),
              click.Option(["-x", "--x-arg"], multiple=True, help="Additional arguments for env.py")]
    app.cli.add_command(_LazyDbGroup("db", params=params, callback=with_appcontext(_options),
                                     help="Perform database migrations (Flask-Migrate, Alembic)."))


def upgrade(directory: str = DIRECTORY, revision: str = "head", **kwargs: Any) -> None:
    """``flask_migrate.upgrade`` on the current app, set up first."""
    ready(current_app._get_current_object())
    import flask_migrate

    flask_migrate.upgrade(directory=directory, revision=revision, **kwargs)


def downgrade(directory: str = DIRECTORY, revision: str = "-1", **kwargs: Any) -> None:
    """``flask_migrate.downgrade`` on the current app, set up first."""
    ready(current_app._get_current_object())
    import flask_migrate

    flask_migrate.downgrade(directory=directory, revision=revision, **kwargs)

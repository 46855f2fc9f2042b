"""Shared fixtures: one migrated, seeded database per run (SQLite or the
PostgreSQL server named by TEST_DATABASE_URL), a client, and a login helper."""

from __future__ import annotations

import contextvars
import itertools
import os
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text

from webapp import create_app
from webapp.migrations_cli import upgrade
from workflows.branch.demo import DEMO_PASSWORD, seed_demo
from workflows.branch.models import OrgUnit, User, UserRole
from workflows.cases import checkpoints, definitions
from workflows.db import db
from workflows.engine import clock

ROOT = Path(__file__).resolve().parent.parent
TEST_BPMN = Path(__file__).resolve().parent / "bpmn"


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


TEST_AUDIT_KEY = "test-k1:test-audit-secret-0001"


@pytest.fixture(scope="session")
def app(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    application = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "TESTING": True,
                              "SECRET_KEY": "test-secret", "AUDIT_KEY": TEST_AUDIT_KEY, "AUDIT_KEYS_OLD": "",
                              "AUDIT_CHECKPOINT_DIR": str(tmp_path_factory.mktemp("audit"))})
    with application.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        definitions.deploy_directory(ROOT / "bpmn")
        db.session.commit()
        seed_demo(with_cases=False)
        checkpoints.write()
    yield application


@pytest.fixture(autouse=True)
def _app_context(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
    clock.reset()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


_ids = itertools.count(1)


def unique_username(prefix: str) -> str:
    """A username no other test uses (one counter for the whole run, so prefixes may repeat)."""
    return f"{prefix}{os.getpid() % 10000}x{next(_ids)}"


def unique_id_number() -> str:
    """A client ID number no other test uses."""
    return f"{os.getpid() % 1000:03d}{next(_ids):06d}{len(str(os.getpid()))}X"[:18].rjust(18, "1")


def user(username: str) -> User:
    found = db.session.scalars(select(User).where(User.username == username)).first()
    assert found is not None, username
    return found


class Grants:
    """``grant(user, role)``: the user holds the role until ``restore()``, which gives every user
    touched back exactly the roles they had before (whatever else the test did to them)."""

    def __init__(self) -> None:
        self.before: dict[int, set[str]] = {}

    def __call__(self, person: User, role: str) -> None:
        self.before.setdefault(person.id, set(person.roles))
        if role not in person.roles:
            person.role_rows.append(UserRole(role_key=role))
        db.session.commit()

    def restore(self) -> None:
        db.session.rollback()
        for user_id, roles in self.before.items():
            person = db.session.get(User, user_id)
            assert person is not None
            db.session.refresh(person)
            person.role_rows = [r for r in person.role_rows if r.role_key in roles]
            person.role_rows += [UserRole(role_key=r) for r in sorted(roles - person.roles)]
        db.session.commit()


class Leaders:
    """``lead(unit, user)``: the user leads the unit until ``restore()``, which gives each unit
    touched its first leader back. ``lead(unit, unit.leader)`` only remembers the leader, for a
    test that changes it through the pages."""

    def __init__(self) -> None:
        self.before: dict[int, int | None] = {}

    def __call__(self, unit: OrgUnit, person: User | None) -> None:
        self.before.setdefault(unit.id, unit.leader_id)
        unit.leader_id = person.id if person is not None else None
        db.session.commit()

    def restore(self) -> None:
        db.session.rollback()
        for unit_id, leader_id in self.before.items():
            unit = db.session.get(OrgUnit, unit_id)
            assert unit is not None
            db.session.refresh(unit)
            unit.leader_id = leader_id
        db.session.commit()


@pytest.fixture
def grant() -> Iterator[Grants]:
    grants = Grants()
    yield grants
    grants.restore()


@pytest.fixture
def lead() -> Iterator[Leaders]:
    leaders = Leaders()
    yield leaders
    leaders.restore()


class _ThreadedClient:
    """Runs each request in a fresh thread, so it gets its own app context, ``g``
    and database session like a real request, not the test's."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=1)

    def _call(self, client_method: str, *args, **kwargs):
        db.session.commit()  # end the test's read snapshot; see what requests wrote
        try:
            return self._pool.submit(contextvars.Context().run, getattr(self._client, client_method), *args,
                                     **kwargs).result()
        finally:
            db.session.expire_all()

    def get(self, *args, **kwargs):
        return self._call("get", *args, **kwargs)

    def post(self, *args, **kwargs):
        return self._call("post", *args, **kwargs)

    def open(self, *args, **kwargs):  # any method: open(path, method="PUT", …)
        return self._call("open", *args, **kwargs)


class Browserless:
    """Drives the web pages like a person would, with CSRF tokens."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = _ThreadedClient(client)

    def csrf(self, path: str = "/") -> str:
        page = self.client.get(path, follow_redirects=True).get_data(as_text=True)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
            r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username: str, password: str = DEMO_PASSWORD):
        token = self.csrf("/login")
        return self.client.post("/login", data={"username": username, "password": password, "csrf_token": token})

    def logout(self) -> None:
        token = self.csrf("/")
        self.client.post("/logout", data={"csrf_token": token})

    def post(self, path: str, data: dict | None = None, **kwargs):
        payload = dict(data or {})
        payload["csrf_token"] = self.csrf("/")
        return self.client.post(path, data=payload, **kwargs)


@pytest.fixture
def web(client: FlaskClient) -> Browserless:
    return Browserless(client)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The app served over HTTP on loopback by a threaded WSGI server."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class HttpUser:
    """A person using the running server over HTTP (requests), with CSRF tokens."""

    def __init__(self, base: str, username: str, password: str = DEMO_PASSWORD) -> None:
        import requests

        self.base = base
        self.session = requests.Session()
        token = self.token("/login")
        resp = self.session.post(f"{base}/login", data={"username": username, "password": password,
                                                        "csrf_token": token}, allow_redirects=False)
        assert resp.status_code == 302, resp.text[:300]

    def token(self, path: str = "/") -> str:
        page = self.session.get(f"{self.base}{path}").text
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match
        return match.group(1)

    def post(self, path: str, data: dict, token: str | None = None):
        payload = {**data, "csrf_token": token or self.token()}
        return self.session.post(f"{self.base}{path}", data=payload, allow_redirects=False)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One Chromium (Playwright, sync API, on the main thread) for every browser test module."""
    from tests.test_browser import Chromium

    holder = Chromium()
    yield holder
    holder.close()


@pytest.fixture(scope="module")
def browser_thread() -> Iterator[tuple[ThreadPoolExecutor, Any]]:
    """One thread that makes every Playwright call of a module, and its own Chromium: for modules whose
    browser steps alternate with database work on the test's thread (Playwright's sync API keeps to the
    thread that started it)."""
    from tests.test_browser import Chromium

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="browser") as pool:
        holder = Chromium()
        try:
            yield pool, holder
        finally:
            pool.submit(holder.close).result()


def open_task(instance: Any, spec_id: str) -> Any:
    """The case's open task at ``spec_id`` (fails naming the open ones when there is none)."""
    from workflows.cases.models import HumanTask

    task = db.session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                      HumanTask.spec_id == spec_id,
                                                      HumanTask.state == "open")).first()
    assert task is not None, f"no open {spec_id}; open: {open_specs(instance)}"
    return task


def open_specs(instance: Any) -> list[str]:
    from workflows.cases.models import HumanTask

    return sorted(db.session.scalars(select(HumanTask.spec_id).where(HumanTask.instance_id == instance.id,
                                                                     HumanTask.state == "open")))


def clear_calendar_year(year: int) -> None:
    """Remove a year's calendar exceptions (tests that edit a year start and end from none)."""
    import datetime

    from sqlalchemy import delete

    from workflows.branch.models import CalendarDay

    db.session.execute(delete(CalendarDay).where(CalendarDay.day >= datetime.date(year, 1, 1),
                                                 CalendarDay.day <= datetime.date(year, 12, 31)))
    db.session.commit()


@pytest.fixture
def empty_2032() -> Iterator[None]:
    """The calendar year 2032 without exceptions, before and after the test."""
    clear_calendar_year(2032)
    yield
    db.session.rollback()
    clear_calendar_year(2032)
